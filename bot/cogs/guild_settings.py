"""``/whytwitter``: where the bot answers unprompted (``channels add|remove|list``), the
mod-log channel, the channel cooldown, and forgetting a member's data. Home servers'
moderators only (:mod:`bot.cogs.moderators`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.cogs.moderators import ModeratorCog, home_guild, moderator_group
from bot.cogs.privacy import ask_to_forget
from bot.service.modlog import fit_lines

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)

AnswerChannel = discord.TextChannel | discord.Thread | discord.ForumChannel


def parse_user_id(member: discord.User | None, user_id: str | None) -> int | None:
    """The member to forget: ``member``, or ``user_id`` as a Discord id; None when neither or
    both are given, or the id is not a number in range."""
    if member is not None:
        return None if user_id is not None else member.id
    try:
        target = int((user_id or "").strip())
    except ValueError:
        return None
    return target if 0 < target < 2**64 else None


class GuildSettings(ModeratorCog):
    """``/whytwitter``: the server's answer channels, mod-log, cooldown; forgetting a member."""

    whytwitter = moderator_group("whytwitter", "Moderators: where and how often the bot answers")
    channels = app_commands.Group(
        name="channels", description="Channels where the bot answers unprompted", parent=whytwitter
    )

    async def _reply(self, interaction: discord.Interaction[WhyTwitterBot], text: str) -> None:
        """Forget the cached settings of the server (they just changed) and say ``text``."""
        self.bot.invalidate_guild_settings(home_guild(interaction))
        await interaction.response.send_message(text, ephemeral=True)

    @channels.command(name="add", description="Answer objections in this channel unprompted")
    async def channels_add(
        self, interaction: discord.Interaction[WhyTwitterBot], channel: AnswerChannel
    ) -> None:
        added = await self.bot.storage.add_answer_channel(home_guild(interaction), channel.id)
        log.info("%s added answer channel %s", interaction.user.id, channel.id)
        await self._reply(
            interaction,
            f"I will answer objections in {channel.mention}."
            if added
            else f"{channel.mention} already is an answer channel.",
        )

    @channels.command(name="remove", description="Stop answering unprompted in this channel")
    async def channels_remove(
        self, interaction: discord.Interaction[WhyTwitterBot], channel: AnswerChannel
    ) -> None:
        removed = await self.bot.storage.remove_answer_channel(home_guild(interaction), channel.id)
        log.info("%s removed answer channel %s", interaction.user.id, channel.id)
        if removed:
            text = f"I no longer answer unprompted in {channel.mention}."
        elif channel.id in self.bot.settings.answer_channel_ids:
            text = (
                f"{channel.mention} is set in the bot's configuration (`ANSWER_CHANNEL_IDS`); "
                "ask the operator to remove it there."
            )
        else:
            text = f"{channel.mention} was not an answer channel."
        await self._reply(interaction, text)

    @channels.command(name="list", description="Where the bot answers unprompted")
    async def channels_list(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        own = (await self.bot.guild_settings(home_guild(interaction))).answer_channels
        guild = interaction.guild
        configured = {
            c
            for c in self.bot.settings.answer_channel_ids | self.bot.settings.forum_channel_ids
            if guild is None or guild.get_channel_or_thread(c) is not None
        }
        lines = [f"<#{c}>" for c in sorted(own)]
        lines += [f"<#{c}> (bot configuration)" for c in sorted(configured - own)]
        text = (
            "I answer unprompted in:\n" + "\n".join(lines)
            if lines
            else "No answer channels: I answer only when mentioned, in DMs and with `/ask`."
        )
        await interaction.response.send_message(fit_lines(text.split("\n"), 1900), ephemeral=True)

    @whytwitter.command(name="modlog", description="Where reloads and knowledge errors are posted")
    @app_commands.describe(channel="The mod-log channel (leave empty to use the default)")
    async def set_modlog(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        channel: discord.TextChannel | None = None,
    ) -> None:
        await self.bot.storage.set_modlog_channel(
            home_guild(interaction), channel.id if channel else None
        )
        log.info("%s set the mod-log channel to %s", interaction.user.id, channel)
        fallback = self.bot.settings.mod_log_channel_id
        if channel is not None:
            text = f"Knowledge-base reloads and errors will be posted in {channel.mention}."
        elif fallback is not None:
            text = f"Mod-log reset to the default, <#{fallback}>."
        else:
            text = "Mod-log unset: reload errors go to the bot's log only."
        await self._reply(interaction, text)

    @whytwitter.command(name="cooldown", description="Minutes between answers in a channel")
    @app_commands.describe(minutes="Minutes (0 = no cooldown); leave empty for the default")
    async def set_cooldown(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        minutes: app_commands.Range[float, 0, 1440] | None = None,
    ) -> None:
        await self.bot.storage.set_cooldown(home_guild(interaction), minutes)
        log.info("%s set the cooldown to %s", interaction.user.id, minutes)
        if minutes is None:
            default = self.bot.settings.channel_cooldown_minutes
            text = f"Cooldown reset to the default ({default:g} minutes)."
        else:
            text = f"The bot now waits {minutes:g} minutes between answers in a channel."
        await self._reply(interaction, text)

    @whytwitter.command(
        name="forget", description="Delete a member's votes and unanswered questions"
    )
    @app_commands.describe(
        member="The member whose data to delete",
        user_id="Or their user id (for someone who left the server)",
    )
    async def forget_member(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        member: discord.User | None = None,
        user_id: str | None = None,
    ) -> None:
        target = parse_user_id(member, user_id)
        if target is None:
            await interaction.response.send_message(
                "Give either a member or a user id (a number), not both.", ephemeral=True
            )
            return
        await ask_to_forget(interaction, target, own=False, label=f"<@{target}> ({target})")


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point: a guild command of the home servers (global when
    ``HOME_GUILD_IDS`` is unset, so that it can say why it is off)."""
    home = [discord.Object(g) for g in sorted(bot.settings.home_guild_ids)]
    await bot.add_cog(GuildSettings(bot), guilds=home or discord.utils.MISSING)
