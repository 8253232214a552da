"""The real process (``python -m bot run``) against the fake: a gateway 4004 while running,
and the token's secrecy in every log line at DEBUG through startup, answers and errors.

(``tests/cogs/test_process_e2e.py`` covers SIGTERM, a token refused at login and 4014.)
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.runner import TOKEN_REJECTED, required_permissions
from tests.cogs.test_process_e2e import bot_env, finish, start_bot
from tests.fakediscord import FakeDiscord, User
from tests.resilience.conftest import OBJECTION

pytestmark = pytest.mark.e2e

# Shaped like a real bot token (base64 application id . timestamp . HMAC).
KNOWN_TOKEN = (
    base64.urlsafe_b64encode(b"1234567890123456789").decode().rstrip("=")
    + ".GsXyZw.s3cr3t-Hm4c_Th1sMustNeverAppear_InAnyLog0"
)


async def test_4004_while_running_exits_2_with_one_sentence_and_the_token_never_leaks(
    tmp_path: Path,
) -> None:
    async with FakeDiscord(token=KNOWN_TOKEN) as fake:
        guild = fake.add_guild(bot_permissions=required_permissions().value)
        answers, blocked = fake.add_channel(guild, "answers"), fake.add_channel(guild, "blocked")
        # Two members: one member's answers are spaced by the member cooldown, which also
        # holds while that member's first answer (the 403) is still in flight.
        alice, bob = User.human("alice"), User.human("bob")
        fake.add_member(guild, alice)
        fake.add_member(guild, bob)
        env = bot_env(fake, tmp_path, LOG_LEVEL="DEBUG", ANSWER_CHANNEL_IDS=f"{answers},{blocked}")
        fake.fail_next("POST", rf"^/channels/{blocked}/messages$", 403, times=None)
        proc = await start_bot(env, tmp_path)
        try:
            await fake.wait_until(lambda: fake.identify_payloads, timeout=30, what="IDENTIFY")
            # Startup, an answer, and an error path (403) all logged at DEBUG.
            await fake.send_message(blocked, alice, OBJECTION)
            await fake.send_message(answers, bob, OBJECTION)
            await fake.wait_for_bot_message(answers, timeout=30)
            # Discord ends the session: the token was reset in the portal meanwhile.
            await fake.close_gateway(4004)
            exited = await finish(proc)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        stdout = await proc.stdout.read() if proc.stdout else b""

    assert exited.code == 2, exited.stderr[-2000:]
    # One sentence, once (at DEBUG a late aiosqlite thread line may follow it).
    assert exited.stderr.splitlines().count(TOKEN_REJECTED) == 1
    assert "Traceback" not in exited.stderr
    assert fake.connections == 1  # no reconnect loop
    assert "Missing Permissions" in exited.stderr or "missing permission" in exited.stderr
    # The token: not in any log line, error or output (whole, or its secret part).
    secret = KNOWN_TOKEN.split(".")[-1]
    everything = exited.stderr + stdout.decode(errors="replace")
    assert "DEBUG" in everything  # the logs really were verbose
    assert KNOWN_TOKEN not in everything
    assert secret not in everything
