"""End to end (issue 3): the real WhyTwitterBot on the real discord.py stack against the fake.

Messages are chosen to be unambiguous for any reasonable matcher tuning: clear objections
("I'm way too busy for twitter") and clear chit-chat ("good morning everyone"); assertions are
on entry ids (via the embed title), never on scores. "No reply" is proven by a later message
that must be answered, with nothing before it.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import threading
from typing import Any

import discord
import pytest
import yaml

import bot.bot as bot_module
from bot.bot import WhyTwitterBot, intents
from bot.cogs.answers import NO_ANSWER
from bot.matching.types import Outcome
from bot.service.replies import MAX_QUESTION
from tests.cogs.helpers import BotEnv, BotWorld
from tests.fakediscord import FakeDiscord, User

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]

BUSY = "I'm way too busy for twitter"
BUSY_2 = "I'd never have time to tweet"
PRIVACY = "What about HIPAA and patient privacy on Twitter?"
CHITCHAT = "good morning everyone"
UNKNOWN = "what is the best pizza topping in naples"
# Vague phrases; the test picks one the current matcher puts in the "did you mean" band.
VAGUE = (
    "twitter worries me",
    "twitter",
    "not sure about twitter",
    "twitter seems like a lot",
    "hmm twitter for doctors",
)

EPHEMERAL = 64


def title_of(bot: WhyTwitterBot, entry_id: str) -> str:
    entry = bot.knowledge.kb.get(entry_id)
    assert entry is not None, entry_id
    return entry.title


def referenced_id(message: JSON) -> str | None:
    ref = message.get("message_reference") or {}
    value = ref.get("message_id")
    return None if value is None else str(value)


async def reply_to(fake: FakeDiscord, message: JSON, timeout: float = 10.0) -> JSON:
    """The bot's reply (a message whose reference is ``message``)."""
    return await fake.wait_for_bot_message(
        timeout=timeout, predicate=lambda m: referenced_id(m) == str(message["id"])
    )


def replies_to(fake: FakeDiscord, message: JSON) -> list[JSON]:
    return [
        m
        for m in fake.messages.values()
        if int(m["author"]["id"]) == fake.bot_user.id and referenced_id(m) == str(message["id"])
    ]


def request_body(fake: FakeDiscord, sent: JSON) -> JSON:
    """The JSON the bot POSTed to create ``sent``."""
    for r in fake.requests_matching("POST", r"^/channels/\d+/messages$"):
        if isinstance(r.response, dict) and r.response.get("id") == sent["id"]:
            assert isinstance(r.json, dict)
            return r.json
    raise AssertionError(f"no request created message {sent['id']}")


def custom_ids(message: JSON) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def assert_pings_no_one(body: JSON) -> None:
    mentions = body["allowed_mentions"]
    assert mentions["parse"] == []
    assert mentions.get("replied_user") is False
    assert not mentions.get("users")
    assert not mentions.get("roles")


# ---------------------------------------------------------------- start, intents, sync


