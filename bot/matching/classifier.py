"""The members' classifier: which bundled entry a message voices, learned from members' words.

The gate (:mod:`bot.matching.gate`) judges a message by its distance to each entry's texts,
which a sarcastic remark, a story about a colleague or a long post often misses. The
classifier learns the way members voice each entry instead: a softmax regression over the
encoder's embedding of a message, fitted by ``tools/fit_classifier.py`` on the labelled
eval-set messages (long posts, replies, stories, typos), the entries' own texts and ordinary
talk (the class ``none``), and shipped beside the model it was fitted for
(``bot/matching/model/classifier.json``).

It knows only the entries it was fitted on: a moderator's new entry is judged by the gate
alone, and :class:`bot.matching.hybrid.HybridMatcher` consults the classifier only where the
gate is silent, only when it is sure, and never against the hard limits (``not_this``,
ordinary talk, an entry's ``context``/``everyday`` lists) nor when an entry it does not know
is among the nearest in meaning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

CLASSIFIER_FILE = "classifier.json"
"""The classifier's file in a model directory."""
NONE = "none"
"""The class of messages no entry answers."""


class ClassifierError(ValueError):
    """A classifier file that cannot be used (the message names the file and what is wrong)."""


@dataclass(frozen=True, slots=True, eq=False)
class Classifier:
    """Softmax regression over a unit-length message embedding: ``classes`` are entry ids
    and :data:`NONE`; the logits are ``scale * x @ weights + bias``."""

    classes: tuple[str, ...]
    weights: NDArray[np.float64]  # (dimensions, classes)
    bias: NDArray[np.float64]  # (classes,)
    scale: float
    model_id: str
    recipe: str = ""

    def probabilities(self, vector: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Each class's probability for one message vector."""
        logits = self.scale * (np.asarray(vector, dtype=np.float64) @ self.weights) + self.bias
        logits -= logits.max()
        odds = np.exp(logits)
        share: NDArray[np.float64] = odds / odds.sum()
        return share

    def best(self, vector: NDArray[np.floating[Any]]) -> tuple[str, float]:
        """The likeliest class and its probability (0-1)."""
        p = self.probabilities(vector)
        top = int(np.argmax(p))
        return self.classes[top], float(p[top])

    def knows(self, entry_id: str) -> bool:
        """Whether the classifier was fitted on this entry."""
        return entry_id in self.classes

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "scale": self.scale,
            "bias": [round(float(v), 6) for v in self.bias],
            "weights": [[round(float(v), 6) for v in row] for row in self.weights],
            "model_id": self.model_id,
            "recipe": self.recipe,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> Classifier:
        """Read ``path``; :class:`ClassifierError` when it is unreadable or malformed."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ClassifierError(f"{path}: cannot read the classifier ({exc})") from exc
        try:
            classes = tuple(str(c) for c in data["classes"])
            weights = np.asarray(data["weights"], dtype=np.float64)
            bias = np.asarray(data["bias"], dtype=np.float64)
            scale = float(data["scale"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ClassifierError(f"{path}: malformed classifier ({exc!r})") from exc
        k = len(classes)
        if (
            k < 2
            or NONE not in classes
            or len(set(classes)) != k
            or weights.ndim != 2
            or weights.shape[1] != k
            or bias.shape != (k,)
            or not np.isfinite(weights).all()
            or not np.isfinite(bias).all()
            or not scale > 0
        ):
            raise ClassifierError(
                f"{path}: malformed classifier (expected distinct classes including "
                f"{NONE!r}, a weight column and a bias for each, a positive scale); refit it "
                "with `python -m tools.fit_classifier`"
            )
        model_id, recipe = str(data.get("model_id", "")), str(data.get("recipe", ""))
        return cls(classes, weights, bias, scale, model_id, recipe)


def fit(
    vectors: NDArray[np.floating[Any]],
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    scale: float = 5.0,
    l2: float = 1e-4,
    steps: int = 2000,
    rate: float = 2.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(weights, bias) of an L2-regularised softmax regression by full-batch gradient descent
    (deterministic: the same rows give the same weights)."""
    x = scale * np.asarray(vectors, dtype=np.float64)
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(labels), len(classes)))
    y[np.arange(len(labels)), [index[label] for label in labels]] = 1.0
    weights = np.zeros((x.shape[1], len(classes)))
    bias = np.zeros(len(classes))
    for _ in range(steps):
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - y) / len(labels)
        weights -= rate * (x.T @ error + l2 * weights)
        bias -= rate * error.sum(axis=0)
    return weights, bias
