"""End-to-end figures over the fake Discord (``make bench``, section ``e2e``).

The real ``WhyTwitterBot`` runs in this process against ``tests/fakediscord`` (REST + zlib-stream
gateway on 127.0.0.1), so RSS figures include the fake and the test harness: read them as an
upper bound for the bot. Measured:

- message→reply latency p50/p99 at ~50 msg/s (cooldowns off so every objection is answered);
- interaction (``/ask``)→callback latency p50/p99;
- a flood: 2,000 messages in ~20 s from 50 members in 5 channels (objections, chit-chat, bots)
  with the fake's rate limits on: answers vs the gate's expectation, rate-limit violations,
  RSS after warm-up vs after the flood, event-loop lag (a 10 ms probe task);
- a member's flood: 40 mentions from one member, then one from another, with the fake's rate
  limits on (3 messages per 0.5 s per channel): the flooder's replies (the member budget) and
  how long the other member waits for the answer;
- peak RSS of refusing an alias-bomb upload (a subprocess, so the figure is its own).

``flood()`` is reused, scaled down, by ``tests/resilience/test_flood.py``.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.kb.loader import BUNDLED_DIR, load_knowledge  # noqa: E402
from bot.matching.factory import build_matcher  # noqa: E402
from bot.matching.types import Outcome  # noqa: E402
from bot.service.gate import Gate, GateConfig, MessageFacts  # noqa: E402

CHIT_CHAT = (
    "did you see the game last night",
    "anyone up for lunch at noon?",
    "the coffee machine on 4 is broken again",
    "congrats to the residents who matched!",
    "parking garage closes early today",
)


def rss_mb() -> float:
    """Current resident set size of this process (MB, from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class LagProbe:
    """Sleeps 10 ms in a loop and records how late each wake-up is (event-loop lag)."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(loop.time() - start - self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return max(self.lags, default=0.0)


@contextmanager
def _quiet_logs() -> Iterator[None]:
    import logging

    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


@dataclass
class FloodResult:
    sent: int = 0
    expected: set[int] = field(default_factory=set)
    answered: dict[int, list[str | None]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    violations: int = 0
    max_lag: float = 0.0
    rss_warm: float = 0.0
    rss_after: float = 0.0
    member_twice: list[int] = field(default_factory=list)
    channel_entry_twice: list[tuple[int, str]] = field(default_factory=list)
    elapsed: float = 0.0


def objection_texts() -> list[tuple[str, str]]:
    """(text, entry id) from every objection's own examples (``check`` guarantees them)."""
    kb = load_knowledge(BUNDLED_DIR)
    return [(ex, o.id) for o in kb.objections for ex in o.examples]


async def flood(
    *,
    messages: int,
    seconds: float,
    members: int = 50,
    channels: int = 5,
    cooldowns: bool = True,
    rate_limit: tuple[int, float] | None = (5, 1.0),
    warmup: int = 50,
    seed: int = 1,
) -> FloodResult:
    """Send ``messages`` over ``seconds`` through the fake and collect what the bot answered."""
    from bot.runner import required_permissions
    from tests.cogs.helpers import BotEnv
    from tests.fakediscord import FakeDiscord, User, point_discord_at, running_client

    rng = random.Random(seed)
    result = FloodResult()
    objections = objection_texts()
    with tempfile.TemporaryDirectory() as tmp, _quiet_logs():
        fake = FakeDiscord()
        await fake.start()
        try:
            with point_discord_at(fake):
                guild = fake.add_guild("Flood", bot_permissions=required_permissions().value)
                chans = [fake.add_channel(guild, f"c{i}") for i in range(channels)]
                people = [User.human(f"m{i}") for i in range(members)]
                bots = [User.bot_user(f"b{i}") for i in range(3)]
                for person in [*people, *bots]:
                    fake.add_member(guild, person)
                off = {} if cooldowns else {"channel_cooldown_minutes": 0.0}
                if not cooldowns:
                    off["member_cooldown_minutes"] = 0.0
                env = BotEnv(fake, Path(tmp), answer_channel_ids=chans, **off)
                settings = env.settings()
                bot = env.make_bot(settings)
                async with running_client(bot, fake):
                    # Warm-up (not counted), then the measured flood with rate limits on.
                    for i in range(warmup):
                        await fake.send_message(chans[i % channels], bots[0], "warm-up chatter")
                        await fake.send_message(chans[i % channels], people[0], CHIT_CHAT[0])
                    await asyncio.sleep(0.5)
                    gc.collect()
                    result.rss_warm = rss_mb()
                    if rate_limit is not None:
                        fake.enable_rate_limits(*rate_limit)
                    plan = _plan(rng, messages, chans, people, bots, objections)
                    model = _expected(plan, settings_gate(settings), fake.bot_user.id)
                    probe = LagProbe()
                    probe.start()
                    sent_at: dict[int, float] = {}
                    start = time.monotonic()
                    for i, (channel, author, text) in enumerate(plan):
                        due = start + i * seconds / messages
                        delay = due - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        msg = await fake.send_message(channel, author, text)
                        sent_at[int(msg["id"])] = time.monotonic()
                        if model[i]:
                            result.expected.add(int(msg["id"]))
                    result.sent = len(plan)
                    await fake.wait_until(
                        lambda: _answered(fake).keys() >= result.expected,
                        timeout=60 + seconds,
                        what="every expected answer",
                    )
                    await asyncio.sleep(0.3)  # anything unexpected still in flight
                    result.elapsed = time.monotonic() - start
                    result.max_lag = await probe.stop()
                    gc.collect()
                    result.rss_after = rss_mb()
                    result.answered = _answered(fake)
                    for reply in _replies(fake):
                        target = int(reply["message_reference"]["message_id"])
                        if target in sent_at:
                            result.latencies.append(reply["_at"] - sent_at[target])
                    result.violations = len(fake.rate_limit_violations)
                    _check_cooldowns(result, fake, plan_ids=sent_at)
        finally:
            await fake.stop()
    return result


def settings_gate(settings: Any) -> GateConfig:
    return GateConfig(
        min_length=settings.min_message_length,
        channel_cooldown_seconds=settings.channel_cooldown_minutes * 60,
        member_cooldown_seconds=settings.member_cooldown_minutes * 60,
    )


def _plan(
    rng: random.Random,
    n: int,
    chans: list[int],
    people: list[Any],
    bots: list[Any],
    objections: list[tuple[str, str]],
) -> list[tuple[int, Any, str]]:
    plan = []
    for _ in range(n):
        roll = rng.random()
        channel = rng.choice(chans)
        if roll < 0.4:
            plan.append((channel, rng.choice(people), rng.choice(objections)[0]))
        elif roll < 0.85:
            plan.append((channel, rng.choice(people), rng.choice(CHIT_CHAT)))
        else:
            plan.append((channel, rng.choice(bots), rng.choice(objections)[0]))
    return plan


def _expected(plan: list[tuple[int, Any, str]], config: GateConfig, me: int) -> list[bool]:
    """Which messages the gate answers, in order, with the same rules and the same matcher."""
    matcher = build_matcher(load_knowledge(BUNDLED_DIR))
    gate = Gate(config)
    now = 0.0  # the flood is far shorter than any cooldown: one instant is exact enough
    out = []
    for channel, author, text in plan:
        facts = MessageFacts(
            author_id=author.id,
            channel_id=channel,
            guild_id=1,
            content=text,
            author_is_bot=author.bot,
            is_self=author.id == me,
        )
        ok = bool(gate.screen(facts, now=now))
        if ok:
            decision = matcher.match(text)
            ok = decision.outcome is Outcome.ANSWER and decision.answer is not None
            if ok and decision.answer is not None:
                with gate.hold(facts, decision.answer.id, now=now) as held:
                    ok = bool(held)
                    if ok:
                        held.sent(now)
        out.append(ok)
    return out


def _replies(fake: Any) -> list[dict[str, Any]]:
    out = []
    for r in fake.requests_matching("POST", r"^/channels/\d+/messages$"):
        ok = 200 <= r.status < 300 and isinstance(r.response, dict)
        if ok and (r.response.get("message_reference") or {}).get("message_id"):
            out.append({**r.response, "_at": r.at})
    return out


def _answered(fake: Any) -> dict[int, list[str | None]]:
    from tests.resilience.conftest import entry_of

    out: dict[int, list[str | None]] = {}
    for reply in _replies(fake):
        out.setdefault(int(reply["message_reference"]["message_id"]), []).append(entry_of(reply))
    return out


def _check_cooldowns(result: FloodResult, fake: Any, *, plan_ids: dict[int, float]) -> None:
    members: dict[int, int] = {}
    pairs: dict[tuple[int, str], int] = {}
    for mid, entries in result.answered.items():
        msg = fake.messages.get(mid)
        if msg is None:
            continue
        author = int(msg["author"]["id"])
        members[author] = members.get(author, 0) + len(entries)
        for entry in entries:
            key = (int(msg["channel_id"]), str(entry))
            pairs[key] = pairs.get(key, 0) + 1
    result.member_twice = [m for m, n in members.items() if n > 1]
    result.channel_entry_twice = [k for k, n in pairs.items() if n > 1]


async def _latency(rate: float, count: int) -> dict[str, Any]:
    res = await flood(
        messages=count,
        seconds=count / rate,
        cooldowns=False,
        rate_limit=None,
        warmup=20,
        seed=2,
    )
    return {
        "messages": res.sent,
        "answers": sum(len(v) for v in res.answered.values()),
        "reply_p50_ms": round(percentile(res.latencies, 50) * 1000, 2),
        "reply_p99_ms": round(percentile(res.latencies, 99) * 1000, 2),
        "loop_lag_max_ms": round(res.max_lag * 1000, 1),
        "rss_mb": round(res.rss_after, 1),
    }


async def _interactions(count: int, rate: float) -> dict[str, Any]:
    from bot.runner import required_permissions
    from tests.cogs.helpers import BotEnv
    from tests.fakediscord import FakeDiscord, User, point_discord_at, running_client

    texts = itertools.cycle([t for t, _ in objection_texts()])
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, _quiet_logs():
        fake = FakeDiscord()
        await fake.start()
        try:
            with point_discord_at(fake):
                guild = fake.add_guild("I", bot_permissions=required_permissions().value)
                channel = fake.add_channel(guild)
                alice = User.human("alice")
                fake.add_member(guild, alice)
                # One member asks all of them: the member budget is off, so every /ask is
                # answered (this measures answering, not the "slow down" refusal).
                env = BotEnv(fake, Path(tmp), answer_channel_ids=[channel], MEMBER_BUDGET="0")
                async with running_client(env.make_bot(), fake):
                    handles = []
                    for _ in range(count):
                        handles.append(
                            await fake.send_slash_command(
                                "ask", {"question": next(texts)}, user=alice, channel_id=channel
                            )
                        )
                        await asyncio.sleep(1 / rate)
                    for h in handles:
                        await h.wait_response(timeout=10)
                    for r in fake.requests_matching("POST", r"^/interactions/\d+/[^/]+/callback$"):
                        iid = int(r.path.split("/")[2])
                        h = next(x for x in handles if x.id == iid)
                        latencies.append(r.at - h.created_at)
        finally:
            await fake.stop()
    return {
        "interactions": count,
        "callback_p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "callback_p99_ms": round(percentile(latencies, 99) * 1000, 2),
    }


async def _member_flood(mentions: int = 40) -> dict[str, Any]:
    from bot.runner import required_permissions
    from tests.cogs.helpers import BotEnv
    from tests.fakediscord import FakeDiscord, User, point_discord_at, running_client

    text = objection_texts()[0][0]
    with tempfile.TemporaryDirectory() as tmp, _quiet_logs():
        fake = FakeDiscord()
        await fake.start()
        try:
            with point_discord_at(fake):
                fake.enable_rate_limits(limit=3, per=0.5)
                guild = fake.add_guild("F", bot_permissions=required_permissions().value)
                channel = fake.add_channel(guild)
                flooder, other = User.human("flooder"), User.human("other")
                fake.add_member(guild, flooder)
                fake.add_member(guild, other)
                env = BotEnv(fake, Path(tmp))
                async with running_client(env.make_bot(), fake):
                    mention = f"<@{fake.bot_user.id}>"
                    for _ in range(mentions):
                        await fake.send_message(channel, flooder, f"{mention} {text}")
                    start = time.monotonic()
                    asked = await fake.send_message(channel, other, f"{mention} {text}")
                    await fake.wait_for_bot_message(
                        channel,
                        timeout=60,
                        predicate=lambda m: (
                            (m.get("message_reference") or {}).get("message_id") == asked["id"]
                        ),
                    )
                    waited = time.monotonic() - start
                    seen = -1  # wait until the flooder's last replies (if any) went out
                    while seen != len(fake.requests):
                        seen = len(fake.requests)
                        await asyncio.sleep(1.0)
                    to_flooder = len(_replies(fake)) - 1
        finally:
            await fake.stop()
    return {
        "mentions": mentions,
        "replies_to_flooder": to_flooder,
        "other_member_reply_s": round(waited, 2),
    }


ALIAS_BOMB = """
import resource, sys, time
from bot.kb.loader import load_knowledge_from_texts
from bot.kb.model import KBError
bomb = "a: &a [x, x, x, x, x, x, x, x, x]\\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}]\\n" for i in range(9))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    load_knowledge_from_texts({"bomb.yaml": bomb.encode()})
    refused = False
except KBError:
    refused = True
ms = (time.perf_counter() - t) * 1000
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(refused, round(ms, 2), round(before / 1024, 1), round(after / 1024, 1))
"""


def _alias_bomb() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", ALIAS_BOMB],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "refused": out[0] == "True",
        "refusal_ms": float(out[1]),
        "peak_rss_mb_before": float(out[2]),
        "peak_rss_mb_after": float(out[3]),
    }


