"""Shared end-to-end helpers: the real ``WhyTwitterBot`` on the real discord.py stack, run
against the fake Discord (``tests/fakediscord``) with a throw-away DATA_DIR and knowledge dir.

Typical use (``fake_discord`` is the fixture from ``tests/conftest.py``; ``bot_env`` and
``bot_world`` are fixtures defined here and re-exported by ``tests/cogs/conftest.py``)::

    async def test_something(bot_env: BotEnv, bot_world: BotWorld) -> None:
        async with bot_env.run() as bot:          # starts, waits for READY, closes on exit
            await bot_env.fake.send_message(bot_world.answers, bot_world.alice, "...")
            reply = await bot_env.fake.wait_for_bot_message(bot_world.answers)

Outside ``tests/cogs`` import the fixtures into your module or conftest
(``from tests.cogs.helpers import bot_env, bot_world``), or build a :class:`BotEnv` yourself::

    env = BotEnv(fake, tmp_path, answer_channel_ids={channel_id})
    async with env.run(CHANNEL_COOLDOWN_MINUTES=0) as bot: ...

What :class:`BotEnv` gives you:

- ``env.data_dir`` — ``tmp_path/data`` (the SQLite file lives there; it survives between
  ``run()`` calls of the same env, so a second start sees the first start's state).
- ``env.knowledge_dir`` — ``tmp_path/knowledge``, a copy of the bundled ``knowledge/``
  made once per env: tests may edit its YAML files (e.g. to exercise reloads).
- ``env.settings(**overrides)`` — a :class:`~bot.settings.Settings` for those dirs. Overrides
  are Settings field names (``channel_cooldown_minutes=0``) or environment variable names
  (``CHANNEL_COOLDOWN_MINUTES="0"``) parsed by the real ``Settings.from_env``.
- ``env.make_bot(settings=None, *, watch=False, force_sync=False)`` — a fresh bot
  (the knowledge watcher is off by default; pass ``watch=True`` to test live reloads).
- ``env.run(...)`` — async context manager: ``make_bot`` + ``running_client``; yields the bot
  after READY and fails the test if a handler raised (``fail_on_handler_errors``).
- ``env.storage()`` — async context manager opening the same SQLite file read/write
  (use it after ``run()`` ended, or for reads while it runs: WAL allows that).

:class:`BotWorld` is a guild (the bot's role has ``required_permissions()``, as invited)
with an answer channel (``answers``), a plain channel
(``general``), two members (``alice``, ``bob``) and a moderator (``mod``, Manage Messages).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.bot import WhyTwitterBot
from bot.kb.loader import BUNDLED_DIR
from bot.runner import knowledge_from_settings, required_permissions
from bot.settings import Settings
from bot.storage import Storage
from tests.fakediscord import FakeDiscord, User, running_client

__all__ = ["BotEnv", "BotWorld", "bot_env", "bot_world", "copy_knowledge"]

MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value


def copy_knowledge(destination: Path) -> Path:
    """Copy the bundled knowledge dir (YAML + schema) to ``destination``; returns it."""
    shutil.copytree(BUNDLED_DIR, destination, ignore=shutil.ignore_patterns("README.md"))
    return destination


@dataclass
class BotWorld:
    """A guild with an answer channel, a plain channel, two members and a moderator."""

    fake: FakeDiscord
    guild: int
    answers: int
    general: int
    alice: User
    bob: User
    mod: User

    @classmethod
    def build(cls, fake: FakeDiscord) -> BotWorld:
        # The bot's role carries exactly what the invite URL asks for (the fake's default
        # @everyone lacks embed_links and read_message_history).
        guild = fake.add_guild("Physicians", bot_permissions=required_permissions().value)
        answers = fake.add_channel(guild, "why-twitter")
        general = fake.add_channel(guild, "general")
        alice, bob, mod = User.human("alice"), User.human("bob"), User.human("mod")
        fake.add_member(guild, alice)
        fake.add_member(guild, bob)
        fake.add_member(guild, mod, permissions=MANAGE_MESSAGES)
        return cls(fake, guild, answers, general, alice, bob, mod)


class BotEnv:
    """Settings, knowledge and data dirs for running the real bot against ``fake``."""

    def __init__(
        self,
        fake: FakeDiscord,
        tmp_path: Path,
        *,
        answer_channel_ids: Iterable[int] = (),
        **overrides: Any,
    ) -> None:
        self.fake = fake
        self.root = tmp_path
        self.data_dir = tmp_path / "data"
        self.knowledge_dir = tmp_path / "knowledge"
        if not self.knowledge_dir.exists():
            copy_knowledge(self.knowledge_dir)
        self.answer_channel_ids = frozenset(answer_channel_ids)
        self.overrides = overrides

    def settings(self, **overrides: Any) -> Settings:
        """Settings for this env; see the module docstring for ``overrides``."""
        merged = {**self.overrides, **overrides}
        field_names = {f.name for f in fields(Settings)}
        env_vars = {k: str(v) for k, v in merged.items() if k.isupper()}
        typed = {k: v for k, v in merged.items() if not k.isupper()}
        unknown = set(typed) - field_names
        if unknown:
            raise TypeError(f"unknown Settings fields: {sorted(unknown)}")
        env = {
            "DATA_DIR": str(self.data_dir),
            "KNOWLEDGE_DIR": str(self.knowledge_dir),
            "ANSWER_CHANNEL_IDS": ",".join(str(c) for c in sorted(self.answer_channel_ids)),
            "DISCORD_TOKEN": self.fake.token,
            **env_vars,
        }
        parsed = Settings.from_env(env)
        if not typed:
            return parsed
        values = {f.name: getattr(parsed, f.name) for f in fields(Settings)}
        values.update(typed)
        return Settings(**values)

    def make_bot(
        self,
        settings: Settings | None = None,
        *,
        watch: bool = False,
        force_sync: bool = False,
        **overrides: Any,
    ) -> WhyTwitterBot:
        """A fresh ``WhyTwitterBot`` (not started) with its own ``LiveKnowledge``."""
        settings = settings if settings is not None else self.settings(**overrides)
        knowledge = knowledge_from_settings(settings)
        return WhyTwitterBot(settings, knowledge, watch=watch, force_sync=force_sync)

    @contextlib.asynccontextmanager
    async def run(
        self,
        settings: Settings | None = None,
        *,
        watch: bool = False,
        force_sync: bool = False,
        wait_ready: bool = True,
        fail_on_handler_errors: bool = True,
        **overrides: Any,
    ) -> AsyncIterator[WhyTwitterBot]:
        """Start a fresh bot against the fake, yield it after READY, close it on exit."""
        bot = self.make_bot(settings, watch=watch, force_sync=force_sync, **overrides)
        async with running_client(
            bot, self.fake, wait_ready=wait_ready, fail_on_handler_errors=fail_on_handler_errors
        ) as client:
            yield client

    @contextlib.asynccontextmanager
    async def storage(self) -> AsyncIterator[Storage]:
        """The bot's SQLite file, opened separately (close it before the next ``run``)."""
        storage = await Storage.open(self.settings().database_path)
        try:
            yield storage
        finally:
            await storage.close()


@pytest.fixture
def bot_world(fake_discord: FakeDiscord) -> BotWorld:
    """A :class:`BotWorld` in the test's fake Discord."""
    return BotWorld.build(fake_discord)


@pytest.fixture
def bot_env(fake_discord: FakeDiscord, bot_world: BotWorld, tmp_path: Path) -> BotEnv:
    """A :class:`BotEnv` whose answer channel is ``bot_world.answers``."""
    return BotEnv(fake_discord, tmp_path, answer_channel_ids={bot_world.answers})
