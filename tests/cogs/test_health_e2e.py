"""The heartbeat follows the real gateway connection (fake Discord on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

from bot.service.health import FILE_NAME, check_health, read_health
from tests.cogs.helpers import BotEnv
from tests.fakediscord import FakeDiscord


def _connected(path: Path) -> bool | None:
    health = read_health(path)
    return None if health is None else health.connected


async def test_heartbeat_tracks_gateway_outage(bot_env: BotEnv, fake_discord: FakeDiscord) -> None:
    path = bot_env.data_dir / FILE_NAME
    async with bot_env.run():
        await fake_discord.wait_until(lambda: _connected(path) is True, 10, "connected")
        assert check_health(path)[0]

        fake_discord.gateway_down = True
        await fake_discord.drop_gateway()
        await fake_discord.wait_until(lambda: _connected(path) is False, 10, "disconnected")
        healthy, why = check_health(path)
        assert not healthy
        assert "gateway" in why
        await fake_discord.wait_until(lambda: fake_discord.refused_gateway_connections > 0)

        fake_discord.gateway_down = False
        await fake_discord.wait_until(lambda: _connected(path) is True, 30, "reconnected")
        assert check_health(path)[0]
    # Closing the bot marks it down at once (no waiting for the heartbeat to age).
    assert not check_health(path)[0]
