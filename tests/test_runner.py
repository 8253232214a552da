"""The runner: no token without a terminal, the invite URL, token → client id."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.runner import (
    NO_TOKEN_CONSOLE,
    NO_TOKEN_HINT,
    PayloadRedactor,
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
    # Issue 11: tell the operator to switch off "Public Bot", and why; and to set the home.
    assert '"Public Bot"' in result.stderr
    assert "Manage Server" in result.stderr
    assert "HOME_GUILD_IDS is not set" in result.stderr


def test_invite_with_home_server_still_warns_about_public_bot(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path, "invite", DISCORD_CLIENT_ID="123456789012345678", HOME_GUILD_IDS="42"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("https://")
    assert '"Public Bot"' in result.stderr
    assert "HOME_GUILD_IDS is not set" not in result.stderr


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


def _record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_payload_redactor_keeps_ids_drops_text() -> None:
    event = {"op": 0, "t": "MESSAGE_CREATE", "s": 7, "d": {"id": "11", "content": "secret x"}}
    record = _record("discord.gateway", logging.DEBUG, "Event: %s (shard %s)", event, 0)
    assert PayloadRedactor().filter(record)
    shown = record.getMessage()
    assert "secret" not in shown
    assert "t=MESSAGE_CREATE" in shown
    assert "id=11" in shown
    assert shown.endswith("(shard 0)")
    body = _record("discord.http", logging.DEBUG, "%s with %s", "POST", '{"content": "x"}')
    PayloadRedactor().filter(body)
    assert body.getMessage().startswith("POST with <redacted")
    words = _record("aiosqlite", logging.DEBUG, "executing %s", "two words")
    PayloadRedactor().filter(words)
    assert "two words" not in words.getMessage()
    # The bot's own records and the libraries' warnings pass unchanged.
    for record in (
        _record("bot.cogs.answers", logging.DEBUG, "not answering %s", "too busy"),
        _record("discord.client", logging.WARNING, "heartbeat %s", "blocked for 10 s"),
    ):
        before = record.getMessage()
        PayloadRedactor().filter(record)
        assert record.getMessage() == before


def test_no_token_in_a_terminal_says_the_console_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a terminal ``run`` opens the console: the intro says so, instead of telling the
    user to "run again" while the console is already running."""
    import bot.console
    from bot.runner import run_command

    seen: dict[str, str | None] = {}

    def fake_console(
        *, kb_dir: Path | None, intro: str | None = None, config: object = None
    ) -> int:
        seen["intro"] = intro
        return 0

    for name in ("DISCORD_TOKEN", "DISCORD_CLIENT_ID", "KNOWLEDGE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(bot.console, "console_command", fake_console)
    assert run_command() == 0
    intro = seen["intro"]
    assert intro == NO_TOKEN_CONSOLE
    assert "local console" in intro
    assert "then run again" not in intro
    assert "DISCORD_TOKEN" in intro


def broken_model_dir(tmp_path: Path, damage: str) -> Path:
    from bot.matching.semantic import DEFAULT_MODEL_DIR

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "tokenizer.json").write_bytes((DEFAULT_MODEL_DIR / "tokenizer.json").read_bytes())
    if damage == "corrupt":
        data = (DEFAULT_MODEL_DIR / "model.onnx").read_bytes()
        (model_dir / "model.onnx").write_bytes(data[: len(data) // 3])
    return model_dir


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_bad_model_file_stops_the_bot_before_connecting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: str,
) -> None:
    import bot.matching.semantic as semantic
    from bot.__main__ import main

    model_dir = broken_model_dir(tmp_path, damage)
    monkeypatch.setattr(semantic, "DEFAULT_MODEL_DIR", model_dir)
    for key in list(os.environ):
        if key.startswith(("DISCORD_", "SHARD_", "MATCH_")) or key == "KNOWLEDGE_DIR":
            monkeypatch.delenv(key)
    token = base64.urlsafe_b64encode(b"123456789012345678").decode().rstrip("=")
    monkeypatch.setenv("DISCORD_TOKEN", f"{token}.abc.def")
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")  # never reached
    monkeypatch.chdir(tmp_path)  # no .env there

    assert main(["run"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert str(model_dir / "model.onnx") in lines[0]
    assert "Traceback" not in lines[0]


def test_model_error_from_any_command_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.cli
    from bot.__main__ import main
    from bot.matching.semantic import ModelError

    def broken(**_: object) -> int:
        raise ModelError("sentence-encoder file missing: /x/model.onnx: run `make model`")

    monkeypatch.setattr(bot.cli, "check_command", broken)
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "sentence-encoder file missing: /x/model.onnx: run `make model`\n"
    )


def test_model_dir_setting_is_the_model_checked_at_start(tmp_path: Path) -> None:
    model_dir = broken_model_dir(tmp_path, "corrupt")
    token = base64.urlsafe_b64encode(b"123456789012345678").decode().rstrip("=")
    result = run_bot(
        tmp_path,
        DISCORD_TOKEN=f"{token}.abc.def",
        DISCORD_API_BASE="http://127.0.0.1:9/api/v10",  # never reached
        MODEL_DIR=str(model_dir),
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(model_dir / "model.onnx") in lines[0]
