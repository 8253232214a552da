"""REST faults Discord really returns, with the real bot: 429 (route and global), 500/502
once, a persistent 403 in one channel, 404 on the reply. The bot delivers after retries,
logs a channel it cannot answer in once (with the permission name), keeps serving others."""

from __future__ import annotations

import logging

import discord
import pytest

from tests.resilience.conftest import EXPECTED_ENTRY, OBJECTION, OBJECTION_2, World, wait_answers

pytestmark = pytest.mark.e2e

MESSAGES = r"^/channels/\d+/messages$"


def _statuses(world: World, channel: int) -> list[int]:
    return [
        r.status for r in world.fake.requests_matching("POST", rf"^/channels/{channel}/messages$")
    ]


@pytest.mark.parametrize(
    ("status", "global_"), [(429, False), (429, True), (500, False), (502, False)]
)
async def test_reply_is_delivered_after_one_refusal(
    world: World, status: int, global_: bool
) -> None:
    fake, channel = world.fake, world.channels[0]
    rule = fake.fail_next("POST", MESSAGES, status, retry_after=0.2, global_=global_)
    async with world.running():
        sent = await fake.send_message(channel, world.members[0], OBJECTION)
        answers = await wait_answers(
            world, lambda a: int(sent["id"]) in a, "the answer", timeout=10
        )
    assert answers[int(sent["id"])] == [EXPECTED_ENTRY]
    assert _statuses(world, channel) == [status, 200]
    assert rule.hits == 1


async def test_persistent_403_is_logged_once_and_other_channels_are_served(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake = world.fake
    blocked, open_ = world.channels
    fake.fail_next("POST", rf"^/channels/{blocked}/messages$", 403, times=None)
    with caplog.at_level(logging.WARNING, logger="bot"):
        async with world.running():
            for member in world.members[:3]:
                await fake.send_message(blocked, member, OBJECTION)
            await fake.wait_until(lambda: len(_statuses(world, blocked)) == 3, what="3 attempts")
            ok = await fake.send_message(open_, world.members[3], OBJECTION_2)
            answers = await wait_answers(world, lambda a: int(ok["id"]) in a, "the open channel")
    assert answers == {int(ok["id"]): [EXPECTED_ENTRY]}
    warnings = [r.getMessage() for r in caplog.records if str(blocked) in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "cannot answer" in warnings[0]


async def test_channel_overwrite_denying_a_permission_is_named_once_and_not_tried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake = world.fake
    blocked, open_ = world.channels
    async with world.running() as bot:
        guild = fake.guilds[world.guild]
        channel = guild.channels[blocked].to_dict()
        deny = discord.Permissions(embed_links=True).value
        channel["permission_overwrites"] = [
            {"id": str(fake.bot_user.id), "type": 1, "allow": "0", "deny": str(deny)}
        ]
        await fake.dispatch("CHANNEL_UPDATE", channel, guild_id=world.guild)
        await fake.wait_until(
            lambda: (
                not bot.get_channel(blocked)
                .permissions_for(  # type: ignore[union-attr]
                    bot.get_guild(world.guild).me  # type: ignore[union-attr]
                )
                .embed_links
            ),
            what="the overwrite applied",
        )
        with caplog.at_level(logging.WARNING, logger="bot"):
            for member in world.members[:3]:
                await fake.send_message(blocked, member, OBJECTION)
            ok = await fake.send_message(open_, world.members[3], OBJECTION)
            await wait_answers(world, lambda a: int(ok["id"]) in a, "the open channel")
    assert _statuses(world, blocked) == []  # known from the cache: not even tried
    warnings = [r.getMessage() for r in caplog.records if str(blocked) in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "embed_links" in warnings[0]


async def test_404_on_reply_is_not_a_crash(world: World) -> None:
    fake, channel = world.fake, world.channels[0]
    fake.fail_next("POST", MESSAGES, 404)  # the message was deleted meanwhile
    async with world.running():  # fails on any handler error
        await fake.send_message(channel, world.members[0], OBJECTION)
        await fake.wait_until(lambda: _statuses(world, channel) == [404], what="the 404")
        later = await fake.send_message(channel, world.members[1], OBJECTION_2)
        answers = await wait_answers(world, lambda a: int(later["id"]) in a, "a later answer")
    assert answers == {int(later["id"]): [EXPECTED_ENTRY]}
