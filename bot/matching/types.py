"""Result types of the matcher (stable: the CLI's JSON contract is built from them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.kb.model import EntryKind


class Outcome(StrEnum):
    """What the bot does with a message."""

    ANSWER = "answer"  # confident and clearly ahead of the runner-up
    SUGGEST = "suggest"  # middle band: "did you mean", only when asked directly
    SILENT = "silent"  # chit-chat, or talk about Twitter that is not an objection


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision thresholds on the 0-100 score scale (defaults documented in README)."""

    answer: float = 75.0
    suggest: float = 55.0
    margin: float = 6.0
    clear_lead_answer: float = 62.0
    """A lower score still answers when it leads the runner-up by ``clear_lead_margin``."""
    clear_lead_margin: float = 10.0
    max_suggestions: int = 3
    meaning_keep: float = 36.0
    """Meaning (cosine x 100) a word answer needs to its entry: both keys must agree; also
    the least meaning with which the words' best suggestion answers when it is clearly the
    nearest entry in meaning."""
    meaning_answer: float = 49.0
    """Meaning that answers a message the words miss (with the margins below)."""
    meaning_margin: float = 3.0
    """How far such a rescue must lead the next entry's meaning."""
    meaning_negative_margin: float = 8.0
    """How far an answer's meaning must lead the nearest negative (its ``not_this``
    messages and the ordinary talk)."""
    gate: float = 70.0
    """With a model that ships a learned gate (``bot/matching/gate.py``), the least
    probability (per cent) with which an entry answers; the four ``meaning_*`` thresholds
    then apply only to a model without one."""
    classifier: float = 90.0
    """With a model that ships the members' classifier (``bot/matching/classifier.py``), the
    least probability (per cent) with which it answers a message the gate left silent (100:
    never)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One scored knowledge-base entry."""

    id: str
    kind: EntryKind
    score: float  # 0-100

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": str(self.kind), "score": round(self.score, 1)}


@dataclass(frozen=True, slots=True)
class Decision:
    """The matcher's verdict on one message."""

    text: str
    outcome: Outcome
    answer: Candidate | None = None
    suggestions: tuple[Candidate, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: ``{"text", "answer": {...} | null, "suggestions": [...]}``."""
        return {
            "text": self.text,
            "answer": self.answer.to_json() if self.answer else None,
            "suggestions": [c.to_json() for c in self.suggestions],
        }


class MatcherLike(Protocol):
    """What the check and the console need from a matcher (``engine.Matcher`` and
    ``hybrid.HybridMatcher`` fit)."""

    def match(self, text: str) -> Decision: ...

    def rank(self, text: str, limit: int = 5) -> list[Candidate]: ...
