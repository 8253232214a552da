"""The world the fake Discord models: users, guilds, channels, members, messages, attachments.

``World`` holds that state and the application's own (its bot user, owner, registered
commands, install contexts), the builders a test uses to set a scene up, the lookups every
other layer uses, and the change signal that ``wait_until`` waits on. It sends no events
itself: a builder that changes what a connected client sees hands the event to
``_dispatch_if_live``, which the gateway layer implements.
"""

# Waits take an explicit `timeout=` on purpose: it is the test-facing API (ASYNC109).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .payloads import (
    DEFAULT_EVERYONE_PERMISSIONS,
    DM,
    GROUP_DM,
    GUILD_TEXT,
    JSON,
    Channel,
    Guild,
    Member,
    Role,
    User,
    attachment_dict,
    snowflake,
)

MENTION_RE = re.compile(r"<@!?(\d+)>")
ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")


# --------------------------------------------------------------------------- records


@dataclass
class RecordedFile:
    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the client made, as the fake received it."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/1/messages"
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: list[RecordedFile] = field(default_factory=list)
    status: int = 0
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Options:
    """What the fake is created with: ``FakeDiscord``'s keyword arguments, for every layer."""

    token: str
    bot_name: str
    shard_count: int
    heartbeat_interval_ms: int
    enforce_intents: bool


