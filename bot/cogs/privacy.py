"""Privacy: ``/forget-me`` lets any member delete what the bot keeps about them (their votes
and unanswered questions), after a confirmation; usable in DMs and in every server.

:func:`ask_to_forget` is the confirmation (a :class:`bot.views.ConfirmView`), shared with the
moderators' ``/whytwitter forget``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.installs import member_command
from bot.service.home import home_refusal
from bot.storage import ForgetResult
from bot.views import ConfirmTexts, ConfirmView

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

    async def forget(_: discord.Interaction[Any]) -> str:
        result = await bot.storage.forget_member(target_id)
        log.info(
            "%s deleted the data of member %s: %d votes, %d unanswered questions",
            actor,
            target_id,
            result.votes,
            result.unanswered,
        )
        return f"Deleted {describe(result)}."

    def home_only(pressed: discord.Interaction[Any]) -> str | None:
        return home_refusal(pressed.guild_id, bot.settings.home_guild_ids)

    view = ConfirmView(
        interaction.user.id,
        forget,
        texts=ConfirmTexts(
            not_owner="Only the member who asked can confirm this.",
            finished="This request is finished.",
            cancelled="Cancelled: nothing was deleted.",
            expired="Expired: nothing was deleted. Ask again.",
            cancel_label="Cancel",
        ),
        timeout=CONFIRM_TIMEOUT,
        guard=None if own else home_only,
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
