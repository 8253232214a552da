"""The labelled lines the encoder trains on, shared by ``tools/build_model.py`` (which needs
torch) and ``tools/phrasings.py`` (which does not): the "tuning" and "realistic" eval sets,
less the spent sets' dev quarter (``bench.semantic.is_dev_line``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.matcher import EVAL_SETS
from bench.semantic import SPENT_SETS, is_dev_line

TRAIN_KINDS = ("tuning", "realistic")
"""Eval-set kinds whose lines the fine-tuning may read (never blind, aggregate or nearmiss
sets, nor the moderator trial, which measures a new entry)."""


def clean(text: object) -> str:
    """A line with its whitespace collapsed."""
    return " ".join(str(text).split())


def unique(items: Iterable[object]) -> list[str]:
    """The non-empty cleaned items, each once, in order."""
    return list(dict.fromkeys(t for t in map(clean, items) if t))


def labelled_lines(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(entry id, cleaned line) of an eval set's ``objections:`` and ``benefits:``."""
    for group in ("objections", "benefits"):
        for entry_id, lines in (data.get(group) or {}).items():
            for line in lines or ():
                if text := clean(line):
                    yield str(entry_id), text


def training_sets() -> list[tuple[str, Path]]:
    """(name, path) of the eval sets the fine-tuning reads."""
    return [
        (spec.name, spec.path)
        for spec in EVAL_SETS
        if spec.kind in TRAIN_KINDS and spec.path.exists()
    ]


def kept_out(name: str, text: str) -> bool:
    """Whether a labelled line stays out of training: a spent realistic set's dev quarter
    (``bench.semantic.is_dev_line``), kept to tune thresholds on and to report honestly."""
    if name in SPENT_SETS:
        return is_dev_line(text)
    return False


def labelled_positives(entries: set[str]) -> dict[str, list[str]]:
    """Members' phrasings by entry id (only ``entries``): the labelled lines of the training
    sets (long posts, replies, stories, typos), less the spent sets' dev quarter."""
    found: dict[str, dict[str, None]] = {}
    for name, path in training_sets():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry_id, text in labelled_lines(data):
            if entry_id in entries and not kept_out(name, text):
                found.setdefault(entry_id, {}).setdefault(text, None)
    return {k: list(v) for k, v in found.items()}
