"""Property: any message up to 4,000 characters gives a well-formed decision."""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kb.loader import load_knowledge
from bot.matching.factory import build_matcher
from bot.matching.hybrid import HybridMatcher
from bot.matching.types import Decision, Outcome

_PIECES = st.sampled_from(
    [
        "<@123>",
        "<@!45>",
        "<#6>",
        "<@&7>",
        "<:x:8>",
        "<a:y:9>",
        "**",
        "||",
        "`",
        "```",
        "> ",
        "\u200b",
        "\u202e",
        "\ufeff",
        "😩",
        "👍🏽",
        "https://t.co/x",
        "I'm too busy",
        "hipaa",
        "140",
        "don't",
        "twiter",
        "'",
        "\n",
    ]
)
_TEXT = st.lists(st.one_of(st.text(max_size=60), _PIECES), max_size=80).map("".join)


@cache
def _matcher() -> HybridMatcher:
    return build_matcher(load_knowledge())


@settings(max_examples=300, deadline=None)
@given(text=_TEXT.map(lambda s: s[:4000]))
def test_any_text_gives_a_decision(text: str) -> None:
    decision = _matcher().match(text)
    assert isinstance(decision, Decision)
    assert decision.text == text
    if decision.outcome is Outcome.ANSWER:
        assert decision.answer is not None
        assert decision.suggestions == ()
        assert 0 <= decision.answer.score <= 100
    elif decision.outcome is Outcome.SUGGEST:
        assert decision.answer is None
        assert 1 <= len(decision.suggestions) <= 3
    else:
        assert decision.answer is None
        assert decision.suggestions == ()
    assert decision == _matcher().match(text)  # deterministic


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=4000))
def test_arbitrary_unicode(text: str) -> None:
    assert isinstance(_matcher().match(text), Decision)
