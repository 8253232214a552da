"""Pure presentation of answers as cards (title, description, fields, footer); no discord.

``bot/embeds.py`` turns a :class:`Card` into a ``discord.Embed`` and ``bot/console.py``
prints it. Discord's embed limits are constants here and are measured on cards by
``bot/service/check.py``; the builders truncate with "…" so a card always fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.kb.model import Benefit, Entry, EntrySource, KnowledgeBase, Objection

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELDS_LIMIT = 25
TOTAL_LIMIT = 6000

ELLIPSIS = "…"
BENEFITS_FIELD = "How Twitter helps"
BENEFITS_TITLE = "What Twitter offers physicians"


@dataclass(frozen=True, slots=True)
class Field:
    """One embed field."""

    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """An answer as plain strings, ready for an embed or a terminal."""

    title: str
    description: str = ""
    fields: tuple[Field, ...] = ()
    footer: str = ""

    def total_length(self) -> int:
        """Characters Discord counts towards the 6000 total of an embed."""
        return (
            len(self.title)
            + len(self.description)
            + sum(len(f.name) + len(f.value) for f in self.fields)
            + len(self.footer)
        )

    def violations(self) -> list[str]:
        """Every Discord limit this card exceeds, as readable sentences (empty when it fits)."""
        out: list[str] = []
        if len(self.title) > TITLE_LIMIT:
            out.append(f"title is {len(self.title)} characters (Discord allows {TITLE_LIMIT})")
        if len(self.description) > DESCRIPTION_LIMIT:
            out.append(
                f"text is {len(self.description)} characters (Discord allows {DESCRIPTION_LIMIT})"
            )
        if len(self.fields) > FIELDS_LIMIT:
            out.append(f"{len(self.fields)} fields (Discord allows {FIELDS_LIMIT})")
        for f in self.fields:
            if len(f.name) > FIELD_NAME_LIMIT:
                out.append(
                    f"field name {f.name[:40]!r} is {len(f.name)} characters "
                    f"(Discord allows {FIELD_NAME_LIMIT})"
                )
            if len(f.value) > FIELD_VALUE_LIMIT:
                out.append(
                    f"field {f.name[:40]!r} is {len(f.value)} characters "
                    f"(Discord allows {FIELD_VALUE_LIMIT})"
                )
        if len(self.footer) > FOOTER_LIMIT:
            out.append(f"footer is {len(self.footer)} characters (Discord allows {FOOTER_LIMIT})")
        if self.total_length() > TOTAL_LIMIT:
            out.append(
                f"the whole answer is {self.total_length()} characters "
                f"(Discord allows {TOTAL_LIMIT})"
            )
        return out

    def fitted(self) -> Card:
        """This card truncated with "…" wherever it exceeds a limit (unchanged when it fits)."""
        fields = tuple(
            Field(
                truncate(f.name, FIELD_NAME_LIMIT), truncate(f.value, FIELD_VALUE_LIMIT), f.inline
            )
            for f in self.fields[:FIELDS_LIMIT]
        )
        card = Card(
            truncate(self.title, TITLE_LIMIT),
            truncate(self.description, DESCRIPTION_LIMIT),
            fields,
            truncate(self.footer, FOOTER_LIMIT),
        )
        excess = card.total_length() - TOTAL_LIMIT
        if excess > 0:  # shorten the description first, then drop fields from the end
            keep = max(len(card.description) - excess, 0)
            card = Card(card.title, truncate(card.description, keep), card.fields, card.footer)
            fields_list = list(card.fields)
            while card.total_length() > TOTAL_LIMIT and fields_list:
                fields_list.pop()
                card = Card(card.title, card.description, tuple(fields_list), card.footer)
        return card


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut.

    Cuts at a word boundary when one is near, so a moderator's long text reads naturally.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def benefit_line(benefit: Benefit) -> str:
    """``**title** — summary`` on one line."""
    return f"**{benefit.title}** — {' '.join(benefit.summary.split())}"


def footer_for(kb: KnowledgeBase, entry: Entry, shown: Sequence[Benefit] = ()) -> str:
    """Whose advice the card shows: the article's, the community's, the community's with
    benefits (``shown``) that come from the article, or an article's benefit with the
    community's advice on how to start."""
    if entry.source is EntrySource.ARTICLE:
        if isinstance(entry, Benefit) and entry.answer:
            return f"Benefit from {kb.source.credit()}. How to start: {kb.source.community_text()}"
        return kb.source.footer_text()
    own = kb.source.community_text()
    if any(b.source is EntrySource.ARTICLE for b in shown):
        return f"{own}; the benefits listed are from {kb.source.credit()}"
    return own


