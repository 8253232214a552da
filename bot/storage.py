"""The bot's SQLite database: answers, votes, unanswered questions, settings, KB versions.

One file in ``DATA_DIR``, opened once with aiosqlite (queries run on aiosqlite's worker
thread, never on the event loop), in WAL mode, with forward migrations applied at open.
All timestamps are stored as UTC Unix seconds and returned as timezone-aware UTC datetimes.

Privacy and retention: unanswered questions keep their text (Discord user mentions replaced
by ``@user``; e-mail addresses, phone numbers and link query strings scrubbed by
:func:`bot.privacy.scrub_text`), guild, channel, time and the id of the member who wrote it
(so that a member can have them deleted, and to cap rows per member per day); votes keep the
member id only to count one vote per member per entry per UTC day, whichever answer message it
was cast on; context-menu answers keep only message and channel ids (so a message is answered
publicly once). Answers keep the answered message's text, scrubbed the same way, and its
author's id (for ``false_answers``: answers voted *Not helpful* or dismissed, for moderators to
add as negatives). ``forget_member`` deletes a member's votes and questions and the texts of
their answered messages. ``purge(retention_days)`` deletes unanswered questions, answers (with
their texts), votes and context-menu records older than the retention period, so ``stats``
cannot look further back than that.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.privacy import scrub_text
from bot.unanswered import MAX_ROWS, UnansweredGroup, group_questions

__all__ = [
    "ContextAnswer",
    "FalseAnswer",
    "ForgetResult",
    "GuildSettings",
    "Stats",
    "Storage",
    "StorageError",
    "UnansweredGroup",
    "VersionRow",
    "WeeklyStats",
]

log = logging.getLogger(__name__)

MAX_TEXT = 2000
"""Stored texts (questions, reasons, summaries) are cut to this many characters."""
MAX_SHORT = 200
"""Stored identifiers and labels (entry ids, ``via``, authors, meta keys) are cut to this."""
BUSY_TIMEOUT_MS = 5000
DAY_SECONDS = 86_400.0
WEEK_SECONDS = 7 * 24 * 3600

_USER_MENTION = re.compile(r"<@!?\d+>")

# Forward migrations: index i upgrades the schema from version i to i + 1. Never edit a
# released migration; append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            guild_id INTEGER,
            channel_id INTEGER NOT NULL,
            entry_id TEXT NOT NULL,
            via TEXT NOT NULL,
            message_id INTEGER
        )""",
        "CREATE INDEX answers_created ON answers (created_at)",
        "CREATE INDEX answers_message ON answers (message_id)",
        """CREATE TABLE votes (
            message_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            entry_id TEXT NOT NULL,
            helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (message_id, user_id)
        )""",
        "CREATE INDEX votes_updated ON votes (updated_at)",
        """CREATE TABLE unanswered (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            guild_id INTEGER,
            channel_id INTEGER,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX unanswered_created ON unanswered (created_at)",
        """CREATE TABLE guild_settings (
            guild_id INTEGER PRIMARY KEY,
            modlog_channel INTEGER,
            cooldown_minutes REAL
        )""",
        """CREATE TABLE answer_channels (
            guild_id INTEGER NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
            channel_id INTEGER NOT NULL,
            PRIMARY KEY (guild_id, channel_id)
        )""",
        """CREATE TABLE kb_versions (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            author TEXT NOT NULL,
            reason TEXT NOT NULL,
            summary TEXT NOT NULL
        )""",
        "CREATE INDEX kb_versions_created ON kb_versions (created_at)",
    ),
    (
        # Who wrote an unanswered question: for deletion on request and per-member caps.
        "ALTER TABLE unanswered ADD COLUMN user_id INTEGER",
        "CREATE INDEX unanswered_user ON unanswered (user_id, created_at)",
        "CREATE INDEX unanswered_guild ON unanswered (guild_id, created_at)",
    ),
    # 3: one vote per member per entry per UTC day (was: per answer message; the latest vote
    # of a member on an entry in a day is kept), and the context menu's public answers.
    (
        """CREATE TABLE votes_by_day (
            user_id INTEGER NOT NULL,
            entry_id TEXT NOT NULL,
            day INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (user_id, entry_id, day)
        )""",
        """INSERT OR REPLACE INTO votes_by_day
            (user_id, entry_id, day, message_id, helpful, created_at, updated_at)
            SELECT user_id, entry_id, CAST(created_at / 86400 AS INTEGER), message_id, helpful,
                created_at, updated_at
            FROM votes ORDER BY updated_at, rowid""",
        "DROP TABLE votes",
        "ALTER TABLE votes_by_day RENAME TO votes",
        "CREATE INDEX votes_updated ON votes (updated_at)",
        """CREATE TABLE context_answers (
            target_message_id INTEGER PRIMARY KEY,
            guild_id INTEGER,
            channel_id INTEGER NOT NULL,
            answer_message_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            dismissed INTEGER NOT NULL DEFAULT 0 CHECK (dismissed IN (0, 1))
        )""",
        "CREATE INDEX context_answers_answer ON context_answers (answer_message_id)",
        "CREATE INDEX context_answers_created ON context_answers (created_at)",
        "CREATE INDEX votes_user ON votes (user_id)",
    ),
    (
        # False answers for moderators: the answered message (scrubbed; purged with its row),
        # whom it answered (for deletion on request) and when the answer was dismissed.
        "ALTER TABLE answers ADD COLUMN text TEXT",
        "ALTER TABLE answers ADD COLUMN user_id INTEGER",
        "ALTER TABLE answers ADD COLUMN dismissed_at REAL",
        "CREATE INDEX answers_user ON answers (user_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class StorageError(Exception):
    """The database cannot be used; the message is one sentence naming the file."""


@dataclass(frozen=True)
class GuildSettings:
    """Per-guild settings chosen by moderators (defaults when never set)."""

    guild_id: int
    answer_channels: frozenset[int]
    modlog_channel: int | None
    cooldown_minutes: float | None


@dataclass(frozen=True)
class ContextAnswer:
    """The public answer the context menu gave to a message."""

    target_message_id: int
    guild_id: int | None
    channel_id: int
    answer_message_id: int
    created_at: datetime
    dismissed: bool


@dataclass(frozen=True)
class Stats:
    """Activity over the last ``days`` days; dicts map entry id -> count."""

    answers: dict[str, int]
    helpful: dict[str, int]
    not_helpful: dict[str, int]
    unanswered: int
    days: int


@dataclass(frozen=True)
class ForgetResult:
    """How many of a member's rows were (or would be) deleted."""

    votes: int
    unanswered: int
    answered: int = 0
    """Answered messages whose text is kept (the answer rows stay, without the text)."""

    @property
    def total(self) -> int:
        """Votes, questions and answered texts together."""
        return self.votes + self.unanswered + self.answered


