"""The runner: no token without a terminal, the invite URL, token → client id."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.runner import (
    NO_TOKEN_HINT,
    client_id_from_token,
    invite_url,
    required_permissions,
)
from bot.settings import Secret

ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SHARD_", "MATCH_")) and k not in {"KNOWLEDGE_DIR"}
    }
    clean.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env there
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_token_and_no_terminal_exits_2_with_explanation(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == NO_TOKEN_HINT
    assert "Traceback" not in result.stderr
    assert "DISCORD_TOKEN" in result.stderr


def test_invalid_setting_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DEV_GUILD_ID="my-guild")
    assert result.returncode == 2
    assert "DEV_GUILD_ID" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_knowledge_base_exits_2_naming_the_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty-kb"
    empty.mkdir()
    result = run_bot(
        tmp_path, "run", DISCORD_TOKEN="x.y.z", KNOWLEDGE_DIR=str(empty), DATA_DIR="data"
    )
    assert result.returncode == 2
    assert f"{empty} (KNOWLEDGE_DIR) does not load" in result.stderr  # the operator's view
    assert "empty-kb/: no knowledge-base files (*.yaml) found" in result.stderr
    assert "Traceback" not in result.stderr


def test_invite_command_prints_url(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "invite", DISCORD_CLIENT_ID="123456789012345678")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"][0].split() == ["bot", "applications.commands"]
    assert int(query["permissions"][0]) == required_permissions().value


def test_invite_without_any_id_explains(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "invite")
    assert result.returncode == 2
    assert "DISCORD_CLIENT_ID" in result.stderr


def test_invite_reads_client_id_from_token(tmp_path: Path) -> None:
    first = base64.urlsafe_b64encode(b"987654321098765432").decode().rstrip("=")
    result = run_bot(tmp_path, "invite", DISCORD_TOKEN=f"{first}.GaBcDe.secretpart")
    assert result.returncode == 0, result.stderr
    assert "client_id=987654321098765432" in result.stdout
    assert "secretpart" not in result.stdout + result.stderr


def test_permissions_are_minimal_and_named() -> None:
    perms = required_permissions()
    granted = {name for name, value in perms if value}
    assert perms.view_channel
    assert granted == {
        "read_messages",  # discord.py iterates view_channel under its old name
        "send_messages",
        "send_messages_in_threads",
        "embed_links",
        "read_message_history",
        "attach_files",
    }
    assert not perms.manage_messages
    assert not perms.mention_everyone
    assert not perms.administrator


def test_invite_url_scopes() -> None:
    url = invite_url(42)
    assert "scope=bot+applications.commands" in url
    assert f"permissions={required_permissions().value}" in url


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (base64.b64encode(b"123456789012345678").decode() + ".x.y", 123456789012345678),
        ("not-base64!.x.y", None),
        (base64.b64encode(b"hello").decode() + ".x.y", None),
    ],
)
def test_client_id_from_token(token: str, expected: int | None) -> None:
    assert client_id_from_token(Secret(token)) == expected


def test_login_failure_message_is_one_sentence() -> None:
    from bot.runner import INTENT_MISSING, TOKEN_REJECTED

    for text in (TOKEN_REJECTED, INTENT_MISSING):
        assert "\n" not in text
        assert "Developer Portal" in text
    assert isinstance(discord.LoginFailure(), Exception)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (discord.LoginFailure("Improper token has been passed."), 2),
        (discord.PrivilegedIntentsRequired(None), 2),
        (OSError("Connection refused"), 1),  # Discord unreachable: a supervisor may retry
    ],
)
def test_exit_status_tells_config_from_transient(
    error: BaseException, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.runner import _run_async
    from bot.settings import Settings

    async def fail() -> None:
        raise error

    assert _run_async(Settings.from_env({}), fail()) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "Traceback" not in err[0]
