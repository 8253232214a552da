"""Loads a knowledge-base directory (MINIMAL PLACEHOLDER: to be replaced by the validating loader)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.kb.model import Benefit, KBError, KnowledgeBase, Objection, Problem, Source

BUNDLED_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"


def load_knowledge(directory: Path | None = None) -> KnowledgeBase:
    """Load every ``*.yaml`` file in ``directory`` (default: the bundled knowledge base)."""
    directory = directory or BUNDLED_DIR
    objections: list[Objection] = []
    benefits: list[Benefit] = []
    synonyms: dict[str, tuple[str, ...]] = {}
    source: Source | None = None
    files = sorted(directory.glob("*.yaml"))
    for path in files:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for o in data.get("objections", []):
            objections.append(
                Objection(
                    id=o["id"],
                    title=o["title"],
                    answer=o["answer"],
                    triggers=tuple(o.get("triggers", ())),
                    keywords=tuple(o.get("keywords", ())),
                    benefits=tuple(o.get("benefits", ())),
                    examples=tuple(o.get("examples", ())),
                )
            )
        for b in data.get("benefits", []):
            benefits.append(
                Benefit(
                    id=b["id"],
                    title=b["title"],
                    summary=b["summary"],
                    topics=tuple(b.get("topics", ())),
                    triggers=tuple(b.get("triggers", ())),
                    keywords=tuple(b.get("keywords", ())),
                    examples=tuple(b.get("examples", ())),
                )
            )
        for canon, variants in (data.get("synonyms") or {}).items():
            synonyms[canon] = tuple(variants)
        if "source" in data:
            source = Source(**data["source"])
    if source is None:
        raise KBError([Problem(str(directory), 0, "no file defines `source`")])
    return KnowledgeBase(tuple(objections), tuple(benefits), source, synonyms, tuple(files))
