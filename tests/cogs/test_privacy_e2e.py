"""End to end (issue 11, sections 2 and 3): members' data stays private.

/forget-me (any member, DMs and any server) and /whytwitter forget (home moderators) delete a
member's votes and unanswered questions after a confirmation; stored questions are scrubbed and
capped per member and per server per day; logs carry no message text unless asked to.
"""

from __future__ import annotations

import io
import logging
import sys
from typing import Any

import pytest

from bot.bot import WhyTwitterBot
from bot.runner import configure_logging
from bot.service.home import NOT_HOME
from bot.storage import ForgetResult
from tests.cogs.test_home_guild_e2e import Two, reply, stored_questions, two
from tests.cogs.test_moderation_e2e import buttons
from tests.fakediscord import InteractionHandle, User

__all__ = ["two"]

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
EPHEMERAL = 64
BUSY = "I'm way too busy for twitter"
UNKNOWN = ("what is the recipe for sourdough bread", "where is the hospital parking garage")


async def vote_and_ask(t: Two, bot: WhyTwitterBot, user: User, *, dm_question: str) -> None:
    """``user`` votes Helpful on a channel answer (its text is kept with the answer) and asks
    one unanswered question in a DM."""
    asked = await t.fake.send_message(t.world.answers, user, BUSY)
    answer = await t.fake.wait_for_bot_message(
        t.world.answers,
        predicate=lambda r: (r.get("message_reference") or {}).get("message_id") == asked["id"],
    )
    helpful = answer["components"][0]["components"][0]["custom_id"]
    await (await t.fake.click_button(answer, helpful, user)).wait_response()
    dm = t.fake.dm_channel(user)
    before = len(stored_questions(t))
    await t.fake.send_message(dm, user, dm_question)
    await t.fake.wait_until(lambda: len(stored_questions(t)) > before, what="a stored question")


async def forget_me(t: Two, user: User, channel: int) -> InteractionHandle:
    return await t.fake.send_slash_command("forget-me", user=user, channel_id=channel)


async def confirm(t: Two, handle: InteractionHandle, label: str, user: User) -> JSON:
    """Press ``label`` on the confirmation; the edited message."""
    prompt = handle.original_message
    assert prompt is not None
    pressed = await t.fake.click_button(prompt, buttons(prompt)[label]["custom_id"], user)
    response = await pressed.wait_response()
    assert response["type"] == 7
    data: JSON = response["data"]
    return data


async def test_member_deletes_own_votes_and_questions_from_a_dm(two: Two) -> None:
    t = two
    alice, bob = t.world.alice, t.world.bob
    async with t.run() as bot:
        await vote_and_ask(t, bot, alice, dm_question=UNKNOWN[0])
        await vote_and_ask(t, bot, bob, dm_question=UNKNOWN[1])
        assert await bot.storage.member_data(alice.id) == ForgetResult(
            votes=1, unanswered=1, answered=1
        )

        handle = await forget_me(t, alice, t.fake.dm_channel(alice))
        prompt = await reply(handle)
        assert prompt["flags"] & EPHEMERAL
        assert "1 vote, 1 unanswered question and 1 answered message" in prompt["content"]
        assert set(buttons(prompt)) == {"Delete", "Cancel"}
        # Nothing is deleted before the confirmation.
        assert await bot.storage.member_data(alice.id) == ForgetResult(
            votes=1, unanswered=1, answered=1
        )

        done = await confirm(t, handle, "Delete", alice)
        assert done["content"] == "Deleted 1 vote, 1 unanswered question and 1 answered message."
        assert await bot.storage.member_data(alice.id) == ForgetResult(votes=0, unanswered=0)
        # Bob's data stays.
        assert await bot.storage.member_data(bob.id) == ForgetResult(
            votes=1, unanswered=1, answered=1
        )

        again = await reply(await forget_me(t, alice, t.world.general))
        assert "keeps no votes or unanswered questions from you" in again["content"]
        assert not buttons(again)
    assert stored_questions(t) == [UNKNOWN[1]]


async def test_cancel_keeps_the_data_and_it_works_in_any_server(two: Two) -> None:
    t = two
    async with t.run() as bot:
        await vote_and_ask(t, bot, t.eve, dm_question=UNKNOWN[0])
        handle = await forget_me(t, t.eve, t.foreign_channel)  # not a home server: fine
        assert (
            "1 vote, 1 unanswered question and 1 answered message"
            in (await reply(handle))["content"]
        )
        cancelled = await confirm(t, handle, "Cancel", t.eve)
        assert cancelled["content"] == "Cancelled: nothing was deleted."
        assert await bot.storage.member_data(t.eve.id) == ForgetResult(
            votes=1, unanswered=1, answered=1
        )


