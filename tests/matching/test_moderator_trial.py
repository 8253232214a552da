"""A moderator's three new entries, written from knowledge/README.md alone (12 triggers and 3
examples each, no synonyms, context or everyday lists), pass `check` beside the bundled ones.

How well they then answer unseen messages is measured by `make bench` (bench/blind.py), not
asserted here: that set is blind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot.kb.loader import BUNDLED_DIR, load_knowledge
from bot.kb.model import Objection
from bot.service.check import check_knowledge

TRIAL = Path(__file__).parent / "moderator_trial"


def test_the_moderators_entries_pass_check(tmp_path: Path) -> None:
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_DIR, kb_dir, ignore=shutil.ignore_patterns("README.md"))
    shutil.copy(TRIAL / "entries.yaml", kb_dir / "moderator-topics.yaml")
    entries = yaml.safe_load((TRIAL / "entries.yaml").read_text(encoding="utf-8"))["objections"]
    assert [(len(e["triggers"]), len(e["examples"])) for e in entries] == [(12, 3)] * 3
    report = check_knowledge(kb_dir)
    assert report.ok, report.format()
    assert {e["id"] for e in entries} <= {o.id for o in report_objections(kb_dir)}


def report_objections(kb_dir: Path) -> tuple[Objection, ...]:
    return load_knowledge(kb_dir).objections
