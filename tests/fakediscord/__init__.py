"""A fake Discord API (REST + gateway) for end-to-end tests of the real discord.py client."""

from .fixtures import ClientRunner, client_exit, default_intents, runner_of, running_client
from .interactions import InteractionHandle
from .payloads import GUILD_FORUM, PUBLIC_THREAD, User
from .server import FakeDiscord, point_discord_at
from .state import RecordedRequest

__all__ = [
    "GUILD_FORUM",
    "PUBLIC_THREAD",
    "ClientRunner",
    "FakeDiscord",
    "InteractionHandle",
    "RecordedRequest",
    "User",
    "client_exit",
    "default_intents",
    "point_discord_at",
    "runner_of",
    "running_client",
]
