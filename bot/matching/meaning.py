"""The meaning key: how close a message is to each entry, to its negatives, to ordinary talk.

Every entry's title, triggers and examples (and a benefit's summary), every entry's
``not_this`` messages and the knowledge base's ordinary talk are embedded once, when the
knowledge base loads (through an embedding cache, so only new texts cost anything). A message
is embedded once; its similarity to an entry is the cosine to the entry's nearest text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bot.kb.model import Benefit, KnowledgeBase

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]

NULL_QUANTILE = 0.9
"""See :meth:`MeaningIndex._null_scores`."""


class Embedder(Protocol):
    """Texts in, L2-normalised float32 vectors out (``semantic.Encoder`` and its cache fit)."""

    def encode(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True, slots=True)
class Nearest:
    """The text of the knowledge base nearest to a message, and its cosine similarity."""

    text: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Meaning:
    """One message's similarities: to every entry, to every entry's negatives, to ordinary talk.

    ``entry[i]`` is the cosine to entry ``i``'s nearest text; ``negative[i]`` to its nearest
    ``not_this`` message (-1 when it has none); ``ordinary`` to the nearest ordinary line.
    """

    entry: NDArray[np.float32]
    negative: NDArray[np.float32]
    ordinary: Nearest | None
    _row: NDArray[np.float32]
    _neg_row: NDArray[np.float32]
    _index: MeaningIndex

    def order(self, allowed: Sequence[bool] | None = None) -> list[int]:
        """Entry indexes by similarity, best first (only ``allowed`` ones when given)."""
        order = [int(i) for i in np.argsort(-self.entry, kind="stable")]
        if allowed is None:
            return order
        return [i for i in order if allowed[i]]

    def nearest(self, entry: int) -> Nearest:
        """The entry's text nearest to the message."""
        start, stop = self._index.text_range(entry)
        best = start + int(np.argmax(self._row[start:stop]))
        return Nearest(self._index.texts[best], float(self._row[best]))

    def nearest_negative(self, entry: int) -> Nearest | None:
        """The entry's ``not_this`` message nearest to the message, if it has any."""
        start, stop = self._index.negative_range(entry)
        if start == stop:
            return None
        best = start + int(np.argmax(self._neg_row[start:stop]))
        return Nearest(self._index.negatives[best], float(self._neg_row[best]))


