"""What moderators see when they review the matcher (pure: no discord).

* :func:`why_card` turns the matcher's explanation of one message (``HybridMatcher.explain``,
  the same as ``python -m bot match --explain``) into a card: the word score, the meaning
  score, the nearest text (a trigger, an example or a phrasing), the runner-up and margin, and the
  rule that blocked an answer.
* :func:`false_answer_lines` lists answers voted *Not helpful* or dismissed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.cards import Card, Field
from bot.matching.hybrid import Explanation, Part
from bot.matching.types import Candidate, Outcome

if TYPE_CHECKING:
    from bot.storage import FalseAnswer

__all__ = ["false_answer_lines", "option_label", "why_card"]

Escape = Callable[[str, int], str]
"""Makes member (or knowledge-base) text safe to show: ``escape(text, limit)``."""

MAX_PARTS = 5


def _plain(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _score(candidate: Candidate | None) -> str:
    return f"`{candidate.id}` {candidate.score:.1f}" if candidate is not None else "none"


def _deciding(explanation: Explanation) -> Part | None:
    """The part whose verdict is the decision (the answering part, else the whole message)."""
    answer = explanation.decision.answer
    if explanation.decision.outcome is Outcome.ANSWER and answer is not None:
        for part in explanation.parts:
            if part.answer is not None and part.answer.id == answer.id:
                return part
    return explanation.parts[0] if explanation.parts else None


def why_card(explanation: Explanation, *, escape: Escape = _plain) -> Card:
    """The explanation of one decision as a card (title: the verdict; one field per figure)."""
    decision = explanation.decision
    answered = decision.outcome is Outcome.ANSWER and decision.answer is not None
    if answered and decision.answer is not None:
        title = f"Answers with {decision.answer.id} ({decision.answer.score:.1f})"
    elif decision.outcome is Outcome.SUGGEST and decision.suggestions:
        ids = ", ".join(c.id for c in decision.suggestions)
        title = f"No answer in a channel (asked directly: did you mean {ids})"
    else:
        title = "No answer (silent)"
    fields: list[Field] = []
    part = _deciding(explanation)
    if part is not None:
        fields.append(
            Field("Word score", f"{_score(part.word)}\n{escape(part.word_rule, 300)}", True)
        )
        fields.append(Field("Meaning score", _score(part.meaning), True))
        nearest = f"“{escape(part.nearest, 300)}”" if part.nearest else "none"
        fields.append(Field("Nearest text", nearest, False))
        if part.runner_up is not None and part.margin is not None:
            runner = f"{_score(part.runner_up)} (margin {part.margin:.1f})"
        else:
            runner = "none"
        fields.append(Field("Runner-up and margin", runner, False))
        if part.probability is not None:
            fields.append(Field("Learned gate", f"{100 * part.probability:.0f} %", True))
        if part.negative is not None:
            fields.append(
                Field(
                    "Nearest negative",
                    f"“{escape(part.negative.text, 300)}” {100 * part.negative.similarity:.1f}",
                    False,
                )
            )
    if answered:
        fields.append(Field("Rule", escape(explanation.rule, 500), False))
    else:
        fields.append(Field("Blocked by", escape(explanation.rule, 500), False))
    if len(explanation.parts) > 1:
        lines = []
        for number, each in enumerate(explanation.parts[1 : MAX_PARTS + 1], start=1):
            verdict = f"answer `{each.answer.id}`" if each.answer else "no answer"
            lines.append(
                f"{number}. “{escape(each.text, 80)}” → {verdict}: {escape(each.rule, 120)}"
            )
        if len(explanation.parts) > MAX_PARTS + 1:
            lines.append(f"… and {len(explanation.parts) - MAX_PARTS - 1} more")
        fields.append(Field("Sentence by sentence", "\n".join(lines), False))
    model = explanation.model or "none (words only)"
    return Card(
        title=title,
        description=f"> {escape(decision.text, 500)}",
        fields=tuple(fields),
        footer=f"Model: {model}. The same as `python -m bot match --explain`.",
    )


def false_answer_lines(items: Sequence[FalseAnswer], *, escape: Escape = _plain) -> list[str]:
    """One numbered line per item: entry, message, votes, dismissal, when."""
    lines = []
    for number, item in enumerate(items, start=1):
        marks = []
        if item.not_helpful:
            marks.append(f"👎 {item.not_helpful}")
        if item.helpful:
            marks.append(f"👍 {item.helpful}")
        if item.dismissed_at is not None:
            marks.append("dismissed")
        text = f"“{escape(item.text, 150)}”" if item.text else "*(message text not kept)*"
        stamp = int(item.last_at.timestamp())
        lines.append(
            f"**{number}.** `{item.entry_id}` ← {text} — {', '.join(marks)} — <t:{stamp}:R>"
        )
    return lines


def option_label(number: int, item: FalseAnswer) -> str:
    """The select-menu label of an item (at most 100 characters)."""
    return _plain(f"{number}. {item.entry_id}: {item.text or ''}", 100)
