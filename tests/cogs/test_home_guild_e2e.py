"""End to end (issue 11, section 1): only the home servers (HOME_GUILD_IDS) change the answers.

The world: the home server ``Physicians`` (``bot_world``) with ``admin`` (Manage Server), and a
foreign server ``Elsewhere`` that ``eve`` owns (so she has every permission there) and where the
bot was added, as anyone can add a public bot.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.bot import TREE_GUILDS_KEY, WhyTwitterBot
from bot.kb import store
from bot.runner import required_permissions
from bot.service.home import HOME_UNSET, NOT_HOME
from tests.cogs.helpers import BotEnv, BotWorld
from tests.cogs.test_moderation_e2e import NEW_ANSWER, buttons, edit_answer, text_of
from tests.fakediscord import FakeDiscord, InteractionHandle, User

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
EPHEMERAL = 64
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
BUSY = "I'm way too busy for twitter"
MEMBER_COMMANDS = {"ask", "benefits", "objections", "forget-me", "Answer this objection"}
MODERATOR_COMMANDS = {"kb", "whytwitter"}


@dataclass
class Two:
    """The home server and a foreign one."""

    world: BotWorld
    env: BotEnv
    admin: User
    eve: User
    foreign: int
    foreign_channel: int
    foreign_modlog: int
    modlog: int

    @property
    def fake(self) -> FakeDiscord:
        return self.env.fake

    @contextlib.asynccontextmanager
    async def run(self, home: str | None = "HOME", **kw: Any) -> AsyncIterator[WhyTwitterBot]:
        if home == "HOME":
            home = str(self.world.guild)
        async with self.env.run(
            HOME_GUILD_IDS=home or "",
            MOD_LOG_CHANNEL_ID=str(self.modlog),
            CHANNEL_COOLDOWN_MINUTES="0",
            MEMBER_COOLDOWN_MINUTES="0",
            **kw,
        ) as bot:
            yield bot


@pytest.fixture
def two(bot_env: BotEnv, bot_world: BotWorld) -> Two:
    fake = bot_env.fake
    admin, eve = User.human("admin"), User.human("eve")
    fake.add_member(bot_world.guild, admin, permissions=MANAGE_GUILD)
    modlog = fake.add_channel(bot_world.guild, "mod-log")
    foreign = fake.add_guild("Elsewhere", owner=eve, bot_permissions=required_permissions().value)
    channel = fake.add_channel(foreign, "general")
    foreign_modlog = fake.add_channel(foreign, "eve-log")
    return Two(bot_world, bot_env, admin, eve, foreign, channel, foreign_modlog, modlog)


async def reply(handle: InteractionHandle) -> JSON:
    """The visible reply: the response message, or the follow-up after a deferral."""
    response = await handle.wait_response()
    if response["type"] == 5:
        return (await handle.wait_followups())[0]
    data: JSON = response["data"]
    return data


async def kb(
    t: Two, sub: str, user: User, channel: int, options: JSON | None = None, **kw: Any
) -> InteractionHandle:
    return await t.fake.send_slash_command(
        "kb", options or {}, subcommand=sub, user=user, channel_id=channel, **kw
    )


async def upload(t: Two, user: User, channel: int, data: bytes) -> InteractionHandle:
    att = t.fake.add_attachment("objections.yaml", data)
    return await kb(
        t, "upload", user, channel, {"file": att["id"]}, resolved={"attachments": {att["id"]: att}}
    )


def phishing(t: Two) -> bytes:
    original = (t.env.knowledge_dir / "objections.yaml").read_text()
    return edit_answer(original, "too-busy", NEW_ANSWER).encode()


async def ask(t: Two, bot: WhyTwitterBot, channel: int, user: User, text: str = BUSY) -> str:
    assert bot.user is not None
    sent = await t.fake.send_message(channel, user, f"<@{bot.user.id}> {text}")
    answer = await t.fake.wait_for_bot_message(
        channel,
        predicate=lambda r: (r.get("message_reference") or {}).get("message_id") == sent["id"],
    )
    return text_of(answer)


def names(commands: list[JSON]) -> set[str]:
    return {c["name"] for c in commands}


# --------------------------------------------------------------------------- registration


async def test_moderator_commands_are_registered_in_the_home_server_only(two: Two) -> None:
    t = two
    async with t.run():
        pass
    assert names(t.fake.global_commands) == MEMBER_COMMANDS
    home = {c["name"]: c for c in t.fake.guild_commands[t.world.guild]}
    assert set(home) == MODERATOR_COMMANDS
    for command in home.values():
        assert int(command["default_member_permissions"]) == MANAGE_GUILD
    assert not t.fake.guild_commands.get(t.foreign)
    syncs = t.fake.command_syncs

    async with t.run():  # unchanged: no sync at all
        pass
    assert t.fake.command_syncs == syncs


async def test_a_server_dropped_from_home_has_its_commands_cleared(two: Two) -> None:
    t = two
    async with t.run():
        pass
    assert names(t.fake.guild_commands[t.world.guild]) == MODERATOR_COMMANDS
    # The operator moves the home to another server (here: the foreign one, for the test).
    async with t.run(home=str(t.foreign)) as bot:
        assert await bot.storage.get_meta(TREE_GUILDS_KEY) == json.dumps([t.foreign])
    assert t.fake.guild_commands[t.world.guild] == []
    assert names(t.fake.guild_commands[t.foreign]) == MODERATOR_COMMANDS
    assert names(t.fake.global_commands) == MEMBER_COMMANDS


async def test_dev_guild_gets_member_commands_home_gets_moderator_commands(two: Two) -> None:
    t = two
    async with t.run(DEV_GUILD_ID=str(t.foreign)):
        pass
    assert not t.fake.requests_matching("PUT", r"^/applications/\d+/commands$")
    assert names(t.fake.guild_commands[t.foreign]) == MEMBER_COMMANDS
    assert names(t.fake.guild_commands[t.world.guild]) == MODERATOR_COMMANDS

    async with t.run(DEV_GUILD_ID=str(t.world.guild)):  # the dev guild is the home: both
        pass
    assert names(t.fake.guild_commands[t.world.guild]) == MEMBER_COMMANDS | MODERATOR_COMMANDS
    assert t.fake.guild_commands[t.foreign] == []  # no longer a target: cleared


async def test_home_server_the_bot_is_not_in_is_logged_not_fatal(
    two: Two, caplog: pytest.LogCaptureFixture
) -> None:
    t = two
    missing = 123456789012345678
    async with t.run(home=f"{t.world.guild},{missing}") as bot:
        assert await ask(t, bot, t.world.general, t.world.alice) != ""
    assert names(t.fake.guild_commands[t.world.guild]) == MODERATOR_COMMANDS
    assert any(
        str(missing) in r.getMessage() and "HOME_GUILD_IDS" in r.getMessage()
        for r in caplog.records
    )
    syncs = t.fake.command_syncs
    async with t.run(home=f"{t.world.guild},{missing}"):
        pass
    assert t.fake.command_syncs > syncs  # retried at the next start


# --------------------------------------------------------------------------- the hole


async def test_foreign_owner_cannot_rewrite_the_answers(two: Two) -> None:
    """Eve owns another server the bot is in: /kb upload + Apply there changes nothing."""
    t = two
    before = store.snapshot(t.env.knowledge_dir)
    async with t.run() as bot:
        handle = await upload(t, t.eve, t.foreign_channel, phishing(t))
        refusal = await reply(handle)
        if "Apply" in buttons(refusal):  # the hole: a preview she could apply
            press = await t.fake.click_button(
                refusal, buttons(refusal)["Apply"]["custom_id"], t.eve
            )
            await press.wait_followups()
        assert store.snapshot(t.env.knowledge_dir) == before
        assert NEW_ANSWER not in await ask(t, bot, t.world.general, t.world.alice)
        assert refusal["content"] == NOT_HOME
        assert refusal["flags"] & EPHEMERAL
        assert not buttons(refusal)
        # Nor anything else of /kb and /whytwitter.
        for sub in ("rollback", "reload", "history", "unanswered", "stats"):
            opts = {"version": "v1"} if sub == "rollback" else {}
            other = await reply(await kb(t, sub, t.eve, t.foreign_channel, opts))
            assert other["content"] == NOT_HOME, sub
        cooldown = await t.fake.send_slash_command(
            "whytwitter",
            {"minutes": 0},
            subcommand="cooldown",
            user=t.eve,
            channel_id=t.foreign_channel,
        )
        assert (await reply(cooldown))["content"] == NOT_HOME
        assert NEW_ANSWER not in await ask(t, bot, t.world.general, t.world.alice)
        assert (await bot.storage.guild_settings(t.foreign)).cooldown_minutes is None
    assert store.snapshot(t.env.knowledge_dir) == before


async def test_apply_pressed_from_another_server_is_refused(two: Two) -> None:
    """The Apply button checks the server of the press itself, not only of the preview."""
    t = two
    before = store.snapshot(t.env.knowledge_dir)
    async with t.run() as bot:
        preview = await reply(await upload(t, t.admin, t.world.general, phishing(t)))
        apply_id = buttons(preview)["Apply"]["custom_id"]
        forged = {**preview, "channel_id": str(t.foreign_channel)}
        refused = await (await t.fake.click_button(forged, apply_id, t.admin)).wait_response()
        assert refused["type"] == 4
        assert refused["data"]["content"] == NOT_HOME
        assert refused["data"]["flags"] & EPHEMERAL
        assert store.snapshot(t.env.knowledge_dir) == before
        # From the home server the same preview still applies.
        press = await t.fake.click_button(preview, apply_id, t.admin)
        (applied,) = await press.wait_followups()
        assert applied["content"].startswith("Applied"), applied["content"]
        assert NEW_ANSWER in await ask(t, bot, t.world.general, t.world.alice)


@pytest.mark.parametrize("home", ["HOME", None])
async def test_moderator_commands_from_a_dm_are_refused(two: Two, home: str | None) -> None:
    t = two
    before = store.snapshot(t.env.knowledge_dir)
    async with t.run(home=home):
        dm = t.fake.dm_channel(t.admin)
        refusal = await reply(await upload(t, t.admin, dm, phishing(t)))
        assert refusal["content"] == (NOT_HOME if home else HOME_UNSET)
        assert refusal["flags"] & EPHEMERAL
        assert not buttons(refusal)
    assert store.snapshot(t.env.knowledge_dir) == before


async def test_without_home_every_change_is_refused_naming_the_variable(two: Two) -> None:
    t = two
    before = store.snapshot(t.env.knowledge_dir)
    async with t.run(home=None) as bot:
        assert names(t.fake.global_commands) >= MODERATOR_COMMANDS
        for user, channel in ((t.admin, t.world.general), (t.eve, t.foreign_channel)):
            refusal = await reply(await upload(t, user, channel, phishing(t)))
            assert refusal["content"] == HOME_UNSET
            assert "HOME_GUILD_IDS" in refusal["content"]
            assert len(refusal["content"].splitlines()) == 1
            assert refusal["flags"] & EPHEMERAL
            assert not buttons(refusal)
            add = await t.fake.send_slash_command(
                "whytwitter",
                {"channel": str(channel)},
                subcommand="add",
                subcommand_group="channels",
                user=user,
                channel_id=channel,
            )
            assert (await reply(add))["content"] == HOME_UNSET
        # Members are still answered, in the home server and elsewhere.
        assert "busy" in (await ask(t, bot, t.world.general, t.world.alice)).lower()
        assert "busy" in (await ask(t, bot, t.foreign_channel, t.eve)).lower()
        assert not (await bot.storage.guild_settings(t.world.guild)).answer_channels
    assert store.snapshot(t.env.knowledge_dir) == before


async def test_foreign_server_mod_log_hears_nothing(two: Two) -> None:
    t = two
    async with t.env.storage() as storage:  # set before the fix let any server do this
        await storage.set_modlog_channel(t.foreign, t.foreign_modlog)
    async with t.run() as bot:
        preview = await reply(await upload(t, t.admin, t.world.general, phishing(t)))
        press = await t.fake.click_button(preview, buttons(preview)["Apply"]["custom_id"], t.admin)
        await press.wait_followups()
        await t.fake.wait_for_bot_message(t.modlog, predicate=lambda r: "too-busy" in r["content"])
        assert bot.get_cog("KbAdmin") is not None
    assert t.fake.messages_in(t.foreign_modlog, by_bot=True) == []


# --------------------------------------------------------------------------- unanswered, stats


def stored_questions(t: Two) -> list[str]:
    """The unanswered questions in the bot's database (read directly; WAL allows it)."""
    path = t.env.settings().database_path
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [text for (text,) in conn.execute("SELECT text FROM unanswered ORDER BY id")]