class MeaningIndex:
    """The embedded knowledge base: texts grouped by entry, negatives, ordinary talk."""

    def __init__(
        self, kb: KnowledgeBase, embedder: Embedder, *, queries: Embedder | None = None
    ) -> None:
        """Embed ``kb``'s texts with ``embedder`` (a cache); messages go to ``queries`` (the
        encoder itself, so members' messages are never cached), by default ``embedder``."""
        self.embedder = embedder
        self.queries = queries if queries is not None else embedder
        texts: list[str] = []
        starts: list[int] = []
        negatives: list[str] = []
        neg_starts: list[int] = []
        for entry in kb.entries:
            own = [entry.title, *entry.triggers, *entry.examples]
            if isinstance(entry, Benefit):
                own.append(entry.summary)
            starts.append(len(texts))
            texts += dict.fromkeys(t for t in own if t.strip())
            neg_starts.append(len(negatives))
            negatives += dict.fromkeys(t for t in entry.not_this if t.strip())
        self.texts: tuple[str, ...] = tuple(texts)
        self._positions: dict[str, list[int]] = {}
        for column, text in enumerate(texts):
            self._positions.setdefault(text, []).append(column)
        self.negatives: tuple[str, ...] = tuple(negatives)
        self.ordinary: tuple[str, ...] = tuple(dict.fromkeys(t for t in kb.ordinary if t.strip()))
        self._starts = np.array(starts, dtype=np.int64)
        self._stops = np.array([*starts[1:], len(texts)], dtype=np.int64)
        self._neg_starts = np.array(neg_starts, dtype=np.int64)
        self._neg_stops = np.array([*neg_starts[1:], len(negatives)], dtype=np.int64)
        vectors = self._encode(self.embedder, [*self.texts, *self.negatives, *self.ordinary])
        n, m = len(self.texts), len(self.negatives)
        self._vectors = np.ascontiguousarray(vectors[:n])
        self._neg_vectors = np.ascontiguousarray(vectors[n : n + m])
        self._ord_vectors = np.ascontiguousarray(vectors[n + m :])
        self.null = self._null_scores()
        # Entries with negatives, and where their negatives start (for np.maximum.reduceat).
        has_neg = self._neg_stops > self._neg_starts
        self._neg_entries = np.flatnonzero(has_neg)
        self._neg_reduce = self._neg_starts[has_neg]
        self.entries = len(starts)
        log.debug(
            "meaning index: %d texts, %d negatives, %d ordinary lines",
            n,
            m,
            len(self.ordinary),
        )

    def _null_scores(self) -> NDArray[np.float32]:
        """How close ordinary talk comes to each entry by chance: per entry, the
        :data:`NULL_QUANTILE` of the ordinary lines' similarity to it (0 without ordinary
        talk). An entry with a hundred texts is near more of everything than one with
        fifteen; subtracting this puts a moderator's small new entry on an equal footing."""
        if len(self._ord_vectors) == 0 or len(self._vectors) == 0:
            return np.zeros(len(self._starts), dtype=np.float32)
        sims = _dot(self._ord_vectors, self._vectors)
        per_entry = np.maximum.reduceat(sims, self._starts, axis=1)
        return np.asarray(np.quantile(per_entry, NULL_QUANTILE, axis=0), dtype=np.float32)

    @staticmethod
    def _encode(embedder: Embedder, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.asarray(embedder.encode(list(texts)), dtype=np.float32)

    def text_range(self, entry: int) -> tuple[int, int]:
        """The slice of ``texts`` that belongs to entry ``entry``."""
        return int(self._starts[entry]), int(self._stops[entry])

    def negative_range(self, entry: int) -> tuple[int, int]:
        """The slice of ``negatives`` that belongs to entry ``entry``."""
        return int(self._neg_starts[entry]), int(self._neg_stops[entry])

    def embed(self, texts: Sequence[str]) -> Vectors:
        """The messages' vectors, in one call to the encoder."""
        return self._encode(self.queries, texts)

    def measure(self, vectors: Vectors, unseen: Sequence[str] = ()) -> list[Meaning]:
        """Similarities of each message vector (one row each) to the knowledge base.

        ``unseen`` gives, row by row, a text that does not count among the entries' texts
        (``check`` asks whether an example gets its answer from the rest of its entry).
        """
        if len(vectors) == 0 or self.entries == 0:
            return []
        sims = _dot(vectors, self._vectors)  # (messages, texts)
        for row, text in enumerate(unseen):
            for column in self._positions.get(text, ()):
                sims[row, column] = -1.0
        per_entry = np.maximum.reduceat(sims, self._starts, axis=1)
        negative = np.full((len(vectors), self.entries), -1.0, dtype=np.float32)
        neg_sims = np.zeros((len(vectors), 0), dtype=np.float32)
        if len(self.negatives):
            neg_sims = _dot(vectors, self._neg_vectors)
            negative[:, self._neg_entries] = np.maximum.reduceat(neg_sims, self._neg_reduce, axis=1)
        ordinary: list[Nearest | None] = [None] * len(vectors)
        if len(self.ordinary):
            ord_sims = _dot(vectors, self._ord_vectors)
            best = np.argmax(ord_sims, axis=1)
            ordinary = [
                Nearest(self.ordinary[int(b)], float(ord_sims[i, b])) for i, b in enumerate(best)
            ]
        return [
            Meaning(per_entry[i], negative[i], ordinary[i], sims[i], neg_sims[i], self)
            for i in range(len(vectors))
        ]


def _dot(messages: Vectors, texts: Vectors) -> Vectors:
    """Cosine similarities of a few message vectors to many text vectors.

    ``einsum`` runs in one thread: a BLAS product (``@``) starts OpenBLAS's thread pool,
    which on a busy 2-core machine took 13 ms instead of 0.2 ms per message.
    """
    product: Vectors = np.einsum("ij,kj->ik", messages, texts)
    return product
