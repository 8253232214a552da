"""The matcher: scores a message against every entry's triggers and decides what to do.

Scoring, per trigger, on normalised tokens (synonyms applied, typos corrected, stemmed):

* ``coverage``: the IDF-weighted share of the trigger's content words found in the message;
* ``focus``: the IDF-weighted share of the message's content words that belong to the
  entry's vocabulary (a long message that merely mentions one word scores low);
* ``phrase``: rapidfuzz similarity of the two normalised strings (word order, short forms).

Candidates come from an inverted index (content word -> triggers), so the cost per message
grows with the postings of the message's words, not with the size of the knowledge base;
only the best few triggers are scored with rapidfuzz.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.kb.model import Entry, EntryKind, KnowledgeBase
from bot.matching.normalize import MAX_INPUT_CHARS, STOPWORDS, SynonymMap, stem, tokenize
from bot.matching.types import Candidate, Decision, Outcome, Thresholds

log = logging.getLogger(__name__)

_RESCORE = 4
"""How many triggers (by coverage) are re-scored with rapidfuzz."""
_PER_ENTRY = 3
"""At most this many of them from one entry."""
_MAX_POSTINGS = 1000
"""Words with more postings than this do not generate candidates (they still score)."""
_MIN_TRIGGER_WEIGHT = 1.0
"""Minimum trigger weight, in units of the highest IDF (a word unique to one entry): a
trigger whose only content word is shared by several entries is never fully covered."""
_UNKNOWN_WEIGHT = 0.67
"""Weight of a message word the knowledge base never uses, in units of the highest IDF."""
_RANK_EXTRA = 3
"""Extra candidates ranked so that a few can be set aside (benefits, for a statement)."""
_CLEAR_LEAD_EVIDENCE = 2
"""Topic words of the message (not "twitter", which most entries use) the best entry must
use to answer on a clear lead."""
_POLARITY_PENALTY = 0.8
"""Score factor for a trigger that is negated ("no followers", "not enough time") when the
message has no negation at all ("I followed everyone"): same words, opposite sense."""
_NEGATIONS = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "noone", "cannot", "without"}
    | {"hardly", "barely", "zero", "few", "nor", "only", "impossible", "rarely", "seldom"}
)
"""Words that turn a statement into a complaint; triggers using them need one in the message."""
_RHETORICAL_TEXT = (
    *("who would", "who will", "who is going to", "who care", "who want", "who read"),
    *("who has", "when would", "when will i", "when do i", "am i supposed to"),
    *("where would i find", "where do i find", "how would i find"),
)
_RHETORICAL = re.compile(
    "|".join(re.escape(" ".join(stem(w) for w in phrase.split())) for phrase in _RHETORICAL_TEXT)
)
"""Rhetorical questions that say "nobody" or "never": "who would read it" is "nobody would
read it", "when would I tweet" is "I never could". They count as a negation on both sides:
a trigger using one only fully matches a message with a negation or one of them."""
_QUESTION_STARTS = frozenset(
    {"what", "why", "how", "who", "where", "when", "which", "is", "are", "am", "any"}
    | {"can", "could", "would", "will", "should", "does", "do", "did"}
)
_REQUEST_WORDS = frozenset(
    {"help", "helps", "helpful", "benefit", "benefits", "advantage", "useful", "good"}
)
"""A benefit answers a question or a request about it, never a statement of news."""
_ASKER_WORDS = frozenset({"i", "me", "my", "myself", "people", "doctor", "doctors"})
_ASKER_WORDS |= frozenset({"physician", "physicians", "docs", "clinicians"})
"""Words that make a question about what Twitter does for someone, not about logistics."""
_CAPABILITY_STARTS = frozenset({"can", "could", "does", "do", "will", "would", "is", "how"})
"""Questions that ask what Twitter can do ("could twitter raise the profile of my field?")."""
_W_COVERAGE = 0.4
_W_FOCUS = 0.4
_W_PHRASE = 0.2


@dataclass(frozen=True, slots=True)
class _Trigger:
    entry: int  # index into Matcher._entries
    text: str  # normalised, stemmed, space-joined
    content: frozenset[str]
    weight: float  # sum of the content words' IDF
    negated: bool  # uses a negation: only fully matches a message with one


@dataclass(slots=True)
class _Message:
    """A message's tokens, prepared once per ``match``."""

    raw: list[str]  # tokens as written
    words: list[str]  # typos corrected, synonyms applied
    norm: str  # the stems of ``words``, space-joined
    content: list[str]  # stems of the content words, unique, in order
    negated: bool = False  # has a negation or a rhetorical "who would" question
    stems: frozenset[str] | None = None  # stems of ``raw`` and ``words`` (computed on use)
    raw_norm: str = ""  # the stems of ``raw``, space-joined (computed on use)


