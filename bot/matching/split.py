"""Long posts and replies as parts: what the poster wrote, what they quoted, each sentence.

People voice an objection in the middle of a long post, in a reply to someone ("@Sam honestly
same, I never have time"), or under a quoted line (``> …``). :func:`units` returns the
message as a whole, reply markers removed, followed by the parts worth matching on their own.
"""

from __future__ import annotations

import re

from bot.matching.normalize import MAX_INPUT_CHARS

MAX_UNITS = 8
"""At most this many parts besides the whole message (a long post stays cheap)."""
MIN_WORDS = 3
"""A part with fewer words is too short to carry an objection on its own."""

_MENTION = re.compile(r"<@[!&]?\d+>")
"""A Discord user or role mention."""
_AT_NAME = re.compile(r"^([ \t]*(?:>+[ \t]*)?)(?:@[\w.-]+[,:]?[ \t]*)+", re.MULTILINE)
"""Typed @-names opening a line, i.e. a reply ("@Sam", "@dr.lee: ..."); an @-name inside a
sentence ("follow me @drsmith") is part of what was said."""
_QUOTE_LINE = re.compile(r"^\s*>{1,3}\s?(.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s*\n+\s*|(?<=[a-z])\s+-{1,2}\s+|\s+[—–]\s+")
"""Sentence boundaries: end punctuation, line breaks, dashes between words."""
_WORD = re.compile(r"[A-Za-z0-9']+")


def strip_reply_markers(text: str) -> str:
    """``text`` without Discord mentions and typed @-names ("@Sam honestly same" -> "honestly
    same"), whitespace collapsed on each line."""
    text = _MENTION.sub(" ", text)
    text = _AT_NAME.sub(r"\1", text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def units(text: str) -> list[str]:
    """The whole message (reply markers removed) first, then its parts, each once.

    Parts: the quoted lines together and the poster's own lines together (when the message
    has both), then each sentence of at least :data:`MIN_WORDS` words, at most
    :data:`MAX_UNITS` parts. A one-sentence message has no parts.
    """
    text = strip_reply_markers(text[:MAX_INPUT_CHARS])
    if not text:
        return []
    quoted: list[str] = []
    own: list[str] = []
    for line in text.splitlines():
        found = _QUOTE_LINE.match(line)
        if found:
            if found.group(1).strip():
                quoted.append(found.group(1).strip())
        elif line.strip():
            own.append(line.strip())
    whole = "\n".join([*quoted, *own])
    if not whole:  # only empty quote markers (">")
        return []
    parts: list[str] = []
    if quoted and own:
        parts += [" ".join(own), " ".join(quoted)]
    for block in (own, quoted):
        for line in block:
            parts += [s.strip() for s in _SENTENCE_END.split(line)]
    seen = {whole}
    result = [whole]
    for part in parts:
        if len(result) > MAX_UNITS:
            break
        part = part.strip(" ,")
        if part and part not in seen and _word_count(part) >= MIN_WORDS:
            seen.add(part)
            result.append(part)
    return result