@dataclass(frozen=True, slots=True)
class FalseAnswer:
    """An answer members marked wrong: voted *Not helpful* or dismissed."""

    answer_id: int
    """The answer row (its database id)."""
    entry_id: str
    text: str | None
    """The answered message as stored (scrubbed), None when not kept."""
    answered_at: datetime
    helpful: int
    not_helpful: int
    dismissed_at: datetime | None
    last_at: datetime
    """When it was last voted *Not helpful* or dismissed."""


@dataclass(frozen=True)
class WeeklyStats:
    """Activity from ``since`` to ``until`` per UTC week (weeks start on Monday).

    ``weeks`` are the Mondays of the weeks the period touches (the first and last may be
    partial); every tuple holds one count per week, in that order. ``answers`` maps entry id
    to its answers per week; votes are counted in the week they were last changed.
    """

    since: datetime
    until: datetime
    weeks: tuple[date, ...]
    answers: dict[str, tuple[int, ...]]
    helpful: tuple[int, ...]
    not_helpful: tuple[int, ...]
    unanswered: tuple[int, ...]


@dataclass(frozen=True)
class VersionRow:
    """One recorded version of the knowledge base."""

    id: str
    created_at: datetime
    author: str
    reason: str
    summary: str


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime | None) -> float:
    """UTC Unix seconds; a naive datetime is taken to be UTC."""
    when = when or _now()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _from_stamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _cap(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _since(days: float) -> float:
    if days < 0 or math.isnan(days):
        raise ValueError(f"days must be zero or more, not {days}")
    return _stamp(_now() - timedelta(days=days))


def _open_error(path: Path, exc: BaseException) -> StorageError:
    """The one-sentence message for a database that cannot be opened."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered
    ):
        return StorageError(
            f"The database file {path} is corrupt or not an SQLite database ({text}); "
            "restore it from a backup or move it aside to start a new one."
        )
    if "locked" in lowered or "busy" in lowered:
        return StorageError(
            f"The database file {path} is locked by another process ({text}); "
            "stop the other bot instance using the same DATA_DIR."
        )
    if isinstance(exc, OSError) or "unable to open" in lowered or "readonly" in lowered:
        return StorageError(
            f"Cannot create or write the database file {path} ({text}); "
            "check that DATA_DIR exists, is a directory and is writable by the bot."
        )
    return StorageError(f"Cannot open the database file {path}: {text}.")


class Storage:
    """The bot's database; create with ``await Storage.open(path)``, end with ``close()``."""

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        """Use :meth:`open` instead."""
        self.path = path
        self._conn: aiosqlite.Connection | None = conn
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Storage:
        """Open (creating it and its directory if needed) and migrate the database.

        Raises StorageError when the file is corrupt, locked or cannot be written.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _open_error(path, exc) from exc
        conn: aiosqlite.Connection | None = None
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await _fetchone(conn, "PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await _migrate(conn, path)
        except StorageError:
            if conn is not None:
                await conn.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:
                await conn.close()
            raise _open_error(path, exc) from exc
        log.info("database %s open (schema version %d)", path, SCHEMA_VERSION)
        return cls(path, conn)

    async def close(self) -> None:
        """Close the database (safe to call twice)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        async with self._lock:
            try:
                await conn.execute("PRAGMA optimize")
            except sqlite3.Error as exc:
                log.warning("PRAGMA optimize on %s failed: %s", self.path, exc)
            await conn.close()

    @asynccontextmanager
    async def _use(
        self, action: str, *, write: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, serialised; in a transaction if ``write``; errors -> StorageError."""
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise StorageError(
                    f"The database {self.path} is closed (while trying to {action})."
                )
            try:
                if write:
                    await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if write and conn.in_transaction:
                        await conn.rollback()
                    raise
                if write:
                    await conn.commit()
            except sqlite3.Error as exc:
                raise StorageError(
                    f"Could not {action} in the database {self.path}: {exc}."
                ) from exc

    # -- meta ------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        """The stored value for ``key``, or None."""
        async with self._use("read meta") as conn:
            row = await _fetchone(conn, "SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing any previous value)."""
        async with self._use("write meta", write=True) as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_cap(key, MAX_SHORT), value),
            )

    # -- answers and votes -----------------------------------------------------------------

    async def record_answer(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        entry_id: str,
        via: str,
        message_id: int | None = None,
        at: datetime | None = None,
        text: str | None = None,
        user_id: int | None = None,
    ) -> None:
        """Record that the bot answered with ``entry_id`` (``via``: channel, mention, dm, ...).

        ``message_id`` is the bot's answer message, so votes on it count for its guild.
        ``text`` is the answered message (kept scrubbed, for ``false_answers``) and
        ``user_id`` its author (so that ``forget_member`` can delete the text).
        """
        kept = _cap(scrub_text(_USER_MENTION.sub("@user", text)).strip()) if text else ""
        async with self._use("record an answer", write=True) as conn:
            await conn.execute(
                "INSERT INTO answers (created_at, guild_id, channel_id, entry_id, via, "
                "message_id, text, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _stamp(at),
                    guild_id,
                    channel_id,
                    _cap(entry_id, MAX_SHORT),
                    _cap(via, MAX_SHORT),
                    message_id,
                    kept or None,
                    user_id if kept else None,
                ),
            )

    async def record_dismissal(self, *, message_id: int, at: datetime | None = None) -> bool:
        """Record that the answer message ``message_id`` was dismissed; False when no answer
        was recorded for it or it was already dismissed."""
        async with self._use("record a dismissal", write=True) as conn:
            cursor = await conn.execute(
                "UPDATE answers SET dismissed_at = ? WHERE message_id = ? AND dismissed_at IS NULL",
                (_stamp(at), message_id),
            )
            changed = cursor.rowcount > 0
            await cursor.close()
        return changed

    async def false_answers(
        self,
        *,
        days: int = 30,
        guild_id: int | None = None,
        include_dms: bool = False,
        limit: int = 25,
    ) -> list[FalseAnswer]:
        """Answers voted *Not helpful* or dismissed in the last ``days`` days, most recent
        first (of one guild, plus DMs if ``include_dms``; or all)."""
        query = (
            "SELECT a.id, a.entry_id, a.text, a.created_at, a.dismissed_at, "
            "COALESCE(SUM(v.helpful = 1), 0), COALESCE(SUM(v.helpful = 0), 0), "
            "MAX(COALESCE(a.dismissed_at, 0), "
            "COALESCE(MAX(CASE WHEN v.helpful = 0 THEN v.updated_at END), 0)) AS last_at "
            "FROM answers a LEFT JOIN votes v "
            "ON a.message_id IS NOT NULL AND v.message_id = a.message_id WHERE 1"
        )
        params: list[Any] = []
        if guild_id is not None:
            query += _guild_clause(include_dms)
            params.append(guild_id)
        query += " GROUP BY a.id HAVING last_at >= ? ORDER BY last_at DESC, a.id DESC LIMIT ?"
        params += [_since(days), max(limit, 0)]
        async with self._use("read false answers") as conn:
            rows = await _fetchall(conn, query, params)
        return [
            FalseAnswer(
                answer_id=int(row_id),
                entry_id=str(entry_id),
                text=None if text is None else str(text),
                answered_at=_from_stamp(created),
                helpful=int(helpful),
                not_helpful=int(not_helpful),
                dismissed_at=None if dismissed is None else _from_stamp(dismissed),
                last_at=_from_stamp(last),
            )
            for row_id, entry_id, text, created, dismissed, helpful, not_helpful, last in rows
        ]

    async def answered_text(self, answer_id: int) -> tuple[str, str | None] | None:
        """The entry id and stored message text of the answer row ``answer_id``, or None."""
        async with self._use("read an answer") as conn:
            row = await _fetchone(
                conn, "SELECT entry_id, text FROM answers WHERE id = ?", (answer_id,)
            )
        if row is None:
            return None
        return str(row[0]), None if row[1] is None else str(row[1])

    async def record_vote(
        self,
        *,
        message_id: int,
        entry_id: str,
        user_id: int,
        helpful: bool,
        at: datetime | None = None,
    ) -> bool:
        """Record a member's vote on an answer message: one vote per member per entry per
        UTC day, however many answer messages of that entry they vote on.

        Returns True for the member's first vote on the entry that day or a changed vote,
        False for an identical repeat (nothing is changed then).
        """
        stamp = _stamp(at)
        day = int(stamp // 86400)
        async with self._use("record a vote", write=True) as conn:
            cursor = await conn.execute(
                "INSERT INTO votes (user_id, entry_id, day, message_id, helpful, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, entry_id, day) DO UPDATE SET "
                "helpful = excluded.helpful, message_id = excluded.message_id, "
                "updated_at = excluded.updated_at "
                "WHERE votes.helpful != excluded.helpful",
                (user_id, _cap(entry_id, MAX_SHORT), day, message_id, int(helpful), stamp, stamp),
            )
            changed = cursor.rowcount > 0
            await cursor.close()
        return changed

    # -- the context menu's public answers ------------------------------------------------

    async def context_answer(self, target_message_id: int) -> ContextAnswer | None:
        """The public answer the context menu gave to ``target_message_id``, if any."""
        async with self._use("read a context-menu answer") as conn:
            row = await _fetchone(
                conn,
                "SELECT target_message_id, guild_id, channel_id, answer_message_id, created_at, "
                "dismissed FROM context_answers WHERE target_message_id = ?",
                (target_message_id,),
            )
        if row is None:
            return None
        target, guild, channel, answer, created, dismissed = row
        return ContextAnswer(
            target_message_id=int(target),
            guild_id=None if guild is None else int(guild),
            channel_id=int(channel),
            answer_message_id=int(answer),
            created_at=_from_stamp(created),
            dismissed=bool(dismissed),
        )

    async def record_context_answer(
        self,
        *,
        target_message_id: int,
        guild_id: int | None,
        channel_id: int,
        answer_message_id: int,
        at: datetime | None = None,
    ) -> bool:
        """Record the context menu's public answer to a message; False (nothing changed)
        when that message already has one."""
        async with self._use("record a context-menu answer", write=True) as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO context_answers "
                "(target_message_id, guild_id, channel_id, answer_message_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (target_message_id, guild_id, channel_id, answer_message_id, _stamp(at)),
            )
            added = cursor.rowcount > 0
            await cursor.close()
        return added

    async def dismiss_context_answer(self, answer_message_id: int) -> bool:
        """Mark a context-menu answer as dismissed (it is not posted again); False when
        ``answer_message_id`` is no context-menu answer."""
        async with self._use("dismiss a context-menu answer", write=True) as conn:
            cursor = await conn.execute(
                "UPDATE context_answers SET dismissed = 1 WHERE answer_message_id = ?",
                (answer_message_id,),
            )
            changed = cursor.rowcount > 0
            await cursor.close()
        return changed

    # -- unanswered questions --------------------------------------------------------------

    async def record_unanswered(
        self,
        *,
        guild_id: int | None,
        channel_id: int | None,
        text: str,
        user_id: int | None = None,
        at: datetime | None = None,
        member_daily_limit: int | None = None,
        server_daily_limit: int | None = None,
    ) -> bool:
        """Keep a question the bot could not answer (scrubbed text, guild, channel, time and
        the member who wrote it).

        At most ``member_daily_limit`` rows per member and ``server_daily_limit`` rows per
        guild (all DMs, ``guild_id`` None, are one pool) are kept in any 24 hours; None means
        no limit, 0 keeps none. Returns whether the question was stored.
        """
        cleaned = _cap(scrub_text(_USER_MENTION.sub("@user", text)).strip())
        if not cleaned or member_daily_limit == 0 or server_daily_limit == 0:
            return False
        stamp = _stamp(at)
        since = stamp - DAY_SECONDS
        async with self._use("record an unanswered question", write=True) as conn:
            if member_daily_limit is not None and user_id is not None:
                row = await _fetchone(
                    conn,
                    "SELECT COUNT(*) FROM unanswered WHERE user_id = ? AND created_at > ?",
                    (user_id, since),
                )
                if row is not None and int(row[0]) >= member_daily_limit:
                    log.info("unanswered question of member %s not kept: daily limit", user_id)
                    return False
            if server_daily_limit is not None:
                row = await _fetchone(
                    conn,
                    "SELECT COUNT(*) FROM unanswered WHERE guild_id IS ? AND created_at > ?",
                    (guild_id, since),
                )
                if row is not None and int(row[0]) >= server_daily_limit:
                    log.info("unanswered question in guild %s not kept: daily limit", guild_id)
                    return False
            await conn.execute(
                "INSERT INTO unanswered (created_at, guild_id, channel_id, text, user_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (stamp, guild_id, channel_id, cleaned, user_id),
            )
        return True

    async def unanswered(
        self,
        *,
        days: int = 30,
        guild_id: int | None = None,
        limit: int = 20,
        include_dms: bool = False,
    ) -> list[UnansweredGroup]:
        """Unanswered questions of the last ``days`` days, similar ones grouped, most
        frequent first (at most ``limit`` groups; the most recent 5,000 questions are used).

        With ``guild_id``, that guild's questions only, plus DM questions if ``include_dms``.
        """
        query = "SELECT text, created_at FROM unanswered WHERE created_at >= ?"
        params: list[Any] = [_since(days)]
        if guild_id is not None:
            query += _guild_clause(include_dms)
            params.append(guild_id)
        query += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(MAX_ROWS)
        async with self._use("read unanswered questions") as conn:
            rows = await _fetchall(conn, query, params)
        pairs = [(str(text), _from_stamp(stamp)) for text, stamp in rows]
        groups = await asyncio.to_thread(group_questions, pairs)
        return groups[: max(limit, 0)]

    async def clear_unanswered(
        self, *, guild_id: int | None = None, include_dms: bool = False
    ) -> int:
        """Delete unanswered questions (of one guild, plus DM questions if ``include_dms``;
        or all); returns how many."""
        async with self._use("clear unanswered questions", write=True) as conn:
            if guild_id is None:
                cursor = await conn.execute("DELETE FROM unanswered")
            else:
                cursor = await conn.execute(
                    "DELETE FROM unanswered WHERE 1" + _guild_clause(include_dms), (guild_id,)
                )
            count = cursor.rowcount
            await cursor.close()
        return count

    # -- a member's data ----------------------------------------------------------------------

    async def member_data(self, user_id: int) -> ForgetResult:
        """How many votes and unanswered questions of ``user_id`` are stored."""
        async with self._use("count a member's data") as conn:
            votes = await _fetchone(
                conn, "SELECT COUNT(*) FROM votes WHERE user_id = ?", (user_id,)
            )
            questions = await _fetchone(
                conn, "SELECT COUNT(*) FROM unanswered WHERE user_id = ?", (user_id,)
            )
            answered = await _fetchone(
                conn, "SELECT COUNT(*) FROM answers WHERE user_id = ?", (user_id,)
            )
        return ForgetResult(
            votes=int(votes[0]) if votes else 0,
            unanswered=int(questions[0]) if questions else 0,
            answered=int(answered[0]) if answered else 0,
        )

    async def forget_member(self, user_id: int) -> ForgetResult:
        """Delete every vote, unanswered question and answered text of ``user_id``; returns
        how many."""
        async with self._use("delete a member's data", write=True) as conn:
            cursor = await conn.execute("DELETE FROM votes WHERE user_id = ?", (user_id,))
            votes = cursor.rowcount
            await cursor.close()
            cursor = await conn.execute("DELETE FROM unanswered WHERE user_id = ?", (user_id,))
            questions = cursor.rowcount
            await cursor.close()
            cursor = await conn.execute(
                "UPDATE answers SET text = NULL, user_id = NULL WHERE user_id = ?", (user_id,)
            )
            answered = cursor.rowcount
            await cursor.close()
        return ForgetResult(votes=votes, unanswered=questions, answered=answered)

    # -- statistics and retention ----------------------------------------------------------

    async def stats(
        self, *, days: int = 30, guild_id: int | None = None, include_dms: bool = False
    ) -> Stats:
        """Answers per entry, helpful / not helpful votes per entry, unanswered count.

        For one guild, votes count when their answer message was recorded for that guild;
        ``include_dms`` adds the answers, votes and questions of DMs.
        """
        since = _since(days)
        answers_q = "SELECT entry_id, COUNT(*) FROM answers WHERE created_at >= ?"
        votes_q = "SELECT entry_id, helpful, COUNT(*) FROM votes WHERE updated_at >= ?"
        unanswered_q = "SELECT COUNT(*) FROM unanswered WHERE created_at >= ?"
        params: tuple[Any, ...] = (since,)
        if guild_id is not None:
            where = _guild_clause(include_dms)
            answers_q += where
            votes_q += f" AND message_id IN (SELECT message_id FROM answers WHERE 1{where})"
            unanswered_q += where
            params = (since, guild_id)
        answers_q += " GROUP BY entry_id"
        votes_q += " GROUP BY entry_id, helpful"
        async with self._use("read statistics") as conn:
            answer_rows = await _fetchall(conn, answers_q, params)
            vote_rows = await _fetchall(conn, votes_q, params)
            unanswered_row = await _fetchone(conn, unanswered_q, params)
        helpful: dict[str, int] = {}
        not_helpful: dict[str, int] = {}
        for entry_id, is_helpful, count in vote_rows:
            (helpful if is_helpful else not_helpful)[str(entry_id)] = int(count)
        return Stats(
            answers={str(e): int(c) for e, c in answer_rows},
            helpful=helpful,
            not_helpful=not_helpful,
            unanswered=int(unanswered_row[0]) if unanswered_row else 0,
            days=days,
        )

    async def weekly_stats(
        self,
        *,
        days: int = 30,
        guild_id: int | None = None,
        include_dms: bool = False,
        until: datetime | None = None,
    ) -> WeeklyStats:
        """Answers per entry, helpful / not helpful votes and unanswered questions per week
        over the ``days`` days before ``until`` (default now); guilds and DMs filter as in
        ``stats``."""
        if days < 0 or math.isnan(days):
            raise ValueError(f"days must be zero or more, not {days}")
        end = _from_stamp(_stamp(until))
        start = end - timedelta(days=days)
        first = start.date() - timedelta(days=start.weekday())
        weeks = tuple(first + timedelta(weeks=i) for i in range((end.date() - first).days // 7 + 1))
        origin = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()
        queries = []
        for table, stamp, key in (
            ("answers", "created_at", ", entry_id"),
            ("votes", "updated_at", ", helpful"),
            ("unanswered", "created_at", ""),
        ):
            query = (
                f"SELECT CAST(({stamp} - ?) / {WEEK_SECONDS} AS INTEGER) AS week{key}, COUNT(*)"
                f" FROM {table} WHERE {stamp} >= ? AND {stamp} <= ?"
            )
            if guild_id is not None and table == "votes":
                where = _guild_clause(include_dms)
                query += f" AND message_id IN (SELECT message_id FROM answers WHERE 1{where})"
            elif guild_id is not None:
                query += _guild_clause(include_dms)
            queries.append(f"{query} GROUP BY week{key}")
        params: tuple[Any, ...] = (origin, start.timestamp(), end.timestamp())
        if guild_id is not None:
            params += (guild_id,)
        async with self._use("read weekly statistics") as conn:
            answer_rows, vote_rows, unanswered_rows = [
                await _fetchall(conn, query, params) for query in queries
            ]
        size = len(weeks)
        answers: dict[str, list[int]] = {}
        helpful, not_helpful, unanswered = [0] * size, [0] * size, [0] * size
        for week, entry_id, count in answer_rows:
            if 0 <= week < size:
                answers.setdefault(str(entry_id), [0] * size)[week] += int(count)
        for week, is_helpful, count in vote_rows:
            if 0 <= week < size:
                (helpful if is_helpful else not_helpful)[week] += int(count)
        for week, count in unanswered_rows:
            if 0 <= week < size:
                unanswered[week] += int(count)
        return WeeklyStats(
            since=start,
            until=end,
            weeks=weeks,
            answers={entry: tuple(counts) for entry, counts in answers.items()},
            helpful=tuple(helpful),
            not_helpful=tuple(not_helpful),
            unanswered=tuple(unanswered),
        )

    async def purge(self, *, retention_days: int = 90) -> int:
        """Delete unanswered questions, answers, votes and context-menu records older than
        ``retention_days``.

        Returns the number of rows deleted. Settings and KB versions are kept.
        """
        cutoff = _since(retention_days)
        deleted = 0
        async with self._use("purge old rows", write=True) as conn:
            for statement in (
                "DELETE FROM unanswered WHERE created_at < ?",
                "DELETE FROM answers WHERE created_at < ?",
                "DELETE FROM votes WHERE updated_at < ?",
                "DELETE FROM context_answers WHERE created_at < ?",
            ):
                cursor = await conn.execute(statement, (cutoff,))
                deleted += cursor.rowcount
                await cursor.close()
        if deleted:
            log.info(
                "purged %d rows older than %d days from %s", deleted, retention_days, self.path
            )
        return deleted

    # -- guild settings --------------------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings (defaults when never set)."""
        async with self._use("read guild settings") as conn:
            row = await _fetchone(
                conn,
                "SELECT modlog_channel, cooldown_minutes FROM guild_settings WHERE guild_id = ?",
                (guild_id,),
            )
            channels = await _fetchall(
                conn, "SELECT channel_id FROM answer_channels WHERE guild_id = ?", (guild_id,)
            )
        modlog, cooldown = row if row is not None else (None, None)
        return GuildSettings(
            guild_id=guild_id,
            answer_channels=frozenset(int(c) for (c,) in channels),
            modlog_channel=None if modlog is None else int(modlog),
            cooldown_minutes=None if cooldown is None else float(cooldown),
        )

    async def add_answer_channel(self, guild_id: int, channel_id: int) -> bool:
        """Make the bot answer in this channel; False if it already did."""
        async with self._use("add an answer channel", write=True) as conn:
            await _ensure_guild(conn, guild_id)
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO answer_channels (guild_id, channel_id) VALUES (?, ?)",
                (guild_id, channel_id),
            )
            added = cursor.rowcount > 0
            await cursor.close()
        return added

    async def remove_answer_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop answering in this channel; False if it was not an answer channel."""
        async with self._use("remove an answer channel", write=True) as conn:
            cursor = await conn.execute(
                "DELETE FROM answer_channels WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            )
            removed = cursor.rowcount > 0
            await cursor.close()
        return removed

    async def set_modlog_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Set (or with None, unset) the guild's mod-log channel."""
        async with self._use("set the mod-log channel", write=True) as conn:
            await _ensure_guild(conn, guild_id)
            await conn.execute(
                "UPDATE guild_settings SET modlog_channel = ? WHERE guild_id = ?",
                (channel_id, guild_id),
            )

    async def set_cooldown(self, guild_id: int, minutes: float | None) -> None:
        """Set (or with None, reset to the default) the guild's answer cooldown."""
        if minutes is not None and (math.isnan(minutes) or minutes < 0 or math.isinf(minutes)):
            raise ValueError(f"cooldown must be a finite number of minutes >= 0, not {minutes}")
        async with self._use("set the cooldown", write=True) as conn:
            await _ensure_guild(conn, guild_id)
            await conn.execute(
                "UPDATE guild_settings SET cooldown_minutes = ? WHERE guild_id = ?",
                (minutes, guild_id),
            )

    # -- knowledge-base versions -----------------------------------------------------------

    async def record_kb_version(self, row: VersionRow) -> None:
        """Record a knowledge-base version; ValueError if its id is already recorded."""
        try:
            async with self._use("record a knowledge-base version", write=True) as conn:
                await conn.execute(
                    "INSERT INTO kb_versions (id, created_at, author, reason, summary) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        row.id,
                        _stamp(row.created_at),
                        _cap(row.author, MAX_SHORT),
                        _cap(row.reason),
                        _cap(row.summary),
                    ),
                )
        except StorageError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise ValueError(f"knowledge-base version {row.id!r} is already recorded") from exc
            raise

    async def kb_versions(self, *, limit: int = 25) -> list[VersionRow]:
        """The most recent knowledge-base versions, newest first."""
        async with self._use("read knowledge-base versions") as conn:
            rows = await _fetchall(
                conn,
                "SELECT id, created_at, author, reason, summary FROM kb_versions "
                "ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (max(limit, 0),),
            )
        return [
            VersionRow(id=str(i), created_at=_from_stamp(c), author=a, reason=r, summary=s)
            for i, c, a, r, s in rows
        ]