class Matcher:
    """Decides, deterministically, whether a message is one of the knowledge base's entries."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds if thresholds is not None else Thresholds()
        self._synonyms = SynonymMap(kb.synonyms)
        self._entries: tuple[Entry, ...] = kb.entries
        self._typo_cache: dict[str, str] = {}
        self._stem_cache: dict[str, str] = {}

        phrases: list[tuple[int, list[str]]] = []
        for index, entry in enumerate(self._entries):
            for text in entry.triggers:
                words = self._synonyms.apply(tokenize(text))
                if words:
                    phrases.append((index, words))
        keywords = [
            (index, self._synonyms.apply(tokenize(k)))
            for index, entry in enumerate(self._entries)
            for k in entry.keywords
        ]

        # Raw vocabulary (pre-stem) for typo correction: trigger words and synonym variants.
        self._vocab: set[str] = {w for _, words in (*phrases, *keywords) for w in words}
        self._vocab |= self._synonyms.variant_words
        # Typo candidates bucketed by (first letter, length): a word within two edits of a
        # typo shares its first letter and is at most two letters longer or shorter.
        buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(self._vocab):
            if len(word) >= 3 and not word.isdigit():
                buckets[(word[0], len(word))].append(word)
        self._typo_buckets = {k: tuple(v) for k, v in buckets.items()}

        # IDF over entries: a word used by many entries says little about which one is meant.
        entry_vocab: list[set[str]] = [set() for _ in self._entries]
        for index, words in (*phrases, *keywords):
            entry_vocab[index].update(self._content(words))
        df: dict[str, int] = defaultdict(int)
        for vocab in entry_vocab:
            for word in vocab:
                df[word] += 1
        n = max(len(self._entries), 1)
        self._idf = {w: math.log((n + 1) / (c + 0.5)) + 0.1 for w, c in df.items()}
        top_idf = math.log((n + 1) / 1.5) + 0.1
        self._unknown_idf = top_idf * _UNKNOWN_WEIGHT
        min_weight = top_idf * _MIN_TRIGGER_WEIGHT
        self._entry_vocab = [frozenset(v) for v in entry_vocab]
        self._common = frozenset(w for w, c in df.items() if c * 2 > n)
        self._kinds = [
            EntryKind.OBJECTION if e.kind == EntryKind.OBJECTION else EntryKind.BENEFIT
            for e in self._entries
        ]
        self._is_objection = [kind == EntryKind.OBJECTION for kind in self._kinds]
        self._positions = {entry.id: index for index, entry in enumerate(self._entries)}
        # Inflected forms map to the vocabulary word with the same stem ("puts" -> "put").
        self._stem_forms: dict[str, str] = {}
        for word in sorted(self._vocab):
            self._stem_forms.setdefault(stem(word), word)
        # Context words (objections only): the stems of each phrase as written; a message's
        # words count both as written and after synonyms ("tweeting" is "twitter").
        self._context: list[frozenset[str]] = [
            frozenset(stem(w) for phrase in getattr(entry, "context", ()) for w in tokenize(phrase))
            for entry in self._entries
        ]
        # Everyday-talk phrases (objections only): one pattern of whole stemmed words each.
        self._everyday: list[re.Pattern[str] | None] = []
        for entry in self._entries:
            stemmed = [
                " ".join(stem(w) for w in tokenize(phrase))
                for phrase in getattr(entry, "everyday", ())
            ]
            alternatives = "|".join(re.escape(p) for p in stemmed if p)
            self._everyday.append(re.compile(rf"\b(?:{alternatives})\b") if alternatives else None)

        triggers: list[_Trigger] = []
        index_map: dict[str, list[int]] = defaultdict(list)
        seen: set[tuple[int, str]] = set()
        for entry_index, words in phrases:
            stems = [stem(w) for w in words]
            text = " ".join(stems)
            content = frozenset(self._content(words))
            if not content or (entry_index, text) in seen:
                continue
            seen.add((entry_index, text))
            weight = max(math.fsum(self._idf[w] for w in content), min_weight)  # order-free
            for word in content:
                index_map[word].append(len(triggers))
            negated = not _NEGATIONS.isdisjoint(words) or _rhetorical(text)
            triggers.append(_Trigger(entry_index, text, content, weight, negated))
        self._triggers = tuple(triggers)
        self._index = {w: tuple(ids) for w, ids in index_map.items()}
        # Each indexed word's place in the order (posting length, word), and the words whose
        # postings are short enough to generate candidates.
        by_length = sorted(index_map, key=lambda w: (len(index_map[w]), w))
        self._word_rank = {w: i for i, w in enumerate(by_length)}
        self._usable = frozenset(w for w in index_map if len(index_map[w]) <= _MAX_POSTINGS)
        # Postings with each trigger's share of coverage: summing them is the coverage.
        self._shares = {
            w: {t: self._idf[w] / triggers[t].weight for t in ids} for w, ids in index_map.items()
        }
        log.debug(
            "matcher ready: %d entries, %d triggers, %d words",
            len(self._entries),
            len(self._triggers),
            len(self._index),
        )

    @staticmethod
    def _content(words: list[str]) -> list[str]:
        return [stem(w) for w in words if w not in STOPWORDS]

    def _correct(self, word: str) -> str:
        """``word``, or the vocabulary word it is a form or a likely typo of."""
        cached = self._typo_cache.get(word)
        if cached is not None:
            return cached
        if word in self._vocab or len(word) < 4 or word.isdigit() or word in STOPWORDS:
            if len(self._typo_cache) < 50_000:
                self._typo_cache[word] = word
            return word
        fixed = self._stem_forms.get(stem(word), word)  # "puts" -> "put", "writer" -> "write"
        english = word in english_words()
        single = "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])
        if fixed != word:
            pass
        elif not english and (single in self._vocab or single in STOPWORDS):
            fixed = single
        else:
            limit = 1 if len(word) < 9 else 2
            choices = [
                w
                for size in range(len(word) - limit, len(word) + limit + 1)
                for w in self._typo_buckets.get((word[0], size), ())
            ]
            best = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=limit)
            if best is not None and _plausible_typo(word, best[0], english=english):
                fixed = best[0]
        if len(self._typo_cache) < 50_000:
            self._typo_cache[word] = fixed
        return fixed

    def _stem(self, word: str) -> str:
        cache = self._stem_cache
        stemmed = cache.get(word)
        if stemmed is None:
            stemmed = stem(word)
            if len(cache) < 50_000:
                cache[word] = stemmed
        return stemmed

    def _prepare(self, raw: list[str]) -> _Message:
        """A message's tokens corrected, rewritten by synonyms and stemmed."""
        known = self._typo_cache.get
        correct = self._correct
        words = self._synonyms.apply([known(w) or correct(w) for w in raw])
        cache = self._stem_cache
        stems: list[str] = []
        content: dict[str, None] = {}
        for word in words:
            stemmed = cache.get(word)
            if stemmed is None:
                stemmed = self._stem(word)
            stems.append(stemmed)
            if word not in STOPWORDS:
                content[stemmed] = None
        norm = " ".join(stems)
        negated = not _NEGATIONS.isdisjoint(stems) or _rhetorical(norm)
        return _Message(raw, words, norm, list(content), negated)

    def _score_entries(self, message: _Message) -> dict[int, float]:
        norm, content = message.norm, message.content
        scores: dict[int, float] = {}
        if not content:
            return scores
        idf = self._idf
        rank = self._word_rank
        known = sorted([w for w in content if w in rank], key=rank.__getitem__)
        if not known:
            return scores
        # Candidate generation from the postings of the message's rarer words. A word used by
        # very many triggers has a tiny IDF: it still counts in coverage, but alone it cannot
        # make a confident match, so it does not generate candidates.
        # A word most entries use ("twitter") only generates candidates when the message
        # has no rarer word: the triggers it alone would add cannot lead, and it is the
        # longest posting list.
        shares = self._shares
        usable = [w for w in known if w in self._usable]
        generators = [w for w in usable if w not in self._common] or usable
        if not generators:
            return scores
        # The longest posting list is copied in C; only the others are summed in Python.
        # ``known`` is in order of posting length: the longest is the first of the last length.
        size = len(shares[generators[-1]])
        longest = next(w for w in generators if len(shares[w]) == size)
        matched = dict(shares[longest])
        get = matched.get
        for word in generators:
            if word is not longest:
                for trig, share in shares[word].items():
                    matched[trig] = get(trig, 0.0) + share
        if not matched:
            return scores
        triggers = self._triggers
        if len(generators) < len(known):
            # The common words did not generate candidates, but they count in coverage.
            shortlist = sorted(matched.items(), key=itemgetter(1), reverse=True)[: _RESCORE * 4]
            extra = [shares[w] for w in known if w not in generators]
            if len(extra) == 1:
                more = extra[0].get
                coverage = {t: c + more(t, 0.0) for t, c in shortlist}
            else:
                coverage = {t: c + sum(m.get(t, 0.0) for m in extra) for t, c in shortlist}
        else:
            coverage = matched
        # The best-covered triggers, at most _PER_ENTRY per entry: one entry with many
        # similar triggers must not crowd every other entry out of the re-scoring.
        if all(w in self._common for w in generators):
            # Only words most entries use ("i don't get twitter"): coverage ties everywhere,
            # so the triggers closest as phrases are the ones worth scoring.
            texts = {t: triggers[t].text for t in coverage}
            found = process.extract(norm, texts, scorer=fuzz.ratio, limit=_RESCORE * 3)
            order = [t for _, _, t in found]
        else:
            ranked = sorted(coverage.items(), key=itemgetter(1), reverse=True)
            order = [t for t, _ in ranked[: _RESCORE * 3]]
        best_ids: list[int] = []
        per_entry: dict[int, int] = {}
        for t in order:
            entry = triggers[t].entry
            if per_entry.get(entry, 0) < _PER_ENTRY:
                per_entry[entry] = per_entry.get(entry, 0) + 1
                best_ids.append(t)
                if len(best_ids) == _RESCORE:
                    break

        negated = message.negated
        msg_weights = {w: idf.get(w, self._unknown_idf) for w in content}
        msg_total = sum(msg_weights.values())
        focus_cache: dict[int, float] = {}
        for t in best_ids:
            trigger = triggers[t]
            entry = trigger.entry
            focus = focus_cache.get(entry)
            if focus is None:
                vocab = self._entry_vocab[entry]
                focus = sum([msg_weights[w] for w in content if w in vocab]) / msg_total
                focus_cache[entry] = focus
            base = _W_COVERAGE * coverage[t] + _W_FOCUS * focus
            factor = _POLARITY_PENALTY if trigger.negated and not negated else 1.0
            best = scores.get(entry, -1.0)
            if 100.0 * factor * (base + _W_PHRASE) <= best:
                continue  # even a perfect phrase score would not beat this entry's best
            # The phrase score this trigger needs to beat the entry's best so far: rapidfuzz
            # stops early (and returns 0) below it.
            needed = max(0.0, (best / (100.0 * factor) - base) / _W_PHRASE * 100.0)
            phrase = fuzz.ratio(norm, trigger.text, score_cutoff=needed)
            if phrase < 100.0:
                cutoff = max(needed, phrase)
                phrase = max(phrase, fuzz.token_set_ratio(norm, trigger.text, score_cutoff=cutoff))
            score = 100.0 * factor * (base + _W_PHRASE * phrase / 100.0)
            if score > best:
                scores[entry] = score
        return scores

    def rank(self, text: str, limit: int = 5) -> list[Candidate]:
        """The best-scoring entries for ``text``, best first, at most one per entry."""
        raw = tokenize(text)
        if limit <= 0 or not raw:
            return []
        return self._rank(self._prepare(raw), limit)

    def scores(self, text: str) -> dict[str, float]:
        """Every entry's word score for ``text`` (entries the message shares no word with are
        absent), by entry id; scores are clipped to 0-100."""
        raw = tokenize(text)
        if not raw:
            return {}
        found = self._score_entries(self._prepare(raw))
        return {self._entries[e].id: min(100.0, max(0.0, s)) for e, s in found.items()}

    def _rank(self, message: _Message, limit: int) -> list[Candidate]:
        """The best-scoring entries, best first, at most ``limit``."""
        return [self._candidate(e, score) for e, score in self._ranked(message, limit)]

    def _ranked(self, message: _Message, limit: int) -> list[tuple[int, float]]:
        """(entry index, score clipped to 0-100) of the best entries, best first."""
        scores = self._score_entries(message)
        order = sorted(scores, key=lambda e: (-scores[e], e))[:limit]
        return [(e, min(100.0, max(0.0, scores[e]))) for e in order]

    def _evidence(self, message: _Message, entry: int) -> int:
        """How many of the message's topic words the entry at index ``entry`` uses.

        A word most entries use ("twitter") is evidence for none of them.
        """
        vocab = self._entry_vocab[entry]
        return sum(1 for w in message.content if w in vocab and w not in self._common)

    def _distinct(self, message: _Message, entry: int, other: int) -> bool:
        """Whether the message uses a topic word of ``entry`` that ``other`` does not use."""
        vocab, others = self._entry_vocab[entry], self._entry_vocab[other]
        common = self._common
        return any(w in vocab and w not in others and w not in common for w in message.content)

    def _all_words_of(self, message: _Message, entry: int) -> bool:
        """Whether every content word of the message is in the entry's vocabulary."""
        vocab = self._entry_vocab[entry]
        return all(w in vocab for w in message.content)

    def _candidate(self, entry_index: int, score: float) -> Candidate:
        entry = self._entries[entry_index]
        return Candidate(entry.id, self._kinds[entry_index], score)

    def match(self, text: str) -> Decision:
        """ANSWER, SUGGEST or SILENT for one message."""
        return self.decide(text)[0]

    def decide(self, text: str) -> tuple[Decision, str]:
        """The decision for one message and the rule that made it (for ``--explain``)."""
        limits = self.thresholds
        raw = tokenize(text)
        if not raw:
            return Decision(text, Outcome.SILENT), "no words"
        message = self._prepare(raw)
        # Candidates are (entry index, score) pairs: Candidate objects are built only for
        # what the decision carries.
        ranked = self._ranked(message, limit=max(limits.max_suggestions, 2) + _RANK_EXTRA)
        if not ranked or ranked[0][1] < limits.suggest:
            return Decision(text, Outcome.SILENT), "word score below the suggest threshold"
        is_objection = self._is_objection
        if not _asks(text, raw):
            # A statement is never answered with a benefit, so a benefit is no rival either:
            # "I'm shy" is the introvert objection even if "introverts can network" scores close.
            objections = [c for c in ranked if is_objection[c[0]]]
            if not objections or objections[0][1] < limits.suggest:
                reason = "a statement, and only a benefit matches (benefits answer questions)"
                return self._suggest(text, ranked[: limits.max_suggestions]), reason
            ranked = objections
        best, score = ranked[0]
        plain = " ".join(raw)
        if _LOGISTICS.search(plain):
            return self._suggest(text, ranked), "a request to the channel or a note to someone"
        if is_objection[best] and _PRAISE.search(plain):
            return self._suggest(text, ranked), "praise, thanks, wishes or a farewell"
        if not self._in_context(message, best):
            # Everyday talk in the entry's words ("busy day in clinic"), not an objection.
            return self._suggest(text, ranked), "everyday talk (the entry's context/everyday)"
        lead = score - (ranked[1][1] if len(ranked) > 1 else 0.0)
        if score >= limits.answer and lead >= limits.margin:
            answer = self._candidate(best, score)
            return Decision(text, Outcome.ANSWER, answer=answer), "word score and margin"
        if (
            is_objection[best]
            and score >= limits.clear_lead_answer
            and self._all_words_of(message, best)
        ):
            # Every word of the message is the objection's own ("what's the upside?", "is it
            # really worth it?"), and the close runners-up are benefits that share only those
            # words: they are no rivals, and the objection answers on a clear lead.
            rivals = [
                r for r in ranked[1:] if is_objection[r[0]] or self._distinct(message, r[0], best)
            ]
            if len(rivals) < len(ranked) - 1 and (
                score - (rivals[0][1] if rivals else 0.0) >= limits.clear_lead_margin
            ):
                answer = self._candidate(best, score)
                return Decision(text, Outcome.ANSWER, answer=answer), "clear lead on its own words"
        if (
            score >= limits.clear_lead_answer
            and lead >= limits.clear_lead_margin
            and self._evidence(message, best) >= _CLEAR_LEAD_EVIDENCE
            and (is_objection[best] or self._asks_about_twitter(message))
        ):
            # A clear lead: well ahead of every other entry, on at least two of the
            # message's own topic words (one shared word is what chit-chat looks like).
            # A benefit also needs a question about what Twitter does for the asker
            # ("can twitter get me talks?"), not about logistics ("is there a session?",
            # "will my talk be recorded?").
            answer = self._candidate(best, score)
            return Decision(text, Outcome.ANSWER, answer=answer), "clear lead on topic words"
        if score < limits.answer:
            return self._suggest(text, ranked), "word score below the answer threshold"
        return self._suggest(text, ranked), "word score too close to the runner-up"

    def in_context(self, text: str, entry_id: str) -> bool:
        """Whether ``text`` may get the entry ``entry_id`` by its ``context`` and ``everyday``
        lists (always, for an entry without them)."""
        position = self._positions.get(entry_id)
        raw = tokenize(text)
        if position is None or not raw:
            return position is not None
        if not self._context[position] and self._everyday[position] is None:
            return True
        return self._in_context(self._prepare(raw), position)

    def mentions_twitter(self, text: str) -> bool:
        """Whether ``text`` names Twitter or social media (as written or through a synonym:
        "tweeting", "X", "bluesky", "my feed")."""
        raw = tokenize(text)
        return bool(raw) and "twitter" in self._prepare(raw).words

    def _in_context(self, message: _Message, position: int) -> bool:
        """Whether the message reads as the entry's objection rather than everyday talk.

        It needs one of the entry's context words (when it has any), and it must not use one
        of its everyday phrases ("today", "lunch") unless it also mentions Twitter.
        """
        context = self._context[position]
        if context:
            if message.stems is None:
                message.stems = frozenset((*self._raw_norm(message).split(), *message.norm.split()))
            if context.isdisjoint(message.stems):
                return False
        everyday = self._everyday[position]
        return (
            everyday is None
            or "twitter" in message.words
            or not (everyday.search(self._raw_norm(message)) or everyday.search(message.norm))
        )

    def _raw_norm(self, message: _Message) -> str:
        """The stems of the message's words as written, space-joined (computed once)."""
        if not message.raw_norm:
            get = self._stem_cache.get
            message.raw_norm = " ".join([get(w) or self._stem(w) for w in message.raw])
        return message.raw_norm

    @staticmethod
    def _asks_about_twitter(message: _Message) -> bool:
        """Whether a question asks what Twitter does for the asker (or for doctors)."""
        if not _REQUEST_WORDS.isdisjoint(message.raw):
            return True
        if "twitter" not in message.words:
            return False
        return not _ASKER_WORDS.isdisjoint(message.raw) or message.raw[0] in _CAPABILITY_STARTS

    def _suggest(self, text: str, ranked: list[tuple[int, float]]) -> Decision:
        limits = self.thresholds
        suggestions = tuple(
            self._candidate(e, score)
            for e, score in ranked[: limits.max_suggestions]
            if score >= limits.suggest
        )
        return Decision(text, Outcome.SUGGEST, suggestions=suggestions)


