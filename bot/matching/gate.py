"""The learned gate: how likely an entry is the right answer to a message, from the evidence.

The hand rules of :mod:`bot.matching.hybrid` compare each figure (meaning, margin, negatives,
word score) with its own threshold. The gate weighs them together instead: a logistic
regression over :data:`FEATURES`, fitted by ``tools/fit_gate.py`` on labelled messages the
encoder never trained on, and shipped beside the model it was fitted for
(``bot/matching/model/gate.json``). Every feature is about the message and one candidate
entry, never about a particular entry, so a moderator's new entry is judged like the others;
two of them (:attr:`Evidence.calibrated`, :attr:`Evidence.texts`) put a small new entry's
scores on the scale of a large one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FEATURES: tuple[str, ...] = (
    "meaning",
    "lead",
    "first",
    "negative_gap",
    "own_negative_gap",
    "ordinary_gap",
    "nearest_text",
    "words",
    "words_lead",
    "words_answer",
    "words_best",
    "words_elsewhere",
    "topical",
    "question",
    "objection",
    "log_words",
    "part",
    "in_context",
    "topical_meaning",
    "chance",
    "log_texts",
    "calibrated",
    "own_texts",
)
"""The gate's inputs, in order (``gate.json`` names them, so a stale file is refused)."""

GATE_FILE = "gate.json"
"""The gate's file in a model directory."""


class GateError(ValueError):
    """A gate file that cannot be used (the message names the file and what is wrong)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What is known about one candidate entry for one message (or one part of it)."""

    meaning: float
    """The entry's meaning score (cosine x 100, after the chance correction)."""
    best_other: float
    """The best meaning score of the other entries the message may get."""
    first: bool
    """The entry is the nearest in meaning."""
    negative: float
    """The nearest negative (the entry's ``not_this`` or ordinary talk), cosine x 100."""
    own_negative: float
    """The entry's own nearest ``not_this`` (0 without any)."""
    ordinary: float
    """The nearest ordinary-talk line."""
    nearest_text: float
    """The cosine x 100 to the entry's nearest text."""
    words: float
    """The word engine's score for the entry (0-100)."""
    words_other: float
    """The word engine's best score for any other entry."""
    words_answer: bool
    """The word engine answers with this entry."""
    words_best: bool
    """The entry is the word engine's answer or first suggestion."""
    words_elsewhere: bool
    """The word engine answers with another entry."""
    topical: bool
    """The whole message names Twitter or social media."""
    question: bool
    objection: bool
    words_count: int
    part: bool
    """A sentence of a longer message, not the whole."""
    in_context: bool
    """The entry's ``context``/``everyday`` lists allow it."""
    chance: float
    """How close ordinary talk comes to the entry by chance (``MeaningIndex.null``), x 100."""
    texts: int
    """How many texts the entry has."""
    raw: float
    """The meaning score before the chance correction (cosine x 100)."""
    own_texts: float
    """How close the entry's own texts come to the rest of it (``MeaningIndex.self_scores``)."""

    def vector(self) -> list[float]:
        """The features, in :data:`FEATURES` order."""
        m = self.meaning
        words = min(100.0, max(0.0, self.words))
        other = min(100.0, max(0.0, self.words_other))
        spread = max(5.0, self.own_texts - self.chance)
        return [
            m,
            m - self.best_other,
            float(self.first),
            m - self.negative,
            m - self.own_negative,
            m - self.ordinary,
            self.nearest_text,
            words,
            words - other,
            float(self.words_answer),
            float(self.words_best),
            float(self.words_elsewhere),
            float(self.topical),
            float(self.question),
            float(self.objection),
            math.log1p(self.words_count),
            float(self.part),
            float(self.in_context),
            (m - 40.0) * float(self.topical),
            self.chance,
            math.log1p(self.texts),
            100.0 * (self.raw - self.chance) / spread,
            self.own_texts,
        ]


@dataclass(frozen=True, slots=True)
class Gate:
    """A logistic regression over standardised :data:`FEATURES`."""

    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float
    model_id: str = ""
    """The encoder the gate was fitted for (its scores mean nothing for another)."""
    recipe: str = ""

    def probability(self, evidence: Evidence) -> float:
        """How likely the entry is the right answer (0-1)."""
        z = self.bias + sum(
            w * (x - mu) / s
            for w, x, mu, s in zip(
                self.weights, evidence.vector(), self.mean, self.scale, strict=True
            )
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def reasons(self, evidence: Evidence, limit: int = 3) -> list[tuple[str, float]]:
        """The features that moved the probability most, with their pull (log-odds)."""
        pulls = [
            (name, w * (x - mu) / s)
            for name, w, x, mu, s in zip(
                FEATURES, self.weights, evidence.vector(), self.mean, self.scale, strict=True
            )
        ]
        pulls.sort(key=lambda p: -abs(p[1]))
        return pulls[:limit]

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "mean": [round(m, 6) for m in self.mean],
            "scale": [round(s, 6) for s in self.scale],
            "bias": round(self.bias, 6),
            "model_id": self.model_id,
            "recipe": self.recipe,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Gate:
        """Read ``path``; :class:`GateError` when it is unreadable or for other features."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GateError(f"{path}: cannot read the gate ({exc})") from exc
        if not isinstance(data, dict) or data.get("features") != list(FEATURES):
            raise GateError(
                f"{path}: the gate was fitted on other features; refit it with "
                "`python -m tools.fit_gate`"
            )
        try:
            weights, mean, scale = (
                tuple(float(v) for v in data[key]) for key in ("weights", "mean", "scale")
            )
            bias = float(data["bias"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GateError(f"{path}: malformed gate ({exc})") from exc
        n = len(FEATURES)
        if not (len(weights) == len(mean) == len(scale) == n) or min(scale) <= 0:
            raise GateError(f"{path}: malformed gate (expected {n} weights, positive scales)")
        return cls(
            weights,
            mean,
            scale,
            bias,
            str(data.get("model_id", "")),
            str(data.get("recipe", "")),
        )


def fit(
    rows: Sequence[Sequence[float]],
    labels: Sequence[float],
    *,
    l2: float = 1.0,
    weights: Sequence[float] | None = None,
) -> tuple[list[float], list[float], list[float], float]:
    """(weights, mean, scale, bias) of an L2-regularised logistic regression (Newton steps);
    ``weights``: each row's weight (default 1)."""
    import numpy as np

    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    r = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.r_[np.full(len(w) - 1, l2), 0.0]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (r * (p - y)) + penalty * w
        hessian = (z * (r * p * (1.0 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return (
        [float(v) for v in w[:-1]],
        [float(v) for v in mean],
        [float(v) for v in scale],
        float(w[-1]),
    )
