"""A fake Discord API (REST + gateway websocket) for end-to-end tests.

The real discord.py client connects to it over real sockets on 127.0.0.1: its HTTP client,
rate limiter, gateway websocket, zlib-stream inflater and parsers all run unchanged.
See /work/shared/notes/testing-against-a-fake-discord.md for the protocol facts.
"""

# Waits take an explicit `timeout=` on purpose: it is the test-facing API (ASYNC109).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl
from aiohttp import web

from .payloads import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM,
    GROUP_DM,
    GUILD_FORUM,
    GUILD_INSTALL,
    GUILD_TEXT,
    INTENT_MESSAGE_CONTENT,
    JSON,
    PUBLIC_THREAD,
    USER_APP_PERMISSIONS,
    USER_INSTALL,
    Channel,
    Guild,
    Member,
    Role,
    User,
    attachment_dict,
    message_dict,
    snowflake,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Discord allows an interaction 5 follow-ups when it comes from a user-installed app in a
# server where the app's bot is not a member.
USER_APP_FOLLOWUP_LIMIT = 5
# Server-side close codes after which the session cannot be resumed.
SESSION_ENDING_CLOSE_CODES = frozenset({4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014})

_MENTION_RE = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")


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


@dataclass
class FaultRule:
    method: str
    path_re: re.Pattern[str]
    status: int
    times: int | None  # None: forever
    retry_after: float | None
    global_: bool
    body: Any
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (self.method in ("*", method)) and self.path_re.search(path) is not None