def answer_card(kb: KnowledgeBase, entry: Entry, *, fit: bool = True) -> Card:
    """The answer for ``entry``: an objection's rebuttal with its benefits, or a benefit's
    answer (what to do, how to start; its summary when it has none).

    The footer says whose advice it is (:func:`footer_for`). With ``fit=False`` the card is
    returned untruncated (``check`` measures it).
    """
    if isinstance(entry, Objection):
        benefits = [b for b in (kb.benefit(i) for i in entry.benefits) if b is not None]
        fields: tuple[Field, ...] = ()
        if benefits:
            fields = (Field(BENEFITS_FIELD, "\n".join(benefit_line(b) for b in benefits)),)
        card = Card(entry.title, entry.answer, fields, footer_for(kb, entry, benefits))
    else:
        # A benefit answers "can Twitter help me with X?": what to do says more than the list
        # of objections that cite it, which /objections already shows.
        card = Card(entry.title, entry.answer or entry.summary, (), footer_for(kb, entry))
    return card.fitted() if fit else card


def benefit_pages(kb: KnowledgeBase, topic: str | None = None) -> list[Card]:
    """The benefits (optionally of one topic) as numbered fields, paged to respect every limit.

    Returns an empty list when no benefit has ``topic``.
    """
    wanted = topic.strip().casefold() if topic else None
    numbered = [
        (n, b)
        for n, b in enumerate(kb.benefits, start=1)
        if wanted is None or wanted in (t.casefold() for t in b.topics)
    ]
    if not numbered:
        return []
    title = BENEFITS_TITLE + (f" · {topic.strip()}" if topic and wanted else "")
    title = truncate(title, TITLE_LIMIT)
    footer = truncate(_list_footer(kb, [b for _, b in numbered]), FOOTER_LIMIT - 20)
    fields = [
        Field(
            truncate(f"{n}. {b.title}", FIELD_NAME_LIMIT),
            truncate(" ".join(b.summary.split()), FIELD_VALUE_LIMIT),
        )
        for n, b in numbered
    ]
    pages: list[list[Field]] = [[]]
    budget = TOTAL_LIMIT - len(title) - len(footer) - 20  # room for " · page 10/10"
    used = 0
    for f in fields:
        size = len(f.name) + len(f.value)
        if pages[-1] and (len(pages[-1]) >= FIELDS_LIMIT or used + size > budget):
            pages.append([])
            used = 0
        pages[-1].append(f)
        used += size
    total = len(pages)
    cards = []
    for i, page in enumerate(pages, start=1):
        page_footer = footer + (f" · page {i}/{total}" if total > 1 else "")
        cards.append(Card(title, "", tuple(page), page_footer))
    return cards


def _list_footer(kb: KnowledgeBase, benefits: Sequence[Benefit]) -> str:
    """The attribution of a list of benefits: the article's, the community's, or both."""
    sources = {b.source for b in benefits}
    if sources == {EntrySource.ARTICLE}:
        return kb.source.footer_text()
    if EntrySource.ARTICLE not in sources:
        return kb.source.community_text()
    return f"From {kb.source.credit()}; the rest: {kb.source.community_text()}"


def objections_card(kb: KnowledgeBase) -> Card:
    """The objections the bot knows, one per line, so members can discover it."""
    lines = [f"• {o.title}" for o in kb.objections]
    description = _join_within(lines, DESCRIPTION_LIMIT)
    return Card(
        "Objections I can answer",
        description,
        (),
        "Say one in an answer channel, mention me, or use /ask.",
    )


def suggestions_text(entries: Sequence[Entry]) -> str:
    """A "did you mean" list of the entries' titles."""
    titles = [entry.title for entry in entries]
    if not titles:
        return "I don't have an answer for that yet."
    lines = [f"{i}. {t}" for i, t in enumerate(titles, start=1)]
    return "Did you mean:\n" + "\n".join(lines)


def _join_within(lines: Sequence[str], limit: int) -> str:
    """Lines joined by newlines; if too long, as many as fit plus "… and N more"."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for i, line in enumerate(lines):
        rest = len(lines) - i
        tail = f"\n… and {rest} more"
        if len("\n".join([*kept, line])) + len(tail) > limit:
            return truncate("\n".join(kept) + tail, limit)
        kept.append(line)
    return truncate(text, limit)  # pragma: no cover - the loop always returns