async def test_home_moderator_deletes_a_members_data(two: Two) -> None:
    t = two
    bob = t.world.bob
    async with t.run() as bot:
        await vote_and_ask(t, bot, bob, dm_question=UNKNOWN[1])
        await vote_and_ask(t, bot, t.world.alice, dm_question=UNKNOWN[0])

        refused = await t.fake.send_slash_command(
            "whytwitter",
            {"user_id": str(bob.id)},
            subcommand="forget",
            user=t.eve,
            channel_id=t.foreign_channel,
        )
        assert (await reply(refused))["content"] == NOT_HOME
        assert await bot.storage.member_data(bob.id) == ForgetResult(
            votes=1, unanswered=1, answered=1
        )

        handle = await t.fake.send_slash_command(
            "whytwitter",
            {"member": bob},
            subcommand="forget",
            user=t.admin,
            channel_id=t.world.general,
        )
        prompt = await reply(handle)
        assert prompt["flags"] & EPHEMERAL
        assert str(bob.id) in prompt["content"]
        assert "1 vote, 1 unanswered question and 1 answered message" in prompt["content"]
        # A press that comes from another server is refused too.
        original = handle.original_message
        assert original is not None
        forged = {**original, "channel_id": str(t.foreign_channel)}
        delete_id = buttons(original)["Delete"]["custom_id"]
        refused = await (await t.fake.click_button(forged, delete_id, t.admin)).wait_response()
        assert refused["data"]["content"] == NOT_HOME
        assert await bot.storage.member_data(bob.id) == ForgetResult(
            votes=1, unanswered=1, answered=1
        )
        done = await confirm(t, handle, "Delete", t.admin)
        assert done["content"] == "Deleted 1 vote, 1 unanswered question and 1 answered message."
        assert await bot.storage.member_data(bob.id) == ForgetResult(votes=0, unanswered=0)
        assert await bot.storage.member_data(t.world.alice.id) == ForgetResult(1, 1, 1)

        by_id = await t.fake.send_slash_command(
            "whytwitter",
            {"user_id": "not a number"},
            subcommand="forget",
            user=t.admin,
            channel_id=t.world.general,
        )
        assert "user id" in (await reply(by_id))["content"]


# --------------------------------------------------------------------------- storing questions


async def test_dm_questions_are_scrubbed_and_capped(two: Two) -> None:
    t = two
    alice, bob = t.world.alice, t.world.bob
    async with t.run(UNANSWERED_MAX_PER_MEMBER_PER_DAY="2", UNANSWERED_MAX_PER_SERVER_PER_DAY="3"):
        for user, count in ((alice, 4), (bob, 3)):
            dm = t.fake.dm_channel(user)
            for i in range(count):
                text = f"question {i}: call me on +1 555 123 456{i} or mail me@clinic{i}.org"
                sent = await t.fake.send_message(dm, user, text)
                reply_msg = await t.fake.wait_for_bot_message(
                    dm,
                    predicate=lambda r, s=sent: (
                        (r.get("message_reference") or {}).get("message_id") == s["id"]
                    ),
                )
                assert "don't have an answer" in reply_msg["content"]  # every DM is answered
    stored = stored_questions(t)  # the bot has closed: every handler has finished
    # Alice: 2 of 4 (member cap); Bob: 1 of 3 (all DMs share the server cap of 3).
    assert len(stored) == 3
    for text in stored:
        assert "555" not in text
        assert "clinic" not in text
        assert text.endswith("call me on [phone] or mail [email]")


# --------------------------------------------------------------------------- logs

SECRET = "my-colleague-zebra-quartz asked me for the sourdough bread recipe"
"""A DM the bot has no answer for (so it is stored as an unanswered question)."""


async def _debug_log_of_a_dm(t: Two, monkeypatch: pytest.MonkeyPatch, **kw: str) -> str:
    """Everything the bot logs at LOG_LEVEL=DEBUG while a member DMs ``SECRET``."""
    buffer = io.StringIO()
    root, library = logging.getLogger(), logging.getLogger("discord")
    saved = (root.handlers[:], root.level, library.level)
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(t.env.settings(LOG_LEVEL="DEBUG", **kw))
    try:
        async with t.run(LOG_LEVEL="DEBUG", **kw):
            dm = t.fake.dm_channel(t.world.alice)
            await t.fake.send_message(dm, t.world.alice, SECRET)
            await t.fake.wait_for_bot_message(dm)
            await t.fake.wait_until(lambda: stored_questions(t), what="the stored question")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        library.setLevel(saved[2])
    return buffer.getvalue()


async def test_debug_logs_carry_no_message_text_by_default(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged = await _debug_log_of_a_dm(two, monkeypatch)
    assert "zebra-quartz" not in logged  # not what the member wrote...
    assert "WebSocket Event" in logged  # ...though discord.py's debug records are there,
    assert "t=MESSAGE_CREATE" in logged  # with the event and its ids
    assert "[email]" not in logged


async def test_debug_logs_carry_message_text_when_asked(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged = await _debug_log_of_a_dm(two, monkeypatch, LOG_MESSAGE_TEXT="true")
    assert "zebra-quartz" in logged


async def test_context_menu_question_belongs_to_the_member_who_wrote_it(two: Two) -> None:
    t = two
    alice, bob = t.world.alice, t.world.bob
    async with t.run() as bot:
        target = await t.fake.send_message(t.world.general, alice, UNKNOWN[0])
        handle = await t.fake.send_message_command("Answer this objection", target, user=bob)
        assert (await handle.wait_response())["data"]["flags"] & EPHEMERAL
        await t.fake.wait_until(lambda: stored_questions(t), what="the stored question")
        assert await bot.storage.member_data(alice.id) == ForgetResult(votes=0, unanswered=1)
        assert await bot.storage.member_data(bob.id) == ForgetResult(votes=0, unanswered=0)
        handle = await forget_me(t, alice, t.world.general)
        assert "0 votes and 1 unanswered question" in (await reply(handle))["content"]
        await confirm(t, handle, "Delete", alice)
    assert stored_questions(t) == []
