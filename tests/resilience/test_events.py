"""Unexpected and malformed gateway events: logged, the bot keeps answering."""

from __future__ import annotations

import pytest

from tests.fakediscord import runner_of
from tests.fakediscord.payloads import snowflake
from tests.resilience.conftest import EXPECTED_ENTRY, OBJECTION, World, wait_answers

pytestmark = pytest.mark.e2e


async def _still_answers(world: World, member: int = 0) -> None:
    sent = await world.fake.send_message(world.channels[0], world.members[member], OBJECTION)
    answers = await wait_answers(world, lambda a: int(sent["id"]) in a, "a later answer")
    assert answers[int(sent["id"])] == [EXPECTED_ENTRY]


async def test_unknown_event_type_and_extra_fields_are_ignored(world: World) -> None:
    fake = world.fake
    async with world.running():
        await fake.dispatch("BRAND_NEW_EVENT", {"whatever": [1, 2, 3]}, guild_id=world.guild)
        await fake.dispatch("GUILD_SOUNDBOARD_SOUNDS_UPDATE", {"guild_id": str(world.guild)})
        # A message with fields this discord.py version has never heard of.
        msg = await fake.send_message(world.channels[1], world.members[1], OBJECTION)
        new_id = snowflake()
        extra = {**msg, "id": str(new_id), "future_field": {"x": 1}, "flags": 1 << 40}
        fake.messages[new_id] = extra
        await fake.dispatch("MESSAGE_CREATE", extra, guild_id=world.guild)
        await wait_answers(world, lambda a: int(extra["id"]) in a, "the extended message")
        await _still_answers(world, 2)


async def test_interaction_for_a_command_the_bot_does_not_have(world: World) -> None:
    fake = world.fake
    async with world.running(fail_on_handler_errors=False) as bot:
        handle = await fake.send_slash_command(
            "no-such-command", {"x": "y"}, user=world.members[0], channel_id=world.channels[0]
        )
        await _still_answers(world)
        errors = runner_of(bot).handler_errors
    # Nothing raw reaches the member; at most a friendly ephemeral line.
    for callback in handle.callbacks:
        assert "Traceback" not in str(callback)
    assert errors == [], [r.getMessage() for r in errors]


async def test_malformed_message_event_does_not_kill_the_bot(world: World) -> None:
    fake = world.fake
    async with world.running(fail_on_handler_errors=False) as bot:
        broken = {"id": "1", "channel_id": str(world.channels[0]), "content": OBJECTION}
        await fake.dispatch("MESSAGE_CREATE", broken, guild_id=world.guild)  # no author
        await fake.dispatch("MESSAGE_CREATE", {"id": "x"}, guild_id=world.guild)
        await _still_answers(world)
        assert not bot.is_closed()
