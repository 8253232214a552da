"""The meaning key: how close a message is to each entry, to its negatives, to ordinary talk.

Every entry's title, triggers and examples (and a benefit's summary), every entry's
``not_this`` messages and the knowledge base's ordinary talk are embedded once, when the
knowledge base loads (through an embedding cache, so only new texts cost anything). A message
is embedded once; its similarity to an entry mixes the cosine to the entry's nearest text with
the cosine to the entry's centroid (:data:`NEAREST_WEIGHT`).
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
NEAREST_WEIGHT = 0.25
"""An entry's score is this much of the cosine to its nearest text, the rest the cosine to
its centroid (the normalised mean of its texts). The nearest text alone lets one stray
trigger of a large entry capture a message; the centroid is the entry's topic as a whole, so
a moderator's new entry of fifteen texts competes on its topic. Measured with the bundled
encoder on the never-trained dev quarters of the realistic sets: the entry nearest in meaning
is the labelled one for 233 -> 244 of 264 lines; on a moderator's three new topics (trial 3),
33 -> 50 of 69 messages (a half-and-half mix: 244 and 44)."""


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

    ``entry[i]`` mixes the cosine to entry ``i``'s nearest text and to its centroid
    (:data:`NEAREST_WEIGHT`); ``negative[i]`` to its nearest
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
        self,
        kb: KnowledgeBase,
        embedder: Embedder,
        *,
        queries: Embedder | None = None,
        nearest_weight: float = NEAREST_WEIGHT,
    ) -> None:
        """Embed ``kb``'s texts with ``embedder`` (a cache); messages go to ``queries`` (the
        encoder itself, so members' messages are never cached), by default ``embedder``.
        ``nearest_weight``: see :data:`NEAREST_WEIGHT`."""
        self.embedder = embedder
        self.nearest_weight = nearest_weight
        self.queries = queries if queries is not None else embedder
        texts: list[str] = []
        starts: list[int] = []
        negatives: list[str] = []
        neg_starts: list[int] = []
        for entry in kb.entries:
            own = [entry.title, *entry.triggers, *entry.examples, *kb.phrasings.get(entry.id, ())]
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
        self._sums, self._counts, self._centroids = self._centroid_parts(starts, n)
        self._neg_vectors = np.ascontiguousarray(vectors[n : n + m])
        self._ord_vectors = np.ascontiguousarray(vectors[n + m :])
        self.null = self._null_scores()
        self._self_scores: NDArray[np.float32] | None = None
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

    def _centroid_parts(
        self, starts: list[int], n: int
    ) -> tuple[Vectors, NDArray[np.float32], Vectors]:
        """Per entry: the sum of its text vectors, their count and the normalised centroid."""
        entries = len(starts)
        dim = self._vectors.shape[1] if n else 0
        sums = np.zeros((entries, dim), dtype=np.float32)
        counts = np.zeros(entries, dtype=np.float32)
        if n:
            stops = [*starts[1:], n]
            for e, (a, b) in enumerate(zip(starts, stops, strict=True)):
                if b > a:
                    sums[e] = self._vectors[a:b].sum(axis=0)
                    counts[e] = b - a
        return sums, counts, _normalised(sums)

    def _scores(self, sims: Vectors, centroid_sims: Vectors) -> Vectors:
        """Entry scores from text similarities (messages x texts) and centroid ones."""
        nearest = np.maximum.reduceat(sims, self._starts, axis=1)
        w = self.nearest_weight
        mixed: Vectors = w * nearest + (1.0 - w) * centroid_sims
        return mixed

    def _null_scores(self) -> NDArray[np.float32]:
        """How close ordinary talk comes to each entry by chance: per entry, the
        :data:`NULL_QUANTILE` of the ordinary lines' similarity to it (0 without ordinary
        talk). An entry with a hundred texts is near more of everything than one with
        fifteen; subtracting this puts a moderator's small new entry on an equal footing."""
        if len(self._ord_vectors) == 0 or len(self._vectors) == 0:
            return np.zeros(len(self._starts), dtype=np.float32)
        sims = _dot(self._ord_vectors, self._vectors)
        per_entry = self._scores(sims, _dot(self._ord_vectors, self._centroids))
        return np.asarray(np.quantile(per_entry, NULL_QUANTILE, axis=0), dtype=np.float32)

    @property
    def self_scores(self) -> NDArray[np.float32]:
        """Per entry: the mean score of its own texts, each measured as unseen (against the
        rest of the entry). A tight entry of a few close triggers scores its members higher
        than a broad one; the gate reads a message's score against this (computed once, the
        same figures :meth:`measure` gives with each text unseen, in one product per entry)."""
        if self._self_scores is None:
            scores = np.zeros(self.entries, dtype=np.float32)
            w = self.nearest_weight
            for e in range(self.entries):
                start, stop = self.text_range(e)
                if stop - start < 2:
                    continue
                own = self._vectors[start:stop]  # unit rows
                sims = _dot(own, own)
                np.fill_diagonal(sims, -1.0)  # a text is not its own nearest
                # The cosine to the centroid of the entry's other texts: v.(S - v) / |S - v|.
                total = self._sums[e]
                along = own @ total
                rest_norm = np.sqrt(np.maximum(float(total @ total) - 2.0 * along + 1.0, 1e-12))
                centroid = (along - 1.0) / rest_norm
                scores[e] = float(np.mean(w * sims.max(axis=1) + (1.0 - w) * centroid))
            self._self_scores = scores
        return self._self_scores

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
        centroid_sims = _dot(vectors, self._centroids)
        for row, text in enumerate(unseen):
            for column in self._positions.get(text, ()):
                sims[row, column] = -1.0
                # The entry's centroid without this text, too.
                entry = int(np.searchsorted(self._starts, column, side="right")) - 1
                rest = self._sums[entry] - self._vectors[column]
                centroid_sims[row, entry] = (
                    float(vectors[row] @ _normalised(rest[None, :])[0])
                    if self._counts[entry] > 1
                    else -1.0
                )
        per_entry = self._scores(sims, centroid_sims)
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


def _normalised(rows: Vectors) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: Vectors = (rows / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return out


def _dot(messages: Vectors, texts: Vectors) -> Vectors:
    """Cosine similarities of a few message vectors to many text vectors.

    ``einsum`` runs in one thread: a BLAS product (``@``) starts OpenBLAS's thread pool,
    which on a busy 2-core machine took 13 ms instead of 0.2 ms per message.
    """
    product: Vectors = np.einsum("ij,kj->ik", messages, texts)
    return product
