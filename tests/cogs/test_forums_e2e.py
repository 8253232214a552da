"""End to end (issue 15, part 2): new posts in watched forum channels.

The fake opens a post as Discord does: THREAD_CREATE (a public thread, type 11, whose
``parent_id`` is the forum, type 15), then the starter message as MESSAGE_CREATE in the thread,
with the thread's id as its own id. "No answer" is proven by a later post that must be answered,
with nothing before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bot import WhyTwitterBot
from bot.service.gate import Gate, GateConfig, MessageFacts
from tests.cogs.helpers import BotEnv, BotWorld
from tests.fakediscord import GUILD_FORUM, FakeDiscord, User

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]

BUSY_TITLE = "Too busy for Twitter?"
BUSY_BODY = "Honest question from a resident, between clinic and call."  # alone: no answer
PRIVACY = "What about HIPAA and patient privacy on Twitter?"


@dataclass
class Forums:
    world: BotWorld
    fake: FakeDiscord
    env: BotEnv
    questions: int  # watched (FORUM_CHANNEL_IDS)
    lounge: int  # a forum not listed
    carol: User


@pytest.fixture
def forums(fake_discord: FakeDiscord, bot_world: BotWorld, tmp_path: Path) -> Forums:
    questions = fake_discord.add_channel(bot_world.guild, "questions", type=GUILD_FORUM)
    lounge = fake_discord.add_channel(bot_world.guild, "lounge", type=GUILD_FORUM)
    carol = User.human("carol")
    fake_discord.add_member(bot_world.guild, carol)
    env = BotEnv(
        fake_discord,
        tmp_path,
        answer_channel_ids={bot_world.answers},
        FORUM_CHANNEL_IDS=str(questions),
    )
    return Forums(bot_world, fake_discord, env, questions, lounge, carol)


def title_of(bot: WhyTwitterBot, entry_id: str) -> str:
    entry = bot.knowledge.kb.get(entry_id)
    assert entry is not None, entry_id
    return entry.title


def bot_messages_in(fake: FakeDiscord, thread_id: int) -> list[JSON]:
    return fake.messages_in(thread_id, by_bot=True)


async def answer_in(fake: FakeDiscord, thread_id: int) -> JSON:
    """The bot's first message in the post ``thread_id``."""
    return await fake.wait_for_bot_message(thread_id, timeout=10)


