"""Keeps ``DATA_DIR/health.json`` current: gateway up or down, refreshed every few seconds."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.service.health import FILE_NAME, INTERVAL, Health, write_health

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)


class HealthReporter(commands.Cog):
    """Writes the heartbeat file that ``python -m bot health`` (the container check) reads."""

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot
        self.path = bot.settings.data_dir / FILE_NAME

    async def cog_load(self) -> None:
        self.beat.start()

    async def cog_unload(self) -> None:
        self.beat.cancel()
        self.write(connected=False)

    def connected(self) -> bool:
        """Ready, not closing, and every shard's websocket open."""
        bot = self.bot
        if bot.is_closed() or not bot.is_ready():
            return False
        return all(not shard.is_closed() for shard in bot.shards.values())

    def write(self, *, connected: bool | None = None) -> None:
        """Write the heartbeat now (``connected`` overrides what the client reports)."""
        up = self.connected() if connected is None else connected
        latency = self.bot.latency
        try:
            write_health(
                self.path,
                Health(
                    connected=up,
                    updated=time.time(),
                    shards=len(self.bot.shards),
                    latency_ms=latency * 1000 if up and math.isfinite(latency) else None,
                ),
            )
        except OSError:
            log.warning("could not write the heartbeat file %s", self.path.name, exc_info=True)

    @tasks.loop(seconds=INTERVAL)
    async def beat(self) -> None:
        self.write()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.write(connected=True)

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        self.write()

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        self.write(connected=False)

    @commands.Cog.listener()
    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.write(connected=False)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self.write()

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self.write()


async def setup(bot: WhyTwitterBot) -> None:
    await bot.add_cog(HealthReporter(bot))