_COMMON_WORD_COUNT = 100
"""Corpus count from which a word is a real English word, never "corrected" (sure ≠ sue)."""


@functools.cache
def english_words() -> frozenset[str]:
    """Common English words (pyspellchecker's frequency list), loaded once per process."""
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - a declared dependency; degrade, don't crash
        log.warning("pyspellchecker is missing: typo correction may change real words")
        return frozenset()
    counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(w for w, n in counts.items() if n >= _COMMON_WORD_COUNT)


def _plausible_typo(word: str, fix: str, *, english: bool = False) -> bool:
    """Whether ``fix`` is a believable correction of ``word``.

    A real English word is only another form of a word sharing its first five letters
    ("understood" -> "understand"), never a different word ("sure" is not "sue"). In short
    words one substituted letter usually makes another real word ("link" is not "line"), so
    below 6 letters only a dropped, doubled or swapped letter is fixed.
    """
    if english:
        return len(word) >= 5 and word[:5] == fix[:5]
    if len(word) >= 6 or len(word) != len(fix):
        return True
    return sorted(word) == sorted(fix)  # a transposition


_PRAISE = re.compile(
    r"\b(?:proud|congrats|congratulations|kudos|bravo|awesome|amazing|well done|great job"
    r"|nice work|good job|loving it|love it|love this"
    r"|(?:great|brilliant|excellent|fantastic|fascinating) (?:cases|posts|threads|content|stuff))\b"
    r"|^(?:thanks|thank you|thank u|thx|ty) for\b(?!.*\b(?:but|though|however|no thanks)\b)"
    r"|^(?:happy|merry)\b(?! to\b)"
    r"|^(?:take care|good night|goodnight|bye|see you|see ya|cheers)\b"
)
"""Praise, thanks, wishes and farewells are never an objection: "her tweet went viral, so proud
of her", "thanks for your attention", "happy nurses week!", "take care everyone" (but "thanks
for the tip, but I'm too busy" may be)."""
_LOGISTICS = re.compile(
    r"^(?:(?:can|could) (?:someone|anyone)(?! (?:explain why|tell me why|convince me))"
    r"|anyone know|does anyone know"
    r"|can i dm you|what time|when is|where do i post"
    r"|who has the link"
    r"|(?:who is|whos|who will be|who s) (?:hosting|running|moderating|leading|presenting"
    r"|organising|organizing|speaking|chairing)"
    r"|where (?:can|do|did|should) (?:i|we|you) find (?:the|our|that|this|these|those|your)\b"
    r"(?! time\b)"
    r"|(?:what|which) (?:hashtags?|tags?) (?:should|do|are|is|will|shall)"
    r"|what is (?:our|the) (?:hashtag|tag) for"
    r"|(?:who|which|any)\b.{0,40}\b(?:good|best|great|favou?rite|recommended|useful)\b.{0,40}"
    r"\bto follow"
    r"|(?:who is|who else is|is anyone|anyone|are you|are any of you) (?:else )?"
    r"(?:going|heading|attending)\b(?! to (?:read|follow|care|listen|see|want|notice|bother))"
    r"|who (?:runs|manages|handles|moderates|hosts|organizes|organises)"
    r"|can you (?:please )?(?:tag|send|retweet|forward|add|dm) me"
    r"|did (?:anyone|someone|you|u) (?:screenshot|catch|see|save|record|grab)"
    r"|i (?:just )?(?:tagged|retweeted|dmed|messaged|mentioned) you)\b"
)
"""A request to the channel ("can someone share the link", "who's hosting the chat", "where do
I find the slides", "what hashtag should we use", "good accounts to follow?", "who's going to
the congress?") or a note to someone ("I tagged you") is never answered from the knowledge
base."""


