"""Settings parsing: every variable, defaults, and errors that name the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.kb.loader import BUNDLED_DIR
from bot.matching.types import Thresholds
from bot.settings import Secret, Settings, SettingsError

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.token is None
    assert s.answer_channel_ids == frozenset()
    assert s.knowledge_dir == BUNDLED_DIR
    assert s.data_dir == Path("data")
    assert s.log_level == "INFO"
    assert s.channel_cooldown_minutes == 10
    assert s.member_cooldown_minutes == 2
    assert s.thresholds == Thresholds()
    assert s.unanswered_retention_days == 90
    assert s.discord_api_base is None
    assert s.shard_count is None
    assert s.shard_ids is None
    assert s.home_guild_ids == frozenset()
    assert s.log_message_text is False
    assert s.unanswered_member_daily_limit == 20
    assert s.unanswered_server_daily_limit == 500


def test_every_variable(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_CLIENT_ID": "123456789012345678",
            "ANSWER_CHANNEL_IDS": " 11, 22 ,,33 ",
            "DEV_GUILD_ID": "44",
            "KNOWLEDGE_DIR": str(tmp_path),
            "DATA_DIR": str(tmp_path / "d"),
            "LOG_LEVEL": "debug",
            "CHANNEL_COOLDOWN_MINUTES": "0.5",
            "MEMBER_COOLDOWN_MINUTES": "0",
            "MIN_MESSAGE_LENGTH": "4",
            "MATCH_ANSWER_THRESHOLD": "80",
            "MATCH_SUGGEST_THRESHOLD": "60",
            "MATCH_MARGIN": "5",
            "MATCH_CLEAR_LEAD_THRESHOLD": "65",
            "MATCH_CLEAR_LEAD_MARGIN": "15",
            "MODERATOR_ROLE_IDS": "7,8",
            "MOD_LOG_CHANNEL_ID": "9",
            "UNANSWERED_RETENTION_DAYS": "30",
            "DISCORD_API_BASE": "http://127.0.0.1:8080/api/v10/",
            "SHARD_COUNT": "4",
            "SHARD_IDS": "2,0",
            "HOME_GUILD_IDS": "55, 66",
            "LOG_MESSAGE_TEXT": "true",
            "UNANSWERED_MAX_PER_MEMBER_PER_DAY": "3",
            "UNANSWERED_MAX_PER_SERVER_PER_DAY": "0",
        }
    )
    assert s.token is not None
    assert s.token.get_secret_value() == TOKEN
    assert s.client_id == 123456789012345678
    assert s.answer_channel_ids == {11, 22, 33}
    assert s.dev_guild_id == 44
    assert s.knowledge_dir == tmp_path
    assert s.data_dir == tmp_path / "d"
    assert s.database_path.parent == tmp_path / "d"
    assert s.log_level == "DEBUG"
    assert s.channel_cooldown_minutes == 0.5
    assert s.member_cooldown_minutes == 0
    assert s.min_message_length == 4
    assert s.thresholds == Thresholds(
        answer=80, suggest=60, margin=5, clear_lead_answer=65, clear_lead_margin=15
    )
    assert s.moderator_role_ids == {7, 8}
    assert s.mod_log_channel_id == 9
    assert s.unanswered_retention_days == 30
    assert s.discord_api_base == "http://127.0.0.1:8080/api/v10"
    assert s.shard_count == 4
    assert s.shard_ids == (0, 2)
    assert s.home_guild_ids == {55, 66}
    assert s.log_message_text is True
    assert s.unanswered_member_daily_limit == 3
    assert s.unanswered_server_daily_limit == 0


def test_empty_values_mean_unset() -> None:
    s = Settings.from_env({"DISCORD_TOKEN": "", "DEV_GUILD_ID": "  ", "LOG_LEVEL": ""})
    assert s.token is None
    assert s.dev_guild_id is None
    assert s.log_level == "INFO"


def test_token_never_shown() -> None:
    s = Settings.from_env({"DISCORD_TOKEN": TOKEN})
    assert TOKEN not in repr(s)
    assert TOKEN not in str(s)
    assert TOKEN not in repr(s.token)
    assert TOKEN not in f"{s.token}"
    assert s.token == Secret(TOKEN)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ANSWER_CHANNEL_IDS", "12,abc", "Discord ids"),
        ("ANSWER_CHANNEL_IDS", "-5", "Discord ids"),
        ("DEV_GUILD_ID", "guild", "Discord id"),
        ("DISCORD_CLIENT_ID", "0", "Discord id"),
        ("MODERATOR_ROLE_IDS", "1.5", "Discord ids"),
        ("MOD_LOG_CHANNEL_ID", "#mods", "Discord id"),
        ("KNOWLEDGE_DIR", "/definitely/not/here", "existing directory"),
        ("LOG_LEVEL", "loud", "DEBUG"),
        ("CHANNEL_COOLDOWN_MINUTES", "-1", "minutes"),
        ("CHANNEL_COOLDOWN_MINUTES", "nan", "minutes"),
        ("MEMBER_COOLDOWN_MINUTES", "two", "minutes"),
        ("MIN_MESSAGE_LENGTH", "-3", "whole number"),
        ("MATCH_ANSWER_THRESHOLD", "101", "between 0 and 100"),
        ("MATCH_SUGGEST_THRESHOLD", "x", "between 0 and 100"),
        ("MATCH_MARGIN", "-2", "between 0 and 100"),
        ("MATCH_CLEAR_LEAD_THRESHOLD", "150", "between 0 and 100"),
        ("MATCH_CLEAR_LEAD_MARGIN", "x", "between 0 and 100"),
        ("UNANSWERED_RETENTION_DAYS", "0", "days"),
        ("DISCORD_API_BASE", "ftp://proxy", "http(s) URL"),
        ("DISCORD_API_BASE", "localhost:8080", "http(s) URL"),
        ("SHARD_COUNT", "0", "positive integer"),
        ("HOME_GUILD_IDS", "home", "Discord ids"),
        ("LOG_MESSAGE_TEXT", "maybe", "true or false"),
        ("UNANSWERED_MAX_PER_MEMBER_PER_DAY", "-1", "whole number"),
        ("UNANSWERED_MAX_PER_SERVER_PER_DAY", "many", "whole number"),
    ],
)
def test_invalid_value_names_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(name)) as info:
        Settings.from_env({name: value})
    assert expected in str(info.value)


def test_suggest_above_answer_is_rejected() -> None:
    with pytest.raises(SettingsError, match="MATCH_SUGGEST_THRESHOLD"):
        Settings.from_env({"MATCH_ANSWER_THRESHOLD": "50", "MATCH_SUGGEST_THRESHOLD": "60"})


def test_shard_ids_need_count_and_must_fit() -> None:
    with pytest.raises(SettingsError, match=r"SHARD_IDS.*SHARD_COUNT"):
        Settings.from_env({"SHARD_IDS": "0"})
    with pytest.raises(SettingsError, match="SHARD_IDS contains 3"):
        Settings.from_env({"SHARD_COUNT": "2", "SHARD_IDS": "0,3"})
    with pytest.raises(SettingsError, match="SHARD_IDS"):
        Settings.from_env({"SHARD_COUNT": "2", "SHARD_IDS": "one"})


def test_bad_token_error_does_not_echo_it() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN") as info:
        Settings.from_env({"DISCORD_TOKEN": "Bot secret-value"})
    assert "secret-value" not in str(info.value)


def test_dotenv_file_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("DEV_GUILD_ID=111\nLOG_LEVEL=DEBUG\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEV_GUILD_ID", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    s = Settings.from_env()
    assert s.dev_guild_id == 111
    assert s.log_level == "WARNING"


def test_env_example_documents_every_variable() -> None:
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    source = (Path(__file__).resolve().parent.parent / "bot" / "settings.py").read_text()
    used = set(re.findall(r'"([A-Z][A-Z_]+)"', source)) - {"CRITICAL", "ERROR", "WARNING"}
    used -= {"INFO", "DEBUG"}
    assert used <= names, used - names


def test_member_budget() -> None:
    assert (Settings().member_budget, Settings().member_budget_seconds) == (5, 60.0)
    s = Settings.from_env({"MEMBER_BUDGET": "3", "MEMBER_BUDGET_SECONDS": "30.5"})
    assert (s.member_budget, s.member_budget_seconds) == (3, 30.5)
    assert Settings.from_env({"MEMBER_BUDGET": "0"}).member_budget == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEMBER_BUDGET", "-1"),
        ("MEMBER_BUDGET", "2.5"),
        ("MEMBER_BUDGET_SECONDS", "0"),
        ("MEMBER_BUDGET_SECONDS", "inf"),
        ("MEMBER_BUDGET_SECONDS", "soon"),
    ],
)
def test_invalid_member_budget_names_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(name)):
        Settings.from_env({name: value})
