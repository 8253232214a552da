"""Scrubbing personal data from what members write before it is stored (pure: no I/O).

:func:`scrub_text` replaces e-mail addresses with ``[email]`` and phone numbers with
``[phone]``, and drops the query string and fragment of links (``?token=…`` and ``#…`` become
``?[removed]``). A phone number is a run of 7 to 15 digits, optionally starting with ``+`` and
grouped by single spaces, dots, dashes, slashes or parentheses; longer digit runs (Discord ids)
and shorter numbers ("20 patients a day", "2015") are kept.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["EMAIL", "LINK_QUERY", "PHONE", "scrub_text"]

EMAIL: Final = "[email]"
PHONE: Final = "[phone]"
LINK_QUERY: Final = "?[removed]"

# Not inside a word or an e-mail address ("0@www.org" is an address, not a link).
_URL = re.compile(r"(?<![\w@.-])(?:https?://|www\.)[^\s<>]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Digit groups joined by one separator (or a parenthesised area code); every repetition
# consumes a separator, so a failed match backtracks at most quadratically. The digit count
# is checked in _phone.
_PHONE = re.compile(
    r"(?<![\w+])\+?(?:\(\d{1,5}\)[ .-]?)?\d+"
    r"(?:(?:[ ./-]?\(\d{1,5}\)[ ./-]?|[ ./-])\d+)*(?!\w)"
)
_DATE = re.compile(r"\d{1,4}([-./])\d{1,2}\1\d{1,4}|(?:19|20)\d\d ?[-/] ?(?:19|20)\d\d")
_MIN_PHONE_DIGITS: Final = 7
_MAX_PHONE_DIGITS: Final = 15


def _scrub_url(match: re.Match[str]) -> str:
    url = match.group(0)
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=-1)
    if cut < 0:
        return _EMAIL.sub(EMAIL, url)
    return _EMAIL.sub(EMAIL, url[:cut]) + LINK_QUERY


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(c.isdigit() for c in found)
    if not _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS:
        return found
    # A run longer than any phone number (an id) is not one; nor are dates and year ranges.
    if max(len(run) for run in re.findall(r"\d+", found)) > _MAX_PHONE_DIGITS:
        return found
    if _DATE.fullmatch(found):
        return found
    return PHONE


def _scrub_plain(text: str) -> str:
    text = _EMAIL.sub(EMAIL, text)
    return _PHONE.sub(_phone, text)


def scrub_text(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and link query strings removed.

    Links keep their address and path (their query and fragment are replaced); outside links,
    e-mail addresses become ``[email]`` and phone numbers ``[phone]``. Idempotent.
    """
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        parts.append(_scrub_plain(text[position : match.start()]))
        parts.append(_scrub_url(match))
        position = match.end()
    parts.append(_scrub_plain(text[position:]))
    return "".join(parts)