async def test_start_syncs_once_and_identifies_with_minimal_intents(
    bot_env: BotEnv, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run():
        pass
    assert fake_discord.command_syncs == 1
    [sync] = fake_discord.requests_matching("PUT", r"^/applications/\d+/commands$")
    names = {c["name"] for c in sync.json}
    assert {"ask", "benefits", "objections", "Answer this objection"} <= names

    identify = fake_discord.identify_payloads[0]
    got = discord.Intents._from_value(identify["intents"])
    assert identify["intents"] == intents().value
    assert got.guilds
    assert got.guild_messages
    assert got.dm_messages
    assert got.message_content
    assert not got.members
    assert not got.presences

    async with bot_env.run():  # same DATA_DIR, unchanged tree
        pass
    assert len(fake_discord.identify_payloads) == 2
    assert fake_discord.command_syncs == 1


async def test_dev_guild_sync_goes_to_that_guild(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run(dev_guild_id=bot_world.guild):
        pass
    [sync] = fake_discord.requests_matching("PUT", r"^/applications/\d+/.*commands$")
    assert sync.path.endswith(f"/guilds/{bot_world.guild}/commands")


# ---------------------------------------------------------------- channel answers


async def test_objection_in_answer_channel_gets_a_silent_reply(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        asked = await fake_discord.send_message(bot_world.answers, bot_world.alice, BUSY)
        reply = await reply_to(fake_discord, asked)
        assert reply["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert reply["mentions"] == []
        body = request_body(fake_discord, reply)
        assert_pings_no_one(body)
        assert body["message_reference"]["message_id"] in (asked["id"], int(asked["id"]))
        alice = bot_world.alice.id
        assert custom_ids(reply) == [
            f"wt:v:y:too-busy:{alice}",
            f"wt:v:n:too-busy:{alice}",
            f"wt:x:too-busy:{alice}",
        ]
    async with bot_env.storage() as storage:
        stats = await storage.stats()
    assert stats.answers == {"too-busy": 1}


async def test_mass_mentions_in_an_objection_ping_no_one(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    role = fake_discord.add_role(bot_world.guild, "attendings")
    text = f"@everyone @here <@&{role}> {BUSY} <@{bot_world.bob.id}>"
    async with bot_env.run() as bot:
        asked = await fake_discord.send_message(
            bot_world.answers, bot_world.alice, text, mention_everyone=True
        )
        reply = await reply_to(fake_discord, asked)
        assert reply["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert_pings_no_one(request_body(fake_discord, reply))
        recorded = fake_discord.messages[int(reply["id"])]
        assert recorded["mentions"] == []
        assert recorded["mention_roles"] == []
        assert recorded["mention_everyone"] is False


async def test_no_reply_to_bots_webhooks_commands_chitchat_repeats_or_other_channels(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    carol, dave = User.human("carol"), User.human("dave")
    fake.add_member(w.guild, carol)
    fake.add_member(w.guild, dave)
    async with bot_env.run() as bot:
        first = await fake.send_message(w.answers, w.alice, BUSY)
        await reply_to(fake, first)
        ignored = [
            await fake.send_message(w.answers, User.bot_user("rankbot"), BUSY_2),
            await fake.send_message(w.answers, w.bob, BUSY_2, webhook_id=4242),
            await fake.send_message(w.answers, w.bob, "!rank " + BUSY_2),
            await fake.send_message(w.answers, w.bob, CHITCHAT),
            await fake.send_message(w.answers, w.alice, BUSY_2),  # member + channel cooldown
            await fake.send_message(w.answers, carol, BUSY),  # channel cooldown for too-busy
            await fake.send_message(w.general, dave, BUSY),  # not an answer channel
        ]
        # Must be answered: proves every message above was handled before it.
        sentinel = await fake.send_message(w.answers, dave, PRIVACY)
        answered = await reply_to(fake, sentinel)
        assert answered["embeds"][0]["title"] == title_of(bot, "patient-privacy")
        for message in ignored:
            assert replies_to(fake, message) == [], message["content"]
        assert fake.messages_in(w.general, by_bot=True) == []
        assert len(replies_to(fake, first)) == 1


# ---------------------------------------------------------------- mentions and DMs


async def test_mention_answers_anywhere(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        asked = await fake_discord.send_message(
            bot_world.general, bot_world.alice, f"<@{fake_discord.bot_user.id}> {BUSY}"
        )
        reply = await reply_to(fake_discord, asked)
        assert reply["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert_pings_no_one(request_body(fake_discord, reply))


async def test_mention_without_text_gets_a_hint(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run():
        asked = await fake_discord.send_message(
            bot_world.general, bot_world.alice, f"<@{fake_discord.bot_user.id}>"
        )
        reply = await reply_to(fake_discord, asked)
        assert "/benefits" in reply["content"]


async def test_mention_with_no_match_is_recorded_as_unanswered(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run():
        asked = await fake_discord.send_message(
            bot_world.general, bot_world.alice, f"<@!{fake_discord.bot_user.id}> {UNKNOWN}"
        )
        reply = await reply_to(fake_discord, asked)
        assert reply["content"] == NO_ANSWER
        assert reply.get("embeds") == []
    async with bot_env.storage() as storage:
        groups = await storage.unanswered()
    assert [g.text for g in groups] == [UNKNOWN]


def vague_question(bot: WhyTwitterBot) -> str:
    for text in VAGUE:
        decision = bot.knowledge.matcher.match(text)
        if decision.outcome is Outcome.SUGGEST and decision.suggestions:
            return text
    raise AssertionError(f"none of {VAGUE} is in the 'did you mean' band any more")


async def test_mention_in_the_middle_band_offers_did_you_mean_buttons(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run() as bot:
        text = vague_question(bot)
        asked = await fake.send_message(w.general, w.alice, f"<@{fake.bot_user.id}> {text}")
        offer = await reply_to(fake, asked)
        ids = custom_ids(offer)
        assert 1 <= len(ids) <= 3
        assert all(i.startswith("wt:p:") and i.endswith(f":{w.alice.id}") for i in ids)
        entry_id = ids[0].split(":")[2]

        # Someone else gets the answer privately; the offer stays.
        other = await fake.click_button(offer, ids[0], w.bob)
        response = await other.wait_response()
        assert response["type"] == 4
        assert response["data"]["flags"] & EPHEMERAL
        assert response["data"]["embeds"][0]["title"] == title_of(bot, entry_id)

        # The asker turns the offer into the answer.
        click = await fake.click_button(offer, ids[0], w.alice)
        response = await click.wait_response()
        assert response["type"] == 7
        assert response["data"]["embeds"][0]["title"] == title_of(bot, entry_id)
        edited = fake.messages[int(offer["id"])]
        assert edited["embeds"][0]["title"] == title_of(bot, entry_id)
        assert f"wt:v:y:{entry_id}:{w.alice.id}" in custom_ids(edited)


async def test_dm_gets_the_answer(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        dm = fake_discord.dm_channel(bot_world.alice)
        asked = await fake_discord.send_message(dm, bot_world.alice, BUSY_2)
        reply = await reply_to(fake_discord, asked)
        assert int(reply["channel_id"]) == dm
        assert reply["embeds"][0]["title"] == title_of(bot, "too-busy")


async def test_messages_are_matched_in_one_thread_off_the_event_loop(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DMs, mentions and /ask arriving together are matched one at a time in the bot's one
    matcher thread (each extra thread calling the encoder grew the process by a malloc arena)."""
    threads: list[str] = []
    real_ask = bot_module.ask

    def recording_ask(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real_ask(*args)

    monkeypatch.setattr(bot_module, "ask", recording_ask)
    async with bot_env.run():
        dm = fake_discord.dm_channel(bot_world.alice)
        sent = await asyncio.gather(
            fake_discord.send_message(dm, bot_world.alice, BUSY_2),
            fake_discord.send_message(
                bot_world.general, bot_world.bob, f"<@{fake_discord.bot_user.id}> {BUSY}"
            ),
        )
        handle = await fake_discord.send_slash_command(
            "ask", {"question": BUSY}, user=bot_world.mod, channel_id=bot_world.general
        )
        for message in sent:
            await reply_to(fake_discord, message)
        await handle.wait_response()
    assert len(threads) == 3
    assert len(set(threads)) == 1
    assert threads[0].startswith("matcher")
    assert threads[0] != threading.main_thread().name


# ---------------------------------------------------------------- slash commands


@pytest.mark.parametrize("private", [False, True])
async def test_ask(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord, private: bool
) -> None:
    async with bot_env.run() as bot:
        handle = await fake_discord.send_slash_command(
            "ask",
            {"question": BUSY, "private": private},
            user=bot_world.alice,
            channel_id=bot_world.general,
        )
        response = await handle.wait_response()
        assert response["type"] == 4
        data = response["data"]
        assert data["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert bool(data.get("flags", 0) & EPHEMERAL) is private
        dismiss = f"wt:x:too-busy:{bot_world.alice.id}"
        assert (dismiss in custom_ids(data)) is not private  # nothing to dismiss when private
        assert data["allowed_mentions"]["parse"] == []


async def test_ask_with_no_answer_is_recorded(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run():
        handle = await fake_discord.send_slash_command(
            "ask", {"question": UNKNOWN}, user=bot_world.alice, channel_id=bot_world.general
        )
        response = await handle.wait_response()
        assert response["data"]["content"] == NO_ANSWER
    async with bot_env.storage() as storage:
        assert [g.text for g in await storage.unanswered()] == [UNKNOWN]


def lengthen_summaries(env: BotEnv) -> None:
    """Make every benefit summary long, so /benefits needs more than one embed."""
    path = env.knowledge_dir / "benefits.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for benefit in data["benefits"]:
        benefit["summary"] = (benefit["summary"].strip() + " ") * 4 + "x" * 400
    header = "# yaml-language-server: $schema=./schema.json\n"
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


async def test_benefits_pages_and_page_buttons(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    lengthen_summaries(bot_env)
    async with bot_env.run() as bot:
        handle = await fake.send_slash_command("benefits", user=w.alice, channel_id=w.general)
        response = await handle.wait_response()
        assert response["type"] == 4
        first = response["data"]["embeds"][0]
        message = handle.original_message
        assert message is not None
        ids = custom_ids(message)
        assert ids[0].startswith("wt:b:0:")
        assert ids[1].startswith("wt:n:0")
        nxt = ids[2]
        assert nxt.startswith(f"wt:b:1:{w.alice.id}:")
        first_titles = {f["name"] for f in first["fields"]}

        refused = await fake.click_button(message, nxt, w.bob)
        refusal = await refused.wait_response()
        assert refusal["data"]["flags"] & EPHEMERAL
        assert fake.messages[int(message["id"])]["embeds"][0] == first

        click = await fake.click_button(message, nxt, w.alice)
        turned = await click.wait_response()
        assert turned["type"] == 7
        second = turned["data"]["embeds"][0]
        assert first_titles.isdisjoint(f["name"] for f in second["fields"])
        assert fake.messages[int(message["id"])]["embeds"][0]["fields"] == second["fields"]
        shown = len(first["fields"]) + len(second["fields"])
        assert shown <= len(bot.knowledge.kb.benefits)
        assert "wt:b:0:" in " ".join(custom_ids(turned["data"]))


async def test_benefits_in_one_embed_has_no_page_buttons(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        handle = await fake_discord.send_slash_command(
            "benefits", user=bot_world.alice, channel_id=bot_world.general
        )
        data = (await handle.wait_response())["data"]
        assert len(data["embeds"][0]["fields"]) == len(bot.knowledge.kb.benefits)
        assert custom_ids(data) == []


async def test_benefits_with_topic_and_unknown_topic(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        topics = bot.knowledge.kb.topics()
        topic = topics[0]
        handle = await fake_discord.send_slash_command(
            "benefits",
            {"topic": topic.upper()},
            user=bot_world.alice,
            channel_id=bot_world.general,
        )
        data = (await handle.wait_response())["data"]
        assert not data.get("flags", 0) & EPHEMERAL
        embed = data["embeds"][0]
        text = " ".join([embed.get("description", "")] + [f["name"] for f in embed["fields"]])
        on_topic = [b for b in bot.knowledge.kb.benefits if topic in b.topics]
        off_topic = [b for b in bot.knowledge.kb.benefits if topic not in b.topics]
        assert on_topic
        assert all(b.title in text for b in on_topic)
        assert not any(b.title in text for b in off_topic)

        unknown = await fake_discord.send_slash_command(
            "benefits",
            {"topic": "@everyone astrology"},
            user=bot_world.alice,
            channel_id=bot_world.general,
        )
        data = (await unknown.wait_response())["data"]
        assert data["flags"] & EPHEMERAL
        assert all(f"`{t}`" in data["content"] for t in topics)
        assert data["allowed_mentions"]["parse"] == []


async def test_topic_autocomplete(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        topics = bot.knowledge.kb.topics()
        everything = await fake_discord.send_autocomplete(
            "benefits", {}, "topic", user=bot_world.alice, channel_id=bot_world.general
        )
        response = await everything.wait_response()
        assert response["type"] == 8
        choices = response["data"]["choices"]
        assert 0 < len(choices) <= 25
        assert [c["value"] for c in choices] == sorted(topics)[:25]

        typed = await fake_discord.send_autocomplete(
            "benefits",
            {"topic": topics[0][:3].upper()},
            "topic",
            user=bot_world.alice,
            channel_id=bot_world.general,
        )
        choices = (await typed.wait_response())["data"]["choices"]
        assert choices[0]["value"] == topics[0]
        assert len(choices) <= 25


async def test_objections_lists_what_the_bot_knows(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        handle = await fake_discord.send_slash_command(
            "objections", user=bot_world.alice, channel_id=bot_world.general
        )
        data = (await handle.wait_response())["data"]
        embed = data["embeds"][0]
        fields = embed.get("fields", [])
        text = " ".join([embed.get("description", "")] + [f["value"] for f in fields])
        text += " ".join(f["name"] for f in fields)
        assert all(o.title in text for o in bot.knowledge.kb.objections)


# ---------------------------------------------------------------- context menu


async def test_context_menu_replies_to_the_target_message(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run() as bot:
        target = await fake.send_message(w.general, w.alice, BUSY)
        handle = await fake.send_message_command("Answer this objection", target, user=w.bob)
        reply = await reply_to(fake, target)
        assert reply["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert_pings_no_one(request_body(fake, reply))
        # The buttons belong to the member whose objection it was.
        assert f"wt:x:too-busy:{w.alice.id}" in custom_ids(reply)
        response = await handle.wait_response()
        assert response["type"] == 5
        assert response["data"]["flags"] & EPHEMERAL
        [note] = await handle.wait_followups()
        assert reply["id"] in note["content"]


async def test_context_menu_without_answer_tells_the_invoker_privately(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run():
        target = await fake.send_message(w.general, w.alice, CHITCHAT)
        handle = await fake.send_message_command("Answer this objection", target, user=w.bob)
        response = await handle.wait_response()
        assert response["type"] == 4
        assert response["data"]["flags"] & EPHEMERAL
        assert "/benefits" in response["data"]["content"] or custom_ids(response["data"])
        assert replies_to(fake, target) == []


async def test_context_menu_keeps_a_long_question_cut_as_every_path_does(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    long = " ".join([UNKNOWN] * 40)
    assert len(long) > MAX_QUESTION
    async with bot_env.run():
        target = await fake.send_message(w.general, w.alice, long)
        handle = await fake.send_message_command("Answer this objection", target, user=w.bob)
        await handle.wait_response()
    async with bot_env.storage() as storage:
        assert [g.text for g in await storage.unanswered()] == [long[:MAX_QUESTION]]


# ---------------------------------------------------------------- answer buttons


async def test_vote_buttons_count_one_vote_per_member(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run():
        asked = await fake.send_message(w.answers, w.alice, BUSY)
        answer = await reply_to(fake, asked)
        helpful, not_helpful = custom_ids(answer)[:2]

        thanks = await (await fake.click_button(answer, helpful, w.bob)).wait_response()
        assert thanks["data"]["flags"] & EPHEMERAL
        first = await (await fake.click_button(answer, not_helpful, w.alice)).wait_response()
        again = await (await fake.click_button(answer, not_helpful, w.alice)).wait_response()
        assert first["data"]["flags"] & EPHEMERAL
        assert again["data"]["flags"] & EPHEMERAL
        assert "already" in again["data"]["content"]
        assert first["data"]["content"] != again["data"]["content"]
    async with bot_env.storage() as storage:
        stats = await storage.stats()
    assert stats.helpful == {"too-busy": 1}
    assert stats.not_helpful == {"too-busy": 1}


async def test_dismiss_only_by_the_answered_member_or_a_moderator(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run():
        asked = await fake.send_message(w.answers, w.alice, BUSY)
        answer = await reply_to(fake, asked)
        dismiss = custom_ids(answer)[2]
        assert dismiss.startswith("wt:x:")

        refused = await (await fake.click_button(answer, dismiss, w.bob)).wait_response()
        assert refused["data"]["flags"] & EPHEMERAL
        assert int(answer["id"]) not in fake.deleted_messages

        await fake.click_button(answer, dismiss, w.alice)
        await fake.wait_until(lambda: int(answer["id"]) in fake.deleted_messages, 10)

        # A moderator (Manage Messages) may dismiss someone else's answer.
        asked = await fake.send_message(w.answers, w.bob, PRIVACY)
        answer = await reply_to(fake, asked)
        await fake.click_button(answer, custom_ids(answer)[2], w.mod)
        await fake.wait_until(lambda: int(answer["id"]) in fake.deleted_messages, 10)


async def test_mentioning_the_bots_own_role_counts_as_a_mention(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    async with bot_env.run() as bot:
        guild = bot.get_guild(bot_world.guild)
        assert guild is not None
        assert guild.me is not None
        [own_role] = [r for r in guild.me.roles if r.managed]
        other_role = fake_discord.add_role(bot_world.guild, "residents")
        ignored = await fake_discord.send_message(
            bot_world.general, bot_world.alice, f"<@&{other_role}> {BUSY}"
        )
        asked = await fake_discord.send_message(
            bot_world.general, bot_world.alice, f"<@&{own_role.id}> {BUSY}"
        )
        reply = await reply_to(fake_discord, asked)
        assert reply["embeds"][0]["title"] == title_of(bot, "too-busy")
        assert replies_to(fake_discord, ignored) == []


async def test_mentions_in_the_knowledge_base_ping_no_one(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    """A moderator's answer text with @everyone, a role and a member still pings no one."""
    role = fake_discord.add_role(bot_world.guild, "everyone-on-call")
    path = bot_env.knowledge_dir / "objections.yaml"
    text = path.read_text(encoding="utf-8")
    hostile = f"@everyone @here <@&{role}> <@{bot_world.bob.id}> Fair: clinical days are full."
    assert "Fair: clinical days are full." in text
    path.write_text(text.replace("Fair: clinical days are full.", hostile, 1), encoding="utf-8")
    async with bot_env.run() as bot:
        entry = bot.knowledge.kb.get("too-busy")
        assert entry is not None
        assert "@everyone" in entry.answer
        asked = await fake_discord.send_message(bot_world.answers, bot_world.alice, BUSY)
        reply = await reply_to(fake_discord, asked)
        assert "@everyone" in reply["embeds"][0]["description"]
        assert_pings_no_one(request_body(fake_discord, reply))
        recorded = fake_discord.messages[int(reply["id"])]
        assert recorded["mentions"] == []
        assert recorded["mention_roles"] == []
        assert recorded["mention_everyone"] is False
