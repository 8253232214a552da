"""Long posts and replies are split into parts: quoted lines, @-replies, sentences."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.matching.split import MAX_UNITS, MIN_WORDS, strip_reply_markers, units


def test_a_short_message_is_one_unit() -> None:
    assert units("I'm too busy for twitter") == ["I'm too busy for twitter"]
    assert units("   ") == []
    assert units("") == []


def test_reply_markers_are_removed() -> None:
    assert strip_reply_markers("@Sam honestly same, no time") == "honestly same, no time"
    assert strip_reply_markers("<@123456> <@!42> who has time") == "who has time"
    assert strip_reply_markers("email me at a@b.org") == "email me at a@b.org"
    assert strip_reply_markers("follow me @drsmith_md") == "follow me @drsmith_md"
    assert strip_reply_markers("@Sam @Jo: same\n> @Kim no time") == "same\n> no time"
    assert units("@dr.lee: honestly same, who has the time") == ["honestly same, who has the time"]


def test_sentences_of_a_long_post_are_parts() -> None:
    text = "Long week. Had a great case on Tuesday! Honestly who has time to tweet on top of it?"
    assert units(text) == [
        text,
        "Had a great case on Tuesday!",
        "Honestly who has time to tweet on top of it?",
    ]


def test_quoted_lines_and_the_reply_are_parts() -> None:
    text = "> I never know what to post\n> it feels like shouting into the void\nsame here tbh"
    assert units(text) == [
        "I never know what to post\nit feels like shouting into the void\nsame here tbh",
        "same here tbh",
        "I never know what to post it feels like shouting into the void",
        "I never know what to post",
        "it feels like shouting into the void",
    ]


def test_dashes_and_line_breaks_end_sentences() -> None:
    assert units("great talk today - but twitter is just noise to me")[1:] == [
        "great talk today",
        "but twitter is just noise to me",
    ]


@given(st.text(max_size=300))
def test_any_text_gives_at_most_the_whole_and_a_few_long_parts(text: str) -> None:
    found = units(text)
    assert len(found) <= MAX_UNITS + 1
    assert len(set(found)) == len(found)
    for part in found[1:]:
        assert len(re.findall(r"[A-Za-z0-9']+", part)) >= MIN_WORDS
    if found:
        assert found[0].strip()


@pytest.mark.parametrize("text", [">", "> ", ">>>\n>", "@sam >"])
def test_empty_quote_markers_give_nothing(text: str) -> None:
    """Found by hypothesis: a message of bare quote markers is empty, not an empty "whole"."""
    assert units(text) == []
