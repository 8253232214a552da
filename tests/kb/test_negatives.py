"""Adding a message to an entry's not_this in a file's text (bot.kb.negatives)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kb.loader import load_knowledge_from_texts
from bot.kb.negatives import NegativeError, add_not_this, add_not_this_to_files, yaml_quote

BUNDLED = Path(__file__).resolve().parents[2] / "knowledge"

SMALL = """\
# yaml-language-server: $schema=./schema.json
# A comment at the top.
objections:
  - id: alpha
    title: "Alpha"   # trailing comment
    answer: |
      First paragraph.

      Second paragraph.

  # A comment that belongs to beta.
  - id: beta
    title: Beta
    not_this:
      - "already here"   # why
      # a comment inside the list
    answer: "b"
  - id: gamma
    not_this: ["one"]
    title: Gamma
  - id: delta
    not_this: []
    title: Delta
  - id: epsilon
    not_this:
    title: Epsilon
"""


def removed_once(new: str, *lines: str) -> str:
    """``new`` without the first occurrence of each of ``lines`` (whole lines)."""
    out = new
    for line in lines:
        assert line + "\n" in out, line
        out = out.replace(line + "\n", "", 1)
    return out


def entry(text: str, entry_id: str) -> dict[str, object]:
    found: dict[str, object] = next(
        e for e in yaml.safe_load(text)["objections"] if e["id"] == entry_id
    )
    return found


def test_appends_to_a_block_list_after_its_last_item_keeping_everything_else() -> None:
    new = add_not_this(SMALL, "beta", "talk about beta")
    assert removed_once(new, '      - "talk about beta"') == SMALL
    lines = new.splitlines()
    assert lines[lines.index('      - "already here"   # why') + 1] == '      - "talk about beta"'
    assert entry(new, "beta")["not_this"] == ["already here", "talk about beta"]


def test_adds_the_key_after_the_last_field_when_missing() -> None:
    new = add_not_this(SMALL, "alpha", "alpha chatter")
    assert removed_once(new, "    not_this:", '      - "alpha chatter"') == SMALL
    assert "Second paragraph.\n    not_this:\n" in new  # before the blank line and comment
    assert entry(new, "alpha")["answer"] == "First paragraph.\n\nSecond paragraph.\n"
    assert entry(new, "alpha")["not_this"] == ["alpha chatter"]


def test_flow_lists_and_an_empty_value() -> None:
    gamma = add_not_this(SMALL, "gamma", "two")
    assert gamma == SMALL.replace('["one"]', '["one", "two"]')
    delta = add_not_this(SMALL, "delta", "x")
    assert delta == SMALL.replace("not_this: []", 'not_this: ["x"]')
    epsilon = add_not_this(SMALL, "epsilon", "y")
    assert removed_once(epsilon, '      - "y"') == SMALL
    assert entry(epsilon, "epsilon")["not_this"] == ["y"]


def test_crlf_and_a_missing_final_newline_are_kept() -> None:
    text = "objections:\r\n  - id: a\r\n    title: A"
    new = add_not_this(text, "a", "m")
    assert new == 'objections:\r\n  - id: a\r\n    title: A\r\n    not_this:\r\n      - "m"\r\n'


@pytest.mark.parametrize(
    ("entry_id", "message", "expected"),
    [
        ("nope", "x", "no entry `nope`"),
        ("beta", "  Already   HERE ", "already is in `beta`"),
        ("beta", "   ", "empty"),
    ],
)
def test_refusals_change_nothing(entry_id: str, message: str, expected: str) -> None:
    with pytest.raises(NegativeError, match=expected):
        add_not_this(SMALL, entry_id, message)


def test_refuses_a_not_this_that_is_no_list_and_a_flow_entry() -> None:
    with pytest.raises(NegativeError, match="not a list"):
        add_not_this("objections:\n  - id: a\n    not_this: oops\n", "a", "m")
    with pytest.raises(NegativeError, match="flow style"):
        add_not_this("objections:\n  - {id: a, title: A}\n", "a", "m")
    with pytest.raises(NegativeError, match="not valid YAML"):
        add_not_this("objections: [\n", "a", "m")


def test_bundled_files_stay_byte_identical_but_for_the_new_lines() -> None:
    files = {p.name: p.read_bytes() for p in sorted(BUNDLED.glob("*.yaml"))}
    for entry_id, hint in (("too-busy", "objections.yaml"), ("leadership", "")):
        name, data = add_not_this_to_files(files, entry_id, "lunch in the atrium?", hint=hint)
        old, new = files[name].decode(), data.decode()
        added = [line for line in new.splitlines() if "lunch in the atrium?" in line]
        assert len(added) == 1
        keys = [line for line in new.splitlines() if line.strip() == "not_this:"]
        extra = [] if len(keys) == old.count("\n    not_this:\n") else ["    not_this:"]
        assert removed_once(new, *extra, added[0]) == old
        kb = load_knowledge_from_texts({**files, name: data})
        got = kb.get(entry_id)
        assert got is not None
        assert got.not_this[-1] == "lunch in the atrium?"
    with pytest.raises(NegativeError, match="no knowledge-base file"):
        add_not_this_to_files(files, "no-such-entry", "x")


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80).filter(lambda t: t.strip()))
def test_any_message_round_trips(message: str) -> None:
    new = add_not_this(SMALL, "beta", message)
    assert entry(new, "beta")["not_this"] == ["already here", message.strip()]
    assert yaml.safe_load(yaml_quote(message)) == message
