"""The one gate: each rule, cooldown recording, the member budget and bounded memory."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.service.gate import (
    Cooldowns,
    Gate,
    GateConfig,
    GateDecision,
    MemberBudget,
    MessageFacts,
    admit,
    is_command_for_another_bot,
    should_answer,
)

CONFIG = GateConfig(min_length=10, channel_cooldown_seconds=600, member_cooldown_seconds=120)


def facts(**changes: object) -> MessageFacts:
    base = MessageFacts(
        author_id=1,
        channel_id=100,
        guild_id=1000,
        content="I'm far too busy for Twitter",
        in_answer_channel=True,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def gate(msg: MessageFacts, cooldowns: Cooldowns | None = None, **kw: object) -> str:
    decision = should_answer(
        msg,
        now=kw.pop("now", 1000.0),  # type: ignore[arg-type]
        config=CONFIG,
        cooldowns=cooldowns or Cooldowns(),
        entry_id=kw.pop("entry_id", None),  # type: ignore[arg-type]
    )
    assert bool(decision) == decision.answer
    return decision.reason


def test_plain_objection_in_answer_channel_passes() -> None:
    assert gate(facts()) == "ok"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"is_self": True}, "self"),
        ({"is_system": True}, "system"),
        ({"is_webhook": True}, "webhook"),
        ({"author_is_bot": True}, "bot"),
        ({"content": "   "}, "empty"),
        ({"in_answer_channel": False}, "not-answer-channel"),
        ({"content": "too busy"}, "too-short"),
        ({"content": "!play I'm too busy for twitter"}, "command"),
    ],
)
def test_each_refusal(change: dict[str, object], reason: str) -> None:
    assert gate(facts(**change)) == reason


@pytest.mark.parametrize("addressed", [False, True])
def test_bots_webhooks_self_and_system_never_even_when_addressed(addressed: bool) -> None:
    for flag in ("is_self", "is_system", "is_webhook", "author_is_bot"):
        assert gate(facts(addressed=addressed, **{flag: True})) != "ok"


def test_addressed_messages_skip_channel_rules() -> None:
    cd = Cooldowns()
    msg = facts(addressed=True, in_answer_channel=False, content="busy")
    cd.hit(msg, "too-busy", now=999.0, config=CONFIG)
    assert gate(msg, cd, entry_id="too-busy") == "ok"
    assert gate(facts(addressed=True, content="")) == "empty"


@pytest.mark.parametrize(
    "text",
    [
        "!play",
        "?help me",
        ".w london",
        "/ask too busy",
        "$balance",
        "%rank",
        ">p song",
        "-ban someone",
        ";;q",
        "!!roll",
        "  !play with leading space",
    ],
)
def test_commands_for_other_bots(text: str) -> None:
    assert is_command_for_another_bot(text)


@pytest.mark.parametrize(
    "text",
    [
        "- I'm too busy for twitter",
        "> I'm too busy (a quote)",
        "... I don't have time",
        "?? what's the point of twitter",
        "I'm too busy!",
        "$$$ is the only thing that matters",
        "-",
    ],
)
def test_not_commands(text: str) -> None:
    assert not is_command_for_another_bot(text)


def test_min_length_counts_stripped_text() -> None:
    assert gate(facts(content="   123456789   ")) == "too-short"
    assert gate(facts(content="1234567890")) == "ok"


def test_channel_cooldown_per_entry() -> None:
    cd = Cooldowns()
    first = facts(author_id=1)
    cd.hit(first, "too-busy", now=1000.0, config=CONFIG)
    other_member = facts(author_id=2)
    assert gate(other_member, cd, entry_id="too-busy", now=1001.0) == "channel-cooldown"
    assert gate(other_member, cd, entry_id="too-short", now=1001.0) == "ok"
    assert gate(facts(author_id=2, channel_id=101), cd, entry_id="too-busy", now=1001.0) == "ok"
    assert gate(other_member, cd, entry_id="too-busy", now=1600.0) == "ok"


def test_member_cooldown() -> None:
    cd = Cooldowns()
    cd.hit(facts(author_id=1), "too-busy", now=1000.0, config=CONFIG)
    assert gate(facts(author_id=1, channel_id=5), cd, now=1100.0) == "member-cooldown"
    assert gate(facts(author_id=1, channel_id=5), cd, now=1120.0) == "ok"


def test_checking_does_not_record() -> None:
    cd = Cooldowns()
    for _ in range(3):
        assert gate(facts(), cd, entry_id="too-busy") == "ok"
    assert len(cd) == 0


def test_zero_cooldowns_disable_them() -> None:
    cd = Cooldowns()
    config = GateConfig(min_length=0, channel_cooldown_seconds=0, member_cooldown_seconds=0)
    cd.hit(facts(), "too-busy", now=1000.0, config=config)
    decision = should_answer(facts(), now=1000.0, config=config, cooldowns=cd, entry_id="too-busy")
    assert decision.answer


def test_memory_is_bounded_and_expired_keys_go_first() -> None:
    cd = Cooldowns(max_keys=100)
    live = facts(author_id=424242, channel_id=7)
    cd.hit(live, "kept", now=0.0, config=GateConfig(channel_cooldown_seconds=10**9))
    for i in range(1000):
        cd.hit(facts(author_id=i, channel_id=i), f"e{i}", now=float(i), config=CONFIG)
        assert len(cd) <= 100
    # Old short-lived keys expired and were dropped; the newest survive.
    assert cd.channel_until(999, "e999") > 999
    assert cd.channel_until(0, "e0") == 0.0


def test_invalid_max_keys() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        Cooldowns(max_keys=0)


# ---------------------------------------------------------------- the member budget


def test_budget_allows_a_burst_then_refills_one_at_a_time() -> None:
    budget = MemberBudget(5, 60.0)
    assert [budget.take(1, now=100.0) for _ in range(5)] == [0.0] * 5
    assert budget.take(1, now=100.0) == pytest.approx(12.0)
    # Refused requests spend nothing: the wait does not grow.
    assert budget.take(1, now=100.0) == pytest.approx(12.0)
    assert budget.take(1, now=106.0) == pytest.approx(6.0)
    assert budget.retry_after(1, now=106.0) == pytest.approx(6.0)
    assert budget.take(1, now=112.0) == 0.0
    assert budget.take(1, now=112.0) == pytest.approx(12.0)
    # After a quiet minute the whole burst is back, never more.
    assert [budget.take(1, now=1000.0) for _ in range(6)].count(0.0) == 5


def test_budget_is_per_member() -> None:
    budget = MemberBudget(2, 60.0)
    assert budget.take(1, now=0.0) == budget.take(1, now=0.0) == 0.0
    assert budget.take(1, now=0.0) > 0
    assert budget.take(2, now=0.0) == 0.0
    assert budget.retry_after(3, now=0.0) == 0.0


def test_budget_zero_is_off_and_keeps_nothing() -> None:
    budget = MemberBudget(0, 60.0)
    assert not budget.enabled
    assert all(budget.take(1, now=0.0) == 0.0 for _ in range(100))
    assert budget.retry_after(1, now=0.0) == 0.0
    assert len(budget) == 0


def test_budget_memory_is_bounded_and_refilled_members_go_first() -> None:
    budget = MemberBudget(2, 10.0, max_members=100)
    busy = 424242
    assert budget.take(busy, now=0.0) == budget.take(busy, now=0.0) == 0.0
    for i in range(99):
        budget.take(i, now=0.0)
    assert len(budget) == 100
    assert budget.take(busy, now=9.0) == 0.0  # 1.8 refilled, 0.8 left
    # At 10.5 s the 99 others have refilled (as good as never seen): they go first.
    for i in range(1000, 1050):
        budget.take(i, now=10.5)
        assert len(budget) <= 100
    assert len(budget) == 51
    assert budget.take(busy, now=10.5) == 0.0  # 1.1 left
    assert budget.take(busy, now=10.5) > 0  # remembered: a new member would have 2
    # When every member is live, the least recently active are evicted.
    for i in range(5000, 6000):
        budget.take(i, now=11.0)
        assert len(budget) <= 100
    assert budget.take(5999, now=11.0) == 0.0
    assert budget.take(5999, now=11.0) > 0


@pytest.mark.parametrize(
    ("capacity", "seconds", "members", "match"),
    [(-1, 60.0, 10, "capacity"), (5, 0.0, 10, "per_seconds"), (5, 60.0, 0, "max_members")],
)
def test_budget_invalid_arguments(capacity: int, seconds: float, members: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MemberBudget(capacity, seconds, max_members=members)


@given(
    capacity=st.integers(1, 6),
    seconds=st.floats(1.0, 120.0),
    gaps=st.lists(st.floats(0.0, 20.0), min_size=1, max_size=80),
)
def test_budget_never_allows_more_than_capacity_plus_refill(
    capacity: int, seconds: float, gaps: list[float]
) -> None:
    budget = MemberBudget(capacity, seconds)
    now, allowed = 0.0, []
    for gap in gaps:
        now += gap
        if budget.take(1, now=now) == 0.0:
            allowed.append(now)
    # In any stretch of time, at most the burst plus what refilled meanwhile.
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            span = allowed[j] - start
            assert j - i + 1 <= capacity + span * capacity / seconds + 1e-9


def test_admit_spends_and_reports_the_wait() -> None:
    budget = MemberBudget(1, 30.0)
    assert admit(1, now=0.0, budget=budget).reason == "ok"
    refused = admit(1, now=0.0, budget=budget)
    assert not refused
    assert refused.reason == "member-budget"
    assert refused.retry_after == pytest.approx(30.0)
    assert admit(1, now=0.0, budget=None).answer


def test_addressed_messages_spend_the_budget_even_empty_ones() -> None:
    budget = MemberBudget(2, 60.0)

    def ask(msg: MessageFacts) -> GateDecision:
        return should_answer(msg, now=0.0, config=CONFIG, cooldowns=Cooldowns(), budget=budget)

    assert ask(facts(addressed=True, content="")).reason == "empty"
    assert ask(facts(addressed=True)).reason == "ok"
    over = ask(facts(addressed=True, content=""))
    assert over.reason == "member-budget"
    assert over.retry_after == pytest.approx(30.0)
    # Channel messages and bots do not spend it.
    assert ask(facts()).reason == "ok"
    assert ask(facts(author_id=2, addressed=True, author_is_bot=True)).reason == "bot"
    assert budget.retry_after(2, now=0.0) == 0.0


# ---------------------------------------------------------------- the Gate object


def answer(g: Gate, msg: MessageFacts, entry_id: str, *, now: float) -> str:
    """Hold ``entry_id`` for ``msg`` and send it at ``now`` when the gate lets it."""
    with g.hold(msg, entry_id, now=now) as held:
        if held:
            held.sent(now)
        return held.reason


def test_gate_screen_keeps_out_what_no_channel_would_answer() -> None:
    g = Gate(CONFIG)
    plain = facts(in_answer_channel=False)  # the channel is not known yet
    assert g.screen(plain, now=0.0).reason == "ok"
    assert g.screen(dataclasses.replace(plain, author_is_bot=True), now=0.0).reason == "bot"
    assert g.screen(dataclasses.replace(plain, content="!play x y z"), now=0.0).reason == (
        "command"
    )
    assert g.screen(dataclasses.replace(plain, content="too busy"), now=0.0).reason == ("too-short")
    assert answer(g, plain, "too-busy", now=0.0) == "ok"
    assert g.screen(plain, now=1.0).reason == "member-cooldown"


def test_gate_hold_reserves_the_cooldowns_while_it_lasts() -> None:
    g = Gate(CONFIG)
    with g.hold(facts(), "too-busy", now=0.0) as first:
        assert first.reason == "ok"
        # Same member (another channel), or same entry in this channel by another member.
        assert answer(g, facts(channel_id=200), "patient-privacy", now=0.0) == "in-flight"
        assert answer(g, facts(author_id=2), "too-busy", now=0.0) == "in-flight"
        with g.hold(facts(author_id=2), "patient-privacy", now=0.0) as other:
            assert other.reason == "ok"
            assert g.in_flight() == 4  # two answers: a channel key and a member key each
        # ``other`` was not sent: nothing started, its keys are free again.
        assert g.in_flight() == 2
    assert g.in_flight() == 0
    assert len(g.cooldowns) == 0
    assert answer(g, facts(channel_id=200), "patient-privacy", now=5.0) == "ok"
    assert g.cooldowns.member_until(1) == 5.0 + CONFIG.member_cooldown_seconds
    assert g.cooldowns.channel_until(200, "patient-privacy") == (
        5.0 + CONFIG.channel_cooldown_seconds
    )
    assert answer(g, facts(channel_id=300), "other", now=6.0) == "member-cooldown"
    assert answer(g, facts(author_id=3, channel_id=200), "patient-privacy", now=6.0) == (
        "channel-cooldown"
    )


def test_gate_hold_ends_when_the_send_fails() -> None:
    g = Gate(CONFIG)

    def send_and_fail() -> None:
        with g.hold(facts(), "too-busy", now=0.0) as held:
            assert held
            raise ConnectionError("the reply failed")

    with pytest.raises(ConnectionError):
        send_and_fail()
    assert g.in_flight() == 0
    assert len(g.cooldowns) == 0
    assert answer(g, facts(), "too-busy", now=1.0) == "ok"


def test_gate_hold_uses_the_channel_config() -> None:
    g = Gate(CONFIG)
    off = GateConfig(min_length=10, channel_cooldown_seconds=0, member_cooldown_seconds=0)
    with g.hold(facts(), "too-busy", now=0.0, config=off) as one:
        assert one.reason == "ok"
        assert g.in_flight() == 0  # cooldowns that are off hold nothing
        one.sent(0.0)
    with g.hold(facts(), "too-busy", now=1.0, config=off) as two:
        assert two.reason == "ok"
    short = GateConfig(min_length=10, channel_cooldown_seconds=10, member_cooldown_seconds=0)
    with g.hold(facts(), "too-busy", now=2.0, config=short) as three:
        three.sent(2.0)
    assert g.cooldowns.channel_until(100, "too-busy") == 12.0  # not the gate's 600 s


class Channels:
    """A channel lookup: channel 100 is answered with ``CONFIG``; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, msg: MessageFacts) -> GateConfig | None:
        self.calls += 1
        return CONFIG if msg.channel_id == 100 or msg.in_answer_channel else None


