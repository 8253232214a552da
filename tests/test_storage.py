"""Storage: round trips, migrations, votes, retention, grouping, clear errors."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import (
    MAX_TEXT,
    MIGRATIONS,
    SCHEMA_VERSION,
    ForgetResult,
    Storage,
    StorageError,
    VersionRow,
)

NOW = datetime.now(UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "data" / "bot.sqlite3")
    yield storage
    await storage.close()


async def test_open_creates_directory_wal_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "bot.sqlite3"
    storage = await Storage.open(path)
    await storage.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "answers", "votes", "unanswered", "guild_settings", "kb_versions"} <= tables


async def test_migrations_idempotent_and_data_persists(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = await Storage.open(path)
    await first.set_meta("command_tree_hash", "abc")
    await first.add_answer_channel(1, 10)
    await first.set_modlog_channel(1, 99)
    await first.set_cooldown(1, 2.5)
    await first.close()
    await first.close()  # closing twice is harmless

    second = await Storage.open(path)
    try:
        assert await second.get_meta("command_tree_hash") == "abc"
        settings = await second.guild_settings(1)
        assert settings.answer_channels == frozenset({10})
        assert settings.modlog_channel == 99
        assert settings.cooldown_minutes == 2.5
    finally:
        await second.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_meta_round_trip(db: Storage) -> None:
    assert await db.get_meta("missing") is None
    await db.set_meta("k", "one")
    await db.set_meta("k", "two")
    assert await db.get_meta("k") == "two"


async def test_guild_settings_defaults_and_changes(db: Storage) -> None:
    empty = await db.guild_settings(5)
    assert empty.guild_id == 5
    assert empty.answer_channels == frozenset()
    assert empty.modlog_channel is None
    assert empty.cooldown_minutes is None

    assert await db.add_answer_channel(5, 100) is True
    assert await db.add_answer_channel(5, 100) is False
    assert await db.add_answer_channel(5, 101) is True
    assert await db.add_answer_channel(6, 100) is True
    assert (await db.guild_settings(5)).answer_channels == frozenset({100, 101})
    assert await db.remove_answer_channel(5, 100) is True
    assert await db.remove_answer_channel(5, 100) is False
    assert (await db.guild_settings(5)).answer_channels == frozenset({101})
    assert (await db.guild_settings(6)).answer_channels == frozenset({100})

    await db.set_modlog_channel(5, 7)
    await db.set_cooldown(5, 0)
    settings = await db.guild_settings(5)
    assert (settings.modlog_channel, settings.cooldown_minutes) == (7, 0.0)
    await db.set_modlog_channel(5, None)
    await db.set_cooldown(5, None)
    settings = await db.guild_settings(5)
    assert (settings.modlog_channel, settings.cooldown_minutes) == (None, None)
    with pytest.raises(ValueError, match="cooldown"):
        await db.set_cooldown(5, -1)


async def test_vote_semantics(db: Storage) -> None:
    assert await db.record_vote(message_id=1, entry_id="too-busy", user_id=42, helpful=True)
    assert not await db.record_vote(message_id=1, entry_id="too-busy", user_id=42, helpful=True)
    assert await db.record_vote(message_id=1, entry_id="too-busy", user_id=42, helpful=False)
    assert not await db.record_vote(message_id=1, entry_id="too-busy", user_id=42, helpful=False)
    assert await db.record_vote(message_id=1, entry_id="too-busy", user_id=43, helpful=True)
    # Another answer message of the same entry, the same day: the same vote, not a second.
    assert not await db.record_vote(message_id=2, entry_id="too-busy", user_id=42, helpful=False)
    assert await db.record_vote(message_id=2, entry_id="too-busy", user_id=42, helpful=True)
    # Another entry is another vote.
    assert await db.record_vote(message_id=3, entry_id="no-time", user_id=42, helpful=False)
    stats = await db.stats()
    assert stats.helpful == {"too-busy": 2}
    assert stats.not_helpful == {"no-time": 1}


async def test_one_vote_per_member_per_entry_per_utc_day(db: Storage) -> None:
    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for message_id in range(10):
        first = message_id == 0
        assert first == await db.record_vote(
            message_id=message_id, entry_id="a", user_id=7, helpful=True, at=noon
        )
    late = noon.replace(hour=23, minute=59)
    assert not await db.record_vote(message_id=11, entry_id="a", user_id=7, helpful=True, at=late)
    next_day = noon + timedelta(hours=12)  # 00:00 UTC the next day
    assert await db.record_vote(message_id=12, entry_id="a", user_id=7, helpful=True, at=next_day)
    async with db._use("count") as conn:
        rows = await (await conn.execute("SELECT COUNT(*) FROM votes")).fetchall()
    assert rows[0][0] == 2


async def test_migration_keeps_one_vote_per_member_entry_and_day(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    day = datetime(2026, 3, 1, 9, tzinfo=UTC).timestamp()
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.executemany(
            "INSERT INTO votes (message_id, user_id, entry_id, helpful, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                # Member 1 pressed Helpful on three answers of "a", then Not helpful on one.
                (10, 1, "a", 1, day, day),
                (11, 1, "a", 1, day + 60, day + 60),
                (12, 1, "a", 0, day + 120, day + 300),
                (13, 1, "a", 1, day + 86400, day + 86400),  # the next day
                (10, 2, "a", 1, day, day),
                (14, 1, "b", 1, day, day),
            ],
        )
    storage = await Storage.open(path)
    try:
        stats = await storage.stats(days=100_000)
        assert stats.helpful == {"a": 2, "b": 1}
        assert stats.not_helpful == {"a": 1}
        when = datetime.fromtimestamp(day + 600, UTC)
        # The migrated vote is the member's vote for that day.
        assert not await storage.record_vote(
            message_id=15, entry_id="a", user_id=1, helpful=False, at=when
        )
    finally:
        await storage.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_context_answers_round_trip_and_dismissal(db: Storage) -> None:
    assert await db.context_answer(100) is None
    assert await db.record_context_answer(
        target_message_id=100, guild_id=1, channel_id=10, answer_message_id=200
    )
    assert not await db.record_context_answer(
        target_message_id=100, guild_id=1, channel_id=10, answer_message_id=201
    )
    row = await db.context_answer(100)
    assert row is not None
    assert (row.guild_id, row.channel_id, row.answer_message_id, row.dismissed) == (
        1,
        10,
        200,
        False,
    )
    assert not await db.dismiss_context_answer(201)
    assert await db.dismiss_context_answer(200)
    row = await db.context_answer(100)
    assert row is not None
    assert row.dismissed
    await db.record_context_answer(
        target_message_id=101,
        guild_id=None,
        channel_id=11,
        answer_message_id=202,
        at=NOW - timedelta(days=100),
    )
    assert await db.purge(retention_days=90) == 1
    assert await db.context_answer(101) is None
    assert await db.context_answer(100) is not None


async def test_stats_counts_answers_votes_unanswered_per_guild(db: Storage) -> None:
    await db.record_answer(guild_id=1, channel_id=10, entry_id="a", via="channel", message_id=500)
    await db.record_answer(guild_id=1, channel_id=10, entry_id="a", via="mention")
    await db.record_answer(guild_id=2, channel_id=20, entry_id="b", via="ask", message_id=600)
    await db.record_answer(guild_id=None, channel_id=30, entry_id="b", via="dm")
    await db.record_vote(message_id=500, entry_id="a", user_id=1, helpful=True)
    await db.record_vote(message_id=600, entry_id="b", user_id=1, helpful=False)
    await db.record_unanswered(guild_id=1, channel_id=10, text="what is a hashtag?")
    await db.record_unanswered(guild_id=2, channel_id=20, text="can I tweet from the OR?")

    everything = await db.stats(days=7)
    assert everything.days == 7
    assert everything.answers == {"a": 2, "b": 2}
    assert everything.helpful == {"a": 1}
    assert everything.not_helpful == {"b": 1}
    assert everything.unanswered == 2

    guild1 = await db.stats(guild_id=1)
    assert guild1.answers == {"a": 2}
    assert guild1.helpful == {"a": 1}
    assert guild1.not_helpful == {}
    assert guild1.unanswered == 1


async def test_stats_window_excludes_older_rows(db: Storage) -> None:
    old = NOW - timedelta(days=10)
    await db.record_answer(guild_id=1, channel_id=1, entry_id="a", via="channel", at=old)
    await db.record_answer(guild_id=1, channel_id=1, entry_id="a", via="channel")
    await db.record_unanswered(guild_id=1, channel_id=1, text="old one", at=old)
    stats = await db.stats(days=5)
    assert stats.answers == {"a": 1}
    assert stats.unanswered == 0
    assert (await db.stats(days=30)).answers == {"a": 2}


async def test_unanswered_groups_similar_questions(db: Storage) -> None:
    for text in (
        "Is Twitter safe for doctors?",
        "is twitter safe for doctors",
        "Is Twitter really safe for doctors??",
        "How do I verify my account",
    ):
        await db.record_unanswered(guild_id=1, channel_id=2, text=text)
    await db.record_unanswered(guild_id=9, channel_id=3, text="is twitter safe for doctors")

    groups = await db.unanswered()
    assert [g.count for g in groups] == [4, 1]
    assert groups[0].text.lower().startswith("is twitter")
    assert groups[1].text == "How do I verify my account"
    assert groups[0].last_seen.tzinfo is not None

    only_guild1 = await db.unanswered(guild_id=1)
    assert [g.count for g in only_guild1] == [3, 1]
    assert len(await db.unanswered(limit=1)) == 1


async def test_unanswered_text_capped_and_mentions_removed(db: Storage) -> None:
    await db.record_unanswered(guild_id=1, channel_id=2, text="<@123456> " + "x" * 5000)
    await db.record_unanswered(guild_id=1, channel_id=2, text="   ")
    (group,) = await db.unanswered()
    assert len(group.text) <= MAX_TEXT
    assert "123456" not in group.text
    assert group.text.startswith("@user")


async def test_unanswered_days_window_and_clear(db: Storage) -> None:
    await db.record_unanswered(guild_id=1, channel_id=2, text="old", at=NOW - timedelta(days=40))
    await db.record_unanswered(guild_id=1, channel_id=2, text="new question")
    await db.record_unanswered(guild_id=2, channel_id=3, text="other guild question")
    assert [g.text for g in await db.unanswered(days=30, guild_id=1)] == ["new question"]
    assert len(await db.unanswered(days=60, guild_id=1)) == 2
    assert await db.clear_unanswered(guild_id=1) == 2
    assert [g.text for g in await db.unanswered()] == ["other guild question"]
    assert await db.clear_unanswered() == 1
    assert await db.unanswered() == []


async def test_purge_deletes_only_rows_older_than_retention(db: Storage) -> None:
    old = NOW - timedelta(days=100)
    recent = NOW - timedelta(days=10)
    await db.record_unanswered(guild_id=1, channel_id=1, text="old question", at=old)
    await db.record_unanswered(guild_id=1, channel_id=1, text="recent question", at=recent)
    await db.record_answer(guild_id=1, channel_id=1, entry_id="a", via="channel", at=old)
    await db.record_answer(guild_id=1, channel_id=1, entry_id="a", via="channel", at=recent)
    await db.record_vote(message_id=1, entry_id="a", user_id=1, helpful=True, at=old)
    await db.record_vote(message_id=2, entry_id="a", user_id=1, helpful=True, at=recent)
    await db.add_answer_channel(1, 1)
    await db.record_kb_version(VersionRow("v1", old, "mod", "why", "summary"))

    assert await db.purge(retention_days=90) == 3
    assert await db.purge(retention_days=90) == 0
    stats = await db.stats(days=365)
    assert stats.answers == {"a": 1}
    assert stats.helpful == {"a": 1}
    assert [g.text for g in await db.unanswered(days=365)] == ["recent question"]
    assert (await db.guild_settings(1)).answer_channels == frozenset({1})
    assert [v.id for v in await db.kb_versions()] == ["v1"]


async def test_kb_versions_round_trip(db: Storage) -> None:
    rows = [
        VersionRow(f"v{i}", NOW - timedelta(hours=5 - i), "Dr. Mod", f"reason {i}", "+1 entry")
        for i in range(5)
    ]
    for row in rows:
        await db.record_kb_version(row)
    got = await db.kb_versions(limit=3)
    assert [v.id for v in got] == ["v4", "v3", "v2"]
    assert got[0].author == "Dr. Mod"
    assert got[0].reason == "reason 4"
    assert got[0].summary == "+1 entry"
    assert abs(got[0].created_at - rows[4].created_at) < timedelta(milliseconds=1)
    assert got[0].created_at.tzinfo is not None
    with pytest.raises(ValueError, match="already recorded"):
        await db.record_kb_version(rows[0])


async def test_naive_timestamps_are_utc(db: Storage) -> None:
    naive = datetime(2030, 1, 2, 3, 4, 5)
    await db.record_kb_version(VersionRow("naive", naive, "a", "r", "s"))
    (row,) = await db.kb_versions()
    assert row.created_at == naive.replace(tzinfo=UTC)


async def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not sqlite at all\x00\xff" * 100)
    with pytest.raises(StorageError, match="corrupt") as info:
        await Storage.open(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


async def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await (await Storage.open(path)).close()  # create it first
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError, match="locked") as info:
            await Storage.open(path, busy_timeout_ms=50)
        assert str(path) in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    path = blocker / "bot.sqlite3"
    with pytest.raises(StorageError, match="Cannot create or write") as info:
        await Storage.open(path)
    assert str(path) in str(info.value)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StorageError, match="newer"):
        await Storage.open(path)


async def test_use_after_close_is_a_storage_error(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    await storage.close()
    with pytest.raises(StorageError, match="closed"):
        await storage.get_meta("x")


async def test_concurrent_writes_are_serialised(db: Storage) -> None:
    results = await asyncio.gather(
        *(
            db.record_vote(message_id=1, entry_id="a", user_id=u % 10, helpful=True)
            for u in range(50)
        ),
        *(db.record_unanswered(guild_id=1, channel_id=1, text=f"q {i}") for i in range(20)),
    )
    assert results[:50].count(True) == 10
    assert (await db.stats()).helpful == {"a": 10}
    assert (await db.stats()).unanswered == 20


# -- issue 11: DM questions for home moderators, scrubbing, caps, deletion on request -------


async def test_dm_rows_are_included_only_when_asked(db: Storage) -> None:
    await db.record_answer(guild_id=1, channel_id=10, entry_id="a", via="channel", message_id=5)
    await db.record_answer(guild_id=None, channel_id=30, entry_id="b", via="dm", message_id=6)
    await db.record_answer(guild_id=2, channel_id=20, entry_id="c", via="channel", message_id=7)
    await db.record_vote(message_id=6, entry_id="b", user_id=1, helpful=True)
    await db.record_vote(message_id=7, entry_id="c", user_id=1, helpful=True)
    await db.record_unanswered(guild_id=1, channel_id=10, text="guild one question")
    await db.record_unanswered(guild_id=None, channel_id=30, text="a question in a DM")
    await db.record_unanswered(guild_id=2, channel_id=20, text="another server's question")

    assert [g.text for g in await db.unanswered(guild_id=1)] == ["guild one question"]
    with_dms = {g.text for g in await db.unanswered(guild_id=1, include_dms=True)}
    assert with_dms == {"guild one question", "a question in a DM"}

    stats = await db.stats(guild_id=1, include_dms=True)
    assert stats.answers == {"a": 1, "b": 1}
    assert stats.helpful == {"b": 1}
    assert stats.unanswered == 2
    assert (await db.stats(guild_id=1)).unanswered == 1

    assert await db.clear_unanswered(guild_id=1, include_dms=True) == 2
    assert [g.text for g in await db.unanswered()] == ["another server's question"]


async def test_personal_data_is_scrubbed_before_storing(db: Storage) -> None:
    await db.record_unanswered(
        guild_id=1,
        channel_id=2,
        text="reach me at jane.doe@clinic.org or +1 555 123 4567, "
        "see https://example.com/a?token=s3cr3t",
    )
    with sqlite3.connect(db.path) as conn:
        (stored,) = conn.execute("SELECT text FROM unanswered").fetchone()
    assert "jane.doe" not in stored
    assert "555" not in stored
    assert "s3cr3t" not in stored
    assert stored == "reach me at [email] or [phone], see https://example.com/a?[removed]"


async def test_unanswered_rows_capped_per_member_per_day(db: Storage) -> None:
    limits = {"member_daily_limit": 3, "server_daily_limit": 100}
    kept = [
        await db.record_unanswered(guild_id=1, channel_id=2, text=f"q{i}", user_id=7, **limits)
        for i in range(5)
    ]
    assert kept == [True, True, True, False, False]
    # Another member has their own budget; the member's budget covers DMs and servers alike.
    assert await db.record_unanswered(guild_id=1, channel_id=2, text="b", user_id=8, **limits)
    assert not await db.record_unanswered(
        guild_id=None, channel_id=3, text="dm", user_id=7, **limits
    )
    # Rows older than a day no longer count.
    yesterday = NOW - timedelta(days=1, minutes=1)
    assert await db.record_unanswered(
        guild_id=1, channel_id=2, text="next day", user_id=9, at=yesterday, **limits
    )
    for i in range(2):
        assert await db.record_unanswered(
            guild_id=1, channel_id=2, text=f"today {i}", user_id=9, **limits
        )
    with sqlite3.connect(db.path) as conn:
        per_member = dict(
            conn.execute("SELECT user_id, COUNT(*) FROM unanswered GROUP BY user_id").fetchall()
        )
    assert per_member == {7: 3, 8: 1, 9: 3}


async def test_unanswered_rows_capped_per_server_per_day_dms_one_pool(db: Storage) -> None:
    limits = {"member_daily_limit": 100, "server_daily_limit": 2}
    for user in (1, 2):
        assert await db.record_unanswered(
            guild_id=5, channel_id=1, text="x", user_id=user, **limits
        )
    assert not await db.record_unanswered(guild_id=5, channel_id=1, text="x", user_id=3, **limits)
    assert await db.record_unanswered(guild_id=6, channel_id=2, text="x", user_id=3, **limits)
    # All DMs share one pool, whoever writes.
    assert await db.record_unanswered(guild_id=None, channel_id=8, text="x", user_id=4, **limits)
    assert await db.record_unanswered(guild_id=None, channel_id=9, text="x", user_id=5, **limits)
    assert not await db.record_unanswered(
        guild_id=None, channel_id=10, text="x", user_id=6, **limits
    )
    assert (await db.stats()).unanswered == 5
    # 0 keeps none; None means no limit.
    assert not await db.record_unanswered(
        guild_id=7, channel_id=1, text="x", user_id=1, server_daily_limit=0
    )
    for _ in range(5):
        assert await db.record_unanswered(guild_id=5, channel_id=1, text="x", user_id=1)


async def test_forget_member_deletes_only_their_votes_and_questions(db: Storage) -> None:
    await db.record_vote(message_id=1, entry_id="a", user_id=7, helpful=True)
    await db.record_vote(message_id=2, entry_id="b", user_id=7, helpful=False)
    await db.record_vote(message_id=1, entry_id="a", user_id=8, helpful=True)
    await db.record_unanswered(guild_id=1, channel_id=2, text="mine", user_id=7)
    await db.record_unanswered(guild_id=None, channel_id=3, text="mine in a DM", user_id=7)
    await db.record_unanswered(guild_id=1, channel_id=2, text="theirs", user_id=8)

    assert await db.member_data(7) == ForgetResult(votes=2, unanswered=2)
    assert await db.forget_member(7) == ForgetResult(votes=2, unanswered=2)
    assert await db.member_data(7) == ForgetResult(votes=0, unanswered=0)
    assert await db.forget_member(7) == ForgetResult(votes=0, unanswered=0)
    assert [g.text for g in await db.unanswered()] == ["theirs"]
    assert (await db.stats()).helpful == {"a": 1}
    assert await db.member_data(8) == ForgetResult(votes=1, unanswered=1)


async def test_version_1_database_is_migrated_keeping_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO unanswered (created_at, guild_id, channel_id, text) "
            "VALUES (?, NULL, 3, 'an old DM question')",
            (NOW.timestamp(),),
        )
        conn.execute("PRAGMA user_version = 1")
    storage = await Storage.open(path)
    try:
        assert [g.text for g in await storage.unanswered()] == ["an old DM question"]
        assert await storage.record_unanswered(
            guild_id=1, channel_id=2, text="new", user_id=7, member_daily_limit=1
        )
        assert await storage.member_data(7) == ForgetResult(votes=0, unanswered=1)
    finally:
        await storage.close()


# -- false answers (issue 12) ----------------------------------------------------------------


async def test_false_answers_lists_not_helpful_and_dismissed_most_recent_first(
    db: Storage,
) -> None:
    async def answer(message_id: int, guild: int | None, text: str) -> None:
        await db.record_answer(
            guild_id=guild,
            channel_id=10,
            entry_id=f"e{message_id}",
            via="channel",
            message_id=message_id,
            text=text,
            user_id=7,
        )

    await answer(1, 1, "voted down, mail jo@example.org or <@123456>")
    await answer(2, 1, "dismissed")
    await answer(3, 1, "voted helpful only")
    await answer(4, None, "a DM, voted down")
    await answer(5, 2, "another server, voted down")
    await answer(6, 1, "voted down long ago")
    await db.record_vote(
        message_id=1, entry_id="e1", user_id=8, helpful=False, at=NOW - timedelta(hours=3)
    )
    await db.record_vote(
        message_id=1, entry_id="e1", user_id=9, helpful=True, at=NOW - timedelta(hours=3)
    )
    assert await db.record_dismissal(message_id=2, at=NOW - timedelta(hours=1))
    assert not await db.record_dismissal(message_id=2)  # already dismissed
    assert not await db.record_dismissal(message_id=999)  # no such answer
    await db.record_vote(message_id=3, entry_id="e3", user_id=8, helpful=True)
    await db.record_vote(
        message_id=4, entry_id="e4", user_id=8, helpful=False, at=NOW - timedelta(hours=2)
    )
    await db.record_vote(message_id=5, entry_id="e5", user_id=8, helpful=False)
    await db.record_vote(
        message_id=6, entry_id="e6", user_id=8, helpful=False, at=NOW - timedelta(days=40)
    )

    items = await db.false_answers(days=30, guild_id=1, include_dms=True)
    assert [i.entry_id for i in items] == ["e2", "e4", "e1"]
    dismissed, dm, voted = items
    assert dismissed.dismissed_at is not None
    assert (dismissed.helpful, dismissed.not_helpful) == (0, 0)
    assert dm.text == "a DM, voted down"
    assert (voted.helpful, voted.not_helpful, voted.dismissed_at) == (1, 1, None)
    assert voted.text is not None
    assert "example.org" not in voted.text
    assert "<@123456>" not in voted.text
    assert voted.last_at < dm.last_at < dismissed.last_at
    assert [i.entry_id for i in await db.false_answers(days=30, guild_id=1)] == ["e2", "e1"]
    assert len(await db.false_answers(days=60)) == 5
    assert await db.answered_text(voted.answer_id) == ("e1", voted.text)
    assert await db.answered_text(12345) is None


async def test_answer_text_is_optional_forgotten_on_request_and_purged(db: Storage) -> None:
    await db.record_answer(
        guild_id=1, channel_id=1, entry_id="a", via="ask", text="mine", user_id=7
    )
    await db.record_answer(guild_id=1, channel_id=1, entry_id="a", via="ask", user_id=7)
    await db.record_answer(
        guild_id=1,
        channel_id=1,
        entry_id="a",
        via="channel",
        text="old",
        user_id=8,
        at=NOW - timedelta(days=100),
    )
    assert await db.member_data(7) == ForgetResult(votes=0, unanswered=0, answered=1)
    assert await db.forget_member(7) == ForgetResult(votes=0, unanswered=0, answered=1)
    assert await db.member_data(7) == ForgetResult(votes=0, unanswered=0)
    assert (await db.stats()).answers == {"a": 2}  # the answers themselves stay counted
    assert await db.purge(retention_days=90) == 1
    assert await db.member_data(8) == ForgetResult(votes=0, unanswered=0)


async def test_version_2_database_is_migrated_keeping_answers(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        for migration in MIGRATIONS[:2]:
            for statement in migration:
                conn.execute(statement)
        conn.execute(
            "INSERT INTO answers (created_at, guild_id, channel_id, entry_id, via, message_id) "
            "VALUES (?, 1, 3, 'too-busy', 'channel', 77)",
            (NOW.timestamp(),),
        )
        conn.execute("PRAGMA user_version = 2")
    storage = await Storage.open(path)
    try:
        assert await storage.record_dismissal(message_id=77)
        (item,) = await storage.false_answers(days=1)
        assert (item.entry_id, item.text) == ("too-busy", None)
    finally:
        await storage.close()
