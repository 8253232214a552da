"""Typed settings from the environment and an optional ``.env`` file (the environment wins).

Every variable is documented in ``.env.example``. Invalid values raise :class:`SettingsError`
naming the variable and what was expected, so the bot stops at start with one clear line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.kb.loader import BUNDLED_DIR
from bot.matching.types import Thresholds

__all__ = ["Secret", "Settings", "SettingsError"]

T = TypeVar("T")

LOG_LEVELS: Final = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_DEFAULTS: Final = Thresholds()


class SettingsError(Exception):
    """A variable has an invalid value; the message names it and says what was expected."""


class Secret:
    """A string that never shows itself in ``repr``/``str`` (so it cannot leak into logs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself; pass it only to the code that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """The bot's configuration (see ``.env.example`` for every variable)."""

    token: Secret | None = None
    client_id: int | None = None
    answer_channel_ids: frozenset[int] = frozenset()
    dev_guild_id: int | None = None
    knowledge_dir: Path = BUNDLED_DIR
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    channel_cooldown_minutes: float = 10.0
    member_cooldown_minutes: float = 2.0
    min_message_length: int = 10
    member_budget: int = 5
    member_budget_seconds: float = 60.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    moderator_role_ids: frozenset[int] = frozenset()
    mod_log_channel_id: int | None = None
    unanswered_retention_days: int = 90
    discord_api_base: str | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    home_guild_ids: frozenset[int] = frozenset()
    """The servers whose moderators own the knowledge base and settings (empty: none)."""
    log_message_text: bool = False
    """Whether logs may contain what members write (discord.py's payload dumps at DEBUG)."""
    unanswered_member_daily_limit: int = 20
    unanswered_server_daily_limit: int = 500
    forum_channel_ids: frozenset[int] = frozenset()
    model_dir: Path | None = None
    """The sentence encoder's directory (None: the bundled model)."""
    model_threads: int = 1

    @property
    def database_path(self) -> Path:
        """The SQLite file in ``DATA_DIR``."""
        return self.data_dir / "whytwitter.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env``, or from ``.env`` in the working directory
        overlaid by the process environment when ``env`` is None."""
        if env is None:
            file_values = {
                k: v for k, v in dotenv_values(Path.cwd() / ".env").items() if v is not None
            }
            env = {**file_values, **os.environ}
        return _parse(env)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _convert(
    env: Mapping[str, str], name: str, parse: Callable[[str], T], expected: str
) -> T | None:
    raw = _get(env, name)
    if raw is None:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is invalid: expected {expected}") from None


def _snowflake(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 2**64:
        raise ValueError(raw)
    return value


def _snowflakes(raw: str) -> frozenset[int]:
    return frozenset(_snowflake(part.strip()) for part in raw.split(",") if part.strip())


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < float("inf"):
        raise ValueError(raw)
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):
        raise ValueError(raw)
    return value


def _score(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 100:
        raise ValueError(raw)
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off")


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(raw)


def _log_level(raw: str) -> str:
    value = raw.upper()
    if value not in LOG_LEVELS:
        raise ValueError(raw)
    return value


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(raw)
    return raw.rstrip("/")


def _shard_ids(raw: str) -> tuple[int, ...]:
    ids = tuple(_non_negative_int(part.strip()) for part in raw.split(",") if part.strip())
    if not ids:
        raise ValueError(raw)
    return ids


def _token(raw: str) -> Secret:
    if any(c.isspace() for c in raw) or raw.lower().startswith("bot "):
        raise ValueError("token")
    return Secret(raw)


def _token_value(env: Mapping[str, str]) -> Secret | None:
    raw = _get(env, "DISCORD_TOKEN")
    if raw is None:
        return None
    try:
        return _token(raw)
    except ValueError:
        # Never echo the token itself.
        raise SettingsError(
            "DISCORD_TOKEN is invalid: expected the bot token alone "
            "(no 'Bot ' prefix, no spaces or quotes inside)"
        ) from None


def _parse(env: Mapping[str, str]) -> Settings:
    snowflake = "a Discord id (a positive integer)"
    snowflakes = "comma-separated Discord ids, e.g. 123456789012345678,234567890123456789"
    minutes = "a number of minutes >= 0"
    score = "a score between 0 and 100"

    def opt(value: T | None, default: T) -> T:
        return default if value is None else value

    answer = opt(_convert(env, "MATCH_ANSWER_THRESHOLD", _score, score), _DEFAULTS.answer)
    suggest = opt(_convert(env, "MATCH_SUGGEST_THRESHOLD", _score, score), _DEFAULTS.suggest)
    margin = opt(
        _convert(env, "MATCH_MARGIN", _score, "a score margin between 0 and 100"),
        _DEFAULTS.margin,
    )
    clear_lead_answer = opt(
        _convert(env, "MATCH_CLEAR_LEAD_THRESHOLD", _score, score), _DEFAULTS.clear_lead_answer
    )
    clear_lead_margin = opt(
        _convert(env, "MATCH_CLEAR_LEAD_MARGIN", _score, "a score margin between 0 and 100"),
        _DEFAULTS.clear_lead_margin,
    )
    meaning = {
        name: opt(_convert(env, var, _score, score), getattr(_DEFAULTS, name))
        for name, var in (
            ("meaning_keep", "MATCH_MEANING_KEEP"),
            ("meaning_answer", "MATCH_MEANING_ANSWER"),
            ("meaning_margin", "MATCH_MEANING_MARGIN"),
            ("meaning_negative_margin", "MATCH_MEANING_NEGATIVE_MARGIN"),
            ("gate", "MATCH_GATE"),
            ("classifier", "MATCH_CLASSIFIER"),
        )
    }
    if suggest > answer:
        raise SettingsError(
            f"MATCH_SUGGEST_THRESHOLD={suggest:g} is invalid: expected a score no higher "
            f"than MATCH_ANSWER_THRESHOLD ({answer:g})"
        )

    shard_count = _convert(env, "SHARD_COUNT", _positive_int, "a positive integer")
    shard_ids = _convert(
        env, "SHARD_IDS", _shard_ids, "comma-separated shard numbers, e.g. 0,1 (with SHARD_COUNT)"
    )
    if shard_ids is not None:
        if shard_count is None:
            raise SettingsError("SHARD_IDS is set without SHARD_COUNT: expected both")
        bad = [i for i in shard_ids if i >= shard_count]
        if bad:
            raise SettingsError(
                f"SHARD_IDS contains {bad[0]}: expected shard numbers below "
                f"SHARD_COUNT ({shard_count})"
            )
        shard_ids = tuple(sorted(set(shard_ids)))

    defaults = Settings()
    return Settings(
        token=_token_value(env),
        client_id=_convert(env, "DISCORD_CLIENT_ID", _snowflake, snowflake),
        answer_channel_ids=opt(
            _convert(env, "ANSWER_CHANNEL_IDS", _snowflakes, snowflakes), frozenset()
        ),
        dev_guild_id=_convert(env, "DEV_GUILD_ID", _snowflake, snowflake),
        knowledge_dir=opt(
            _convert(env, "KNOWLEDGE_DIR", _existing_dir, "an existing directory"),
            defaults.knowledge_dir,
        ),
        data_dir=opt(_convert(env, "DATA_DIR", Path, "a directory path"), defaults.data_dir),
        log_level=opt(
            _convert(env, "LOG_LEVEL", _log_level, "one of " + ", ".join(LOG_LEVELS)),
            defaults.log_level,
        ),
        channel_cooldown_minutes=opt(
            _convert(env, "CHANNEL_COOLDOWN_MINUTES", _non_negative_float, minutes),
            defaults.channel_cooldown_minutes,
        ),
        member_cooldown_minutes=opt(
            _convert(env, "MEMBER_COOLDOWN_MINUTES", _non_negative_float, minutes),
            defaults.member_cooldown_minutes,
        ),
        min_message_length=opt(
            _convert(env, "MIN_MESSAGE_LENGTH", _non_negative_int, "a whole number >= 0"),
            defaults.min_message_length,
        ),
        member_budget=opt(
            _convert(env, "MEMBER_BUDGET", _non_negative_int, "a whole number >= 0 (0: no limit)"),
            defaults.member_budget,
        ),
        member_budget_seconds=opt(
            _convert(env, "MEMBER_BUDGET_SECONDS", _positive_float, "a number of seconds > 0"),
            defaults.member_budget_seconds,
        ),
        thresholds=Thresholds(
            answer=answer,
            suggest=suggest,
            margin=margin,
            clear_lead_answer=clear_lead_answer,
            clear_lead_margin=clear_lead_margin,
            max_suggestions=_DEFAULTS.max_suggestions,
            **meaning,
        ),
        moderator_role_ids=opt(
            _convert(env, "MODERATOR_ROLE_IDS", _snowflakes, snowflakes), frozenset()
        ),
        mod_log_channel_id=_convert(env, "MOD_LOG_CHANNEL_ID", _snowflake, snowflake),
        unanswered_retention_days=opt(
            _convert(
                env, "UNANSWERED_RETENTION_DAYS", _positive_int, "a whole number of days >= 1"
            ),
            defaults.unanswered_retention_days,
        ),
        discord_api_base=_convert(
            env, "DISCORD_API_BASE", _url, "an http(s) URL such as http://proxy:8080/api/v10"
        ),
        shard_count=shard_count,
        shard_ids=shard_ids,
        home_guild_ids=opt(_convert(env, "HOME_GUILD_IDS", _snowflakes, snowflakes), frozenset()),
        log_message_text=opt(
            _convert(env, "LOG_MESSAGE_TEXT", _bool, "true or false"), defaults.log_message_text
        ),
        unanswered_member_daily_limit=opt(
            _convert(
                env,
                "UNANSWERED_MAX_PER_MEMBER_PER_DAY",
                _non_negative_int,
                "a whole number >= 0 (0 keeps none)",
            ),
            defaults.unanswered_member_daily_limit,
        ),
        unanswered_server_daily_limit=opt(
            _convert(
                env,
                "UNANSWERED_MAX_PER_SERVER_PER_DAY",
                _non_negative_int,
                "a whole number >= 0 (0 keeps none)",
            ),
            defaults.unanswered_server_daily_limit,
        ),
        forum_channel_ids=opt(
            _convert(env, "FORUM_CHANNEL_IDS", _snowflakes, snowflakes), frozenset()
        ),
        model_dir=_convert(env, "MODEL_DIR", _existing_dir, "an existing directory"),
        model_threads=opt(
            _convert(env, "MODEL_THREADS", _positive_int, "a whole number >= 1"),
            defaults.model_threads,
        ),
    )


def _existing_dir(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ValueError(raw)
    return path


def log_level_number(settings: Settings) -> int:
    """The ``logging`` level for ``LOG_LEVEL``."""
    return logging.getLevelNamesMapping()[settings.log_level]