def run() -> dict[str, Any]:
    """The ``e2e`` section of ``python -m bench``."""

    async def main() -> dict[str, Any]:
        latency = await _latency(rate=50, count=500)
        interactions = await _interactions(count=100, rate=20)
        full = await flood(messages=2000, seconds=20)
        member_flood = await _member_flood()
        return {
            "reply_at_50_msg_s": latency,
            "interactions": interactions,
            "flood": {
                "messages": full.sent,
                "expected_answers": len(full.expected),
                "answered": len(full.answered),
                "missing": len(full.expected - full.answered.keys()),
                "unexpected": len(full.answered.keys() - full.expected),
                "member_cooldown_broken": len(full.member_twice),
                "channel_cooldown_broken": len(full.channel_entry_twice),
                "rate_limit_violations": full.violations,
                "loop_lag_max_ms": round(full.max_lag * 1000, 1),
                "rss_mb_after_warmup": round(full.rss_warm, 1),
                "rss_mb_after_flood": round(full.rss_after, 1),
                "rss_growth_pct": round((full.rss_after / full.rss_warm - 1) * 100, 1),
                "seconds": round(full.elapsed, 1),
            },
            "member_flood": member_flood,
            "alias_bomb_upload": _alias_bomb(),
        }

    return asyncio.run(main())


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
