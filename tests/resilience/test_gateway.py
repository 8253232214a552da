"""Gateway faults with the real bot: every objection answered exactly once.

Each fault is one Discord really produces: close frames 1000/1001/4000/4008/4009, an abrupt
TCP drop (1006, no close frame), INVALID_SESSION (resumable or not) and heartbeat ACKs that
stop coming. After each, the bot resumes (and answers the events replayed on RESUME) or
re-identifies. Cooldowns are off here so the gate never suppresses a legitimate answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.bot import WhyTwitterBot
from bot.service.live import LiveKnowledge
from tests.fakediscord import FakeDiscord
from tests.resilience.conftest import (
    CHIT_CHAT,
    EXPECTED_ENTRY,
    OBJECTION,
    OBJECTION_2,
    World,
    wait_answers,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[FakeDiscord], Awaitable[None]]
    resumable: bool
    """True: the session survives and events sent meanwhile are replayed on RESUME."""


def _close(code: int) -> Callable[[FakeDiscord], Awaitable[None]]:
    async def inject(fake: FakeDiscord) -> None:
        await fake.close_gateway(code)

    return inject


async def _drop(fake: FakeDiscord) -> None:
    await fake.drop_gateway()


async def _invalid_resumable(fake: FakeDiscord) -> None:
    await fake.invalidate_session(resumable=True)


async def _invalid_not_resumable(fake: FakeDiscord) -> None:
    await fake.invalidate_session(resumable=False)


async def _reconnect_request(fake: FakeDiscord) -> None:
    await fake.request_reconnect()


async def _acks_stop(fake: FakeDiscord) -> None:
    fake.stop_heartbeat_acks()
    before = fake.connections
    await fake.wait_until(lambda: fake.connections > before, timeout=10, what="a reconnect")
    fake.resume_heartbeat_acks()


FAULTS = [
    Fault("close-1000", _close(1000), resumable=True),
    Fault("close-1001", _close(1001), resumable=True),
    Fault("drop-1006", _drop, resumable=True),
    Fault("close-4000", _close(4000), resumable=True),
    Fault("close-4008", _close(4008), resumable=True),
    Fault("close-4009", _close(4009), resumable=False),
    Fault("invalid-session-resumable", _invalid_resumable, resumable=True),
    Fault("invalid-session", _invalid_not_resumable, resumable=False),
    Fault("op7-reconnect", _reconnect_request, resumable=True),
    Fault("heartbeat-acks-stop", _acks_stop, resumable=True),
]


def _bot(world: World) -> WhyTwitterBot:
    """The bot with a short heartbeat timeout, so silent servers are noticed in ~0.5 s."""
    settings = world.settings
    knowledge = LiveKnowledge(settings.knowledge_dir, settings.thresholds)
    return WhyTwitterBot(settings, knowledge, watch=False, heartbeat_timeout=0.5)


async def _connected(fake: FakeDiscord, bot: WhyTwitterBot, connections: int) -> None:
    """Wait until a new connection is up and the bot's session is live again."""
    await fake.wait_until(
        lambda: (
            fake.connections > connections
            and any(s.alive and s.conn is not None for s in fake._sessions.values())
            and not bot.is_ws_ratelimited()
            and all(not shard.is_closed() for shard in bot.shards.values())
        ),
        timeout=10,
        what="the bot to be connected again",
    )


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_each_fault_resumes_or_reidentifies_and_loses_nothing(
    world: World, fault: Fault
) -> None:
    fake = world.fake
    fake.heartbeat_interval_ms = 200
    channel, alice, bob = world.channels[0], world.members[0], world.members[1]
    async with world.running(_bot(world)) as bot:
        before = await fake.send_message(channel, alice, OBJECTION)
        await wait_answers(world, lambda a: int(before["id"]) in a, "the first answer")
        connections, identifies = fake.connections, len(fake.identify_payloads)

        await fault.inject(fake)
        during = None
        if fault.resumable:  # Discord buffers it for the session and replays it on RESUME
            during = await fake.send_message(channel, bob, OBJECTION_2)
        await _connected(fake, bot, connections)
        after = await fake.send_message(world.channels[1], alice, OBJECTION)
        chat = await fake.send_message(world.channels[1], bob, CHIT_CHAT)
        sent = [before, after] + ([during] if during else [])
        await wait_answers(
            world, lambda a: all(int(m["id"]) in a for m in sent), "every objection answered"
        )
        # Chit-chat was sent before the last answer's request: nothing more may follow.
        await fake.send_message(world.channels[1], alice, OBJECTION)
        await wait_answers(world, lambda a: len(a) == len(sent) + 1, "the last answer")

    answers = world.answers_by_message()
    assert all(ids == [EXPECTED_ENTRY] for ids in answers.values()), answers
    assert int(chat["id"]) not in answers
    if fault.resumable:
        assert fake.resumes >= 1
        assert len(fake.identify_payloads) == identifies
    else:
        assert len(fake.identify_payloads) == identifies + 1


