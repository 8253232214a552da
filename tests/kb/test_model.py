"""Objection and Benefit: one shared base, the same names and keywords as before."""

from __future__ import annotations

import dataclasses

import pytest

from bot.kb.model import Benefit, EntryBase, EntryKind, EntrySource, Location, Objection

SHARED = (
    "id",
    "title",
    "triggers",
    "keywords",
    "examples",
    "not_this",
    "location",
    "trigger_lines",
    "example_lines",
    "not_this_lines",
    "field_lines",
    "source",
)


def names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_objection_and_benefit_share_one_base() -> None:
    assert issubclass(Objection, EntryBase)
    assert issubclass(Benefit, EntryBase)
    assert names(EntryBase) == set(SHARED)
    assert names(Objection) == {*SHARED, "answer", "context", "everyday", "benefits"}
    assert names(Benefit) == {*SHARED, "summary", "topics", "answer"}


def test_constructors_take_id_title_and_text_by_position() -> None:
    objection = Objection("o", "Objection", "Answer.", triggers=("x",), benefits=("b",))
    benefit = Benefit("b", "Benefit", "One line.", topics=("career",))
    assert (objection.id, objection.title, objection.answer) == ("o", "Objection", "Answer.")
    assert (benefit.id, benefit.title, benefit.summary, benefit.answer) == (
        "b",
        "Benefit",
        "One line.",
        "",
    )
    assert objection.kind is EntryKind.OBJECTION
    assert benefit.kind is EntryKind.BENEFIT
    assert objection.source is benefit.source is EntrySource.COMMUNITY
    assert Benefit("b", "Benefit", "One line.", ("career",)).topics == ("career",)
    with pytest.raises(TypeError):
        Objection("o", "Objection", "Answer.", ("x",))  # type: ignore[misc]


def test_where_an_entry_was_written_does_not_change_what_it_is() -> None:
    one = Benefit("b", "Benefit", "One line.", location=Location("a.yaml", 3), trigger_lines=(4,))
    two = Benefit("b", "Benefit", "One line.", location=Location("b.yaml", 9))
    assert one == two
    assert hash(one) == hash(two)
    assert one != Objection("b", "Benefit", "One line.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.title = "changed"  # type: ignore[misc]
