"""The Discord client: ``WhyTwitterBot``, an ``AutoShardedBot`` holding settings, the live
knowledge base and the storage; cogs, buttons and the command tree are set up in ``setup_hook``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.installs import SERVER_ONLY
from bot.service.gate import Gate, GateConfig, MemberBudget, MessageFacts
from bot.service.home import MODERATOR_GROUPS, home_refusal
from bot.service.live import KBSnapshot, LiveKnowledge
from bot.service.replies import Reply, ask
from bot.settings import Settings
from bot.storage import GuildSettings, Storage
from bot.views import dynamic_items, send_ephemeral

__all__ = [
    "EXTENSIONS",
    "CommandSyncForbidden",
    "Refused",
    "WhyTwitterBot",
    "WhyTwitterTree",
    "intents",
]

log = logging.getLogger(__name__)

EXTENSIONS: Final = (
    "bot.cogs.answers",
    "bot.cogs.catalog",
    "bot.cogs.kb_admin",
    "bot.cogs.guild_settings",
    "bot.cogs.modlog_feed",
    "bot.cogs.privacy",
    "bot.cogs.health",
)
TREE_HASH_KEY: Final = "command_tree_hash"
TREE_GUILDS_KEY: Final = "command_tree_guilds"
"""The guilds whose commands the last sync set (their commands are cleared when dropped)."""
GUILD_SETTINGS_TTL: Final = 60.0
DRAIN_TIMEOUT: Final = 5.0
"""Seconds ``close()`` waits for event handlers still running before closing the storage."""
_HANDLER_TASK_PREFIXES: Final = ("discord.py: ", "CommandTree-invoker", "discord-ui-")
"""Names discord.py gives the tasks that run event, command and component handlers."""


class Refused(app_commands.CheckFailure):
    """A check refused the command with one line for the member (sent ephemeral by
    ``WhyTwitterTree.on_error``)."""


class CommandSyncForbidden(Exception):
    """Discord refused the command sync (403 / 50001): the bot lacks ``applications.commands``.

    ``application_id`` (known after login) lets the runner print the exact re-invite URL.
    """

    def __init__(self, message: str, *, application_id: int | None = None) -> None:
        super().__init__(message)
        self.application_id = application_id


def intents() -> discord.Intents:
    """The minimum: guilds, guild and DM messages, and message content (privileged)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    return wanted


class WhyTwitterTree(app_commands.CommandTree["WhyTwitterBot"]):
    """The command tree with one error handler for every application command.

    Commands are installed with the server only (``SERVER_ONLY``), unless they opt in to user
    installs (``bot.installs.member_command``): moderator commands never follow a member's
    own install of the app.
    """

    def __init__(self, client: WhyTwitterBot, **options: Any) -> None:
        options.setdefault("allowed_installs", SERVER_ONLY)
        super().__init__(client, **options)

    async def on_error(
        self, interaction: discord.Interaction[WhyTwitterBot], error: app_commands.AppCommandError
    ) -> None:
        """Member-caused errors get a friendly ephemeral line; anything else is logged."""
        command = interaction.command.qualified_name if interaction.command else "?"
        message = member_error_message(error)
        root = command.split(" ", 1)[0]
        if isinstance(error, app_commands.CommandNotFound):
            # A command Discord still shows here but this bot no longer registers here (a
            # stale client, or a server removed from HOME_GUILD_IDS).
            command = root = error.name
        if root in MODERATOR_GROUPS and isinstance(
            error, app_commands.CommandNotFound | app_commands.NoPrivateMessage
        ):
            # Moderator commands outside a home server say why, whatever stopped them.
            message = (
                home_refusal(interaction.guild_id, interaction.client.settings.home_guild_ids)
                or message
            )
        if message is not None:
            log.info(
                "/%s refused for %s in %s: %s",
                command,
                interaction.user.id,
                interaction.channel_id,
                error,
            )
        else:
            log.error(
                "/%s failed for %s in guild %s channel %s",
                command,
                interaction.user.id,
                interaction.guild_id,
                interaction.channel_id,
                exc_info=error,
            )
            message = "Sorry, something went wrong. It has been logged; please try again later."
        await send_ephemeral(interaction, message)


def member_error_message(error: app_commands.AppCommandError) -> str | None:
    """The friendly text for an error a member caused, or None for an unexpected one."""
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only in a server."
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingAnyRole):
        return "You don't have permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"I need these permissions here first: {missing}."
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(error, app_commands.TransformerError):
        return "That value isn't valid for this option."
    if isinstance(error, app_commands.CommandNotFound):
        return "That command isn't available here; nothing was done."
    return None


