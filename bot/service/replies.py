"""A matcher's decision as the reply the bot gives (pure; no discord).

The one place that turns a :class:`~bot.matching.types.Decision` into what to say: the
answer's entry, the "did you mean" entries, or nothing. The cogs render a :class:`Reply` as an
embed and buttons, the console as text, the CLI as one line; none of them looks entries up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol

from bot.matching.types import Decision, Outcome

if TYPE_CHECKING:
    from bot.kb.model import Entry, KnowledgeBase

__all__ = ["MAX_QUESTION", "Matcher", "Reply", "ReplyKind", "ask", "question_text", "reply_for"]

MAX_QUESTION: Final = 1000
"""The characters of a message that are matched, stored and shown back (``/ask``'s limit)."""


class ReplyKind(StrEnum):
    """What the bot does with a message."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    """"Did you mean": only when asked directly (a channel stays silent)."""
    SILENT = "silent"
    """No answer: silent in a channel; asked directly, "no answer yet"."""


class Matcher(Protocol):
    """What :func:`ask` needs from a matcher (the engine and the hybrid matcher fit)."""

    def match(self, text: str) -> Decision: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """The reply to one message, with the knowledge-base entries it shows."""

    kind: ReplyKind
    question: str
    """The message's text, cut to :data:`MAX_QUESTION` (what is stored and echoed)."""
    decision: Decision
    entry: Entry | None = None
    """The answer (``ANSWER`` only)."""
    suggestions: tuple[Entry, ...] = ()
    """The "did you mean" entries, best first (``SUGGEST`` only; never empty then)."""


def question_text(text: str) -> str:
    """``text`` cut to the length the bot matches and keeps."""
    return text[:MAX_QUESTION]


def reply_for(kb: KnowledgeBase, decision: Decision) -> Reply:
    """The reply to ``decision`` with the entries of ``kb``.

    An answer or suggestion whose entry ``kb`` no longer holds (a reload between matching and
    replying) is left out: an answer that is gone is no reply, suggestions that are all gone
    are none.
    """
    question = question_text(decision.text)
    if decision.outcome is Outcome.ANSWER and decision.answer is not None:
        entry = kb.get(decision.answer.id)
        if entry is not None:
            return Reply(ReplyKind.ANSWER, question, decision, entry=entry)
    if decision.outcome is Outcome.SUGGEST:
        found = (kb.get(candidate.id) for candidate in decision.suggestions)
        suggestions = tuple(entry for entry in found if entry is not None)
        if suggestions:
            return Reply(ReplyKind.SUGGEST, question, decision, suggestions=suggestions)
    return Reply(ReplyKind.SILENT, question, decision)


def ask(kb: KnowledgeBase, matcher: Matcher, text: str) -> Reply:
    """Match ``text`` (cut to :data:`MAX_QUESTION`) and return the reply to it."""
    return reply_for(kb, matcher.match(question_text(text)))
