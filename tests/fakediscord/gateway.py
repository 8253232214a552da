"""The fake's gateway: websocket sessions, IDENTIFY/RESUME, zlib-stream frames, dispatch.

``Gateway`` adds to the world the websocket server the client connects to (HELLO,
heartbeats, IDENTIFY with token/intents/shard checks, RESUME with replay of the session's
buffer, member chunks), the dispatch of events to the live sessions with intents applied,
and the events a test sends as a user: a message, a forum post, any raw event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .payloads import (
    GUILD_FORUM,
    INTENT_MESSAGE_CONTENT,
    JSON,
    PUBLIC_THREAD,
    Channel,
    User,
    message_dict,
    snowflake,
)
from .state import MENTION_RE, ROLE_MENTION_RE, Options, World

log = logging.getLogger(__name__)

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
# Server-side close codes after which the session cannot be resumed.
SESSION_ENDING_CLOSE_CODES = frozenset({4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014})


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


class Gateway(World):
    """The world plus the gateway: sessions, connections and the events sent to them."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.shard_count = options.shard_count
        self.heartbeat_interval_ms = options.heartbeat_interval_ms
        self.enforce_intents = options.enforce_intents
        # None: every privileged intent is enabled in the "developer portal".
        self.allowed_privileged_intents: int | None = None

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

        self._acks_enabled = True
        self._sessions: dict[str, Session] = {}
        self._conns: list[GatewayConnection] = []

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

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
                for uid in MENTION_RE.findall(content)
                if int(uid) in self.users
            ]
        if not mention_roles:
            mention_roles = [int(r) for r in ROLE_MENTION_RE.findall(content)]
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
                for uid in MENTION_RE.findall(content)
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

    def _dispatch_message_create(self, msg: JSON) -> None:
        event = dict(msg)
        gid = int(msg["guild_id"]) if "guild_id" in msg else None
        if gid is not None:
            member = self.guilds[gid].members.get(int(msg["author"]["id"]))
            if member is not None and "webhook_id" not in msg:
                event["member"] = {k: v for k, v in member.to_dict().items() if k != "user"}
        self._dispatch("MESSAGE_CREATE", event, gid)

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
