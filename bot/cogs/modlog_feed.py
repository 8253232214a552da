"""The mod-log feed: knowledge-base reloads (good and bad) announced in the home servers'
mod-log channels, hand edits recorded in the history, and the daily retention purge of old
questions, answers and votes. No commands.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands, tasks

from bot.kb.model import Problem
from bot.service.live import ReloadResult
from bot.service.modlog import MESSAGE_MAX, diff_summary, reload_line
from bot.service.proposal import record_version

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)


class ModlogFeed(commands.Cog):
    """Reload announcements and retention."""

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot
        self._attributions: dict[str, str] = {}
        self._last_failure: tuple[Problem, ...] | None = None

    async def cog_load(self) -> None:
        # The bot runs the watcher; the feed only announces what each reload did.
        self.bot.knowledge.add_listener(self.on_reload)
        self.purge_old_rows.start()

    async def cog_unload(self) -> None:
        self.bot.knowledge.remove_listener(self.on_reload)
        self.purge_old_rows.cancel()

    def attribute(self, digest: str, who: str) -> None:
        """Name ``who`` in the announcement of the reload that makes the files ``digest``."""
        self._attributions[digest] = who

    @tasks.loop(hours=24)
    async def purge_old_rows(self) -> None:
        """Delete questions, answers and votes older than the retention period."""
        try:
            deleted = await self.bot.storage.purge(
                retention_days=self.bot.settings.unanswered_retention_days
            )
        except Exception:
            log.exception("the daily retention purge failed")
            return
        log.info("retention purge: %d old rows deleted", deleted)

    @purge_old_rows.before_loop
    async def _before_purge(self) -> None:
        await self.bot.wait_until_ready()

    async def modlog_channels(self) -> set[int]:
        """Each home guild's own mod-log channel, else ``MOD_LOG_CHANNEL_ID`` (other servers
        never hear about the knowledge base)."""
        fallback = self.bot.settings.mod_log_channel_id
        fallback_guild = None
        if fallback is not None:
            channel = self.bot.get_channel(fallback)
            fallback_guild = getattr(channel, "guild", None)
        found: set[int] = set()
        fallback_overridden = False
        home = self.bot.settings.home_guild_ids
        for guild in self.bot.guilds:
            if guild.id not in home:
                continue
            try:
                own = (await self.bot.guild_settings(guild.id)).modlog_channel
            except Exception:
                log.exception("could not read the settings of guild %s", guild.id)
                continue
            if own is not None:
                found.add(own)
                if fallback_guild is not None and fallback_guild.id == guild.id:
                    fallback_overridden = True
        if fallback is not None and not fallback_overridden:
            found.add(fallback)
        return found

    async def post_modlog(self, text: str) -> None:
        """Send ``text`` to every mod-log channel; failures are logged, never raised."""
        for channel_id in sorted(await self.modlog_channels()):
            channel = self.bot.get_channel(channel_id)
            try:
                if channel is None:
                    channel = await self.bot.fetch_channel(channel_id)
                if not isinstance(channel, discord.abc.Messageable):
                    log.warning("mod-log channel %s cannot receive messages", channel_id)
                    continue
                await channel.send(text[:MESSAGE_MAX])
            except discord.HTTPException as exc:
                log.warning("could not post to the mod-log channel %s: %s", channel_id, exc)

    async def on_reload(self, result: ReloadResult) -> None:
        """Announce a reload in the mod-log: changes in one line, or the problems."""
        if result.ok:
            self._last_failure = None
            if result.version is not None:  # a hand edit, saved in the history
                await record_version(self.bot.storage, result.version, diff_summary(result.diff))
            by = self._attributions.pop(self.bot.knowledge.kb.digest, None)
            if result.diff is not None and result.diff.empty:
                return  # e.g. the watcher seeing a write already reloaded
            await self.post_modlog(reload_line(True, result.diff, (), by=by))
            return
        if result.problems == self._last_failure:
            return  # the same broken files seen again (watcher + forced reload)
        self._last_failure = result.problems
        await self.post_modlog(reload_line(False, None, result.problems))


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point."""
    await bot.add_cog(ModlogFeed(bot))
