"""The fake's REST API: the route table, request recording and the handlers.

``Rest`` adds to the faults layer what the client's HTTP side talks to: every request is
recorded (``requests``, ``unhandled``), checked for the bot token, injected faults, rate
limits and the bot's access to the guild or channel, then answered by its handler
(application and commands, messages, channels, users, guilds, attachments).
"""

# Waits take an explicit `timeout=` on purpose: it is the test-facing API (ASYNC109).
# ruff: noqa: ASYNC109

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from .faults import Faults
from .payloads import JSON, Channel, User, attachment_dict, message_dict, snowflake
from .state import MENTION_RE, ROLE_MENTION_RE, Options, RecordedFile, RecordedRequest

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"

Handler = Callable[[RecordedRequest, "re.Match[str]"], Awaitable[tuple[int, Any]]]


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool
    name: str
    major: str | None


class RouteTable:
    """The routes in the order they are tried (the first full match answers)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        auth: bool = True,
        major: str | None = None,
    ) -> None:
        self.routes.append(Route(method, re.compile(pattern), handler, auth, pattern, major))


class Rest(Faults):
    """The faults layer plus the REST server the client's HTTP side talks to."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.expect_unhandled = False
        self.command_syncs = 0
        self._routes = self._route_table().routes

    # ------------------------------------------------------------------ inspecting requests

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
                return self._json(*fault)
            rl_headers: dict[str, str] = {}
            if route.auth and self._rate_limit is not None:
                major = m.group(route.major) if route.major else ""
                limited = self._rate_limit_check(
                    (f"{route.method} {route.name}", major), rec, rl_headers
                )
                if limited is not None:
                    return self._json(*limited)
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

    def _route_table(self) -> RouteTable:
        """The REST routes; the interactions layer adds its own after these."""
        table = RouteTable()
        add = table.add
        app = r"/applications/(?P<app>\d+)"
        guild_cmds = app + r"/guilds/(?P<guild>\d+)/commands"
        msg = r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)"
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
        return table

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
        for uid in dict.fromkeys(int(u) for u in MENTION_RE.findall(content)):
            if uid in self.users and ("users" in parse or uid in allowed_users):
                users.append(self.users[uid])
        roles = [
            int(r)
            for r in dict.fromkeys(ROLE_MENTION_RE.findall(content))
            if "roles" in parse or int(r) in allowed_roles
        ]
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        if referenced is not None:
            replied = True if allowed is None else bool(allowed.get("replied_user", False))
            author_id = int(referenced["author"]["id"])
            if replied and author_id in self.users and all(u.id != author_id for u in users):
                users.append(self.users[author_id])
        return users, roles, everyone

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


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    from .payloads import iso_now

    return iso_now()


def _form_error(field_path: str, code: str, message: str) -> JSON:
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}