async def test_gate_screen_channel_looks_up_the_channel_after_the_cheap_rules() -> None:
    lookup = Channels()
    g = Gate(GateConfig(), channels=lookup)
    plain = facts(in_answer_channel=False)
    bot = await g.screen_channel(dataclasses.replace(plain, author_is_bot=True), now=0.0)
    assert bot.reason == "bot"
    assert lookup.calls == 0  # no settings read for a bot's message
    passed = await g.screen_channel(plain, now=0.0)
    assert passed.reason == "ok"
    assert passed.config is CONFIG
    elsewhere = await g.screen_channel(dataclasses.replace(plain, channel_id=200), now=0.0)
    assert elsewhere.reason == "not-answer-channel"
    assert elsewhere.config is None
    watched = await g.screen_channel(facts(channel_id=200), now=0.0)  # a watched forum's post
    assert watched.config is CONFIG
    assert lookup.calls == 3


async def test_gate_screen_channel_without_a_lookup_answers_known_channels_only() -> None:
    g = Gate(CONFIG)
    assert (await g.screen_channel(facts(), now=0.0)).config is CONFIG
    unknown = await g.screen_channel(facts(in_answer_channel=False), now=0.0)
    assert unknown.reason == "not-answer-channel"
    # An addressed message is screened here as an unprompted one: no budget is spent.
    g = Gate(CONFIG, budget=MemberBudget(1, 60.0))
    assert (await g.screen_channel(facts(addressed=True), now=0.0)).reason == "ok"
    assert g.request(1, now=0.0).reason == "ok"


def test_gate_budget_serves_mentions_and_requests() -> None:
    g = Gate(CONFIG, budget=MemberBudget(2, 60.0))
    assert g.screen(facts(addressed=True, content=""), now=0.0).reason == "empty"
    assert g.request(1, now=0.0).reason == "ok"
    over = g.request(1, now=0.0)
    assert over.reason == "member-budget"
    assert g.screen(facts(addressed=True), now=0.0).reason == "member-budget"
    assert Gate(CONFIG).request(1, now=0.0).reason == "ok"  # no budget: no limit
