"""A fake Discord API (REST + gateway websocket) for end-to-end tests.

The real discord.py client connects to it over real sockets on 127.0.0.1: its HTTP client,
rate limiter, gateway websocket, zlib-stream inflater and parsers all run unchanged.
See /work/shared/notes/testing-against-a-fake-discord.md for the protocol facts.

``FakeDiscord`` is the top of a stack of layers, one module each, each adding one concern
to the one below and using only what is below it:

- ``state.World``: the world (users, guilds, channels, members, messages, commands), its
  builders and lookups, and ``wait_until``;
- ``gateway.Gateway``: websocket sessions, IDENTIFY/RESUME, dispatch with intents, and the
  messages and forum posts a test sends;
- ``faults.Faults``: gateway closes, drops and outages, heartbeat acks, REST failures and
  rate limits;
- ``rest.Rest``: request recording, the route table and its handlers;
- ``interactions.Interactions``: the interactions a test sends and the bot's answers;
- ``FakeDiscord`` (here): its options, the HTTP server's lifecycle and URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import yarl
from aiohttp import web

from .interactions import InteractionHandle, Interactions
from .rest import API_PREFIX
from .state import Options, RecordedRequest

__all__ = ["FakeDiscord", "InteractionHandle", "RecordedRequest", "point_discord_at"]


class FakeDiscord(Interactions):
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
        super().__init__(
            Options(
                token=token,
                bot_name=bot_name,
                shard_count=shard_count,
                heartbeat_interval_ms=heartbeat_interval_ms,
                enforce_intents=enforce_intents,
            )
        )
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

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
