"""End to end, as an operator runs it: ``python -m bot run`` in a subprocess against the fake.

DISCORD_API_BASE points the REST client at the fake; the gateway URL comes from the fake's
``GET /gateway/bot`` (AutoShardedBot). SIGTERM → clean exit 0; a rejected token and a
refused Message Content intent (close 4014) → exit 2 with one sentence and no traceback.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.runner import INTENT_MISSING, TOKEN_REJECTED, required_permissions
from tests.fakediscord import FakeDiscord, User

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Exited:
    code: int
    stderr: str


def bot_env(fake: FakeDiscord, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SHARD_", "MATCH_"))
        and k not in {"KNOWLEDGE_DIR", "DATA_DIR", "ANSWER_CHANNEL_IDS", "DEV_GUILD_ID"}
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DISCORD_TOKEN=fake.token,
        DISCORD_API_BASE=fake.api_base,
        DATA_DIR=str(tmp_path / "data"),
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,  # no .env there
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = 30.0) -> Exited:
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        _, err = await proc.communicate()
        raise AssertionError(f"the bot did not exit: {err.decode()}") from None
    assert proc.returncode is not None
    return Exited(proc.returncode, err.decode())


async def test_sigterm_closes_cleanly_with_exit_0(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    guild = fake_discord.add_guild(bot_permissions=required_permissions().value)
    channel = fake_discord.add_channel(guild)
    alice = User.human("alice")
    fake_discord.add_member(guild, alice)
    env = bot_env(fake_discord, tmp_path, ANSWER_CHANNEL_IDS=str(channel))
    proc = await start_bot(env, tmp_path)
    try:
        await fake_discord.wait_until(
            lambda: fake_discord.identify_payloads, timeout=30, what="IDENTIFY"
        )
        assert fake_discord.command_syncs == 1  # in setup_hook, before the gateway
        # Fully up: it answers an objection in its answer channel.
        await fake_discord.send_message(channel, alice, "I'm way too busy for twitter")
        reply = await fake_discord.wait_for_bot_message(channel, timeout=30)
        assert reply["embeds"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    exited = await finish(proc)
    assert exited.code == 0, exited.stderr
    assert "Traceback" not in exited.stderr
    assert "SIGTERM received" in exited.stderr
    assert (tmp_path / "data" / "whytwitter.sqlite3").exists()
    # Every REST call went to the fake (DISCORD_API_BASE), including the gateway lookup.
    assert fake_discord.requests_matching("GET", r"^/gateway/bot$")


async def test_rejected_token_exits_1_with_one_sentence(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    env = bot_env(fake_discord, tmp_path, DISCORD_TOKEN="not-the-token")
    exited = await finish(await start_bot(env, tmp_path))
    assert exited.code == 2
    assert exited.stderr.strip().splitlines()[-1] == TOKEN_REJECTED
    assert "Traceback" not in exited.stderr
    assert "not-the-token" not in exited.stderr


async def test_missing_message_content_intent_exits_1_with_one_sentence(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake_discord.allowed_privileged_intents = 0  # not enabled in the "developer portal"
    fake_discord.add_guild()
    exited = await finish(await start_bot(bot_env(fake_discord, tmp_path), tmp_path))
    assert exited.code == 2
    assert exited.stderr.strip().splitlines()[-1] == INTENT_MISSING
    assert "Traceback" not in exited.stderr
    assert fake_discord.connections == 1  # no reconnect loop


async def test_missing_commands_scope_exits_1_with_one_sentence(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    # Discord answers 403 Missing Access when the bot lacks the applications.commands scope.
    fake_discord.fail_next(
        "PUT",
        r"^/applications/\d+/commands$",
        403,
        times=None,
        body={"message": "Missing Access", "code": 50001},
    )
    exited = await finish(await start_bot(bot_env(fake_discord, tmp_path), tmp_path))
    assert exited.code == 2
    last = exited.stderr.strip().splitlines()[-1]
    assert "applications.commands" in last
    assert f"client_id={fake_discord.application_id}" in last
    assert "Traceback" not in exited.stderr


async def test_invite_with_a_token_reads_the_id_from_discord(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A token set but whose first part does not encode the id: the id comes from Discord,
    never a request to set DISCORD_CLIENT_ID or DISCORD_TOKEN."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "invite",
        cwd=tmp_path,
        env=bot_env(fake_discord, tmp_path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert f"client_id={fake_discord.application_id}" in out.decode()
    assert "DISCORD_CLIENT_ID" not in err.decode()
    assert fake_discord.token not in out.decode() + err.decode()


async def test_invite_with_a_rejected_token_says_so(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    env = bot_env(fake_discord, tmp_path, DISCORD_TOKEN="not-the-token")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "invite",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip() == TOKEN_REJECTED
    assert out == b""
