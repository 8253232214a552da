"""A tiny deterministic sentence encoder with the interface of ``semantic.Encoder``.

Each text (case, spacing and a final "." or "!" aside) is a mix of named concepts (fixed
random directions) plus a little of its own direction; a text it does not know is its own
direction only (about orthogonal to all).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray


def _direction(name: str, dim: int) -> NDArray[np.float32]:
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


class ToyEncoder:
    """``encode`` counts its calls and texts, so tests can see what was (re-)encoded."""

    model_id = "toy-encoder"
    dim = 256

    def __init__(self, mixes: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.mixes = {" ".join(k.lower().split()).rstrip(".!"): v for k, v in (mixes or {}).items()}
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.encoded += texts
        rows = []
        for text in texts:
            key = " ".join(text.lower().split()).rstrip(".!")
            vector = 0.15 * _direction("text:" + key, self.dim)
            for concept, weight in self.mixes.get(key, {}).items():
                vector = vector + weight * _direction("concept:" + concept, self.dim)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
