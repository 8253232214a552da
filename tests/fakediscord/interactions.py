"""Interactions: the commands, clicks and modals a test sends, and the bot's answers to them.

``Interactions`` adds to the REST layer the interaction side of Discord: building the
INTERACTION_CREATE payload for a slash command, autocomplete, context menu, component or
modal (guild install or user install, as Discord sends each), and the endpoints the bot
answers through: the callback (within ``interaction_deadline``), follow-up webhooks and
``@original``. ``InteractionHandle`` collects what the bot answered to one interaction.
"""

# Waits take an explicit `timeout=` on purpose: it is the test-facing API (ASYNC109).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .payloads import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    DEFAULT_EVERYONE_PERMISSIONS,
    GUILD_INSTALL,
    JSON,
    USER_APP_PERMISSIONS,
    USER_INSTALL,
    Channel,
    Member,
    User,
    message_dict,
    snowflake,
)
from .rest import Rest, RouteTable, _form_error
from .state import Options, RecordedRequest

EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Discord allows an interaction 5 follow-ups when it comes from a user-installed app in a
# server where the app's bot is not a member.
USER_APP_FOLLOWUP_LIMIT = 5


class InteractionHandle:
    """An interaction the fake sent; collects everything the bot answered to it."""

    def __init__(self, fake: Interactions, payload: JSON) -> None:
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


class Interactions(Rest):
    """The REST layer plus interactions: sent by the test, answered by the bot."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        # Discord refuses an interaction's first callback after 3 s (404 10062).
        self.interaction_deadline = 3.0
        self.interactions: dict[str, InteractionHandle] = {}

    # ------------------------------------------------------------------ interactions (test -> bot)

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

    # ------------------------------------------------------------------ the bot's answers

    def _route_table(self) -> RouteTable:
        """The REST routes, then the interaction callback and its webhooks."""
        table = super()._route_table()
        hook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        table.add(
            "POST",
            r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback",
            self._interaction_callback,
            auth=False,
        )
        table.add("POST", hook, self._webhook_execute, auth=False)
        for method in ("GET", "PATCH", "DELETE"):
            table.add(
                method,
                hook + r"/messages/(?P<message>@original|\d+)",
                self._webhook_message,
                auth=False,
            )
        return table

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
