"""Groups similar unanswered questions (pure: no I/O, no discord).

Questions are normalised (case, punctuation, Discord mention/emoji markup, links),
identical normalised texts are counted together, then the distinct texts are clustered
greedily, most frequent first: a text joins the existing group whose representative matches
it best, among the groups sharing one of its rarer words. A match needs rapidfuzz
``token_set_ratio`` at or above the threshold, confirmed by ``token_sort_ratio`` so that a
one-word question does not swallow every longer question containing that word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process

MAX_ROWS = 5000
"""At most this many rows (the most recent) are grouped."""
MAX_EXAMPLES = 3
"""How many other phrasings each group keeps as examples."""

_MARKUP = re.compile(r"<a?:\w+:\d+>|<[@#][!&]?\d+>|https?://\S+")
_NON_WORD = re.compile(r"[\W_]+")
_CANDIDATES = 5
"""How many best ``token_set_ratio`` matches are confirmed per text."""
_PROBES = 2
_POSTINGS = 64
"""A text is compared only with groups sharing one of its ``_PROBES`` rarest words (words
seen in other texts too), at most ``_POSTINGS`` groups per word: similar questions share
their rare words, and this keeps grouping close to linear."""
_CONFIRM_SLACK = 15.0
"""``token_sort_ratio`` may be this much below the threshold for a subset match to count."""


@dataclass(frozen=True)
class UnansweredGroup:
    """Similar questions members asked that the bot could not answer."""

    text: str
    """The most frequent (then most recent) phrasing in the group."""
    count: int
    last_seen: datetime
    examples: tuple[str, ...]
    """Up to ``MAX_EXAMPLES`` other (differently worded) phrasings, most frequent first."""


def normalize_question(text: str) -> str:
    """Lower-case, strip Discord markup, links and punctuation, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARKUP.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


@dataclass
class _Variant:
    """All rows sharing one normalised text."""

    key: str
    count: int = 0
    last_seen: datetime | None = None
    phrasings: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    def add(self, text: str, when: datetime) -> None:
        self.count += 1
        if self.last_seen is None or when > self.last_seen:
            self.last_seen = when
        seen, latest = self.phrasings.get(text, (0, when))
        self.phrasings[text] = (seen + 1, max(latest, when))


def _rank(item: tuple[str, tuple[int, datetime]]) -> tuple[int, float, str]:
    text, (count, latest) = item
    return (-count, -latest.timestamp(), text)


def group_questions(
    rows: Sequence[tuple[str, datetime]],
    *,
    threshold: float = 80.0,
    max_rows: int = MAX_ROWS,
) -> list[UnansweredGroup]:
    """Group similar questions; largest groups first, ties broken by recency then text.

    ``rows`` are ``(text, when)`` pairs; only the ``max_rows`` most recent are considered.
    The result is deterministic for a given multiset of rows, whatever their order.
    ``when`` values must be all timezone-aware or all naive.
    """
    recent = sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)[:max_rows]
    variants: dict[str, _Variant] = {}
    for text, when in recent:
        shown = " ".join(text.split())
        if not shown:
            continue
        key = normalize_question(shown) or shown.casefold()
        variants.setdefault(key, _Variant(key)).add(shown, when)

    ordered = sorted(
        variants.values(),
        key=lambda v: (-v.count, -_stamp(v.last_seen), v.key),
    )
    document_frequency = Counter(token for v in ordered for token in set(v.key.split()))
    clusters: list[list[_Variant]] = []
    representatives: list[str] = []
    postings: dict[str, list[int]] = defaultdict(list)
    for variant in ordered:
        tokens = set(variant.key.split())
        shared = [t for t in tokens if document_frequency[t] > 1]
        probes = sorted(shared, key=lambda t: (document_frequency[t], t))[:_PROBES]
        nearby = {i for t in probes for i in postings[t][:_POSTINGS]}
        target = _find_cluster(variant.key, {i: representatives[i] for i in nearby}, threshold)
        if target is None:
            target = len(clusters)
            clusters.append([variant])
            representatives.append(variant.key)
            for token in tokens:
                postings[token].append(target)
        else:
            clusters[target].append(variant)

    groups = [_to_group(cluster) for cluster in clusters]
    groups.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.text))
    return groups


def _stamp(when: datetime | None) -> float:
    return when.timestamp() if when is not None else 0.0


def _find_cluster(key: str, representatives: dict[int, str], threshold: float) -> int | None:
    """Index of the best representative similar enough to ``key``, or None."""
    if not representatives:
        return None
    candidates = process.extract(
        key,
        representatives,
        scorer=fuzz.token_set_ratio,
        score_cutoff=threshold,
        limit=_CANDIDATES,
    )
    best: tuple[float, int] | None = None
    for choice, set_score, index in candidates:
        sort_score = fuzz.token_sort_ratio(key, choice)
        if sort_score < threshold - _CONFIRM_SLACK:
            continue
        score = (set_score + sort_score) / 2
        if best is None or score > best[0] or (score == best[0] and index < best[1]):
            best = (score, index)
    return None if best is None else best[1]


def _to_group(cluster: list[_Variant]) -> UnansweredGroup:
    """One group; ``cluster`` is in processing order (largest variant first)."""
    shown = [min(v.phrasings.items(), key=_rank)[0] for v in cluster]
    return UnansweredGroup(
        text=shown[0],
        count=sum(v.count for v in cluster),
        last_seen=max(_latest(v) for v in cluster),
        examples=tuple(shown[1 : 1 + MAX_EXAMPLES]),
    )


def _latest(variant: _Variant) -> datetime:
    assert variant.last_seen is not None
    return variant.last_seen
