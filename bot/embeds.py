"""Cards (plain presentation, ``bot/cards.py``) to ``discord.Embed`` objects; no network.

Discord's limits are enforced here again as a last line of defence (the knowledge-base check
already keeps cards within them), and any text that came from a member is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol

import discord

from bot.service.modlog import diff_lines, diff_summary, fit_lines, problem_text

if TYPE_CHECKING:
    from bot.service.proposal import Proposal

__all__ = [
    "BRAND_COLOUR",
    "CardLike",
    "card_embed",
    "escape_user_text",
    "notice_embed",
    "proposal_embed",
    "truncate",
]

BRAND_COLOUR: Final = discord.Colour(0x1D9BF0)
NOTICE_COLOUR: Final = discord.Colour.light_grey()
WARNING_COLOUR: Final = discord.Colour.orange()
ERROR_COLOUR: Final = discord.Colour.red()

TITLE_MAX: Final = 256
DESCRIPTION_MAX: Final = 4096
FIELD_NAME_MAX: Final = 256
FIELD_VALUE_MAX: Final = 1024
FOOTER_MAX: Final = 2048
FIELDS_MAX: Final = 25
TOTAL_MAX: Final = 6000
ELLIPSIS: Final = "…"


class FieldLike(Protocol):
    """One embed field of a card."""

    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def inline(self) -> bool: ...


class CardLike(Protocol):
    """What :func:`card_embed` reads from a ``bot.cards.Card``."""

    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def fields(self) -> Sequence[FieldLike]: ...
    @property
    def footer(self) -> str: ...


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: limit - 1].rstrip()
    # Never leave a dangling escape backslash before the ellipsis.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + ELLIPSIS


def escape_user_text(text: str, limit: int = 200) -> str:
    """Member text made safe to echo: no markdown, no mentions, one line, at most ``limit``."""
    flat = " ".join(text.split())
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(truncate(flat, limit)))
    return truncate(escaped, limit * 2)


def card_embed(card: CardLike, *, colour: discord.Colour = BRAND_COLOUR) -> discord.Embed:
    """An embed showing ``card``, within every Discord embed limit."""
    title = truncate(card.title.strip(), TITLE_MAX) or None
    description = truncate(card.description.strip(), DESCRIPTION_MAX) or None
    footer = truncate(card.footer.strip(), FOOTER_MAX)
    budget = TOTAL_MAX - len(title or "") - len(footer)
    if description and len(description) > budget:
        description = truncate(description, max(budget, 0)) or None
    budget -= len(description or "")

    embed = discord.Embed(title=title, description=description, colour=colour)
    for f in list(card.fields)[:FIELDS_MAX]:
        name = truncate(f.name.strip(), FIELD_NAME_MAX) or "\u200b"
        value = truncate(f.value.strip(), FIELD_VALUE_MAX) or "\u200b"
        if len(name) + len(value) > budget:
            break
        budget -= len(name) + len(value)
        embed.add_field(name=name, value=value, inline=f.inline)
    if footer:
        embed.set_footer(text=footer)
    return embed


def list_embed(title: str, lines: Sequence[str], *, footer: str) -> discord.Embed:
    """A moderator's list: ``lines`` fitted into the description (whole lines, "… and N more")."""
    embed = discord.Embed(title=title, description=fit_lines(lines, 4000), colour=BRAND_COLOUR)
    embed.set_footer(text=footer)
    return embed


def notice_embed(text: str) -> discord.Embed:
    """A small neutral embed for short notices (no title)."""
    return discord.Embed(description=truncate(text, DESCRIPTION_MAX), colour=NOTICE_COLOUR)


def proposal_embed(proposal: Proposal, *, what: str) -> discord.Embed:
    """The preview of a knowledge-base change: entries added / changed / removed, and its
    warnings, or the errors that refuse it."""
    if proposal.unchanged:
        return discord.Embed(
            title=f"{what}: nothing to change",
            description="The files are identical to the live knowledge base.",
            colour=BRAND_COLOUR,
        )
    if proposal.errors:
        count = len(proposal.errors)
        return discord.Embed(
            title=f"{what}: not applied — {count} problem{'s' * (count != 1)}",
            description=problem_text(proposal.errors, 3900)
            + "\n\nNothing was changed. Fix the lines above and try again.",
            colour=ERROR_COLOUR,
        )
    lines = diff_lines(proposal.diff, proposal.titles) if proposal.diff else []
    summary = diff_summary(proposal.diff)
    description = fit_lines(lines, 3000) if lines else "No entry changes (comments or formatting)."
    embed = discord.Embed(
        title=f"{what}: preview",
        description=f"**{summary}**\n{description}",
        colour=WARNING_COLOUR if proposal.warnings else BRAND_COLOUR,
    )
    files = ", ".join(f"`{n}`" for n in (*proposal.files, *(f"−{r}" for r in proposal.remove)))
    embed.add_field(name="Files", value=truncate(files, 1024), inline=False)
    if proposal.warnings:
        embed.add_field(
            name=f"Warnings ({len(proposal.warnings)})",
            value=problem_text(proposal.warnings, 1024),
            inline=False,
        )
    embed.set_footer(
        text="Apply writes the files (the current version is kept in /kb history). "
        "These buttons expire in 10 minutes."
    )
    return embed