def command_tree_hash(tree: app_commands.CommandTree[Any], targets: list[int | None]) -> str:
    """A stable hash of what a sync of ``targets`` (None: global) would send."""
    per_target = {}
    for target in targets:
        guild = discord.Object(target) if target is not None else None
        payloads = [command.to_dict(tree) for command in tree._get_all_commands(guild=guild)]
        payloads.sort(key=lambda p: (p.get("type", 1), p["name"]))
        per_target[str(target)] = payloads
    blob = json.dumps(per_target, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _guild_ids(raw: str | None) -> set[int]:
    """The guild ids stored by the last sync (none when unreadable)."""
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return set()
    return {int(g) for g in value if isinstance(g, int)} if isinstance(value, list) else set()


def guard_parsers(parsers: dict[str, Callable[[Any], None]]) -> None:
    """Make each gateway event parser drop (and log) an event it cannot parse.

    discord.py runs the parsers inside the shard's read loop: one malformed or unexpected
    payload (a missing key, a new shape) would end the connection and stop the bot. Here the
    event is logged with its type and skipped; the session and every other event go on.
    (``ConnectionState.parsers`` is the table the gateway calls; not documented API.)
    """
    for event, parse in list(parsers.items()):
        parsers[event] = _guarded(event, parse)


def _guarded(event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
    def guarded(data: Any) -> None:
        try:
            parse(data)
        except Exception:
            keys = sorted(data)[:20] if isinstance(data, dict) else type(data).__name__
            log.exception(
                "dropped a %s gateway event that could not be parsed (keys: %s)", event, keys
            )

    return guarded


class WhyTwitterBot(commands.AutoShardedBot):
    """The bot: answers objections in channels, mentions, DMs and slash commands."""

    def __init__(
        self,
        settings: Settings,
        knowledge: LiveKnowledge,
        *,
        force_sync: bool = False,
        watch: bool = True,
        **options: Any,
    ) -> None:
        if settings.shard_count is not None:
            options.setdefault("shard_count", settings.shard_count)
        if settings.shard_ids is not None:
            options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=WhyTwitterTree,
            **options,
        )
        self.settings = settings
        self.knowledge = knowledge
        self.gate = Gate(
            self.gate_config(),
            budget=MemberBudget(settings.member_budget, settings.member_budget_seconds),
            channels=self._channel_config,
        )
        """Whether to answer: cooldowns, answers being sent, and the per-member budget of
        mentions, DMs, /ask and the context menu (``MEMBER_BUDGET``)."""
        self.force_sync = force_sync
        self._watch = watch
        self._storage: Storage | None = None
        self._stop_watching = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._guild_cache: dict[int, tuple[float, GuildSettings]] = {}
        self._matching = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher")
        """The one thread messages are matched in: off the event loop, one at a time (the
        encoder runs one message at a time anyway; each extra thread calling it grew the
        process by its own malloc arena, about 25 MB measured in ``make bench``)."""
        guard_parsers(self._connection.parsers)

    async def ask(self, text: str) -> tuple[KBSnapshot, Reply]:
        """The reply to ``text`` from the current knowledge base, matched off the event loop
        (which keeps serving Discord meanwhile), with the snapshot it came from."""
        snapshot = self.knowledge.snapshot
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(self._matching, ask, snapshot.kb, snapshot.matcher, text)
        return snapshot, reply

    @property
    def storage(self) -> Storage:
        """The open storage (available from ``setup_hook`` on)."""
        if self._storage is None:
            raise RuntimeError("storage is not open yet")
        return self._storage

    async def setup_hook(self) -> None:
        """Open storage, load cogs, register buttons, start the watcher, sync if changed."""
        self._storage = await Storage.open(self.settings.database_path)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*dynamic_items())
        if self._watch:
            self._watch_task = asyncio.create_task(
                self.knowledge.watch(stop=self._stop_watching), name="kb-watch"
            )
        await self.sync_commands(force=self.force_sync)

    def sync_targets(self) -> list[int | None]:
        """Where commands are registered: globally (None), or ``DEV_GUILD_ID`` instead, for
        the member commands; each home guild for the moderator groups."""
        dev = self.settings.dev_guild_id
        homes = sorted(g for g in self.settings.home_guild_ids if g != dev)
        return [dev, *homes]

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Sync the command tree when it changed since the last sync (or ``force``).

        Returns whether a sync happened. Member commands go global (or to ``DEV_GUILD_ID``),
        ``/kb`` and ``/whytwitter`` to each home guild; a guild synced last time but no
        longer a target has its commands cleared. A home guild that refuses (the bot is not
        in it) is logged and retried at the next start; a refused global sync raises
        :class:`CommandSyncForbidden`.
        """
        dev = self.settings.dev_guild_id
        if dev is not None:
            self.tree.copy_global_to(guild=discord.Object(dev))
        targets = self.sync_targets()
        digest = command_tree_hash(self.tree, targets)
        if not force and await self.storage.get_meta(TREE_HASH_KEY) == digest:
            log.info("command tree unchanged; not syncing")
            return False
        guilds = {t for t in targets if t is not None}
        stale = sorted(_guild_ids(await self.storage.get_meta(TREE_GUILDS_KEY)) - guilds)
        failed: set[int] = set()
        for target in targets:
            where = "globally" if target is None else f"to guild {target}"
            try:
                synced = await self.tree.sync(
                    guild=discord.Object(target) if target is not None else None
                )
            except discord.Forbidden as exc:
                if target is None or target == dev:
                    raise CommandSyncForbidden(
                        str(exc), application_id=self.application_id
                    ) from exc
                failed.add(target)
                log.error(
                    "Discord refused the moderator commands for home guild %s (%s): is the "
                    "bot in that server, invited with applications.commands? Check "
                    "HOME_GUILD_IDS; retrying at the next start.",
                    target,
                    exc.text or exc.status,
                )
                continue
            log.info("synced %d application commands %s", len(synced), where)
        for guild_id in stale:
            try:
                await self.tree.sync(guild=discord.Object(guild_id))
            except discord.HTTPException as exc:
                log.warning("could not clear the commands of guild %s: %s", guild_id, exc)
            else:
                log.info("cleared the commands of guild %s (no longer a target)", guild_id)
        await self.storage.set_meta(TREE_GUILDS_KEY, json.dumps(sorted(guilds)))
        if not failed:
            await self.storage.set_meta(TREE_HASH_KEY, digest)
        return True

    def gate_config(self, guild: GuildSettings | None = None) -> GateConfig:
        """The gate's thresholds, with the guild's cooldown override when set."""
        channel_minutes = self.settings.channel_cooldown_minutes
        if guild is not None and guild.cooldown_minutes is not None:
            channel_minutes = guild.cooldown_minutes
        return GateConfig(
            min_length=self.settings.min_message_length,
            channel_cooldown_seconds=channel_minutes * 60,
            member_cooldown_seconds=self.settings.member_cooldown_minutes * 60,
        )

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's stored settings, cached for a minute (see ``invalidate_guild_settings``)."""
        now = time.monotonic()
        cached = self._guild_cache.get(guild_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        value = await self.storage.guild_settings(guild_id)
        self._guild_cache[guild_id] = (now + GUILD_SETTINGS_TTL, value)
        return value

    def invalidate_guild_settings(self, guild_id: int) -> None:
        """Forget the cached settings of a guild (call after changing them)."""
        self._guild_cache.pop(guild_id, None)

    async def is_answer_channel(self, guild_id: int | None, channel_id: int) -> bool:
        """Whether the bot answers unprompted in this channel (settings or per guild)."""
        if channel_id in self.settings.answer_channel_ids:
            return True
        if guild_id is None:
            return False
        return channel_id in (await self.guild_settings(guild_id)).answer_channels

    async def _channel_config(self, facts: MessageFacts) -> GateConfig | None:
        """The gate's channel lookup: the thresholds for an unprompted answer in the message's
        channel (the guild's cooldown override applied); None when the bot does not answer there
        unprompted. A new forum post is looked up by its forum (``facts.forum_id``): watched
        through ``FORUM_CHANNEL_IDS`` or the guild's answer channels."""
        if facts.forum_id is not None:
            watched = facts.forum_id in self.settings.forum_channel_ids
            channel_id = facts.forum_id
        else:
            watched = facts.in_answer_channel
            channel_id = facts.channel_id
        if not watched and not await self.is_answer_channel(facts.guild_id, channel_id):
            return None
        if facts.guild_id is None:
            return self.gate_config()
        return self.gate_config(await self.guild_settings(facts.guild_id))

    async def record_unanswered(
        self, *, guild_id: int | None, channel_id: int | None, user_id: int, text: str
    ) -> bool:
        """Keep a question the bot could not answer, within the daily limits of the settings."""
        return await self.storage.record_unanswered(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            text=text,
            member_daily_limit=self.settings.unanswered_member_daily_limit,
            server_daily_limit=self.settings.unanswered_server_daily_limit,
        )

    async def on_ready(self) -> None:
        """Log who we are (once per READY)."""
        user = self.user
        log.info(
            "ready as %s (%s) in %d guilds, %d shard(s)",
            user,
            user.id if user else "?",
            len(self.guilds),
            len(self.shards),
        )

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the cogs' listeners handle messages."""

    async def close(self) -> None:
        """Stop the watcher, let running handlers finish, close the gateway, then the storage."""
        self._stop_watching.set()
        task, self._watch_task = self._watch_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("the knowledge-base watcher failed while stopping")
        try:
            # Handlers already running finish first: they still need the HTTP session
            # (their reply) and the storage (recording it), which close() tears down.
            await _drain_handlers(DRAIN_TIMEOUT)
            await super().close()
        finally:
            self._matching.shutdown(wait=False, cancel_futures=True)
            storage, self._storage = self._storage, None
            if storage is not None:
                try:
                    await storage.close()
                except Exception:
                    log.exception("closing the storage failed")


async def _drain_handlers(seconds: float) -> None:
    """Let handlers already running finish (e.g. recording an answer) before storage closes."""
    current = asyncio.current_task()
    pending = [
        task
        for task in asyncio.all_tasks()
        if task is not current
        and not task.done()
        and task.get_name().startswith(_HANDLER_TASK_PREFIXES)
    ]
    if not pending:
        return
    _done, still = await asyncio.wait(pending, timeout=seconds)
    if still:
        log.warning("closing with %d handler(s) still running after %.0f s", len(still), seconds)
