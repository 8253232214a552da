"""Text normalisation for matching: Discord markup, unicode, contractions, tokens, stems.

The pipeline is ``clean`` (markup and unicode to plain lower-case words) followed by
``tokenize``; the engine then applies synonyms, typo correction and ``stem`` per token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

MAX_INPUT_CHARS = 4000
"""Only this many characters of a message are looked at (a 10 MB line stays fast)."""

# Zero-width, joiners, bidi controls, BOM, soft hyphen, variation selectors.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_DISCORD_TOKEN = re.compile(r"<(?:@[!&]?|#|/[^:>]*:|t:|a?:\w*:)[^>\s]*>")
_URL = re.compile(r"<?\b(?:https?://|www\.)\S+>?", re.IGNORECASE)
_QUOTE = re.compile(r"^\s*>{1,3}\s?", re.MULTILINE)
_HEADING = re.compile(r"^\s*(?:#{1,3}|-#)\s+", re.MULTILINE)
_MARKUP = re.compile(r"\|\||~~|\*+|__+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "´": "'"})
_TRIPLE = re.compile(r"([a-z])\1\1")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_WORD = re.compile(r"[a-z0-9']+")
"""A word: "-" and "_" split words ("follow-up" is "follow up")."""

_CONTRACTIONS: dict[str, str] = {
    "i'm": "i am",
    "im": "i am",
    "i've": "i have",
    "ive": "i have",
    "i'd": "i would",
    "i'll": "i will",
    "won't": "will not",
    "wont": "will not",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "shan't": "shall not",
    "ain't": "is not",
    "aint": "is not",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "let's": "let us",
    "what's": "what is",
    "whats": "what is",
    "that's": "that is",
    "thats": "that is",
    "there's": "there is",
    "theres": "there is",
    "it's": "it is",
    "here's": "here is",
    "who's": "who is",
    "where's": "where is",
    "how's": "how is",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "idk": "i do not know",
    "dunno": "do not know",
    "pls": "please",
    "u": "you",
    "ur": "your",
    "r": "are",
    "tbh": "honestly",
    "w/o": "without",
}
_SUFFIX_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    ("n't", " not"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("'d", " would"),
    ("'s", ""),
    ("'", ""),
)


def clean(text: str) -> str:
    """Plain, lower-case, space-separated words of a Discord message (contractions expanded)."""
    return " ".join(tokenize(text))


def tokenize(text: str) -> list[str]:
    """The plain, lower-case words of a Discord message (contractions expanded)."""
    text = text[:MAX_INPUT_CHARS]
    plain = text.isascii()  # most messages: no unicode work needed
    if not plain:
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub("", text)
    if "`" in text:
        text = _CODE_BLOCK.sub(" ", text)
        text = _INLINE_CODE.sub(r" \1 ", text)
    if "<" in text:
        text = _DISCORD_TOKEN.sub(" ", text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" ", text)
    if ">" in text:
        text = _QUOTE.sub("", text)
    if "#" in text:
        text = _HEADING.sub("", text)
    if "*" in text or "|" in text or "~" in text or "__" in text:
        text = _MARKUP.sub(" ", text)
    if plain:
        if "`" in text:
            text = text.replace("`", "'")
        text = text.lower()
    else:
        text = text.translate(_APOSTROPHES).casefold()
        # Letters with accents -> base letters ("café" -> "cafe"); other scripts are dropped.
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    if _TRIPLE.search(text):
        text = _REPEATS.sub(r"\1\1", text)
    words: list[str] = []
    for raw in _WORD.findall(text):
        word = raw.strip("'")
        if not word:
            continue
        expanded = _CONTRACTIONS.get(word)
        if expanded is None:
            if "'" not in word:
                words.append(word)
                continue
            expanded = word
            for suffix, repl in _SUFFIX_CONTRACTIONS:
                if word.endswith(suffix) and len(word) > len(suffix):
                    expanded = word[: -len(suffix)] + repl
                    break
            expanded = expanded.replace("'", "")
        words.extend(expanded.split())
    return words


_STEM_EXCEPTIONS = frozenset({"news", "analysis", "diagnosis", "basis", "lens"})
"""Words whose final "s" is not a plural ("news" is not "new")."""


def stem(word: str) -> str:
    """A light, deterministic suffix stripper so inflections compare equal."""
    if word.isdigit() or len(word) <= 3 or word in _STEM_EXCEPTIONS:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "planned" -> "plann" -> "plan"
    return word


FILLERS = frozenset(
    [
        "actually",
        "even",
        "really",
        "just",
        "genuinely",
        "honestly",
        "literally",
        "truly",
        "seriously",
        "basically",
        "lol",
        "lmao",
        "haha",
        "imo",
        "imho",
        "tho",
        "meh",
        "nah",
        "eh",
        "hmm",
        "ugh",
        "welp",
    ]
)
"""Words that only add emphasis: dropped before synonyms apply, so "what would I *actually*
get out of it" reads as "what would I get out of it" (in messages and triggers alike)."""