async def test_objection_post_gets_exactly_one_answer_in_its_thread(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run() as bot:
        thread, starter = await fake.create_forum_post(
            f.questions, f.world.alice, BUSY_TITLE, BUSY_BODY
        )
        answer = await answer_in(fake, thread)
        assert answer["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert int(answer["channel_id"]) == thread
        assert answer["message_reference"]["message_id"] == starter["id"] == str(thread)
        assert answer["mentions"] == []

        # Must be answered: every event of the first post was handled before it.
        other, _ = await fake.create_forum_post(f.questions, f.world.bob, "HIPAA?", PRIVACY)
        assert (await answer_in(fake, other))["embeds"][0]["title"] == title_of(
            bot, "patient-privacy"
        )
        assert len(bot_messages_in(fake, thread)) == 1
    async with f.env.storage() as storage:
        stats = await storage.stats()
    assert stats.answers == {"too-busy": 1, "patient-privacy": 1}


async def test_the_title_is_read_with_the_first_message(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run() as bot:
        # The objection is split: a bare title, the objection in the first message ...
        split, _ = await fake.create_forum_post(
            f.questions, f.world.alice, "Twitter", "I'm way too busy for it"
        )
        assert (await answer_in(fake, split))["embeds"][0]["title"] == title_of(bot, "too-busy")
        # ... and the first message alone says nothing the bot answers.
        assert bot.knowledge.matcher.match(BUSY_BODY).answer is None


async def test_chit_chat_post_gets_no_answer(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run():
        chat, _ = await fake.create_forum_post(
            f.questions,
            f.world.alice,
            "Journal club Thursday",
            "good morning everyone, who is coming to journal club?",
        )
        sentinel, _ = await fake.create_forum_post(f.questions, f.world.bob, "HIPAA?", PRIVACY)
        await answer_in(fake, sentinel)
        assert bot_messages_in(fake, chat) == []


async def test_a_later_reply_in_the_post_is_not_answered_as_a_new_post(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run():
        thread, _ = await fake.create_forum_post(f.questions, f.world.alice, BUSY_TITLE, BUSY_BODY)
        await answer_in(fake, thread)
        # Another member, another objection: a new post with this text would be answered.
        reply = await fake.send_message(thread, f.world.bob, PRIVACY)
        sentinel, _ = await fake.create_forum_post(
            f.questions, f.carol, "Too busy", "I'd never have time to tweet"
        )
        await answer_in(fake, sentinel)
        assert len(bot_messages_in(fake, thread)) == 1
        assert all(
            (m.get("message_reference") or {}).get("message_id") != reply["id"]
            for m in fake.messages.values()
        )


async def test_a_post_in_a_forum_not_listed_is_ignored(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run():
        ignored, _ = await fake.create_forum_post(f.lounge, f.world.alice, BUSY_TITLE, BUSY_BODY)
        sentinel, _ = await fake.create_forum_post(f.questions, f.world.bob, "HIPAA?", PRIVACY)
        await answer_in(fake, sentinel)
        assert bot_messages_in(fake, ignored) == []
        # Known to be a post in another forum without asking Discord.
        assert not fake.requests_matching("GET", rf"^/channels/{ignored}$")


async def test_the_gates_channel_lookup_decides_which_forums_are_watched(
    forums: Forums,
) -> None:
    """One channel lookup: a new post is looked up by its forum through the gate, like any
    channel (no second lookup of the forum beside it)."""
    f, fake = forums, forums.fake
    asked: list[MessageFacts] = []
    async with f.env.run() as bot:

        async def lookup(facts: MessageFacts) -> GateConfig | None:
            asked.append(facts)
            return bot.gate.config if facts.forum_id == f.lounge else None

        bot.gate = Gate(bot.gate.config, channels=lookup)
        # Watched by the lookup alone (FORUM_CHANNEL_IDS names the other forum).
        thread, _ = await fake.create_forum_post(f.lounge, f.world.alice, BUSY_TITLE, BUSY_BODY)
        assert (await answer_in(fake, thread))["embeds"][0]["title"] == title_of(bot, "too-busy")
        # Listed in FORUM_CHANNEL_IDS, but the lookup says no.
        ignored, _ = await fake.create_forum_post(f.questions, f.world.bob, "HIPAA?", PRIVACY)
        sentinel, _ = await fake.create_forum_post(f.lounge, f.carol, "HIPAA?", PRIVACY)
        await answer_in(fake, sentinel)
        assert bot_messages_in(fake, ignored) == []
    assert [(a.channel_id, a.forum_id) for a in asked] == [
        (thread, f.lounge),
        (ignored, f.questions),
        (sentinel, f.lounge),
    ]


async def test_posts_follow_the_gate_and_the_member_cooldown(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run():
        first, _ = await fake.create_forum_post(f.questions, f.world.alice, BUSY_TITLE, BUSY_BODY)
        await answer_in(fake, first)
        ignored = [
            # the same member again within MEMBER_COOLDOWN_MINUTES
            (await fake.create_forum_post(f.questions, f.world.alice, "HIPAA?", PRIVACY))[0],
            # another bot
            (await fake.create_forum_post(f.questions, User.bot_user("helper"), "HIPAA?", PRIVACY))[
                0
            ],
            # a command for another bot
            (await fake.create_forum_post(f.questions, f.world.bob, "!rank", PRIVACY))[0],
        ]
        sentinel, _ = await fake.create_forum_post(f.questions, f.carol, "HIPAA?", PRIVACY)
        await answer_in(fake, sentinel)
        for thread in ignored:
            assert bot_messages_in(fake, thread) == [], thread


async def test_starter_message_before_thread_create_is_still_one_answer(forums: Forums) -> None:
    f, fake = forums, forums.fake
    async with f.env.run() as bot:
        thread, _ = await fake.create_forum_post(
            f.questions, f.world.alice, BUSY_TITLE, BUSY_BODY, starter_first=True
        )
        answer = await answer_in(fake, thread)
        assert answer["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert fake.requests_matching("GET", rf"^/channels/{thread}$")
        sentinel, _ = await fake.create_forum_post(f.questions, f.world.bob, "HIPAA?", PRIVACY)
        await answer_in(fake, sentinel)
        assert len(bot_messages_in(fake, thread)) == 1


async def test_forum_added_with_whytwitter_channels_add(forums: Forums, tmp_path: Path) -> None:
    f, fake = forums, forums.fake
    env = BotEnv(fake, tmp_path / "per-guild")  # no FORUM_CHANNEL_IDS
    async with env.run(HOME_GUILD_IDS=str(f.world.guild)):
        before, _ = await fake.create_forum_post(f.lounge, f.world.alice, BUSY_TITLE, BUSY_BODY)
        handle = await fake.send_slash_command(
            "whytwitter",
            {"channel": str(f.lounge)},
            subcommand="add",
            subcommand_group="channels",
            user=fake.owner,
            channel_id=f.world.general,
        )
        response = await handle.wait_response()
        assert f"<#{f.lounge}>" in response["data"]["content"]
        after, _ = await fake.create_forum_post(f.lounge, f.world.bob, "HIPAA?", PRIVACY)
        await answer_in(fake, after)
        assert bot_messages_in(fake, before) == []
