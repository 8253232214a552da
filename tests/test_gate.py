"""The one gate: each rule, cooldown recording and bounded memory."""

from __future__ import annotations

import dataclasses

import pytest

from bot.gate import (
    Cooldowns,
    GateConfig,
    MessageFacts,
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