class InteractionHandle:
    """An interaction the fake sent; collects everything the bot answered to it."""

    def __init__(self, fake: FakeDiscord, payload: JSON) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.callbacks: list[JSON] = []  # [{"type": int, "data": dict | None}]
        self.followups: list[JSON] = []  # message objects created by follow-up webhooks
        self.edits: list[JSON] = []  # PATCH bodies for @original / follow-ups
        self.original_message_id: int | None = None
        self.original_deleted = False
        self.created_at = time.monotonic()
        self.late_callbacks: list[JSON] = []  # callbacks refused: past the 3 s window
        self.refused_followups = 0  # past the user-app limit of 5 in a server without the bot
        self._followup_replaces_original = False

    @property
    def response(self) -> JSON | None:
        return self.callbacks[0] if self.callbacks else None

    @property
    def original_message(self) -> JSON | None:
        if self.original_message_id is None:
            return None
        return self._fake.messages.get(self.original_message_id)

    async def wait_response(self, timeout: float = 5.0) -> JSON:
        """The first callback: ``{"type": 4, "data": {...}}`` (raises on timeout)."""
        await self._fake.wait_until(
            lambda: bool(self.callbacks), timeout, f"a callback to interaction {self.id}"
        )
        return self.callbacks[0]

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        await self._fake.wait_until(
            lambda: len(self.followups) >= count, timeout, f"{count} follow-up(s) to {self.id}"
        )
        return self.followups

    async def wait_edit(self, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        await self._fake.wait_until(
            lambda: len(self.edits) >= count, timeout, f"{count} edit(s) of interaction {self.id}"
        )
        return self.edits


# --------------------------------------------------------------------------- gateway


@dataclass
class Session:
    id: str
    shard: tuple[int, int] | None
    intents: int
    seq: int = 0
    buffer: list[tuple[int, JSON]] = field(default_factory=list)
    conn: GatewayConnection | None = None
    alive: bool = True

    def handles_guild(self, guild_id: int | None) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id


_CLOSE = object()


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compress: str | None):
        self.ws = ws
        self.transport = request.transport
        self.compress = compress
        self._compressor = zlib.compressobj() if compress == "zlib-stream" else None
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.session: Session | None = None
        self.closed_by_server: int | None = None
        self.frames_sent = 0
        self.writer = asyncio.create_task(self._write_loop())

    def send(self, frame: JSON) -> None:
        self.queue.put_nowait(frame)

    def close(self, code: int | None) -> asyncio.Future[None]:
        """Close after all queued frames are sent; ``None`` = abrupt TCP abort (1006)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((_CLOSE, code, fut))
        return fut

    async def _write_loop(self) -> None:
        while True:
            item = await self.queue.get()
            if isinstance(item, tuple) and item and item[0] is _CLOSE:
                _, code, fut = item
                self.closed_by_server = 1006 if code is None else code
                try:
                    if code is None:
                        if self.transport is not None:
                            self.transport.abort()
                    else:
                        await self.ws.close(code=code)
                finally:
                    if not fut.done():
                        fut.set_result(None)
                return
            if self.ws.closed:
                continue
            raw = json.dumps(item, separators=(",", ":"))
            try:
                if self._compressor is not None:
                    data = self._compressor.compress(raw.encode()) + self._compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(raw)
                self.frames_sent += 1
            except (ConnectionError, RuntimeError):
                log.debug("fake gateway: send failed, connection gone")


# --------------------------------------------------------------------------- the fake


Handler = Callable[[RecordedRequest, "re.Match[str]"], Awaitable[tuple[int, Any]]]


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool
    name: str
    major: str | None


class FakeDiscord:
    """The fake Discord: ``await fake.start()``, build a world, send events, inspect requests."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        bot_name: str = "whytwitter",
        shard_count: int = 1,
        heartbeat_interval_ms: int = 41_250,
        enforce_intents: bool = True,
    ) -> None:
        self.token = token
        self.bot_user = User(id=snowflake(), username=bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.application_flags = 0
        # Developer Portal → Installation → Installation Contexts: [0] guild install only;
        # [0, 1] with User Install. Commands without integration_types get these.
        self.install_types: list[int] = [0]
        self.owner = User.human("appowner")
        self.shard_count = shard_count
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.enforce_intents = enforce_intents
        # Discord refuses an interaction's first callback after 3 s (404 10062).
        self.interaction_deadline = 3.0
        # None: every privileged intent is enabled in the "developer portal".
        self.allowed_privileged_intents: int | None = None

        # world
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.dm_channels: dict[int, Channel] = {}  # channel id -> DM channel
        self.private_channels: dict[int, Channel] = {}  # group DMs without the bot
        self.messages: dict[int, JSON] = {}
        self.deleted_messages: set[int] = set()
        self.attachments: dict[int, tuple[str, bytes, str | None]] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.interactions: dict[str, InteractionHandle] = {}

        # records
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.expect_unhandled = False
        self.identify_payloads: list[JSON] = []
        self.resume_payloads: list[JSON] = []
        self.gateway_frames_received: list[JSON] = []
        self.connections = 0
        self.gateway_down = False  # True: new gateway connections get HTTP 503 (an outage)
        self.refused_gateway_connections = 0
        self.gateway_queries: list[dict[str, str]] = []  # query of each websocket connection
        self.resumes = 0  # successful RESUMEs
        self.failed_resumes = 0
        self.heartbeats = 0
        self.command_syncs = 0
        self.rate_limit_violations: list[RecordedRequest] = []
        self.faults: list[FaultRule] = []

        self._acks_enabled = True
        self._sessions: dict[str, Session] = {}
        self._conns: list[GatewayConnection] = []
        self._change = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._rate_limit: tuple[int, float] | None = None
        # Fixed windows, like Discord's buckets: (window start, requests in it).
        self._buckets: dict[tuple[str, str], tuple[float, int]] = {}
        self.port = 0
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self._handle_gateway)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/attachments/{id}/{name}", self._handle_attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_rest)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for conn in list(self._conns):
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(1001), 2)
            conn.writer.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

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

    def requests_matching(
        self,
        method: str,
        path_regex: str,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> list[RecordedRequest]:
        rx = re.compile(path_regex)
        return [
            r
            for r in self.requests
            if method in ("*", r.method)
            and rx.search(r.path)
            and r.status != 0
            and (predicate is None or predicate(r))
        ]

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        timeout: float = 5.0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        count: int = 1,
    ) -> RecordedRequest:
        """Wait for the ``count``-th matching request (already answered); returns it."""
        await self.wait_until(
            lambda: len(self.requests_matching(method, path_regex, predicate)) >= count,
            timeout,
            f"{count}× {method} {path_regex}",
        )
        return self.requests_matching(method, path_regex, predicate)[count - 1]

    def messages_in(self, channel_id: int, *, by_bot: bool | None = None) -> list[JSON]:
        out = [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id and int(m["id"]) not in self.deleted_messages
        ]
        if by_bot is not None:
            out = [m for m in out if (int(m["author"]["id"]) == self.bot_user.id) == by_bot]
        return out

    async def wait_for_bot_message(
        self,
        channel_id: int | None = None,
        *,
        timeout: float = 5.0,
        predicate: Callable[[JSON], bool] | None = None,
    ) -> JSON:
        """The first message the bot created via REST (in ``channel_id`` if given)."""
        found: list[JSON] = []

        def check() -> bool:
            for r in self.requests:
                if (
                    r.method == "POST"
                    and re.fullmatch(r"/channels/\d+/messages", r.path)
                    and 200 <= r.status < 300
                    and isinstance(r.response, dict)
                    and (channel_id is None or int(r.response["channel_id"]) == channel_id)
                    and (predicate is None or predicate(r.response))
                ):
                    found.append(r.response)
                    return True
            return False

        await self.wait_until(check, timeout, f"a bot message in {channel_id}")
        return found[0]

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

    # ------------------------------------------------------------------ events (test -> bot)

    async def dispatch(self, event: str, data: JSON, *, guild_id: int | None = None) -> None:
        """Send any gateway DISPATCH event to the sessions that should receive it."""
        self._dispatch(event, data, guild_id)
        await asyncio.sleep(0)

    async def send_message(
        self,
        channel_id: int,
        author: User,
        content: str = "",
        *,
        mentions: Sequence[User] = (),
        mention_roles: Sequence[int] = (),
        mention_everyone: bool = False,
        webhook_id: int | None = None,
        message_type: int = 0,
        attachments: Sequence[JSON] = (),
        embeds: Sequence[JSON] = (),
        reference: JSON | None = None,
    ) -> JSON:
        """A user (or bot, or webhook) posts a message: MESSAGE_CREATE. Returns the message."""
        channel = self.channel(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id}")
        self.users.setdefault(author.id, author)
        guild_id = channel.guild_id
        if not mentions:
            mentions = [
                self.users[int(uid)]
                for uid in _MENTION_RE.findall(content)
                if int(uid) in self.users
            ]
        if not mention_roles:
            mention_roles = [int(r) for r in _ROLE_MENTION_RE.findall(content)]
        referenced = None
        if reference is not None:
            referenced = self.messages.get(int(reference["message_id"]))
        msg = message_dict(
            message_id=snowflake(),
            channel_id=channel_id,
            author=author,
            content=content,
            guild_id=guild_id,
            message_type=message_type,
            attachments=list(attachments),
            embeds=list(embeds),
            mentions=list(mentions),
            mention_roles=list(mention_roles),
            mention_everyone=mention_everyone,
            webhook_id=webhook_id,
            message_reference=reference,
            referenced_message=referenced,
        )
        self._store_message(msg, channel)
        event = dict(msg)
        if guild_id is not None and webhook_id is None:
            member = self.guilds[guild_id].members.get(author.id)
            if member is not None:
                event["member"] = {k: v for k, v in member.to_dict().items() if k != "user"}
        self._dispatch("MESSAGE_CREATE", event, guild_id)
        await asyncio.sleep(0)
        return msg

    async def create_forum_post(
        self,
        forum_id: int,
        author: User,
        title: str,
        content: str = "",
        *,
        starter_first: bool = False,
    ) -> tuple[int, JSON]:
        """A member opens a post in forum ``forum_id``: THREAD_CREATE (a public thread,
        type 11, ``parent_id`` the forum, ``newly_created``), then the starter message as
        MESSAGE_CREATE in the thread, with the thread's id as its own id (as Discord does).
        ``starter_first`` sends the two events in the other order. Returns (thread id, message).
        """
        forum = self.channel(forum_id)
        if forum is None or forum.type != GUILD_FORUM or forum.guild_id is None:
            raise KeyError(f"no forum channel {forum_id}")
        guild = self.guilds[forum.guild_id]
        self.users.setdefault(author.id, author)
        tid = snowflake()
        thread = Channel(
            id=tid,
            name=title,
            type=PUBLIC_THREAD,
            guild_id=guild.id,
            parent_id=forum_id,
            owner_id=author.id,
            last_message_id=tid,
            message_count=0,
        )
        guild.threads[tid] = thread
        forum.last_message_id = tid
        msg = message_dict(
            message_id=tid,
            channel_id=tid,
            author=author,
            content=content,
            guild_id=guild.id,
            mentions=[
                self.users[int(uid)]
                for uid in _MENTION_RE.findall(content)
                if int(uid) in self.users
            ],
        )
        self.messages[tid] = msg
        created = {**thread.to_dict(), "newly_created": True}
        if not starter_first:
            self._dispatch("THREAD_CREATE", created, guild.id)
        self._dispatch_message_create(msg)
        if starter_first:
            self._dispatch("THREAD_CREATE", created, guild.id)
        await asyncio.sleep(0)
        return tid, msg

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON] | None = None,
        *,
        user: User,
        channel_id: int,
        guild_id: int | None = None,
        subcommand: str | None = None,
        subcommand_group: str | None = None,
        resolved: JSON | None = None,
        locale: str = "en-US",
        user_install: bool = False,
    ) -> InteractionHandle:
        """A member runs ``/name`` (type 2, command type 1). ``options``: {name: value}.

        ``user_install``: through the app installed to the member's account (the payload a
        user install sends: ``authorizing_integration_owners`` names the user; in a server
        the bot is not in, the guild is only partial and the bot cannot use the channel).
        """
        guild_id = guild_id if guild_id is not None else self.guild_of(channel_id)
        data = self._command_data(name, 1, guild_id, options, subcommand, subcommand_group)
        if resolved is not None:
            data["resolved"] = resolved
        if user_install:
            self._check_user_installable(name, 1, self._context_of(channel_id, guild_id))
        return await self._send_interaction(
            2, data, user, channel_id, guild_id, locale=locale, user_install=user_install
        )

    def _context_of(self, channel_id: int, guild_id: int | None) -> int:
        if guild_id is not None:
            return CONTEXT_GUILD
        if channel_id in self.private_channels:
            return CONTEXT_PRIVATE_CHANNEL
        return CONTEXT_BOT_DM

    def _check_user_installable(self, name: str, ctype: int, context: int) -> None:
        """Discord offers a user install only the global commands whose ``integration_types``
        include 1 and whose ``contexts`` include where the member is."""
        registered = next(
            (c for c in self.global_commands if c["name"] == name and c["type"] == ctype), None
        )
        if registered is None:
            raise ValueError(f"/{name} is not a global command: no user install offers it")
        if 1 not in self.install_types:
            raise ValueError("User Install is not enabled for the app (fake.install_types)")
        if 1 not in registered["integration_types"]:
            raise ValueError(f"/{name} is not offered to user installs (integration_types)")
        contexts = registered.get("contexts")
        if contexts is not None and context not in contexts:
            raise ValueError(f"/{name} is not offered in context {context}")

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON] | None,
        focused: str,
        *,
        user: User,
        channel_id: int,
        guild_id: int | None = None,
        subcommand: str | None = None,
        subcommand_group: str | None = None,
    ) -> InteractionHandle:
        """Autocomplete (type 4) while the member types in option ``focused``."""
        guild_id = guild_id if guild_id is not None else self.guild_of(channel_id)
        data = self._command_data(name, 1, guild_id, options, subcommand, subcommand_group)
        leaf = data["options"]
        while leaf and leaf[0]["type"] in (1, 2):
            leaf = leaf[0]["options"]
        for opt in leaf:
            if opt["name"] == focused:
                opt["focused"] = True
                opt["type"] = 3 if opt["type"] not in (4, 10) else opt["type"]
                opt["value"] = str(opt["value"])
                break
        else:
            leaf.append({"name": focused, "type": 3, "value": "", "focused": True})
        return await self._send_interaction(4, data, user, channel_id, guild_id)

    async def send_message_command(
        self,
        name: str,
        target_message: JSON,
        *,
        user: User,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> InteractionHandle:
        """Message context menu (type 2, command type 3) on ``target_message``."""
        channel_id = channel_id or int(target_message["channel_id"])
        guild_id = guild_id if guild_id is not None else self.guild_of(channel_id)
        data = self._command_data(name, 3, guild_id, None, None, None)
        data["target_id"] = target_message["id"]
        data["resolved"] = {"messages": {target_message["id"]: target_message}}
        return await self._send_interaction(2, data, user, channel_id, guild_id)

    async def send_user_command(
        self, name: str, target: User, *, user: User, channel_id: int, guild_id: int | None = None
    ) -> InteractionHandle:
        """User context menu (type 2, command type 2) on ``target``."""
        guild_id = guild_id if guild_id is not None else self.guild_of(channel_id)
        data = self._command_data(name, 2, guild_id, None, None, None)
        data["target_id"] = str(target.id)
        data["resolved"] = self._resolve_user(target, guild_id)
        return await self._send_interaction(2, data, user, channel_id, guild_id)

    async def click_button(
        self, message: JSON | int, custom_id: str, user: User
    ) -> InteractionHandle:
        """A member clicks a button (type 3, component_type 2) on ``message``.

        On a message a user-installed command created, the click carries that command's
        ``authorizing_integration_owners`` (as on Discord).
        """
        return await self._component(message, {"custom_id": custom_id, "component_type": 2}, user)

    async def select(
        self, message: JSON | int, custom_id: str, values: Sequence[str], user: User
    ) -> InteractionHandle:
        """A member picks ``values`` in a string select (component_type 3)."""
        data = {"custom_id": custom_id, "component_type": 3, "values": list(values)}
        return await self._component(message, data, user)

    async def submit_modal(
        self,
        custom_id: str,
        fields: Mapping[str, str],
        *,
        user: User,
        channel_id: int,
        guild_id: int | None = None,
        message: JSON | None = None,
    ) -> InteractionHandle:
        """Modal submit (type 5); ``fields`` maps each text input custom_id to its value."""
        guild_id = guild_id if guild_id is not None else self.guild_of(channel_id)
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": value}]}
            for cid, value in fields.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        return await self._send_interaction(5, data, user, channel_id, guild_id, message=message)

    # ------------------------------------------------------------------ faults

    async def close_gateway(self, code: int = 4000, *, shard_id: int | None = None) -> None:
        """Close every gateway connection (after queued frames) with a close frame ``code``."""
        await self._close_conns(code, shard_id)

    async def drop_gateway(self, *, shard_id: int | None = None) -> None:
        """Abrupt TCP close without a close frame: the client sees 1006."""
        await self._close_conns(None, shard_id)

    async def invalidate_session(self, resumable: bool, *, shard_id: int | None = None) -> None:
        """Send op 9 INVALID_SESSION; a non-resumable session is forgotten."""
        for session in self._live_sessions(shard_id):
            if not resumable:
                session.alive = False
            if session.conn is not None:
                session.conn.send({"op": 9, "d": resumable})
        await asyncio.sleep(0)

    async def request_reconnect(self, *, shard_id: int | None = None) -> None:
        """Send op 7 RECONNECT (the client closes and RESUMEs)."""
        for session in self._live_sessions(shard_id):
            if session.conn is not None:
                session.conn.send({"op": 7, "d": None})
        await asyncio.sleep(0)

    def stop_heartbeat_acks(self) -> None:
        self._acks_enabled = False

    def resume_heartbeat_acks(self) -> None:
        self._acks_enabled = True

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        global_: bool = False,
        body: Any = None,
    ) -> FaultRule:
        """The next ``times`` (None: all) matching REST requests get ``status``.

        429 comes with ``Via`` and ``retry_after`` (default 0.05 s), as Discord sends it;
        403 defaults to code 50013 Missing Permissions; 404 to 10008 Unknown Message.
        """
        rule = FaultRule(
            method.upper(), re.compile(path_regex), status, times, retry_after, global_, body
        )
        self.faults.append(rule)
        return rule

    def enable_rate_limits(self, limit: int = 5, per: float = 5.0) -> None:
        """Per-route buckets with X-RateLimit-* headers; exceeding one is a recorded 429."""
        self._rate_limit = (limit, per)

    async def _close_conns(self, code: int | None, shard_id: int | None) -> None:
        futures = []
        for conn in list(self._conns):
            if conn.ws.closed or conn.closed_by_server is not None:
                continue
            session = conn.session
            if shard_id is not None and (
                session is None or not session.shard or session.shard[0] != shard_id
            ):
                continue
            if session is not None:
                session.conn = None
                if code in SESSION_ENDING_CLOSE_CODES:
                    session.alive = False
            futures.append(conn.close(code))
        if futures:
            await asyncio.wait_for(asyncio.gather(*futures), 10)

    # ------------------------------------------------------------------ dispatch internals

    def _live_sessions(self, shard_id: int | None = None) -> list[Session]:
        return [
            s
            for s in self._sessions.values()
            if s.alive and (shard_id is None or (s.shard is not None and s.shard[0] == shard_id))
        ]

    def _dispatch_if_live(self, event: str, data: JSON, guild_id: int | None) -> None:
        if self._sessions:
            self._dispatch(event, data, guild_id)

    def _dispatch(self, event: str, data: JSON, guild_id: int | None) -> None:
        if event != "INTERACTION_CREATE" and (
            not self.bot_in_guild(guild_id)
            or int(data.get("channel_id") or 0) in self.private_channels
        ):
            self._changed()  # a server or group DM the bot is not in: it hears nothing there
            return
        for session in self._live_sessions():
            if not session.handles_guild(guild_id):
                continue
            payload = self._filter_for_intents(session, event, data)
            if payload is None:
                continue
            self._send_dispatch(session, event, payload)
        self._changed()

    def _send_dispatch(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.buffer.append((session.seq, frame))
        if session.conn is not None:
            session.conn.send(frame)

    def _filter_for_intents(self, session: Session, event: str, data: JSON) -> JSON | None:
        if self.enforce_intents and event.startswith("THREAD_"):
            return data if session.intents & INTENT_GUILDS else None
        if not self.enforce_intents or event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
            return data
        is_dm = "guild_id" not in data
        needed = INTENT_DIRECT_MESSAGES if is_dm else INTENT_GUILD_MESSAGES
        if not session.intents & needed:
            return None
        if session.intents & INTENT_MESSAGE_CONTENT or is_dm:
            return data
        author_id = int(data.get("author", {}).get("id", 0))
        mentioned = any(int(u["id"]) == self.bot_user.id for u in data.get("mentions", []))
        if author_id == self.bot_user.id or mentioned:
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    # ------------------------------------------------------------------ gateway server

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            self.refused_gateway_connections += 1
            return web.Response(status=503, text="gateway down (fault injected)")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request, request.query.get("compress"))
        self._conns.append(conn)
        self.gateway_queries.append(dict(request.query))
        self.connections += 1
        self._changed()
        conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_gateway_frame(conn, json.loads(msg.data))
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    await self._on_gateway_frame(conn, json.loads(zlib.decompress(msg.data)))
        finally:
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # Discord ends the session when the client closes with 1000/1001.
                if conn.closed_by_server is None and ws.close_code in (1000, 1001):
                    session.alive = False
            if not conn.writer.done():
                conn.writer.cancel()
            self._changed()
        return ws

    async def _on_gateway_frame(self, conn: GatewayConnection, frame: JSON) -> None:
        self.gateway_frames_received.append(frame)
        op = frame.get("op")
        raw = frame.get("d")
        data: JSON = raw if isinstance(raw, dict) else {}
        if op == 1:
            self.heartbeats += 1
            if self._acks_enabled:
                conn.send({"op": 11})
        elif op == 2:
            await self._on_identify(conn, data)
        elif op == 6:
            self._on_resume(conn, data)
        elif op == 8:
            self._on_request_members(conn, data)
        self._changed()

    async def _on_identify(self, conn: GatewayConnection, data: JSON) -> None:
        self.identify_payloads.append(data)
        if data.get("token") != self.token:
            await self._close_one(conn, 4004)
            return
        intents = int(data.get("intents", 0))
        if self.allowed_privileged_intents is not None:
            from .payloads import PRIVILEGED_INTENTS

            if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
                await self._close_one(conn, 4014)
                return
        shard = tuple(data["shard"]) if data.get("shard") else None
        if shard is not None and (shard[1] != self.shard_count or not 0 <= shard[0] < shard[1]):
            await self._close_one(conn, 4010)
            return
        session = Session(id=uuid.uuid4().hex, shard=shard, intents=intents)
        session.conn = conn
        conn.session = session
        self._sessions[session.id] = session
        guilds = [
            g
            for g in self.guilds.values()
            if session.handles_guild(g.id) and self.bot_user.id in g.members
        ]
        ready: JSON = {
            "v": 10,
            "user": {**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            self._send_dispatch(session, "GUILD_CREATE", guild.to_dict())

    def _on_resume(self, conn: GatewayConnection, data: JSON) -> None:
        self.resume_payloads.append(data)
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not session.alive or data.get("token") != self.token:
            self.failed_resumes += 1
            conn.send({"op": 9, "d": False})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close(4000)
        session.conn = conn
        conn.session = session
        last = int(data.get("seq") or 0)
        for seq, frame in session.buffer:
            if seq > last:
                conn.send(frame)
        self.resumes += 1
        self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})

    def _on_request_members(self, conn: GatewayConnection, data: JSON) -> None:
        session = conn.session
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        if session is None or guild is None:
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in ([user_ids] if isinstance(user_ids, str | int) else user_ids)}
            members = [m for m in members if m.user.id in wanted]
        query = data.get("query")
        if query:
            members = [m for m in members if m.user.username.startswith(query)]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.to_dict() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _close_one(self, conn: GatewayConnection, code: int) -> None:
        if conn.session is not None:
            conn.session.conn = None
            conn.session.alive = False
        await asyncio.wait_for(conn.close(code), 10)

    # ------------------------------------------------------------------ REST server

    def _json(
        self, status: int, data: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        hdrs = dict(headers or {})
        if data is None and status == 204:
            return web.Response(status=204, headers=hdrs)
        hdrs["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(data).encode(), headers=hdrs)

    async def _record(self, request: web.Request, path: str) -> RecordedRequest:
        body: Any = None
        files: list[RecordedFile] = []
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                raw = await part.read()
                if part.name == "payload_json":
                    body = json.loads(raw)
                else:
                    files.append(
                        RecordedFile(
                            part.name or "",
                            part.filename or "",
                            part.headers.get("Content-Type"),
                            bytes(raw),
                        )
                    )
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
        rec = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
        )
        self.requests.append(rec)
        return rec

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        rec = await self._record(request, request.path)
        self.unhandled.append(rec)
        rec.status = 404
        self._changed()
        return self._json(404, {"message": "404: Not Found", "code": 0})

    async def _handle_attachment(self, request: web.Request) -> web.Response:
        entry = self.attachments.get(int(request.match_info["id"]))
        if entry is None or entry[0] != request.match_info["name"]:
            return web.Response(status=404)
        return web.Response(
            body=entry[1], headers={"Content-Type": entry[2] or "application/octet-stream"}
        )

    async def _handle_rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        rec = await self._record(request, path)
        try:
            response = await self._route(rec, request)
        except Exception:
            log.exception("fake discord: handler crashed for %s %s", rec.method, rec.path)
            rec.status = 500
            self.unhandled.append(rec)
            response = self._json(500, {"message": "fake handler crashed", "code": 0})
        self._changed()
        return response

    async def _route(self, rec: RecordedRequest, request: web.Request) -> web.Response:
        for route in self._routes:
            if route.method != rec.method:
                continue
            m = route.regex.fullmatch(rec.path)
            if m is None:
                continue
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                rec.status = 401
                rec.response = {"message": "401: Unauthorized", "code": 0}
                return self._json(401, rec.response)
            fault = self._take_fault(rec)
            if fault is not None:
                return fault
            rl_headers: dict[str, str] = {}
            if route.auth and self._rate_limit is not None:
                limited = self._rate_limit_check(route, m, rec, rl_headers)
                if limited is not None:
                    return limited
            if route.auth and not self._bot_may_access(m):
                status, body = 403, {"message": "Missing Access", "code": 50001}
            else:
                status, body = await route.handler(rec, m)
            rec.status, rec.response = status, body
            return self._json(status, body, rl_headers)
        rec.status = 404
        self.unhandled.append(rec)
        return self._json(404, {"message": "404: Not Found", "code": 0})

    def _bot_may_access(self, m: re.Match[str]) -> bool:
        """False for the bot token on a channel or guild of a server the bot is not in."""
        groups = m.groupdict()
        if groups.get("guild") is not None and not self.bot_in_guild(int(groups["guild"])):
            return False
        if groups.get("channel") is not None:
            channel_id = int(groups["channel"])
            if channel_id in self.private_channels:
                return False
            return self.bot_in_guild(self.guild_of(channel_id))
        return True

    def _take_fault(self, rec: RecordedRequest) -> web.Response | None:
        for rule in self.faults:
            if not rule.matches(rec.method, rec.path):
                continue
            rule.hits += 1
            status = rule.status
            headers: dict[str, str] = {}
            body = rule.body
            if status == 429:
                retry_after = rule.retry_after if rule.retry_after is not None else 0.05
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, round(retry_after))),
                    "X-RateLimit-Scope": "global" if rule.global_ else "user",
                }
                if rule.global_:
                    headers["X-RateLimit-Global"] = "true"
                if body is None:
                    body = {
                        "message": "You are being rate limited.",
                        "retry_after": retry_after,
                        "global": rule.global_,
                    }
            elif body is None:
                body = {
                    403: {"message": "Missing Permissions", "code": 50013},
                    404: {"message": "Unknown Message", "code": 10008},
                }.get(status, {"message": f"{status}: fake fault", "code": 0})
            rec.status, rec.response = status, body
            return self._json(status, body, headers)
        return None

    def _rate_limit_check(
        self, route: _Route, m: re.Match[str], rec: RecordedRequest, headers: dict[str, str]
    ) -> web.Response | None:
        assert self._rate_limit is not None
        limit, per = self._rate_limit
        major = m.group(route.major) if route.major else ""
        key = (f"{route.method} {route.name}", major)
        now = time.monotonic()
        start, count = self._buckets.get(key, (now, 0))
        if now - start >= per:  # the bucket reset: every slot is free again
            start, count = now, 0
        reset_after = per - (now - start)
        bucket_hash = format(abs(hash(key[0])) % (1 << 32), "x")
        if count >= limit:
            self.rate_limit_violations.append(rec)
            body = {
                "message": "You are being rate limited.",
                "retry_after": reset_after,
                "global": False,
            }
            rec.status, rec.response = 429, body
            return self._json(
                429,
                body,
                {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, round(reset_after))),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                    "X-RateLimit-Bucket": bucket_hash,
                    "X-RateLimit-Scope": "user",
                },
            )
        count += 1
        self._buckets[key] = (start, count)
        headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(limit - count),
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Bucket": bucket_hash,
            }
        )
        return None

    def _build_routes(self) -> list[_Route]:
        routes: list[_Route] = []

        def add(
            method: str,
            pattern: str,
            handler: Handler,
            *,
            auth: bool = True,
            major: str | None = None,
        ) -> None:
            rx = re.compile(pattern)
            routes.append(_Route(method, rx, handler, auth, pattern, major))

        app = r"/applications/(?P<app>\d+)"
        guild_cmds = app + r"/guilds/(?P<guild>\d+)/commands"
        msg = r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)"
        hook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        add("GET", r"/users/@me", self._get_me)
        add("GET", r"/oauth2/applications/@me", self._get_app)
        add("GET", r"/applications/@me", self._get_app)
        add("GET", r"/gateway/bot", self._get_gateway_bot)
        add("GET", r"/gateway", self._get_gateway, auth=False)
        for method in ("GET", "PUT", "POST"):
            add(method, app + r"/commands", self._commands, major="app")
            add(method, guild_cmds, self._commands, major="guild")
        for method in ("GET", "PATCH", "DELETE"):
            add(method, app + r"/commands/(?P<cmd>\d+)", self._command, major="app")
            add(method, guild_cmds + r"/(?P<cmd>\d+)", self._command, major="guild")
        add("POST", r"/channels/(?P<channel>\d+)/messages", self._create_message, major="channel")
        add("GET", msg, self._get_message, major="channel")
        add("PATCH", msg, self._edit_message, major="channel")
        add("DELETE", msg, self._delete_message, major="channel")
        for method in ("PUT", "DELETE"):
            add(method, msg + r"/reactions/(?P<emoji>[^/]+)/@me", self._no_content, major="channel")
        add("POST", r"/channels/(?P<channel>\d+)/typing", self._no_content, major="channel")
        add("GET", r"/channels/(?P<channel>\d+)", self._get_channel, major="channel")
        add("POST", r"/users/@me/channels", self._open_dm)
        add("GET", r"/users/(?P<user>\d+)", self._get_user)
        add("GET", r"/guilds/(?P<guild>\d+)", self._get_guild, major="guild")
        add("GET", r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)", self._get_member, major="guild")
        add(
            "POST",
            r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback",
            self._interaction_callback,
            auth=False,
        )
        add("POST", hook, self._webhook_execute, auth=False)
        for method in ("GET", "PATCH", "DELETE"):
            add(
                method,
                hook + r"/messages/(?P<message>@original|\d+)",
                self._webhook_message,
                auth=False,
            )
        return routes

    # ------------------------------------------------------------------ REST handlers

    async def _no_content(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 204, None

    async def _get_me(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, {**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0}

    async def _get_app(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.owner.to_dict(),
            "team": None,
            "bot": self.bot_user.to_dict(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "tags": [],
        }

    async def _get_gateway_bot(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - len(self.identify_payloads),
                "reset_after": 0,
                "max_concurrency": 1,
            },
        }

    async def _get_gateway(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    def _command_list(self, m: re.Match[str]) -> list[JSON]:
        gid = m.groupdict().get("guild")
        if gid is None:
            return self.global_commands
        return self.guild_commands.setdefault(int(gid), [])

    def _make_command(self, body: JSON, m: re.Match[str], existing: list[JSON]) -> JSON:
        ctype = int(body.get("type", 1))
        old = next((c for c in existing if c["name"] == body["name"] and c["type"] == ctype), None)
        cmd: JSON = {
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "options": [],
            "description": "",
            "contexts": None,
            "integration_types": [0],
            **body,
            "id": old["id"] if old else str(snowflake()),
            "application_id": str(self.application_id),
            "version": str(snowflake()),
            "type": ctype,
        }
        if cmd.get("integration_types") is None:
            cmd["integration_types"] = list(self.install_types)
        if m.groupdict().get("guild"):
            cmd["guild_id"] = m.group("guild")
        return cmd

    async def _commands(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        if int(m.group("app")) != self.application_id:
            return 403, {"message": "Missing Access", "code": 50001}
        gid = m.groupdict().get("guild")
        if gid is not None and int(gid) not in self.guilds:
            return 403, {"message": "Missing Access", "code": 50001}
        current = self._command_list(m)
        if rec.method == "GET":
            return 200, current
        if rec.method == "PUT":
            new = [self._make_command(c, m, current) for c in rec.json or []]
            current[:] = new
            self.command_syncs += 1
            return 200, new
        cmd = self._make_command(rec.json, m, current)
        current[:] = [c for c in current if c["id"] != cmd["id"]] + [cmd]
        return 201, cmd

    async def _command(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        current = self._command_list(m)
        cmd = next((c for c in current if c["id"] == m.group("cmd")), None)
        if cmd is None:
            return 404, {"message": "Unknown application command", "code": 10063}
        if rec.method == "GET":
            return 200, cmd
        if rec.method == "DELETE":
            current.remove(cmd)
            return 204, None
        cmd.update(rec.json or {})
        return 200, cmd

    def _message_from_body(
        self,
        rec: RecordedRequest,
        channel: Channel,
        *,
        message_id: int | None = None,
        webhook_id: int | None = None,
        extra_flags: int = 0,
        message_type: int = 0,
        interaction_metadata: JSON | None = None,
    ) -> tuple[JSON | None, JSON | None]:
        """Build the message a create request describes; returns (message, error body)."""
        body: JSON = rec.json if isinstance(rec.json, dict) else {}
        content = str(body.get("content") or "")
        if len(content) > 2000:
            return None, _form_error(
                "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
            )
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
        if len(embeds) > 10:
            return None, _form_error(
                "embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."
            )
        reference = body.get("message_reference")
        referenced = None
        if reference:
            ref_id = int(reference["message_id"])
            referenced = self.messages.get(ref_id)
            if (referenced is None or ref_id in self.deleted_messages) and reference.get(
                "fail_if_not_exists", True
            ):
                return None, _form_error(
                    "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            reference = {
                "type": 0,
                "message_id": str(ref_id),
                "channel_id": str(channel.id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
            }
        if (
            not content
            and not embeds
            and not rec.files
            and not body.get("components")
            and not body.get("sticker_ids")
            and not body.get("poll")
        ):
            return None, {"message": "Cannot send an empty message", "code": 50006}
        attachments = self._attachments_from(rec, body)
        mentions, mention_roles, everyone = self._resolve_mentions(content, body, referenced)
        msg = message_dict(
            message_id=message_id or snowflake(),
            channel_id=channel.id,
            author=self.bot_user if webhook_id is None else self._webhook_author(),
            content=content,
            guild_id=channel.guild_id,
            embeds=embeds,
            components=list(body.get("components") or []),
            attachments=attachments,
            mentions=mentions,
            mention_roles=mention_roles,
            mention_everyone=everyone,
            message_reference=reference if reference else None,
            referenced_message=referenced,
            webhook_id=webhook_id,
            flags=int(body.get("flags") or 0) | extra_flags,
            tts=bool(body.get("tts")),
            message_type=19 if reference and message_type == 0 else message_type,
            application_id=self.application_id if webhook_id else None,
            interaction_metadata=interaction_metadata,
        )
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        return msg, None

    def _webhook_author(self) -> User:
        return self.bot_user

    def _attachments_from(self, rec: RecordedRequest, body: JSON) -> list[JSON]:
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        out: list[JSON] = []
        for f in rec.files:
            idx = f.field.removeprefix("files[").removesuffix("]")
            meta = described.get(idx, {})
            att = self.add_attachment(
                meta.get("filename") or f.filename, f.data, content_type=f.content_type
            )
            if meta.get("description"):
                att["description"] = meta["description"]
            out.append(att)
        # attachments kept from an existing message (edits) are passed by id
        for a in body.get("attachments") or []:
            aid = int(a.get("id", -1))
            if aid in self.attachments:
                name, data, ctype = self.attachments[aid]
                url = f"{self.base_url}/attachments/{aid}/{name}"
                out.append(attachment_dict(aid, name, len(data), url, content_type=ctype))
        return out

    def _resolve_mentions(
        self, content: str, body: JSON, referenced: JSON | None
    ) -> tuple[list[User], list[int], bool]:
        """Who the message pings, honouring ``allowed_mentions`` the way Discord does."""
        allowed = body.get("allowed_mentions")
        parse = (
            {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
        )
        allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
        users: list[User] = []
        for uid in dict.fromkeys(int(u) for u in _MENTION_RE.findall(content)):
            if uid in self.users and ("users" in parse or uid in allowed_users):
                users.append(self.users[uid])
        roles = [
            int(r)
            for r in dict.fromkeys(_ROLE_MENTION_RE.findall(content))
            if "roles" in parse or int(r) in allowed_roles
        ]
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        if referenced is not None:
            replied = True if allowed is None else bool(allowed.get("replied_user", False))
            author_id = int(referenced["author"]["id"])
            if replied and author_id in self.users and all(u.id != author_id for u in users):
                users.append(self.users[author_id])
        return users, roles, everyone

    def _store_message(self, msg: JSON, channel: Channel) -> None:
        self.messages[int(msg["id"])] = msg
        channel.last_message_id = int(msg["id"])

    def _dispatch_message_create(self, msg: JSON) -> None:
        event = dict(msg)
        gid = int(msg["guild_id"]) if "guild_id" in msg else None
        if gid is not None:
            member = self.guilds[gid].members.get(int(msg["author"]["id"]))
            if member is not None and "webhook_id" not in msg:
                event["member"] = {k: v for k, v in member.to_dict().items() if k != "user"}
        self._dispatch("MESSAGE_CREATE", event, gid)

    async def _create_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        channel = self.channel(int(m.group("channel")))
        if channel is None:
            return 404, {"message": "Unknown Channel", "code": 10003}
        msg, error = self._message_from_body(rec, channel)
        if error is not None or msg is None:
            return 400, error
        self._store_message(msg, channel)
        self._dispatch_message_create(msg)
        return 200, msg

    def _find_message(self, m: re.Match[str]) -> JSON | None:
        mid = int(m.group("message"))
        msg = self.messages.get(mid)
        if msg is None or mid in self.deleted_messages:
            return None
        if int(msg["channel_id"]) != int(m.group("channel")):
            return None
        return msg

    async def _get_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        msg = self._find_message(m)
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        return 200, msg

    def _apply_edit(self, msg: JSON, rec: RecordedRequest) -> JSON:
        body: JSON = rec.json if isinstance(rec.json, dict) else {}
        for key in ("content", "components", "flags"):
            if key in body:
                msg[key] = (
                    body[key] if body[key] is not None else ([] if key == "components" else "")
                )
        if "embeds" in body:
            msg["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "attachments" in body or rec.files:
            msg["attachments"] = self._attachments_from(rec, body)
        msg["edited_timestamp"] = _now_iso()
        return msg

    async def _edit_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        msg = self._find_message(m)
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        if int(msg["author"]["id"]) != self.bot_user.id:
            return 403, {"message": "Cannot edit a message authored by another user", "code": 50005}
        self._apply_edit(msg, rec)
        self._dispatch("MESSAGE_UPDATE", dict(msg), self.guild_of(int(msg["channel_id"])))
        return 200, msg

    async def _delete_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        msg = self._find_message(m)
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        self._delete(msg)
        return 204, None

    def _delete(self, msg: JSON) -> None:
        self.deleted_messages.add(int(msg["id"]))
        event: JSON = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if "guild_id" in msg:
            event["guild_id"] = msg["guild_id"]
        self._dispatch("MESSAGE_DELETE", event, self.guild_of(int(msg["channel_id"])))

    async def _get_channel(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        channel = self.channel(int(m.group("channel")))
        if channel is None:
            return 404, {"message": "Unknown Channel", "code": 10003}
        return 200, channel.to_dict()

    async def _open_dm(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        uid = int((rec.json or {}).get("recipient_id", 0))
        user = self.users.get(uid)
        if user is None:
            return 400, _form_error("recipient_id", "USER_UNKNOWN", "Unknown User")
        return 200, self.dm_channels[self.dm_channel(user)].to_dict()

    async def _get_user(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        user = self.users.get(int(m.group("user")))
        if user is None:
            return 404, {"message": "Unknown User", "code": 10013}
        return 200, user.to_dict()

    async def _get_guild(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        guild = self.guilds.get(int(m.group("guild")))
        if guild is None:
            return 404, {"message": "Unknown Guild", "code": 10004}
        data = guild.to_dict()
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            data.pop(key, None)
        return 200, data

    async def _get_member(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        guild = self.guilds.get(int(m.group("guild")))
        member = guild.members.get(int(m.group("user"))) if guild else None
        if member is None:
            return 404, {"message": "Unknown Member", "code": 10007}
        return 200, member.to_dict()

    # ---- interactions

    def _command_data(
        self,
        name: str,
        ctype: int,
        guild_id: int | None,
        options: Mapping[str, Any] | Sequence[JSON] | None,
        subcommand: str | None,
        subcommand_group: str | None,
    ) -> JSON:
        registered = None
        candidates = (
            self.guild_commands.get(guild_id, []) if guild_id else []
        ) + self.global_commands
        for cmd in candidates:
            if cmd["name"] == name and cmd["type"] == ctype:
                registered = cmd
                break
        schema: list[JSON] = list(registered.get("options") or []) if registered else []
        for sub in (subcommand_group, subcommand):
            if sub is None:
                continue
            found = next((o for o in schema if o["name"] == sub), None)
            schema = list(found.get("options") or []) if found else []
        if options is None:
            opts: list[JSON] = []
        elif isinstance(options, Mapping):
            opts = []
            for key, value in options.items():
                spec = next((o for o in schema if o["name"] == key), None)
                otype = int(spec["type"]) if spec else _infer_option_type(value)
                if isinstance(value, User):
                    value = str(value.id)
                opts.append({"name": key, "type": otype, "value": value})
        else:
            opts = [dict(o) for o in options]
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        if subcommand_group is not None:
            opts = [{"name": subcommand_group, "type": 2, "options": opts}]
        data: JSON = {
            "id": registered["id"] if registered else str(snowflake()),
            "name": name,
            "type": ctype,
            "options": opts,
        }
        if registered and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        resolved = self._resolve_options(opts, guild_id)
        if resolved:
            data["resolved"] = resolved
        return data

    def _resolve_user(self, user: User, guild_id: int | None) -> JSON:
        resolved: JSON = {"users": {str(user.id): user.to_dict()}}
        guild = self.guilds.get(guild_id) if guild_id else None
        if guild and user.id in guild.members:
            member = guild.members[user.id].to_dict(permissions=guild.permissions_of(user.id))
            member.pop("user")
            resolved["members"] = {str(user.id): member}
        return resolved

    def _resolve_options(self, opts: list[JSON], guild_id: int | None) -> JSON:
        resolved: JSON = {}
        stack = list(opts)
        guild = self.guilds.get(guild_id) if guild_id else None
        while stack:
            opt = stack.pop()
            stack.extend(opt.get("options") or [])
            otype, value = opt.get("type"), opt.get("value")
            if value is None:
                continue
            if otype in (6, 9) and int(value) in self.users:
                for k, v in self._resolve_user(self.users[int(value)], guild_id).items():
                    resolved.setdefault(k, {}).update(v)
            elif otype == 7 and (ch := self.channel(int(value))) is not None:
                resolved.setdefault("channels", {})[str(ch.id)] = {
                    **ch.to_dict(),
                    "permissions": str((1 << 53) - 1),
                }
            elif otype in (8, 9) and guild and int(value) in guild.roles:
                resolved.setdefault("roles", {})[str(value)] = guild.roles[int(value)].to_dict()
        return resolved

    async def _component(self, message: JSON | int, data: JSON, user: User) -> InteractionHandle:
        if isinstance(message, int):
            message = self.messages[message]
        channel_id = int(message["channel_id"])
        owners = (message.get("interaction_metadata") or {}).get("authorizing_integration_owners")
        return await self._send_interaction(
            3,
            dict(data),
            user,
            channel_id,
            self.guild_of(channel_id),
            message=message,
            owners=owners,
        )

    async def _send_interaction(
        self,
        itype: int,
        data: JSON,
        user: User,
        channel_id: int,
        guild_id: int | None,
        *,
        message: JSON | None = None,
        locale: str = "en-US",
        user_install: bool = False,
        owners: JSON | None = None,
    ) -> InteractionHandle:
        self.users.setdefault(user.id, user)
        channel = self.channel(channel_id)
        iid = snowflake()
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "channel_id": str(channel_id),
            "token": f"itok_{iid}_{secrets.token_urlsafe(16)}",
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel is not None:
            payload["channel"] = channel.to_dict()
        guild = self.guilds.get(guild_id) if guild_id else None
        if guild is not None:
            # Discord sends guild_id, a partial guild and the member (with permissions) even
            # when only the member's own install of the app is there, not its bot.
            bot_here = self.bot_user.id in guild.members
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["app_permissions"] = str(
                guild.permissions_of(self.bot_user.id) if bot_here else USER_APP_PERMISSIONS
            )
            payload["context"] = CONTEXT_GUILD
            auth: JSON = {GUILD_INSTALL: str(guild.id)} if bot_here else {}
            member = guild.members.get(user.id) or Member(user)
            payload["member"] = member.to_dict(permissions=guild.permissions_of(user.id))
        else:
            private = channel_id in self.private_channels
            payload["user"] = user.to_dict()
            payload["context"] = CONTEXT_PRIVATE_CHANNEL if private else CONTEXT_BOT_DM
            payload["app_permissions"] = str(
                USER_APP_PERMISSIONS if user_install else DEFAULT_EVERYONE_PERMISSIONS
            )
            auth = {} if user_install or private else {GUILD_INSTALL: "0"}
        if user_install:
            auth[USER_INSTALL] = str(user.id)
        if not auth and owners is None:
            raise ValueError(
                f"the app is not installed where {user.username} runs this: the bot is not in "
                f"guild {guild_id} (pass user_install=True)"
            )
        payload["authorizing_integration_owners"] = owners if owners is not None else auth
        if message is not None:
            payload["message"] = message
        handle = InteractionHandle(self, payload)
        self.interactions[handle.token] = handle
        self._dispatch("INTERACTION_CREATE", payload, guild_id)
        await asyncio.sleep(0)
        return handle

    @staticmethod
    def _guild_id_of(handle: InteractionHandle) -> int | None:
        raw = handle.payload.get("guild_id")
        return int(raw) if raw is not None else None

    def _interaction_channel(self, handle: InteractionHandle) -> Channel:
        cid = int(handle.payload["channel_id"])
        channel = self.channel(cid)
        if channel is None:
            channel = Channel(id=cid, name="unknown", guild_id=None)
        return channel

    def _interaction_metadata(self, handle: InteractionHandle) -> JSON:
        return {
            "id": str(handle.id),
            "type": handle.payload["type"],
            "user": (handle.payload.get("member") or handle.payload)["user"],
            "authorizing_integration_owners": handle.payload["authorizing_integration_owners"],
        }

    async def _interaction_callback(
        self, rec: RecordedRequest, m: re.Match[str]
    ) -> tuple[int, Any]:
        handle = self.interactions.get(m.group("token"))
        if handle is None or handle.id != int(m.group("iid")):
            return 404, {"message": "Unknown interaction", "code": 10062}
        if handle.callbacks:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        body: JSON = rec.json if isinstance(rec.json, dict) else {}
        if time.monotonic() - handle.created_at > self.interaction_deadline:
            handle.late_callbacks.append(body)
            return 404, {"message": "Unknown interaction", "code": 10062}
        rtype = int(body.get("type", 0))
        data = body.get("data")
        itype = handle.payload["type"]
        if rtype == 1 or rtype not in (4, 5, 6, 7, 8, 9, 12):
            return 400, _form_error("type", "BASE_TYPE_CHOICES", f"Value {rtype} is not valid")
        if (rtype in (6, 7) and itype not in (3, 5)) or (rtype == 8 and itype != 4):
            return 400, {
                "message": "Interaction response type not valid for interaction",
                "code": 50035,
            }
        if itype == 4 and rtype != 8:
            return 400, {"message": "Autocomplete interactions only accept results", "code": 50035}
        response: JSON = {"interaction": {"id": str(handle.id), "type": itype}}
        channel = self._interaction_channel(handle)
        flags = int((data or {}).get("flags") or 0)
        mtype = 20 if itype == 2 else 0
        msg: JSON | None
        error: JSON | None
        if rtype in (4, 5):
            sub = RecordedRequest(
                rec.method, rec.path, rec.query, rec.headers, data or {}, rec.files
            )
            if rtype == 5 and not (data or {}).get("content"):
                sub.json = {"content": "", "flags": flags}
                msg, error = (
                    message_dict(
                        message_id=snowflake(),
                        channel_id=channel.id,
                        author=self.bot_user,
                        guild_id=channel.guild_id,
                        flags=flags | LOADING,
                        message_type=mtype,
                        webhook_id=self.application_id,
                        application_id=self.application_id,
                        interaction_metadata=self._interaction_metadata(handle),
                    ),
                    None,
                )
            else:
                msg, error = self._message_from_body(
                    sub,
                    channel,
                    webhook_id=self.application_id,
                    message_type=mtype,
                    interaction_metadata=self._interaction_metadata(handle),
                )
            if error is not None or msg is None:
                return 400, error
            self._store_message(msg, channel)
            handle.original_message_id = int(msg["id"])
            handle._followup_replaces_original = rtype == 5
            if not flags & EPHEMERAL:
                self._dispatch_message_create(msg)
            response["interaction"].update(
                response_message_id=msg["id"],
                response_message_loading=rtype == 5,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
            response["resource"] = {"type": rtype, "message": msg}
        elif rtype in (6, 7):
            target = handle.payload.get("message")
            if target is not None:
                handle.original_message_id = int(target["id"])
                stored = self.messages.get(int(target["id"]))
                if rtype == 7 and stored is not None:
                    self._apply_edit(
                        stored, RecordedRequest("PATCH", "", {}, {}, data or {}, rec.files)
                    )
                    self._dispatch("MESSAGE_UPDATE", dict(stored), channel.guild_id)
                    response["resource"] = {"type": rtype, "message": stored}
                    response["interaction"]["response_message_id"] = stored["id"]
            if "resource" not in response:
                response["resource"] = {"type": rtype}
        else:
            if rtype == 8 and len((data or {}).get("choices") or []) > 25:
                return 400, _form_error(
                    "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            response["resource"] = {"type": rtype}
        handle.callbacks.append({"type": rtype, "data": data, "files": rec.files})
        return 200, response

    async def _webhook_execute(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        handle = self.interactions.get(m.group("token"))
        if handle is None or int(m.group("app")) != self.application_id:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        if not handle.callbacks:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        if (
            not self.bot_in_guild(self._guild_id_of(handle))
            and len(handle.followups) >= USER_APP_FOLLOWUP_LIMIT
        ):
            # The limit is documented; its exact error body is not modelled here.
            handle.refused_followups += 1
            return 400, {"message": "Too many follow-up messages", "code": 0}
        channel = self._interaction_channel(handle)
        original = handle.original_message
        if handle._followup_replaces_original and original is not None:
            # The first follow-up after a deferred response fills in the "thinking" message.
            handle._followup_replaces_original = False
            self._apply_edit(original, rec)
            original["flags"] = int(original.get("flags", 0)) & ~LOADING
            msg = original
            handle.followups.append(msg)
            if not msg["flags"] & EPHEMERAL:
                self._dispatch("MESSAGE_UPDATE", dict(msg), channel.guild_id)
        else:
            msg_or_none, error = self._message_from_body(
                rec,
                channel,
                webhook_id=self.application_id,
                interaction_metadata=self._interaction_metadata(handle),
            )
            if error is not None or msg_or_none is None:
                return 400, error
            msg = msg_or_none
            self._store_message(msg, channel)
            handle.followups.append(msg)
            if not int(msg["flags"]) & EPHEMERAL:
                self._dispatch_message_create(msg)
        if rec.query.get("wait") in ("true", "1", "True"):
            return 200, msg
        return 204, None

    async def _webhook_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        handle = self.interactions.get(m.group("token"))
        if handle is None or int(m.group("app")) != self.application_id:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        ref = m.group("message")
        mid = handle.original_message_id if ref == "@original" else int(ref)
        msg = self.messages.get(mid) if mid is not None else None
        if msg is None or int(msg["id"]) in self.deleted_messages:
            return 404, {"message": "Unknown Message", "code": 10008}
        if rec.method == "GET":
            return 200, msg
        if rec.method == "DELETE":
            self._delete(msg)
            if ref == "@original":
                handle.original_deleted = True
            return 204, None
        self._apply_edit(msg, rec)
        if ref == "@original":
            msg["flags"] = int(msg.get("flags", 0)) & ~LOADING
            handle._followup_replaces_original = False
        handle.edits.append(rec.json if isinstance(rec.json, dict) else {})
        if not int(msg.get("flags", 0)) & EPHEMERAL:
            self._dispatch("MESSAGE_UPDATE", dict(msg), self.guild_of(int(msg["channel_id"])))
        return 200, msg


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    from .payloads import iso_now

    return iso_now()


def _form_error(field_path: str, code: str, message: str) -> JSON:
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, User):
        return 6
    return 3


@contextlib.contextmanager
def point_discord_at(fake: FakeDiscord) -> Iterator[None]:
    """Redirect discord.py's REST base and default gateway to ``fake`` (restored on exit)."""
    import discord.gateway
    import discord.http

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