# -- helpers -------------------------------------------------------------------------------


async def _fetchone(
    conn: aiosqlite.Connection, query: str, params: Sequence[Any] = ()
) -> sqlite3.Row | None:
    async with conn.execute(query, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
    return row


async def _fetchall(
    conn: aiosqlite.Connection, query: str, params: Sequence[Any] = ()
) -> list[Any]:
    async with conn.execute(query, params) as cursor:
        return list(await cursor.fetchall())


def _guild_clause(include_dms: bool) -> str:
    """``AND`` one guild (its id is the next parameter), or that guild or DMs."""
    return " AND (guild_id = ? OR guild_id IS NULL)" if include_dms else " AND guild_id = ?"


async def _ensure_guild(conn: aiosqlite.Connection, guild_id: int) -> None:
    await conn.execute("INSERT OR IGNORE INTO guild_settings (guild_id) VALUES (?)", (guild_id,))


async def _migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Apply the missing migrations in one transaction (nothing when up to date)."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        row = await _fetchone(conn, "PRAGMA user_version")
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"The database file {path} has schema version {version}, newer than this "
                f"bot's {SCHEMA_VERSION}; upgrade the bot or restore an older backup."
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                await conn.execute(statement)
            log.info("database %s migrated to schema version %d", path, number + 1)
        await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        await conn.commit()
    except BaseException:
        if conn.in_transaction:
            await conn.rollback()
        raise
