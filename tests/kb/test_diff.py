"""diff_kbs: entries added, changed, removed, by id."""

from __future__ import annotations

import dataclasses

from bot.kb.diff import KBDiff, diff_kbs
from bot.kb.loader import load_knowledge


def test_diff_added_changed_removed() -> None:
    old = load_knowledge()
    first, second, *rest = old.objections
    changed = dataclasses.replace(first, answer=first.answer + " More.")
    added = dataclasses.replace(second, id="brand-new")
    new = dataclasses.replace(old, objections=(changed, added, *rest))
    diff = diff_kbs(old, new)
    assert diff.added == ("brand-new",)
    assert diff.changed == (first.id,)
    assert diff.removed == (second.id,)
    assert diff.summary() == "1 added, 1 changed, 1 removed"


def test_same_kb_is_empty_and_lines_do_not_count() -> None:
    old = load_knowledge()
    moved = tuple(dataclasses.replace(o, trigger_lines=()) for o in old.objections)
    diff = diff_kbs(old, dataclasses.replace(old, objections=moved))
    assert diff.empty
    assert diff == KBDiff()
    assert diff.summary() == "0 added, 0 changed, 0 removed"


def test_synonyms_change_is_reported() -> None:
    old = load_knowledge()
    new = dataclasses.replace(old, synonyms={**old.synonyms, "new": ("neu",)})
    assert diff_kbs(old, new).summary() == "0 added, 0 changed, 0 removed (synonyms changed)"


def test_phrasings_change_is_reported() -> None:
    old = load_knowledge()
    busy = (*old.phrasings.get("too-busy", ()), "no bandwidth, maybe in 2031")
    new = dataclasses.replace(old, phrasings={**old.phrasings, "too-busy": busy})
    assert diff_kbs(old, new).summary() == "0 added, 0 changed, 0 removed (phrasings changed)"
