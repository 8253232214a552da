"""End to end (issue 15): ``/kb stats`` attaches the weekly chart PNG beside its table."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.charts import FILENAME
from tests.cogs.helpers import BotEnv, BotWorld
from tests.fakediscord import FakeDiscord, User
from tests.test_charts import HELPFUL_RGB, UNANSWERED_RGB, colours, png_size

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
EPHEMERAL = 64
OTHER_GUILD = 424242


async def stats_reply(fake: FakeDiscord, world: BotWorld, admin: User) -> JSON:
    handle = await fake.send_slash_command(
        "kb", {"days": 30}, subcommand="stats", user=admin, channel_id=world.general
    )
    response = await handle.wait_response()
    assert response["type"] == 5  # deferred: the table and the chart come in the follow-up
    message: JSON = (await handle.wait_followups())[0]
    return message


def admin_in(fake: FakeDiscord, world: BotWorld) -> User:
    admin = User.human("admin")
    fake.add_member(world.guild, admin, permissions=discord.Permissions(manage_guild=True).value)
    return admin


async def test_stats_reply_carries_the_chart_png(bot_env: BotEnv, bot_world: BotWorld) -> None:
    fake, world = bot_env.fake, bot_world
    admin = admin_in(fake, world)
    async with bot_env.run(HOME_GUILD_IDS=str(world.guild)) as bot:
        await bot.storage.record_answer(
            guild_id=world.guild, channel_id=1, entry_id="too-busy", via="channel", message_id=77
        )
        await bot.storage.record_vote(message_id=77, entry_id="too-busy", user_id=5, helpful=True)
        # another server's unanswered questions are not this server's statistics
        for text in ("what about pizza", "and pasta"):
            await bot.storage.record_unanswered(guild_id=OTHER_GUILD, channel_id=2, text=text)
        message = await stats_reply(fake, world, admin)

    assert message["flags"] & EPHEMERAL
    [embed] = message["embeds"]
    assert "too-busy" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Helpful / not"] == "1 / 0"
    assert fields["Unanswered"] == "0"
    [attachment] = message["attachments"]
    assert attachment["filename"] == FILENAME
    assert "answers per entry" in attachment["description"]
    name, data, _content_type = fake.attachments[int(attachment["id"])]
    assert name == FILENAME
    width, height = png_size(data)
    assert width > height > 0  # landscape
    # the chart shows the same server's data as the table: votes, but no unanswered bars
    drawn = colours(data)
    assert HELPFUL_RGB in drawn
    assert UNANSWERED_RGB not in drawn


async def test_stats_text_still_sent_when_the_chart_fails(
    bot_env: BotEnv, bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("no fonts today")

    # the cog module is loaded afresh as an extension: it picks the broken function up
    monkeypatch.setattr("bot.charts.stats_chart", broken)
    fake, world = bot_env.fake, bot_world
    admin = admin_in(fake, world)
    async with bot_env.run(HOME_GUILD_IDS=str(world.guild)) as bot:
        await bot.storage.record_answer(
            guild_id=world.guild, channel_id=1, entry_id="too-busy", via="channel"
        )
        message = await stats_reply(fake, world, admin)
    assert "too-busy" in message["embeds"][0]["description"]
    assert message["attachments"] == []
