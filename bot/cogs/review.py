"""``/kb why`` and ``/kb false-answers`` (the Discord side; ``bot/cogs/kb_admin.py`` registers
them and runs the moderator check first). Not an extension: it knows the ``/kb`` cog only as
the :class:`Reviewer` it needs, so the imports run one way (``kb_admin`` → ``review``).

``/kb why`` shows the matcher's own explanation (``HybridMatcher.explain``, rendered by
:func:`bot.service.review.why_card`). ``/kb false-answers`` lists answers voted *Not helpful* or
dismissed, with one action, *Add as a negative*, which previews the message added to the
entry's ``not_this`` through the ``/kb`` cog's proposal path (preview, Apply / Cancel by
the same moderator, a history version, the stale check).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, Protocol

import discord
from discord import ui

from bot.embeds import card_embed, escape_user_text, list_embed
from bot.service.home import home_refusal
from bot.service.review import false_answer_lines, option_label, why_card

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot
    from bot.storage import FalseAnswer

log = logging.getLogger(__name__)

MAX_MESSAGE: Final = 1000
"""The longest message ``/kb why`` explains (as the bot reads at most this much)."""
MAX_ITEMS: Final = 20
"""False answers listed (a select menu holds at most 25 options)."""
GONE: Final = "That answer's message text is no longer stored (deleted on request or purged)."


class Reviewer(Protocol):
    """What these commands need of the ``/kb`` cog: the bot, the menu's timeout, and its
    proposal path for a negative (preview, Apply / Cancel)."""

    bot: WhyTwitterBot
    preview_timeout: float

    async def propose_negative(
        self, interaction: discord.Interaction[Any], entry_id: str, message: str
    ) -> None: ...


async def why(cog: Reviewer, interaction: discord.Interaction[WhyTwitterBot], message: str) -> None:
    """Explain the live matcher's decision on ``message`` (ephemeral)."""
    explanation = cog.bot.knowledge.matcher.explain(message[:MAX_MESSAGE])
    log.info("/kb why by %s: %s", interaction.user.id, explanation.decision.outcome)
    embed = card_embed(why_card(explanation, escape=escape_user_text))
    await interaction.response.send_message(embed=embed, ephemeral=True)


async def false_answers(
    cog: Reviewer, interaction: discord.Interaction[WhyTwitterBot], days: int
) -> None:
    """List answers voted *Not helpful* or dismissed in this server and in DMs (after the
    command's deferral)."""
    items = await cog.bot.storage.false_answers(
        days=days, guild_id=interaction.guild_id, include_dms=True, limit=MAX_ITEMS
    )
    if not items:
        await interaction.followup.send(
            f"No answers were voted *Not helpful* or dismissed in the last {days} days.",
            ephemeral=True,
        )
        return
    embed = list_embed(
        f"False answers, last {days} days (this server and DMs)",
        false_answer_lines(items, escape=escape_user_text),
        footer="Most recent first. Add as a negative: the message goes to that entry's not_this "
        "(preview first, then Apply).",
    )
    view = FalseAnswersView(cog, items, interaction.user.id)
    if not view.children:
        await interaction.followup.send(embed=embed, ephemeral=True)
        return
    view.message = await interaction.followup.send(
        embed=embed, view=view, ephemeral=True, wait=True
    )


class NegativeSelect(ui.Select["FalseAnswersView"]):
    """*Add as a negative*: one option per listed answer whose message text is kept."""

    def __init__(self, items: list[tuple[int, FalseAnswer]]) -> None:
        options = [
            discord.SelectOption(label=option_label(number, item), value=str(item.answer_id))
            for number, item in items
        ]
        super().__init__(
            placeholder="Add as a negative…", min_values=1, max_values=1, options=options
        )

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        view = self.view
        if view is None:  # pragma: no cover - an item always belongs to its view here
            return
        await view.propose(interaction, int(self.values[0]))


class FalseAnswersView(ui.View):
    """The select under ``/kb false-answers``: only its moderator may use it; it expires."""

    def __init__(self, cog: Reviewer, items: list[FalseAnswer], owner_id: int) -> None:
        super().__init__(timeout=cog.preview_timeout)
        self.cog = cog
        self.owner_id = owner_id
        self.message: discord.InteractionMessage | discord.WebhookMessage | None = None
        kept = [(n, item) for n, item in enumerate(items, start=1) if item.text]
        if kept:
            self.add_item(NegativeSelect(kept))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        refusal = home_refusal(interaction.guild_id, self.cog.bot.settings.home_guild_ids)
        if refusal is None and interaction.user.id != self.owner_id:
            refusal = "Only the moderator who listed these answers can use this menu."
        if refusal is not None:
            log.info(
                "false-answers menu of %s used by %s: refused", self.owner_id, interaction.user.id
            )
            await interaction.response.send_message(refusal, ephemeral=True)
            return False
        return True

    async def propose(self, interaction: discord.Interaction[Any], answer_id: int) -> None:
        """Preview the answered message added to its entry's ``not_this``."""
        row = await self.cog.bot.storage.answered_text(answer_id)
        entry_id, text = row if row is not None else ("", None)
        if text is None:
            await interaction.response.send_message(GONE, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.cog.propose_negative(interaction, entry_id, text)

    async def on_timeout(self) -> None:
        if self.message is None:
            return
        for item in self.children:
            if isinstance(item, ui.Select):
                item.disabled = True
        try:
            await self.message.edit(view=self)
        except discord.HTTPException:
            log.debug("could not disable an expired false-answers menu", exc_info=True)
