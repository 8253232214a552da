"""A small harness: the real ``WhyTwitterBot`` against the fake Discord, in-process.

Built on ``tests/cogs/helpers.BotEnv`` (temporary DATA_DIR and knowledge copy): each test
gets a guild with answer channels and members, and helpers to read what the bot
answered (entry ids from the answer buttons' custom ids, not scores).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.bot import WhyTwitterBot
from bot.kb.loader import BUNDLED_DIR, load_knowledge
from bot.runner import required_permissions
from bot.settings import Settings
from tests.cogs.helpers import BotEnv
from tests.fakediscord import FakeDiscord, User, running_client

EXPECTED_ENTRY = "too-busy"
OBJECTION = "I'm way too busy for twitter"
# The matcher is being retuned: the second wording is one of the entry's own examples, which
# `python -m bot check` guarantees the matcher answers with that entry.
OBJECTION_2 = load_knowledge(BUNDLED_DIR).get(EXPECTED_ENTRY).examples[0]  # type: ignore[union-attr]
CHIT_CHAT = "did you see the game last night"

_VOTE_ID = re.compile(r"^wt:v:y:(?P<entry>[^:]+):(?P<member>\d+)$")


def entry_of(message: dict[str, Any]) -> str | None:
    """The entry id a bot answer carries in its Helpful button (None: not an answer)."""
    for row in message.get("components") or []:
        for component in row.get("components") or []:
            m = _VOTE_ID.match(str(component.get("custom_id", "")))
            if m:
                return m["entry"]
    return None


def replied_to(message: dict[str, Any]) -> int | None:
    ref = message.get("message_reference") or {}
    return int(ref["message_id"]) if ref.get("message_id") else None


@dataclass
class World:
    """A guild with answer channels and members, as the fake knows it."""

    fake: FakeDiscord
    guild: int
    channels: list[int]
    members: list[User]
    data_dir: Path
    kb_dir: Path
    settings: Settings
    env: BotEnv
    extra: dict[str, Any] = field(default_factory=dict)

    def bot_replies(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot created with POST /channels/{id}/messages (successful only)."""
        out = []
        for r in self.fake.requests_matching("POST", r"^/channels/\d+/messages$"):
            ok = 200 <= r.status < 300 and isinstance(r.response, dict)
            if ok and (channel_id is None or int(r.response["channel_id"]) == channel_id):
                out.append(r.response)
        return out

    def answers_by_message(self) -> dict[int, list[str | None]]:
        """Original message id -> entry ids of every bot reply to it."""
        out: dict[int, list[str | None]] = {}
        for reply in self.bot_replies():
            target = replied_to(reply)
            if target is not None:
                out.setdefault(target, []).append(entry_of(reply))
        return out

    def make_bot(self, **overrides: Any) -> WhyTwitterBot:
        return self.env.make_bot(**overrides)

    @asynccontextmanager
    async def running(
        self, bot: WhyTwitterBot | None = None, **options: Any
    ) -> AsyncIterator[WhyTwitterBot]:
        bot = bot or self.make_bot()
        async with running_client(bot, self.fake, **options) as client:
            yield client


def build_world(
    fake: FakeDiscord,
    tmp_path: Path,
    *,
    channels: int = 2,
    members: int = 4,
    **settings: Any,
) -> World:
    guild = fake.add_guild("Doctors", bot_permissions=required_permissions().value)
    channel_ids = [fake.add_channel(guild, f"answers-{i}") for i in range(channels)]
    people = [User.human(f"doc{i}") for i in range(members)]
    for person in people:
        fake.add_member(guild, person)
    env = BotEnv(fake, tmp_path, answer_channel_ids=channel_ids, **settings)
    return World(
        fake=fake,
        guild=guild,
        channels=channel_ids,
        members=people,
        data_dir=env.data_dir,
        kb_dir=env.knowledge_dir,
        settings=env.settings(),
        env=env,
    )


@pytest_asyncio.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path) -> World:
    """Two answer channels, four members; cooldowns off so the gate never suppresses."""
    return build_world(
        fake_discord, tmp_path, channel_cooldown_minutes=0.0, member_cooldown_minutes=0.0
    )


async def wait_answers(
    world: World, predicate: Callable[[dict[int, list[str | None]]], bool], what: str, **kw: Any
) -> dict[int, list[str | None]]:
    await world.fake.wait_until(lambda: predicate(world.answers_by_message()), what=what, **kw)
    return world.answers_by_message()


@pytest.fixture
def objections() -> tuple[str, str]:
    return (OBJECTION, OBJECTION_2)
