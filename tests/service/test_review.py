"""What moderators see: the explanation card (/kb why) and the false-answer lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.kb.model import EntryKind
from bot.matching.hybrid import Explanation, Part
from bot.matching.meaning import Nearest
from bot.matching.types import Candidate, Decision, Outcome
from bot.service.review import false_answer_lines, option_label, why_card
from bot.storage import FalseAnswer

OBJ = EntryKind.OBJECTION
BUSY = Candidate("too-busy", OBJ, 91.25)
POINT = Candidate("whats-the-point", OBJ, 60.0)


def fields(card: object) -> dict[str, str]:
    return {f.name: f.value for f in card.fields}  # type: ignore[attr-defined]


def test_an_answer_shows_every_figure_and_its_rule() -> None:
    part = Part(
        "i'm too busy for this",
        word=BUSY,
        word_rule="word score and margin",
        meaning=Candidate("too-busy", OBJ, 88.0),
        nearest="I'm too busy for Twitter.",
        runner_up=POINT,
        negative=Nearest("busy day in clinic", 0.5),
        answer=BUSY,
        rule="words and meaning agree",
        probability=0.934,
    )
    decision = Decision(part.text, Outcome.ANSWER, answer=BUSY)
    card = why_card(Explanation(decision, "words and meaning agree", (part,), "model-x"))
    assert card.title == "Answers with too-busy (91.2)"
    got = fields(card)
    assert got["Word score"] == "`too-busy` 91.2\nword score and margin"
    assert got["Meaning score"] == "`too-busy` 88.0"
    assert got["Nearest text"] == "“I'm too busy for Twitter.”"
    assert got["Runner-up and margin"] == "`whats-the-point` 60.0 (margin 28.0)"
    assert got["Nearest negative"] == "“busy day in clinic” 50.0"
    assert got["Learned gate"] == "93 %"
    assert got["Rule"] == "words and meaning agree"
    assert "Blocked by" not in got
    assert "model-x" in card.footer
    assert card.description == "> i'm too busy for this"


def test_silence_names_the_blocking_rule_and_the_parts() -> None:
    rule = "a request to the channel or a note to someone"
    whole = Part("can someone share it? I'm too busy", None, "word score below", rule=rule)
    first = Part("can someone share it?", None, "x", rule=rule)
    second = Part("I'm too busy", BUSY, "y", answer=BUSY, rule="words and meaning agree")
    third = Part("thanks", None, "z", answer=POINT, rule="meaning: a clear match")
    decision = Decision(whole.text, Outcome.SUGGEST, suggestions=(BUSY,))
    explanation = Explanation(
        decision, "parts disagree: too-busy, whats-the-point", (whole, first, second, third)
    )
    escaped: list[str] = []

    def escape(text: str, limit: int) -> str:
        escaped.append(text)
        return text.upper()[:limit]

    card = why_card(explanation, escape=escape)
    assert card.title.startswith("No answer in a channel")
    got = fields(card)
    assert got["Blocked by"] == "PARTS DISAGREE: TOO-BUSY, WHATS-THE-POINT"
    assert got["Word score"].startswith("none")
    assert got["Meaning score"] == "none"
    assert got["Runner-up and margin"] == "none"
    assert "Rule" not in got
    assert got["Sentence by sentence"].splitlines()[1].startswith("2. “I'M TOO BUSY” → answer")
    assert whole.text in escaped  # member text always goes through escape
    assert "words only" in card.footer


def test_false_answer_lines_and_labels() -> None:
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    voted = FalseAnswer(1, "too-busy", "busy day", now, 2, 1, None, now)
    dismissed = FalseAnswer(2, "leadership", None, now, 0, 0, now, now + timedelta(hours=1))
    lines = false_answer_lines([dismissed, voted])
    stamp = int(now.timestamp())
    assert lines[0] == (
        f"**1.** `leadership` ← *(message text not kept)* — dismissed — <t:{stamp + 3600}:R>"
    )
    assert lines[1] == f"**2.** `too-busy` ← “busy day” — 👎 1, 👍 2 — <t:{stamp}:R>"
    long = FalseAnswer(3, "too-busy", "x " * 300, now, 0, 1, None, now)
    assert len(option_label(12, long)) <= 100
    assert option_label(12, long).startswith("12. too-busy: x x")
