"""End to end (issue 15, part 1): the app installed to a member's account.

The fake sends the payloads a user install sends: ``authorizing_integration_owners`` naming the
user, ``context`` 1 in a DM with the app, ``context`` 0 with only a partial guild in a server the
bot is not in (no GUILD_CREATE; its channels refuse the bot's token with 403). There the reply
must come through the interaction, and no request may touch the channel API.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.bot import WhyTwitterBot
from tests.cogs.helpers import BotEnv, BotWorld
from tests.cogs.test_answers_e2e import BUSY, EPHEMERAL, custom_ids, lengthen_summaries
from tests.fakediscord import FakeDiscord, User

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
MEMBER_COMMANDS = ("ask", "benefits", "objections", "forget-me")
SERVER_COMMANDS = ("kb", "whytwitter", "Answer this objection")


@pytest.fixture(autouse=True)
def user_install_enabled(fake_discord: FakeDiscord) -> None:
    """The operator ticked Installation → Installation Contexts → User Install."""
    fake_discord.install_types = [0, 1]


def title_of(bot: WhyTwitterBot, entry_id: str) -> str:
    entry = bot.knowledge.kb.get(entry_id)
    assert entry is not None, entry_id
    return entry.title


def channel_api_calls(fake: FakeDiscord) -> list[str]:
    """Every request the bot made to the channel API (messages, typing, reactions, ...)."""
    return [f"{r.method} {r.path}" for r in fake.requests if r.path.startswith("/channels/")]


def synced_commands(fake: FakeDiscord) -> dict[str, JSON]:
    """The last payload synced for each command name (global and guild syncs)."""
    out: dict[str, JSON] = {}
    for sync in fake.requests_matching("PUT", r"^/applications/\d+/(guilds/\d+/)?commands$"):
        for command in sync.json or []:
            out[command["name"]] = command
    return out


async def test_synced_commands_carry_integration_types_and_contexts(
    bot_env: BotEnv, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run():
        pass
    commands = synced_commands(fake_discord)
    for name in MEMBER_COMMANDS:
        assert commands[name]["integration_types"] == [0, 1], name
        assert commands[name]["contexts"] == [0, 1, 2], name
    for name in SERVER_COMMANDS:
        assert commands[name]["integration_types"] == [0], name
    for name in ("kb", "whytwitter"):
        assert commands[name]["dm_permission"] is False
        assert commands[name]["contexts"] in (None, [0])


async def test_ask_in_a_dm_with_the_app(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    fake, carol = fake_discord, User.human("carol")  # shares no server with the bot
    async with bot_env.run() as bot:
        dm = fake.dm_channel(carol)
        handle = await fake.send_slash_command(
            "ask", {"question": BUSY}, user=carol, channel_id=dm, user_install=True
        )
        assert handle.payload["context"] == 1
        assert handle.payload["authorizing_integration_owners"] == {"1": str(carol.id)}
        response = await handle.wait_response()
        assert response["type"] == 4
        assert response["data"]["embeds"][0]["title"] == title_of(bot, "too-busy")
        answer = handle.original_message
        assert answer is not None
        assert int(answer["channel_id"]) == dm

        vote = await fake.click_button(answer, f"wt:v:y:too-busy:{carol.id}", carol)
        assert (await vote.wait_response())["data"]["flags"] & EPHEMERAL
        assert handle.followups == []
        assert channel_api_calls(fake) == []
    async with bot_env.storage() as storage:
        stats = await storage.stats()
    assert stats.answers == {"too-busy": 1}
    assert stats.helpful == {"too-busy": 1}


async def test_ask_in_a_server_without_the_bot(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    fake, alice, bob = fake_discord, bot_world.alice, bot_world.bob
    elsewhere = fake.add_guild("Elsewhere", with_bot=False)
    lounge = fake.add_channel(elsewhere, "lounge")
    fake.add_member(elsewhere, alice)
    fake.add_member(elsewhere, bob)
    async with bot_env.run() as bot:
        assert bot.get_guild(elsewhere) is None
        handle = await fake.send_slash_command(
            "ask", {"question": BUSY}, user=alice, channel_id=lounge, user_install=True
        )
        assert handle.payload["context"] == 0
        assert handle.payload["authorizing_integration_owners"] == {"1": str(alice.id)}
        response = await handle.wait_response()
        assert response["type"] == 4
        data = response["data"]
        assert data["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert not data.get("flags", 0) & EPHEMERAL
        assert data["allowed_mentions"]["parse"] == []
        answer = handle.original_message
        assert answer is not None
        assert int(answer["channel_id"]) == lounge

        # Buttons work through the interaction: a vote, then Dismiss by the asker.
        helpful, _not_helpful, dismiss = custom_ids(answer)
        vote = await fake.click_button(answer, helpful, bob)
        assert (await vote.wait_response())["data"]["flags"] & EPHEMERAL
        gone = await fake.click_button(answer, dismiss, alice)
        await fake.wait_until(lambda: int(answer["id"]) in fake.deleted_messages, 10)
        assert gone.original_deleted

        private = await fake.send_slash_command(
            "ask",
            {"question": BUSY, "private": True},
            user=bob,
            channel_id=lounge,
            user_install=True,
        )
        assert (await private.wait_response())["data"]["flags"] & EPHEMERAL

        assert handle.followups == []
        assert channel_api_calls(fake) == []
    async with bot_env.storage() as storage:
        here = await storage.stats(guild_id=elsewhere)
        everywhere = await storage.stats()
    assert here.answers == {"too-busy": 2}
    assert everywhere.helpful == {"too-busy": 1}


async def test_benefits_pages_and_objections_in_a_server_without_the_bot(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    fake, alice = fake_discord, bot_world.alice
    elsewhere = fake.add_guild("Elsewhere", with_bot=False)
    lounge = fake.add_channel(elsewhere, "lounge")
    fake.add_member(elsewhere, alice)
    lengthen_summaries(bot_env)
    async with bot_env.run() as bot:
        handle = await fake.send_slash_command(
            "benefits", user=alice, channel_id=lounge, user_install=True
        )
        await handle.wait_response()
        message = handle.original_message
        assert message is not None
        nxt = custom_ids(message)[2]
        turned = await (await fake.click_button(message, nxt, alice)).wait_response()
        assert turned["type"] == 7
        assert fake.messages[int(message["id"])]["embeds"][0] == turned["data"]["embeds"][0]

        listed = await fake.send_slash_command(
            "objections", user=alice, channel_id=lounge, user_install=True
        )
        embed = (await listed.wait_response())["data"]["embeds"][0]
        text = embed.get("description", "") + " ".join(
            f["name"] + f["value"] for f in embed.get("fields", [])
        )
        assert all(o.title in text for o in bot.knowledge.kb.objections)
        assert channel_api_calls(fake) == []


async def test_moderator_commands_are_not_offered_to_user_installs(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    elsewhere = fake.add_guild("Elsewhere", with_bot=False)
    lounge = fake.add_channel(elsewhere, "lounge")
    async with bot_env.run():
        for name, sub in (("kb", "stats"), ("whytwitter", "cooldown")):
            with pytest.raises(ValueError, match="not offered to user installs"):
                await fake.send_slash_command(
                    name, subcommand=sub, user=fake.owner, channel_id=lounge, user_install=True
                )


async def test_ask_in_a_group_dm_without_the_bot(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    fake, alice, bob = fake_discord, bot_world.alice, bot_world.bob
    group = fake.group_dm(alice, bob)
    async with bot_env.run() as bot:
        handle = await fake.send_slash_command(
            "ask", {"question": BUSY}, user=alice, channel_id=group, user_install=True
        )
        assert handle.payload["context"] == 2
        response = await handle.wait_response()
        assert response["data"]["embeds"][0]["title"] == title_of(bot, "too-busy")
        answer = handle.original_message
        assert answer is not None
        dismiss = custom_ids(answer)[2]
        assert dismiss.startswith("wt:x:")
        await fake.click_button(answer, dismiss, alice)
        await fake.wait_until(lambda: int(answer["id"]) in fake.deleted_messages, 10)
        assert channel_api_calls(fake) == []
