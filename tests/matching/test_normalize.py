"""Normalisation rules, one by one."""

from __future__ import annotations

import pytest

from bot.matching.normalize import MAX_INPUT_CHARS, SynonymMap, clean, stem, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I'M TOO BUSY", "i am too busy"),
        ("busy!!! really?!", "busy really"),
        ("so busy 😩🔥", "so busy"),
        ("<@123456789> I'm busy", "i am busy"),
        ("<@!42> hi <#99> and <@&7>", "hi and"),
        ("busy <:sad:123> <a:dance:456>", "busy"),
        ("see <t:1700000000:R> now", "see now"),
        ("**too** *busy* __really__ ~~no~~ ||time||", "too busy really no time"),
        ("> I'm too busy\nreally", "i am too busy really"),
        (">>> quoted", "quoted"),
        ("`inline code` here", "inline code here"),
        ("```py\nprint('x')\n``` after", "after"),
        ("look https://example.com/a?b=1 and www.x.org/path", "look and"),
        ("sooooo busyyyy", "soo busyy"),
        ("don't can't won't what's i'm i've", "do not can not will not what is i am i have"),
        ("dont cant whats im", "do not can not what is i am"),
        (
            "who s gonna read it, dunno, aint worth it",
            "who s going to read it do not know is not worth it",
        ),
        ("it’s the doctor’s", "it is the doctor"),
        ("140 characters / 280", "140 characters 280"),
        ("bu\u200bsy \u202etime\u202c", "busy time"),
        ("ｂｕｓｙ", "busy"),
        ("café naïve", "cafe naive"),
        ("self-promotion", "self promotion"),
        ("", ""),
        ("   \n\t ", ""),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_input_is_capped() -> None:
    text = "busy " * (MAX_INPUT_CHARS * 10)
    assert len(clean(text)) <= MAX_INPUT_CHARS


def test_tokenize_splits_clean_words() -> None:
    assert tokenize("I don't have TIME.") == ["i", "do", "not", "have", "time"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("followers", "follower"),
        ("promoting", "promote"),
        ("confused", "confusing"),
        ("studies", "study"),
        ("tweeting", "tweet"),
        ("introverted", "introvert"),
    ],
)
def test_stem_makes_inflections_equal(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_stem_keeps_numbers_and_short_words() -> None:
    assert stem("140") == "140"
    assert stem("busy") == "busy"


def test_synonyms_longest_phrase_first() -> None:
    syn = SynonymMap({"twitter": ["x", "social media"], "busy": ["no time", "swamped"]})
    assert syn.apply(tokenize("no time for social media or X")) == [
        "busy",
        "for",
        "twitter",
        "or",
        "twitter",
    ]
    assert syn.apply(["i", "am", "swamped"]) == ["i", "am", "busy"]
    assert "swamped" in syn.variant_words


def test_empty_synonym_map_is_identity() -> None:
    assert SynonymMap({}).apply(["a", "b"]) == ["a", "b"]