def channel_rule(text: str, *, objection: bool) -> str | None:
    """The rule that keeps ``text`` from ever being answered with such an entry, or None.

    Requests to the channel and notes to someone are never answered; praise, thanks, wishes
    and farewells are never an objection.
    """
    plain = " ".join(tokenize(text))
    if _LOGISTICS.search(plain):
        return "a request to the channel or a note to someone"
    if objection and _PRAISE.search(plain):
        return "praise, thanks, wishes or a farewell"
    return None


def asks(text: str) -> bool:
    """Whether a message reads as a question, a request or hearsay (a benefit answers it)."""
    return _asks(text, tokenize(text))


def _rhetorical(norm: str) -> bool:
    """Whether a normalised text asks a rhetorical "who would" / "when would I" question."""
    return _RHETORICAL.search(norm) is not None


def _asks(text: str, words: list[str]) -> bool:
    """Whether a message (and its tokens) reads as a question or a request.

    Hearsay ("I heard ...") and a question after a statement ("..., can I ...") count too.
    """
    if "?" in text:
        return True
    if not words:
        return False
    if words[0] in _QUESTION_STARTS or not _REQUEST_WORDS.isdisjoint(words):
        return True
    if _HEARSAY.match(" ".join(words[:8])):
        return True
    return _LATER_QUESTION.search(text, 0, MAX_INPUT_CHARS) is not None


_HEARSAY = re.compile(
    r"(?:i (?:have |ve )?(?:heard|hear|read)"
    r"|(?:my |a |our )?(?:colleague|friend|mentor|attending|boss|pd|chief|chair)s? "
    r"(?:says|said|told me|tells me|swears)"
    r"|someone (?:told|tells) me|people (?:say|said|tell me)|apparently)\b"
)
"""Something heard about Twitter ("I heard it's great for introverts") asks whether it is true."""
_LATER_QUESTION = re.compile(
    r"[,;:.!]\s*(?:so\s+|but\s+|and\s+)?(?:can|could|will|would|should|do|does|is|how)\s+"
    r"(?:i|we|you|it|twitter|x)\b",
    re.IGNORECASE,
)
"""A question after a statement ("I couldn't go, can I follow along on X")."""