class World:
    """The state of the fake: what exists, who is where, what was said."""

    def __init__(self, options: Options) -> None:
        self.token = options.token
        self.bot_user = User(id=snowflake(), username=options.bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.application_flags = 0
        # Developer Portal → Installation → Installation Contexts: [0] guild install only;
        # [0, 1] with User Install. Commands without integration_types get these.
        self.install_types: list[int] = [0]
        self.owner = User.human("appowner")

        self.users: dict[int, User] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.dm_channels: dict[int, Channel] = {}  # channel id -> DM channel
        self.private_channels: dict[int, Channel] = {}  # group DMs without the bot
        self.messages: dict[int, JSON] = {}
        self.deleted_messages: set[int] = set()
        self.attachments: dict[int, tuple[str, bytes, str | None]] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}

        self._change = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ events out

    def _dispatch_if_live(self, event: str, data: JSON, guild_id: int | None) -> None:
        """Send ``event`` to the connected sessions, if there are any."""
        raise NotImplementedError

    # ------------------------------------------------------------------ waiting

    def _changed(self) -> None:
        """Wake every ``wait_until`` (called on each request, frame and dispatch)."""
        self._change.set()
        self._change = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` is truthy (re-checked on every change the fake sees).

        Also re-checked every 50 ms, so predicates on the client's own state work too.
        Raises AssertionError naming ``what`` after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._change.wait(), min(0.05, remaining))

    # ------------------------------------------------------------------ world builders

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | None = None,
        guild_id: int | None = None,
        bot_permissions: int | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        with_bot: bool = True,
    ) -> int:
        """A guild with @everyone, the bot as a member (with a managed role) and its owner.

        ``with_bot=False``: a server the bot is not in (members may still have the app
        installed to their account): the bot gets no events from it and no channel access.
        """
        gid = guild_id or snowflake()
        owner = owner or self.owner
        guild = Guild(id=gid, name=name, owner_id=owner.id)
        guild.roles[gid] = Role(id=gid, name="@everyone", permissions=everyone_permissions)
        if not with_bot:
            guild.members[owner.id] = Member(owner)
            self.users[owner.id] = owner
            self.guilds[gid] = guild
            return gid
        bot_role = Role(
            id=snowflake(),
            name=self.bot_user.username,
            permissions=bot_permissions
            if bot_permissions is not None
            else DEFAULT_EVERYONE_PERMISSIONS,
            position=1,
            managed=True,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot_user.id] = Member(self.bot_user, [bot_role.id])
        guild.members[owner.id] = Member(owner)
        self.users[owner.id] = owner
        self.guilds[gid] = guild
        self._dispatch_if_live("GUILD_CREATE", guild.to_dict(), gid)
        return gid

    def bot_in_guild(self, guild_id: int | None) -> bool:
        """Whether the bot is a member of ``guild_id`` (True for DMs and unknown guilds)."""
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        return guild is None or self.bot_user.id in guild.members

    def add_channel(self, guild_id: int, name: str = "general", *, type: int = GUILD_TEXT) -> int:
        """A channel (``type=GUILD_FORUM`` (15) for a forum); returns its id."""
        guild = self.guilds[guild_id]
        cid = snowflake()
        channel = Channel(
            id=cid, name=name, type=type, guild_id=guild_id, position=len(guild.channels)
        )
        guild.channels[cid] = channel
        self._dispatch_if_live("CHANNEL_CREATE", channel.to_dict(), guild_id)
        return cid

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> int:
        guild = self.guilds[guild_id]
        rid = snowflake()
        guild.roles[rid] = Role(
            id=rid, name=name, permissions=permissions, position=len(guild.roles)
        )
        self._dispatch_if_live(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild_id), "role": guild.roles[rid].to_dict()},
            guild_id,
        )
        return rid

    def add_member(
        self,
        guild_id: int,
        user: User,
        *,
        roles: Sequence[int] = (),
        permissions: int | None = None,
        nick: str | None = None,
    ) -> JSON:
        """Add ``user`` to the guild; ``permissions`` creates a role granting exactly those."""
        guild = self.guilds[guild_id]
        role_ids = list(roles)
        if permissions is not None:
            role_ids.append(self.add_role(guild_id, f"{user.username}-perms", permissions))
        member = Member(user, role_ids, nick=nick)
        guild.members[user.id] = member
        self.users[user.id] = user
        data = member.to_dict()
        self._dispatch_if_live("GUILD_MEMBER_ADD", {**data, "guild_id": str(guild_id)}, guild_id)
        return data

    def dm_channel(self, user: User) -> int:
        """The DM channel between the bot and ``user`` (created on first use)."""
        self.users[user.id] = user
        for channel in self.dm_channels.values():
            if channel.recipients and channel.recipients[0].id == user.id:
                return channel.id
        cid = snowflake()
        self.dm_channels[cid] = Channel(id=cid, name="", type=DM, recipients=[user])
        return cid

    def group_dm(self, *users: User, name: str = "") -> int:
        """A group DM of ``users`` (the bot is not in it; a user install can still be used)."""
        for user in users:
            self.users[user.id] = user
        cid = snowflake()
        self.private_channels[cid] = Channel(
            id=cid, name=name, type=GROUP_DM, recipients=list(users), owner_id=users[0].id
        )
        return cid

    def channel(self, channel_id: int) -> Channel | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
            if channel_id in guild.threads:
                return guild.threads[channel_id]
        return self.dm_channels.get(channel_id) or self.private_channels.get(channel_id)

    def guild_of(self, channel_id: int) -> int | None:
        channel = self.channel(channel_id)
        return channel.guild_id if channel else None

    def add_attachment(
        self, filename: str, data: bytes, *, content_type: str | None = None
    ) -> JSON:
        """Register bytes served by the fake; returns an attachment object for a message."""
        aid = snowflake()
        self.attachments[aid] = (filename, data, content_type)
        url = f"{self.base_url}/attachments/{aid}/{filename}"
        return attachment_dict(aid, filename, len(data), url, content_type=content_type)

    def messages_in(self, channel_id: int, *, by_bot: bool | None = None) -> list[JSON]:
        out = [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id and int(m["id"]) not in self.deleted_messages
        ]
        if by_bot is not None:
            out = [m for m in out if (int(m["author"]["id"]) == self.bot_user.id) == by_bot]
        return out

    def _store_message(self, msg: JSON, channel: Channel) -> None:
        self.messages[int(msg["id"])] = msg
        channel.last_message_id = int(msg["id"])