async def seed_questions(t: Two, bot: WhyTwitterBot) -> None:
    """An unanswered question in the home server, one in a DM, one in the foreign server."""
    assert bot.user is not None
    questions = (
        (t.world.general, t.world.alice, "how do I embed a poll in a thread"),
        (t.fake.dm_channel(t.world.bob), t.world.bob, "where is the hospital parking garage"),
        (t.foreign_channel, t.eve, "what is the recipe for sourdough bread"),
    )
    for channel, user, text in questions:
        prefix = "" if t.fake.guild_of(channel) is None else f"<@{bot.user.id}> "
        await t.fake.send_message(channel, user, prefix + text)
    await t.fake.wait_until(
        lambda: len(stored_questions(t)) == len(questions), timeout=5, what="3 stored questions"
    )


async def test_home_moderators_see_and_clear_their_server_and_dm_questions(two: Two) -> None:
    t = two
    async with t.run() as bot:
        await seed_questions(t, bot)
        shown = text_of(await reply(await kb(t, "unanswered", t.admin, t.world.general)))
        assert "embed a poll" in shown
        assert "parking garage" in shown  # a DM question
        assert "sourdough" not in shown  # another server's question

        stats = await reply(await kb(t, "stats", t.admin, t.world.general))
        fields = {f["name"]: f["value"] for f in stats["embeds"][0]["fields"]}
        assert fields["Unanswered"] == "2"

        asking = await kb(t, "unanswered-clear", t.admin, t.world.general)
        await asking.wait_response()
        question = asking.original_message
        assert question is not None
        delete = buttons(question)["Delete"]["custom_id"]
        cleared = await (await t.fake.click_button(question, delete, t.admin)).wait_response()
        assert cleared["data"]["content"] == "Cleared 2 unanswered questions."
        after = text_of(await reply(await kb(t, "unanswered", t.admin, t.world.general)))
        assert "No unanswered questions" in after
    assert stored_questions(t) == ["what is the recipe for sourdough bread"]


async def test_moderator_commands_are_registered_exactly_as_recorded(two: Two) -> None:
    """Names, descriptions, options, permissions and contexts of ``/kb`` and ``/whytwitter``
    as synced to the home server (``moderator_commands.json``, recorded before the moderation
    cog was split): a change to them must be deliberate."""
    t = two
    async with t.run():
        pass
    synced = sorted(
        (
            {k: v for k, v in c.items() if k not in ("id", "application_id", "guild_id", "version")}
            for c in t.fake.guild_commands[t.world.guild]
        ),
        key=lambda c: c["name"],
    )
    recorded = json.loads((Path(__file__).parent / "moderator_commands.json").read_text())
    assert synced == recorded