def _plain(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(t for t in tokens if t not in FILLERS)


class SynonymMap:
    """Rewrites variant words and phrases to their canonical term, longest phrase first.

    Filler words are dropped first, in variants and in the text alike.
    """

    def __init__(self, synonyms: Mapping[str, Iterable[str]]) -> None:
        self._phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for canonical, variants in sorted(synonyms.items()):
            target = _plain(tokenize(canonical))
            if not target:
                continue
            for variant in variants:
                key = _plain(tokenize(variant))
                if key and key != target:
                    self._phrases.setdefault(key, target)
        self.max_len = max((len(k) for k in self._phrases), default=0)
        # Longest variant starting with each word: most words start none, and are copied.
        self._longest: dict[str, int] = {}
        for key in self._phrases:
            self._longest[key[0]] = max(self._longest.get(key[0], 0), len(key))

    @property
    def variant_words(self) -> set[str]:
        """Every word that appears in a variant (typo correction may aim at them)."""
        return {w for key in self._phrases for w in key}

    def apply(self, tokens: Sequence[str]) -> list[str]:
        """``tokens`` without fillers, every variant phrase replaced by its canonical term."""
        if not FILLERS.isdisjoint(tokens):
            tokens = _plain(tokens)
        if not self._phrases:
            return list(tokens)
        longest = self._longest
        phrases = self._phrases
        n = len(tokens)
        out: list[str] = []
        i = 0  # tokens before i are done
        for start in [k for k, token in enumerate(tokens) if token in longest]:
            if start < i:
                continue  # inside a phrase already replaced
            out.extend(tokens[i:start])
            for size in range(min(longest[tokens[start]], n - start), 0, -1):
                target = phrases.get(tuple(tokens[start : start + size]))
                if target is not None:
                    out.extend(target)
                    i = start + size
                    break
            else:
                out.append(tokens[start])
                i = start + 1
        out.extend(tokens[i:])
        return out


_STOPWORDS_TEXT = """
    a an the and or but if then so as at by for from in into of on onto to with about over
    is am are was were be been being do does did done have has had having will would shall
    never
    should can could may might must i me my mine myself you your yours we us our they them
    their he him his she her it its this that these those there here what which who whom
    when where how just also too very really quite so such some any all much many more most
    lot lots stuff thing things get got getting go going even ever still yet already again
    anyway honestly literally actually pretty kind sort like well ok okay oh hey yeah yes
    no not nope one people person someone anyone everyone else than up out off only own
    same other others each every both few because while since until s t re ve ll d m
    genuinely truly seriously basically simply totally definitely probably maybe perhaps
    exactly frankly personally though tho lol lmao haha hah ugh hmm imo imho
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
"""Function and filler words that carry no topic ("lol", "genuinely"); they still count in
the fuzzy phrase score."""