async def test_twenty_drops_in_one_run_answer_every_objection_exactly_once(world: World) -> None:
    fake = world.fake
    fake.heartbeat_interval_ms = 200
    members = itertools.cycle(world.members)
    texts = itertools.cycle([OBJECTION, OBJECTION_2])
    sent: list[int] = []

    async def objection(channel: int) -> None:
        message = await fake.send_message(channel, next(members), next(texts))
        sent.append(int(message["id"]))

    async with world.running(_bot(world)) as bot:
        faults = [FAULTS[i % len(FAULTS)] for i in range(20)]
        for round_no, fault in enumerate(faults):
            channel = world.channels[round_no % len(world.channels)]
            await objection(channel)
            await objection(channel)
            connections = fake.connections
            await fault.inject(fake)
            if fault.resumable:
                await objection(channel)  # replayed on RESUME
            await _connected(fake, bot, connections)
            await objection(channel)
        await wait_answers(
            world, lambda a: all(m in a for m in sent), f"{len(sent)} answers", timeout=20
        )
        # One more objection after everything: when it is answered, no late duplicate of an
        # earlier one can still be in flight unnoticed.
        await objection(world.channels[0])
        await wait_answers(world, lambda a: sent[-1] in a, "the last answer")

    answers = world.answers_by_message()
    assert set(answers) == set(sent)
    duplicated = {m: ids for m, ids in answers.items() if len(ids) != 1}
    assert duplicated == {}
    assert all(ids == [EXPECTED_ENTRY] for ids in answers.values())
    assert fake.resumes >= 10


async def _rewind_sequence(fake: FakeDiscord, bot: WhyTwitterBot, events: int) -> None:
    """Make the next RESUME ask for the last ``events`` events again, as when Discord replays
    events whose delivery it never saw acknowledged."""
    (shard,) = (info._parent for info in bot.shards.values())
    (session,) = fake._sessions.values()
    await fake.wait_until(lambda: shard.ws.sequence == session.seq, what="every event received")
    shard.ws.sequence = session.seq - events


async def test_events_replayed_after_being_answered_are_not_answered_twice(world: World) -> None:
    fake = world.fake
    channel, alice, bob = world.channels[0], world.members[0], world.members[1]
    assert fake.bot_user is not None
    async with world.running(_bot(world)) as bot:
        answered = await fake.send_message(channel, alice, OBJECTION)
        mention = await fake.send_message(channel, bob, f"{fake.bot_user.mention} {OBJECTION_2}")
        dm = await fake.send_message(fake.dm_channel(alice), alice, OBJECTION)
        firsts = [int(m["id"]) for m in (answered, mention, dm)]
        await wait_answers(world, lambda a: all(m in a for m in firsts), "three answers")
        seq_events = fake.connections
        # Everything since the first message is replayed: 3 messages + the bot's own replies.
        await _rewind_sequence(fake, bot, 6)
        await fake.drop_gateway()
        await _connected(fake, bot, seq_events)
        assert fake.resumes == 1
        later = await fake.send_message(channel, alice, OBJECTION_2)
        await wait_answers(world, lambda a: int(later["id"]) in a, "the answer after the replay")

    answers = world.answers_by_message()
    assert {m: len(ids) for m, ids in answers.items()} == {
        m: 1 for m in [*firsts, int(later["id"])]
    }


def test_recent_ids_is_bounded_and_forgets_the_oldest() -> None:
    from bot.cogs.answers import RecentIds

    seen = RecentIds(capacity=3)
    assert [seen.add(i) for i in (1, 2, 3, 1)] == [True, True, True, False]
    assert seen.add(4)  # evicts 1
    assert len(seen) == 3
    assert seen.add(1)
    assert not seen.add(4)
