"""End to end (issue 12, items 3 and 5): ``/kb why`` and ``/kb false-answers`` with *Add as a
negative*, through the real bot against the fake Discord."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import yaml

from bot.bot import WhyTwitterBot
from bot.cogs.moderators import MODERATORS_ONLY
from bot.kb import store
from bot.matching.hybrid import RULE_GATE
from bot.matching.types import Outcome
from bot.service.home import NOT_HOME
from tests.cogs.helpers import BotEnv, BotWorld, required_permissions
from tests.fakediscord import FakeDiscord, InteractionHandle, User

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
EPHEMERAL = 64
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
OBJECTION = "honestly I worry about HIPAA if I tweet about patients"
CHITCHAT = "can someone share the link to the slides?"
BUSY = "I'm way too busy for twitter"
# Ordinary talk that the live knowledge base answers (a false answer to mark and fix).
FALSE = "my feed is full of nonsense lately, anyway who's on call"
FALSE_ENTRY = "misinformation-noise"
EMAIL = "ping me at jo.doe@example.org"


@dataclass
class World:
    world: BotWorld
    env: BotEnv
    admin: User
    foreign: int
    foreign_channel: int

    @property
    def fake(self) -> FakeDiscord:
        return self.env.fake

    @contextlib.asynccontextmanager
    async def run(self, **kw: Any) -> AsyncIterator[WhyTwitterBot]:
        kw.setdefault("HOME_GUILD_IDS", str(self.world.guild))
        async with self.env.run(
            CHANNEL_COOLDOWN_MINUTES="0", MEMBER_COOLDOWN_MINUTES="0", **kw
        ) as bot:
            yield bot


@pytest.fixture
def w(bot_env: BotEnv, bot_world: BotWorld) -> World:
    fake = bot_env.fake
    admin, eve = User.human("admin"), User.human("eve")
    fake.add_member(bot_world.guild, admin, permissions=MANAGE_GUILD)
    foreign = fake.add_guild("Elsewhere", owner=eve, bot_permissions=required_permissions().value)
    fake.add_member(foreign, admin, permissions=MANAGE_GUILD)
    channel = fake.add_channel(foreign, "general")
    return World(bot_world, bot_env, admin, foreign, channel)


async def kb(
    w: World, sub: str, user: User, options: JSON | None = None, channel: int | None = None
) -> InteractionHandle:
    return await w.fake.send_slash_command(
        "kb",
        options or {},
        subcommand=sub,
        user=user,
        channel_id=channel if channel is not None else w.world.general,
    )


async def reply(handle: InteractionHandle, wait: float = 5.0) -> JSON:
    response = await handle.wait_response()
    if response["type"] == 5:
        return (await handle.wait_followups(timeout=wait))[0]
    data: JSON = response["data"]
    return data


def fields_of(message: JSON) -> dict[str, str]:
    (embed,) = message["embeds"]
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def text_of(message: JSON) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def components(message: JSON) -> list[JSON]:
    return [c for row in message.get("components") or [] for c in row.get("components", [])]


async def channel_answer(w: World, user: User, text: str) -> JSON:
    asked = await w.fake.send_message(w.world.answers, user, text)
    return await w.fake.wait_for_bot_message(
        w.world.answers,
        predicate=lambda m: (m.get("message_reference") or {}).get("message_id") == asked["id"],
    )


def custom_id(message: JSON, prefix: str) -> str:
    return next(c["custom_id"] for c in components(message) if c["custom_id"].startswith(prefix))


# --------------------------------------------------------------------------- /kb why


async def test_why_explains_an_objection_and_chit_chat(w: World) -> None:
    async with w.run() as bot:
        answered = await reply(await kb(w, "why", w.admin, {"message": OBJECTION}))
        assert answered["flags"] & EPHEMERAL
        (embed,) = answered["embeds"]
        assert embed["title"].startswith("Answers with patient-privacy")
        fields = fields_of(answered)
        explained = bot.knowledge.matcher.explain(OBJECTION)
        whole = explained.parts[0]
        assert whole.word is not None
        assert whole.meaning is not None
        assert whole.runner_up is not None
        assert whole.margin is not None
        assert f"`patient-privacy` {whole.word.score:.1f}" in fields["Word score"]
        assert fields["Meaning score"] == f"`patient-privacy` {whole.meaning.score:.1f}"
        assert whole.nearest in fields["Nearest text"]
        assert f"`{whole.runner_up.id}`" in fields["Runner-up and margin"]
        assert f"margin {whole.margin:.1f}" in fields["Runner-up and margin"]
        assert whole.probability is not None
        assert fields["Rule"] == explained.rule
        assert explained.rule.startswith(RULE_GATE)
        assert fields["Learned gate"] == f"{100 * whole.probability:.0f} %"
        assert "Blocked by" not in fields

        silent = await reply(await kb(w, "why", w.admin, {"message": CHITCHAT}))
        (embed,) = silent["embeds"]
        assert embed["title"].startswith("No answer")
        fields = fields_of(silent)
        assert {"Word score", "Meaning score", "Nearest text", "Runner-up and margin"} <= set(
            fields
        )
        assert "a request to the channel" in fields["Blocked by"]
        assert "Rule" not in fields

        busy_day = await reply(await kb(w, "why", w.admin, {"message": "busy day in clinic"}))
        assert "everyday talk" in fields_of(busy_day)["Blocked by"]


async def test_why_and_false_answers_are_refused_outside_home_servers_and_to_members(
    w: World,
) -> None:
    async with w.run():
        for sub, options in (("why", {"message": BUSY}), ("false-answers", {})):
            foreign = await kb(w, sub, w.admin, options, channel=w.foreign_channel)
            response = await foreign.wait_response()
            assert response["type"] == 4
            assert response["data"]["content"] == NOT_HOME
            assert response["data"]["flags"] & EPHEMERAL
            dm = await w.fake.send_slash_command(
                "kb", options, subcommand=sub, user=w.admin, channel_id=w.fake.dm_channel(w.admin)
            )
            assert (await dm.wait_response())["data"]["content"] == NOT_HOME
            member = await (await kb(w, sub, w.world.alice, options)).wait_response()
            assert member["data"]["content"] == MODERATORS_ONLY


# --------------------------------------------------------------------------- false answers


async def test_not_helpful_and_dismissed_answers_are_listed_and_fixed_as_negatives(
    w: World,
) -> None:
    kb_file = w.env.knowledge_dir / "objections.yaml"
    before = kb_file.read_text()
    async with w.run() as bot:
        assert bot.knowledge.matcher.match(FALSE).answer is not None
        wrong = await channel_answer(w, w.world.alice, FALSE)
        vote = await w.fake.click_button(wrong, custom_id(wrong, "wt:v:n:"), w.world.bob)
        assert (await vote.wait_response())["data"]["flags"] & EPHEMERAL
        dismissed = await channel_answer(w, w.world.bob, f"{BUSY}, {EMAIL}")
        await w.fake.click_button(dismissed, custom_id(dismissed, "wt:x:"), w.world.bob)
        await w.fake.wait_until(lambda: int(dismissed["id"]) in w.fake.deleted_messages, 10)
        helped = await channel_answer(w, w.world.alice, OBJECTION)  # voted Helpful: not listed
        await (
            await w.fake.click_button(helped, custom_id(helped, "wt:v:y:"), w.world.bob)
        ).wait_response()

        listing = await reply(await kb(w, "false-answers", w.admin))
        assert listing["flags"] & EPHEMERAL
        lines = listing["embeds"][0]["description"].splitlines()
        assert len(lines) == 2
        assert "`too-busy`" in lines[0]  # the dismissal came last
        assert "dismissed" in lines[0]
        assert "example.org" not in lines[0]  # stored scrubbed
        assert "`misinformation-noise`" in lines[1]
        assert "my feed is full of nonsense lately" in lines[1]
        assert "👎 1" in lines[1]
        assert "patient-privacy" not in listing["embeds"][0]["description"]
        (menu,) = components(listing)
        assert menu["type"] == 3
        assert [o["label"][:2] for o in menu["options"]] == ["1.", "2."]
        negative = menu["options"][1]["value"]

        stranger = await w.fake.select(listing, menu["custom_id"], [negative], w.world.alice)
        assert "Only the moderator" in (await stranger.wait_response())["data"]["content"]
        forged = {**listing, "channel_id": str(w.foreign_channel)}
        elsewhere = await w.fake.select(forged, menu["custom_id"], [negative], w.admin)
        assert (await elsewhere.wait_response())["data"]["content"] == NOT_HOME

        # The preview validates the whole knowledge base (check) like /kb upload: seconds.
        select = await w.fake.select(listing, menu["custom_id"], [negative], w.admin)
        preview = await reply(select, wait=120)
        assert preview["flags"] & EPHEMERAL
        assert f"`{FALSE_ENTRY}`" in text_of(preview)
        assert "1 changed" in text_of(preview)
        labels = {c["label"]: c for c in components(preview)}
        assert set(labels) == {"Apply", "Cancel"}
        assert kb_file.read_text() == before  # nothing written before Apply

        press = await w.fake.click_button(preview, labels["Apply"]["custom_id"], w.admin)
        (applied,) = await press.wait_followups(timeout=60)
        assert applied["content"].startswith("Applied"), applied["content"]

        after = kb_file.read_text()
        added = [line for line in after.splitlines() if FALSE in line]
        assert added == [f'      - "{FALSE}"']
        entry = next(e for e in yaml.safe_load(after)["objections"] if e["id"] == FALSE_ENTRY)
        assert entry["not_this"][-1] == FALSE
        (version,) = store.list_versions(store.history_dir_of(w.env.data_dir))
        assert version.reason == f"negative for {FALSE_ENTRY}"
        assert (await bot.storage.kb_versions())[0].id == version.id

        # The same message no longer gets that answer in the channel.
        decision = bot.knowledge.matcher.match(FALSE)
        assert decision.outcome is not Outcome.ANSWER
        again = await w.fake.send_message(w.world.answers, w.world.alice, FALSE)
        await channel_answer(w, w.world.bob, BUSY)  # a later message is answered ...
        assert (
            not [  # ... and the repeated false one is not
                m
                for m in w.fake.messages.values()
                if (m.get("message_reference") or {}).get("message_id") == again["id"]
            ]
        )

        # Adding it twice is refused with one line; nothing is written.
        twice = await reply(await w.fake.select(listing, menu["custom_id"], [negative], w.admin))
        assert "already" in twice["content"]
        assert kb_file.read_text() == after


async def test_false_answers_empty_and_forgotten_text(w: World) -> None:
    async with w.run() as bot:
        empty = await reply(await kb(w, "false-answers", w.admin, {"days": 7}))
        assert "No answers were voted" in empty["content"]
        wrong = await channel_answer(w, w.world.alice, FALSE)
        await (
            await w.fake.click_button(wrong, custom_id(wrong, "wt:v:n:"), w.world.bob)
        ).wait_response()
        forgotten = await bot.storage.forget_member(w.world.alice.id)
        assert forgotten.answered == 1
        listing = await reply(await kb(w, "false-answers", w.admin))
        assert "message text not kept" in listing["embeds"][0]["description"]
        assert not components(listing)  # nothing to add as a negative
