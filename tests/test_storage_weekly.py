"""Storage.weekly_stats: UTC Monday weeks, the period's edges, the guild filter, and totals
that agree with Storage.stats."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import Storage

# A Wednesday: 30 days back is Monday 26 October 12:00, so the period touches five weeks.
UNTIL = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=30)
MONDAYS = tuple(date(2026, 10, 26) + timedelta(weeks=i) for i in range(5))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    yield storage
    await storage.close()


async def answer(
    db: Storage, at: datetime, entry: str = "too-busy", guild: int | None = 1, message: int = 0
) -> None:
    await db.record_answer(
        guild_id=guild, channel_id=9, entry_id=entry, via="channel", message_id=message, at=at
    )


async def test_weeks_are_utc_mondays_covering_the_period(db: Storage) -> None:
    weekly = await db.weekly_stats(days=30, until=UNTIL)
    assert weekly.since == SINCE
    assert weekly.until == UNTIL
    assert weekly.weeks == MONDAYS
    assert weekly.answers == {}
    assert weekly.helpful == weekly.not_helpful == weekly.unanswered == (0,) * 5

    one_day = await db.weekly_stats(days=0, until=UNTIL)
    assert one_day.weeks == (date(2026, 11, 23),)
    sunday_to_monday = await db.weekly_stats(days=1, until=datetime(2026, 11, 30, 1, tzinfo=UTC))
    assert sunday_to_monday.weeks == (date(2026, 11, 23), date(2026, 11, 30))
    naive = await db.weekly_stats(days=30, until=UNTIL.replace(tzinfo=None))
    assert naive.weeks == MONDAYS
    with pytest.raises(ValueError, match="days"):
        await db.weekly_stats(days=-1)


async def test_rows_land_in_their_week_and_the_edges_are_kept(db: Storage) -> None:
    second = timedelta(seconds=1)
    await answer(db, SINCE - second)  # before the period: left out
    await answer(db, SINCE)  # first instant: week 0
    await answer(db, datetime(2026, 11, 2, tzinfo=UTC) - second)  # Sunday 23:59:59: week 0
    await answer(db, datetime(2026, 11, 2, tzinfo=UTC))  # Monday 00:00: week 1
    await answer(db, datetime(2026, 11, 18, 9, tzinfo=UTC), entry="privacy")  # week 3
    await answer(db, UNTIL)  # last instant: week 4
    await answer(db, UNTIL + second)  # after the period: left out
    for at in (SINCE + timedelta(days=8), UNTIL - timedelta(hours=1), UNTIL + timedelta(hours=1)):
        await db.record_unanswered(guild_id=1, channel_id=9, text="what about pizza", at=at)

    weekly = await db.weekly_stats(days=30, until=UNTIL)
    assert weekly.answers == {"too-busy": (2, 1, 0, 0, 1), "privacy": (0, 0, 0, 1, 0)}
    assert weekly.unanswered == (0, 1, 0, 0, 1)


async def test_votes_count_in_the_week_they_were_cast(db: Storage) -> None:
    monday = datetime(2026, 11, 9, 10, tzinfo=UTC)
    await answer(db, monday, message=70)
    for user, helpful in ((1, True), (2, True), (3, False)):
        await db.record_vote(
            message_id=70, entry_id="too-busy", user_id=user, helpful=helpful, at=monday
        )
    # member 2 changes their mind the same day: still one vote, in that week
    await db.record_vote(
        message_id=70, entry_id="too-busy", user_id=2, helpful=False, at=monday + timedelta(hours=3)
    )
    # member 1 votes again a week later: one vote per member per entry per day, so a new one
    await db.record_vote(
        message_id=70, entry_id="too-busy", user_id=1, helpful=True, at=monday + timedelta(weeks=1)
    )
    weekly = await db.weekly_stats(days=30, until=UNTIL)
    assert weekly.helpful == (0, 0, 1, 1, 0)
    assert weekly.not_helpful == (0, 0, 2, 0, 0)


async def test_guild_filter_matches_stats(db: Storage) -> None:
    at = datetime(2026, 11, 10, tzinfo=UTC)
    await answer(db, at, guild=1, message=71)
    await answer(db, at, guild=2, message=72, entry="privacy")
    await answer(db, at, guild=None, message=73, entry="dm-only")
    await db.record_vote(message_id=71, entry_id="too-busy", user_id=1, helpful=True, at=at)
    await db.record_vote(message_id=72, entry_id="privacy", user_id=1, helpful=False, at=at)
    await db.record_unanswered(guild_id=1, channel_id=9, text="one", at=at)
    await db.record_unanswered(guild_id=2, channel_id=9, text="two", at=at)

    one = await db.weekly_stats(days=30, guild_id=1, until=UNTIL)
    assert one.answers == {"too-busy": (0, 0, 1, 0, 0)}
    assert (one.helpful, one.not_helpful, one.unanswered) == (
        (0, 0, 1, 0, 0),
        (0,) * 5,
        (0, 0, 1, 0, 0),
    )
    two = await db.weekly_stats(days=30, guild_id=2, until=UNTIL)
    assert two.answers == {"privacy": (0, 0, 1, 0, 0)}
    assert (two.helpful, two.not_helpful) == ((0,) * 5, (0, 0, 1, 0, 0))
    everything = await db.weekly_stats(days=30, until=UNTIL)
    assert set(everything.answers) == {"too-busy", "privacy", "dm-only"}
    assert sum(everything.unanswered) == 2


@pytest.mark.parametrize("guild", [None, 1])
async def test_totals_agree_with_stats(db: Storage, guild: int | None) -> None:
    rng = random.Random(15)
    now = datetime.now(UTC)
    entries = ["too-busy", "privacy", "no-value", "trolls"]
    for n in range(120):
        # whole days plus a margin keep rows away from the 30-day edge stats() computes itself
        at = now - timedelta(days=rng.randrange(0, 60), hours=1 + rng.random() * 20)
        g = rng.choice([1, 2, None])
        await answer(db, at, entry=rng.choice(entries), guild=g, message=1000 + n)
        if rng.random() < 0.5:
            await db.record_vote(
                message_id=1000 + n, entry_id="x", user_id=n, helpful=rng.random() < 0.7, at=at
            )
        if rng.random() < 0.3:
            await db.record_unanswered(guild_id=g, channel_id=9, text=f"q{n}", at=at)

    weekly = await db.weekly_stats(days=30, guild_id=guild)
    stats = await db.stats(days=30, guild_id=guild)
    assert {e: sum(c) for e, c in weekly.answers.items()} == stats.answers
    assert sum(weekly.helpful) == sum(stats.helpful.values())
    assert sum(weekly.not_helpful) == sum(stats.not_helpful.values())
    assert sum(weekly.unanswered) == stats.unanswered
    assert sum(stats.answers.values()) > 0
    assert all(len(c) == len(weekly.weeks) for c in weekly.answers.values())
