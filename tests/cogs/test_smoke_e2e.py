"""Smoke: the helper starts the real bot against the fake."""

from __future__ import annotations

import pytest

from tests.cogs.helpers import BotEnv, BotWorld

pytestmark = pytest.mark.e2e


async def test_bot_starts_and_answers(bot_env: BotEnv, bot_world: BotWorld) -> None:
    async with bot_env.run() as bot:
        assert bot.user is not None
        await bot_env.fake.send_message(
            bot_world.answers, bot_world.alice, "I'm way too busy for twitter"
        )
        reply = await bot_env.fake.wait_for_bot_message(bot_world.answers)
        assert reply["embeds"]
