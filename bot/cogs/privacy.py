"""Privacy: ``/forget-me`` lets any member delete what the bot keeps about them (their votes
and unanswered questions), after a confirmation; usable in DMs and in every server.

:class:`ForgetView` is the confirmation, shared with the moderators' ``/whytwitter forget``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands, ui
from discord.ext import commands

from bot.home import home_refusal
from bot.installs import member_command
from bot.storage import ForgetResult

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT: Final = 120.0
"""Seconds the Delete / Cancel buttons stay usable."""


def describe(result: ForgetResult) -> str:
    """``2 votes and 1 unanswered question`` (and answered messages, when any are kept)."""
    votes = f"{result.votes} vote{'s' * (result.votes != 1)}"
    questions = f"{result.unanswered} unanswered question{'s' * (result.unanswered != 1)}"
    if result.answered:
        texts = f"{result.answered} answered message{'s' * (result.answered != 1)}"
        return f"{votes}, {questions} and {texts}"
    return f"{votes} and {questions}"


def confirm_text(result: ForgetResult, *, own: bool, label: str = "") -> str:
    """What the confirmation says will be deleted (or that nothing is stored)."""
    whose = "you" if own else label
    if result.total == 0:
        return f"The bot keeps no votes or unanswered questions from {whose}."
    return (
        f"The bot keeps {describe(result)} from {whose}. Delete them for good? "
        "(Answers the bot gave stay: they do not name anyone.)"
    )


class ForgetView(ui.View):
    """Delete / Cancel: only the member who asked may press them (for a moderator's request,
    only in a home server); they expire."""

    def __init__(
        self,
        bot: WhyTwitterBot,
        *,
        owner_id: int,
        target_id: int,
        actor: str,
        home_only: bool = False,
    ) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.bot = bot
        self.owner_id = owner_id
        self.target_id = target_id
        self.actor = actor
        self.home_only = home_only
        self.done = False

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if self.home_only:
            refusal = home_refusal(interaction.guild_id, self.bot.settings.home_guild_ids)
            if refusal is not None:
                await interaction.response.send_message(refusal, ephemeral=True)
                return False
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the member who asked can confirm this.", ephemeral=True
            )
            return False
        return True

    def _finish(self) -> None:
        self.done = True
        self.stop()
        for item in self.children:
            if isinstance(item, ui.Button):
                item.disabled = True

    @ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def delete(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        if self.done:
            await interaction.response.send_message("This request is finished.", ephemeral=True)
            return
        self._finish()
        result = await self.bot.storage.forget_member(self.target_id)
        log.info(
            "%s deleted the data of member %s: %d votes, %d unanswered questions",
            self.actor,
            self.target_id,
            result.votes,
            result.unanswered,
        )
        await interaction.response.edit_message(content=f"Deleted {describe(result)}.", view=self)

    @ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        self._finish()
        await interaction.response.edit_message(
            content="Cancelled: nothing was deleted.", view=self
        )


async def ask_to_forget(
    interaction: discord.Interaction[WhyTwitterBot], target_id: int, *, own: bool, label: str = ""
) -> None:
    """Show what is stored about ``target_id`` with Delete / Cancel (ephemeral)."""
    bot = interaction.client
    counts = await bot.storage.member_data(target_id)
    text = confirm_text(counts, own=own, label=label)
    if counts.total == 0:
        await interaction.response.send_message(text, ephemeral=True)
        return
    actor = "member" if own else f"moderator {interaction.user.id}"
    view = ForgetView(
        bot, owner_id=interaction.user.id, target_id=target_id, actor=actor, home_only=not own
    )
    await interaction.response.send_message(text, view=view, ephemeral=True)


class Privacy(commands.Cog):
    """``/forget-me``."""

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot

    @member_command
    @app_commands.command(
        name="forget-me", description="Delete your votes and unanswered questions from the bot"
    )
    async def forget_me(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        """Any member, anywhere: their own data, after a confirmation."""
        await ask_to_forget(interaction, interaction.user.id, own=True)


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Privacy(bot))
