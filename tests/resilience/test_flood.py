"""A scaled-down flood (the full 2,000 messages / 20 s run is ``make bench``, section e2e):
300 messages from 50 members in 5 channels (objections, chit-chat, other bots) as fast as the
fake takes them, with the fake's rate limits on. Every message the gate answers (same rules,
same matcher, in order) is answered, nothing else is, the cooldowns hold, and the bot never
loses a reply to a 429. No timing assertions: latency and lag are reported by the bench."""

from __future__ import annotations

import pytest

from bench.e2e import flood

pytestmark = pytest.mark.e2e


async def test_flood_answers_exactly_what_the_gate_allows() -> None:
    result = await flood(messages=300, seconds=1.5, warmup=10, rate_limit=(3, 0.5))
    assert result.sent == 300
    assert result.expected, "the plan should contain answerable objections"
    assert set(result.answered) == result.expected
    assert all(len(entries) == 1 for entries in result.answered.values())
    assert result.member_twice == []
    assert result.channel_entry_twice == []
    # The bot (discord.py's limiter) honours the fake's rate-limit headers: never a 429.
    assert result.violations == 0
