"""End to end (issue 11, section 2): one member cannot flood the bot.

The real WhyTwitterBot against the fake Discord. Mentions, DMs, ``/ask`` and the "Answer this
objection" menu share a per-member budget (``MEMBER_BUDGET`` per ``MEMBER_BUDGET_SECONDS``,
a token bucket); the context menu answers a message publicly once; a member's vote counts once
per entry per day. "Silence" for an over-budget member is proven by another member's later
message being answered (events are handled in order, and a refusal is decided before any await).
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.settings import Settings
from tests.cogs.helpers import BotEnv, BotWorld
from tests.fakediscord import FakeDiscord, User

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
EPHEMERAL = 64
MENU = "Answer this objection"

BUSY = "I'm way too busy for twitter"
UNKNOWN = "what is the best pizza topping in naples"
SLOW_DOWN = re.compile(r"try again in (\d+) (?:s|min)")


def referenced_id(message: JSON) -> str | None:
    ref = message.get("message_reference") or {}
    value = ref.get("message_id")
    return None if value is None else str(value)


def bot_replies_in(fake: FakeDiscord, channel_id: int) -> list[JSON]:
    """Every message the bot posted in ``channel_id`` (REST creates that succeeded)."""
    return [
        r.response
        for r in fake.requests_matching("POST", rf"^/channels/{channel_id}/messages$")
        if 200 <= r.status < 300 and isinstance(r.response, dict)
    ]


async def reply_to(fake: FakeDiscord, message: JSON, timeout: float = 10.0) -> JSON:
    return await fake.wait_for_bot_message(
        timeout=timeout, predicate=lambda m: referenced_id(m) == str(message["id"])
    )


def allowed(settings: Settings, elapsed: float) -> int:
    """The most requests a token bucket lets one member through in ``elapsed`` seconds."""
    refill = elapsed * settings.member_budget / settings.member_budget_seconds
    return settings.member_budget + int(refill)


def custom_ids(message: JSON) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def stored_rows(env: BotEnv) -> int:
    """Answers plus unanswered questions recorded today."""
    async with env.storage() as storage:
        stats = await storage.stats(days=1)
    return sum(stats.answers.values()) + stats.unanswered


# ---------------------------------------------------------------- the per-member budget


async def test_200_dms_from_one_member_get_at_most_the_budget(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    alice_dm, bob_dm = fake.dm_channel(w.alice), fake.dm_channel(w.bob)
    async with bot_env.run() as bot:
        settings = bot.settings
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(200):
            await fake.send_message(alice_dm, w.alice, BUSY if i % 2 else UNKNOWN)
        # Bob is answered after all of Alice's DMs were delivered, so every refusal is final.
        await reply_to(fake, await fake.send_message(bob_dm, w.bob, BUSY))
        budget = allowed(settings, loop.time() - start)
        await fake.wait_until(lambda: len(bot_replies_in(fake, alice_dm)) >= budget, 20)
        replies = len(bot_replies_in(fake, alice_dm))
    assert replies == budget, f"{replies} replies to 200 DMs (budget {budget})"
    # Nothing is stored for the refused ones: Alice's budget plus Bob's one answer.
    rows = await stored_rows(bot_env)
    assert rows == budget + 1, f"{rows} rows stored for 201 DMs"


async def test_200_asks_beyond_the_budget_get_an_ephemeral_slow_down(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    responses: list[JSON] = []
    async with bot_env.run() as bot:
        settings = bot.settings
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(200):
            handle = await fake.send_slash_command(
                "ask", {"question": BUSY if i % 2 else UNKNOWN}, user=w.alice, channel_id=w.general
            )
            responses.append(await handle.wait_response(timeout=10))
        budget = allowed(settings, loop.time() - start)
    slowed = [r for r in responses if SLOW_DOWN.search(r["data"].get("content") or "")]
    answered = len(responses) - len(slowed)
    assert answered == budget, f"{answered} of 200 /ask answered (budget {budget})"
    for response in slowed:
        assert response["type"] == 4
        assert response["data"].get("flags", 0) & EPHEMERAL
        assert not response["data"].get("embeds")
        match = SLOW_DOWN.search(response["data"].get("content", ""))
        assert match is not None
        assert 1 <= int(match[1]) <= settings.member_budget_seconds
    assert await stored_rows(bot_env) == budget


async def test_the_budget_follows_the_settings(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    responses = []
    async with bot_env.run(MEMBER_BUDGET="2", MEMBER_BUDGET_SECONDS="3600"):
        for _ in range(4):
            ask = {"question": BUSY}
            handle = await fake.send_slash_command("ask", ask, user=w.bob, channel_id=w.general)
            responses.append(await handle.wait_response())
    slowed = [bool(SLOW_DOWN.search(r["data"].get("content") or "")) for r in responses]
    assert slowed == [False, False, True, True]
    assert "try again in 30 min" in responses[2]["data"].get("content", "")


async def test_20_mentions_in_a_plain_channel_get_at_most_the_budget(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run() as bot:
        mention = f"<@{fake.bot_user.id}>"
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(20):
            await fake.send_message(w.general, w.alice, f"{mention} {BUSY}")
        # An empty mention (it would get a hint) is charged too.
        await fake.send_message(w.general, w.alice, mention)
        await reply_to(fake, await fake.send_message(w.general, w.bob, f"{mention} {BUSY}"))
        budget = allowed(bot.settings, loop.time() - start)
        await fake.wait_until(lambda: len(bot_replies_in(fake, w.general)) >= budget + 1, 20)
        to_alice = [m for m in bot_replies_in(fake, w.general) if _author_of(fake, m) == w.alice]
    assert len(to_alice) == budget, f"{len(to_alice)} public answers to 21 mentions"


def _author_of(fake: FakeDiscord, reply: JSON) -> User | None:
    """The member whose message ``reply`` answers."""
    target = fake.messages.get(int(referenced_id(reply) or 0))
    return None if target is None else fake.users.get(int(target["author"]["id"]))


async def test_one_members_flood_does_not_delay_anothers_answer(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    """A behaviour bound, not a speed figure: with the fake's rate limits (3 messages per
    0.5 s per channel), 40 queued replies to the flooder would hold the other member's
    answer back for ~6-7 s; within the budget it waits at most one rate-limit window."""
    w, fake = bot_world, fake_discord
    fake.enable_rate_limits(limit=3, per=0.5)
    async with bot_env.run():
        mention = f"<@{fake.bot_user.id}>"
        for _ in range(40):
            await fake.send_message(w.general, w.alice, f"{mention} {BUSY}")
        loop = asyncio.get_running_loop()
        start = loop.time()
        asked = await fake.send_message(w.general, w.bob, f"{mention} {BUSY}")
        await reply_to(fake, asked, timeout=30)
        delay = loop.time() - start
    assert delay < 1.0, f"Bob's answer took {delay:.2f} s behind Alice's flood"


# ---------------------------------------------------------------- the context menu


async def test_context_menu_ten_times_on_one_message_answers_publicly_once(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    invokers = [w.alice, w.bob, w.mod]
    async with bot_env.run():
        target = await fake.send_message(w.general, w.alice, BUSY)
        handles = []
        for i in range(10):
            handle = await fake.send_message_command(MENU, target, user=invokers[i % 3])
            await handle.wait_response()
            if i == 0:
                await handle.wait_followups()
            handles.append(handle)
        public = [m for m in bot_replies_in(fake, w.general) if referenced_id(m) == target["id"]]
        assert len(public) == 1, f"{len(public)} public answers to one message"
        [first] = public
        link = f"/channels/{w.guild}/{w.general}/{first['id']}"
        for handle in handles[1:]:
            response = handle.response
            assert response is not None
            assert response["type"] == 4
            assert response["data"].get("flags", 0) & EPHEMERAL
            assert link in response["data"].get("content", "")
            # The repeat still gets the answer itself, privately.
            assert response["data"]["embeds"]

    # The record survives a restart.
    async with bot_env.run():
        again = await fake.send_message_command(MENU, target, user=w.bob)
        response = await again.wait_response()
        assert response["data"].get("flags", 0) & EPHEMERAL
        assert link in response["data"].get("content", "")
    public = [m for m in bot_replies_in(fake, w.general) if referenced_id(m) == target["id"]]
    assert len(public) == 1


async def test_context_menu_runs_at_once_answer_publicly_once(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run():
        target = await fake.send_message(w.general, w.alice, BUSY)
        handles = await asyncio.gather(
            *(fake.send_message_command(MENU, target, user=u) for u in (w.alice, w.bob, w.mod))
        )
        responses = [await handle.wait_response() for handle in handles]
        assert all(r["data"].get("flags", 0) & EPHEMERAL for r in responses)
        reply = await reply_to(fake, target)
        # The runs that were not first waited for it and link to it.
        link = f"/channels/{w.guild}/{w.general}/{reply['id']}"
        linked = [r for r in responses if link in (r["data"].get("content") or "")]
        assert len(linked) == len(handles) - 1
        public = [m for m in bot_replies_in(fake, w.general) if referenced_id(m) == target["id"]]
    assert len(public) == 1


async def test_context_menu_counts_against_the_invokers_budget(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run() as bot:
        budget = bot.settings.member_budget
        for _ in range(budget):
            ask = {"question": BUSY}
            await fake.send_slash_command("ask", ask, user=w.bob, channel_id=w.general)
        target = await fake.send_message(w.general, w.alice, BUSY)
        handle = await fake.send_message_command(MENU, target, user=w.bob)
        response = await handle.wait_response()
        assert response["data"].get("flags", 0) & EPHEMERAL
        assert SLOW_DOWN.search(response["data"].get("content", ""))
        # Alice has her own budget.
        handle = await fake.send_message_command(MENU, target, user=w.alice)
        await reply_to(fake, target)


async def test_a_dismissed_context_answer_is_not_posted_again(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    async with bot_env.run():
        target = await fake.send_message(w.general, w.alice, BUSY)
        first = await fake.send_message_command(MENU, target, user=w.bob)
        await first.wait_followups()
        answer = await reply_to(fake, target)
        dismiss = next(c for c in custom_ids(answer) if c.startswith("wt:x:"))
        await fake.click_button(answer, dismiss, w.alice)
        await fake.wait_until(lambda: int(answer["id"]) in fake.deleted_messages, 10)
        handle = await fake.send_message_command(MENU, target, user=w.bob)
        response = await handle.wait_response()
        assert response["data"].get("flags", 0) & EPHEMERAL
        assert "dismissed" in response["data"].get("content", "")
        assert response["data"]["embeds"]
    public = [m for m in bot_replies_in(fake, w.general) if referenced_id(m) == target["id"]]
    assert len(public) == 1


# ---------------------------------------------------------------- votes


async def test_helpful_on_ten_answers_of_one_entry_counts_one_vote(
    bot_env: BotEnv, bot_world: BotWorld, fake_discord: FakeDiscord
) -> None:
    w, fake = bot_world, fake_discord
    answers: list[JSON] = []
    contents: list[str] = []
    async with bot_env.run(CHANNEL_COOLDOWN_MINUTES="0", MEMBER_COOLDOWN_MINUTES="0"):
        for _ in range(10):
            asked = await fake.send_message(w.answers, w.bob, BUSY)
            answers.append(await reply_to(fake, asked))
        for answer in answers:
            helpful = next(c for c in custom_ids(answer) if c.startswith("wt:v:y:too-busy:"))
            response = await (await fake.click_button(answer, helpful, w.alice)).wait_response()
            assert response["data"].get("flags", 0) & EPHEMERAL
            contents.append(response["data"].get("content", ""))
    async with bot_env.storage() as storage:
        stats = await storage.stats(days=1)
    assert stats.helpful == {"too-busy": 1}, f"{stats.helpful} from one member on 10 answers"
    assert "already counted" not in contents[0]
    assert all("already counted" in text for text in contents[1:])


async def test_context_menu_without_channel_permissions_answers_publicly_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Where the bot cannot post, the public answer is the interaction response itself."""
    fake = fake_discord
    read_only = discord.Permissions(view_channel=True, read_message_history=True)
    guild = fake.add_guild("Read only", bot_permissions=read_only.value)
    channel = fake.add_channel(guild, "lounge")
    alice, bob = User.human("alice"), User.human("bob")
    fake.add_member(guild, alice)
    fake.add_member(guild, bob)
    env = BotEnv(fake, tmp_path)
    async with env.run():
        target = await fake.send_message(channel, alice, BUSY)
        first = await (await fake.send_message_command(MENU, target, user=bob)).wait_response()
        assert not first["data"].get("flags", 0) & EPHEMERAL
        [public] = [m for m in fake.messages_in(channel, by_bot=True) if m.get("embeds")]
        again = await (await fake.send_message_command(MENU, target, user=alice)).wait_response()
        assert again["data"].get("flags", 0) & EPHEMERAL
        assert f"/channels/{guild}/{channel}/{public['id']}" in again["data"].get("content", "")
    assert bot_replies_in(fake, channel) == []
