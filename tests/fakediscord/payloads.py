"""Discord object payloads as the real API sends them (the keys discord.py 2.7 parses).

Plain functions and small dataclasses, no I/O: the fake server composes these.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def snowflake() -> int:
    """A new, unique, increasing snowflake whose timestamp is now."""
    with _counter_lock:
        n = next(_counter)
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (n & 0x3FFFFF)


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


# Channel types.
GUILD_TEXT = 0
DM = 1
GROUP_DM = 3
PUBLIC_THREAD = 11
GUILD_FORUM = 15

# Interaction contexts and installation types (``context``, ``authorizing_integration_owners``).
CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1
CONTEXT_PRIVATE_CHANNEL = 2
GUILD_INSTALL = "0"
USER_INSTALL = "1"
# What a user-installed app may do where its bot is not (Discord's fixed set for DMs and
# servers without the bot): attach files, embed links, mention everyone, external emojis.
USER_APP_PERMISSIONS = (1 << 15) | (1 << 14) | (1 << 17) | (1 << 18)

# Privileged intents (Discord refuses IDENTIFY with 4014 when not enabled in the portal).
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

ALL_PERMISSIONS = (1 << 53) - 1
ADMINISTRATOR = 1 << 3
# What @everyone gets in a fresh guild (view channel, send messages, read history, ...).
DEFAULT_EVERYONE_PERMISSIONS = 0x0000_0006_3284_0E41


@dataclass(frozen=True)
class User:
    """A Discord user (human or bot) for building worlds and events."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    system: bool = False

    @classmethod
    def human(cls, username: str = "alice", *, id: int | None = None) -> User:
        return cls(id=id or snowflake(), username=username, global_name=username.title())

    @classmethod
    def bot_user(cls, username: str = "otherbot", *, id: int | None = None) -> User:
        return cls(id=id or snowflake(), username=username, bot=True)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_dict(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        if self.system:
            data["system"] = True
        return data


@dataclass
class Role:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False

    def to_dict(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Channel:
    id: int
    name: str
    type: int = GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    recipients: list[User] = field(default_factory=list)
    last_message_id: int | None = None
    parent_id: int | None = None  # threads: the forum or text channel they belong to
    owner_id: int | None = None  # threads: who started it
    message_count: int = 0

    def to_dict(self, *, with_guild_id: bool = True) -> JSON:
        if self.type == PUBLIC_THREAD:
            return self._thread_dict()
        if self.type == GROUP_DM:
            return {
                "id": str(self.id),
                "type": GROUP_DM,
                "name": self.name or None,
                "icon": None,
                "owner_id": str(self.owner_id or self.recipients[0].id),
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.to_dict() for u in self.recipients],
                "flags": 0,
            }
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.to_dict() for u in self.recipients],
                "flags": 0,
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }
        if self.type == GUILD_FORUM:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_thread_rate_limit_per_user=0,
            )
        if with_guild_id and self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data

    def _thread_dict(self) -> JSON:
        """A thread as GET /channels and THREAD_CREATE carry it (always with guild_id)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "rate_limit_per_user": 0,
            "message_count": self.message_count,
            "member_count": 1,
            "total_message_sent": self.message_count,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 4320,
                "archive_timestamp": iso_now(),
                "locked": False,
                "create_timestamp": iso_now(),
            },
        }


@dataclass
class Member:
    user: User
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def to_dict(self, *, permissions: int | None = None) -> JSON:
        data: JSON = {
            "user": self.user.to_dict(),
            "nick": self.nick,
            "avatar": None,
            "roles": [str(r) for r in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    threads: dict[int, Channel] = field(default_factory=dict)

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions of a member (owner and administrators get everything)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.roles[self.id].permissions if self.id in self.roles else 0
        member = self.members.get(user_id)
        if member is not None:
            for role_id in member.role_ids:
                role = self.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def to_dict(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.to_dict() for r in self.roles.values()],
            "channels": [c.to_dict(with_guild_id=False) for c in self.channels.values()],
            "threads": [t.to_dict() for t in self.threads.values()],
            "members": [m.to_dict() for m in self.members.values()],
            "member_count": len(self.members),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "unavailable": False,
            "lazy": True,
            "joined_at": iso_now(),
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "premium_progress_bar_enabled": False,
        }


def attachment_dict(
    attachment_id: int,
    filename: str,
    size: int,
    url: str,
    *,
    content_type: str | None = None,
    description: str | None = None,
) -> JSON:
    data: JSON = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type:
        data["content_type"] = content_type
    if description:
        data["description"] = description
    return data


def message_dict(
    *,
    message_id: int,
    channel_id: int,
    author: User,
    content: str = "",
    guild_id: int | None = None,
    message_type: int = 0,
    embeds: list[JSON] | None = None,
    components: list[JSON] | None = None,
    attachments: list[JSON] | None = None,
    mentions: list[User] | None = None,
    mention_roles: list[int] | None = None,
    mention_everyone: bool = False,
    message_reference: JSON | None = None,
    referenced_message: JSON | None = None,
    webhook_id: int | None = None,
    flags: int = 0,
    tts: bool = False,
    application_id: int | None = None,
    interaction_metadata: JSON | None = None,
) -> JSON:
    data: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": message_type,
        "content": content,
        "author": author.to_dict(),
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": tts,
        "mention_everyone": mention_everyone,
        "mentions": [u.to_dict() for u in (mentions or [])],
        "mention_roles": [str(r) for r in (mention_roles or [])],
        "attachments": list(attachments or []),
        "embeds": list(embeds or []),
        "components": list(components or []),
        "pinned": False,
        "flags": flags,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    if message_reference is not None:
        data["message_reference"] = message_reference
        data["referenced_message"] = referenced_message
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
    if application_id is not None:
        data["application_id"] = str(application_id)
    if interaction_metadata is not None:
        data["interaction_metadata"] = interaction_metadata
    return data
