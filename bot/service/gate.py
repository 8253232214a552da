"""The one gate that decides whether the bot may answer a message (pure; no discord import).

The rules are :func:`should_answer`; the bot holds one :class:`Gate`, which owns the cooldowns,
the answers being sent and the member budget. The cog turns a :class:`discord.Message` into
:class:`MessageFacts` and asks the gate twice per unprompted message: :meth:`Gate.screen_channel`
before matching (the cheap rules, then whether its channel is answered, with which
thresholds), then :meth:`Gate.hold` with the matched entry, which checks the cooldowns,
reserves them while the answer is sent and starts them once it was.

Direct requests (a mention, a DM, ``/ask``, the "Answer this objection" menu) share one
per-member :class:`MemberBudget`: :meth:`Gate.screen` (an addressed message) or
:meth:`Gate.request` (a slash command, the menu) spends one request of it, and refuses once the
member is over it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "ChannelLookup",
    "Cooldowns",
    "Gate",
    "GateConfig",
    "GateDecision",
    "Hold",
    "MemberBudget",
    "MessageFacts",
    "Reason",
    "admit",
    "should_answer",
]

# A command for another bot: one prefix character (or the same one doubled) directly followed
# by a letter or digit: "!play", "?help", ".w", "/ask", "$bal", "%rank", ">p", "-ban", ";;q".
# Not a command: "- I'm too busy" (a list item), "> quote", "... too busy", "?? what's the point".
_COMMAND = re.compile(r"^([!?./$%>;~+=&,-])\1?[^\W_]", re.UNICODE)


class Reason(StrEnum):
    """Why the gate decided as it did (for the cog's branches, logs and tests)."""

    OK = "ok"
    SELF = "self"
    SYSTEM = "system"
    WEBHOOK = "webhook"
    BOT = "bot"
    OVER_BUDGET = "member-budget"
    EMPTY = "empty"
    NOT_ANSWER_CHANNEL = "not-answer-channel"
    COMMAND = "command"
    TOO_SHORT = "too-short"
    MEMBER_COOLDOWN = "member-cooldown"
    CHANNEL_COOLDOWN = "channel-cooldown"
    IN_FLIGHT = "in-flight"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the gate needs to know about a message, as plain values."""

    author_id: int
    channel_id: int
    guild_id: int | None
    content: str
    author_is_bot: bool = False
    is_webhook: bool = False
    is_self: bool = False
    is_system: bool = False
    in_answer_channel: bool = False
    """Known to be answered unprompted (set by the gate once its channel lookup said so)."""
    forum_id: int | None = None
    """The forum of a new forum post: the channel lookup reads the forum, not the post."""
    addressed: bool = False
    """The member asked the bot directly (a mention or a DM): no channel rules apply."""


@dataclass(frozen=True, slots=True)
class GateConfig:
    """The gate's thresholds (from :class:`bot.settings.Settings`, per guild when overridden)."""

    min_length: int = 10
    channel_cooldown_seconds: float = 600.0
    member_cooldown_seconds: float = 120.0


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The verdict and a short machine-readable reason (for logs and tests)."""

    answer: bool
    reason: str
    retry_after: float = 0.0
    """Seconds until the member may ask again (over-budget refusals only)."""
    admission: Admission | None = None
    """What :meth:`Gate.hold` reserved."""
    config: GateConfig | None = None
    """The channel's thresholds (:meth:`Gate.screen_channel` when it lets a message through)."""

    def __bool__(self) -> bool:
        return self.answer


_ALLOW: Final = GateDecision(True, Reason.OK)

CooldownKey = tuple[str, int, str]
"""("c", channel, entry) or ("m", member, "")."""


def _channel_key(facts: MessageFacts, entry_id: str) -> CooldownKey:
    return ("c", facts.channel_id, entry_id)


def _member_key(facts: MessageFacts) -> CooldownKey:
    return ("m", facts.author_id, "")


class Cooldowns:
    """Expiry times keyed per (channel, entry) and per member, with bounded memory.

    Keys are only recorded by :meth:`hit`, after an answer was sent. Expired keys are dropped
    when the table grows past ``max_keys``; if all are live, the oldest are evicted.
    """

    def __init__(self, *, max_keys: int = 10_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be positive")
        self.max_keys = max_keys
        self._until: dict[CooldownKey, float] = {}

    def __len__(self) -> int:
        return len(self._until)

    def channel_until(self, channel_id: int, entry_id: str) -> float:
        """When the channel cooldown for this entry ends (0 when there is none)."""
        return self._until.get(("c", channel_id, entry_id), 0.0)

    def member_until(self, member_id: int) -> float:
        """When the member's channel-answer cooldown ends (0 when there is none)."""
        return self._until.get(("m", member_id, ""), 0.0)

    def hit(self, facts: MessageFacts, entry_id: str, *, now: float, config: GateConfig) -> None:
        """Record that ``entry_id`` was just sent in reply to ``facts``."""
        self._set(_channel_key(facts, entry_id), now + config.channel_cooldown_seconds, now)
        self._set(_member_key(facts), now + config.member_cooldown_seconds, now)

    @staticmethod
    def keys(facts: MessageFacts, entry_id: str, config: GateConfig) -> frozenset[CooldownKey]:
        """The keys :meth:`hit` would start (only the cooldowns that are on)."""
        keys: set[CooldownKey] = set()
        if config.channel_cooldown_seconds > 0:
            keys.add(_channel_key(facts, entry_id))
        if config.member_cooldown_seconds > 0:
            keys.add(_member_key(facts))
        return frozenset(keys)

    def _set(self, key: CooldownKey, until: float, now: float) -> None:
        self._until.pop(key, None)  # re-insert: dict order stays oldest-first
        self._until[key] = until
        if len(self._until) > self.max_keys:
            self._prune(now)

    def _prune(self, now: float) -> None:
        self._until = {k: t for k, t in self._until.items() if t > now}
        excess = len(self._until) - (self.max_keys * 9) // 10
        if excess > 0:
            for key in list(self._until)[:excess]:
                del self._until[key]


class MemberBudget:
    """A token bucket per member: at most ``capacity`` requests at once, refilled at
    ``capacity`` per ``per_seconds`` (5 per 60 s: a burst of 5, then one every 12 s).

    ``capacity`` 0 switches the budget off (every request passes, nothing is kept). Memory is
    bounded: past ``max_members`` members, those whose bucket has refilled (indistinguishable
    from a member never seen) are dropped first, then the least recently active.
    """

    def __init__(self, capacity: int, per_seconds: float, *, max_members: int = 10_000) -> None:
        if capacity < 0:
            raise ValueError("capacity must be zero or more")
        if capacity and not 0 < per_seconds < math.inf:
            raise ValueError("per_seconds must be a positive number")
        if max_members < 1:
            raise ValueError("max_members must be positive")
        self.capacity = capacity
        self.per_seconds = per_seconds
        self.max_members = max_members
        self._buckets: OrderedDict[int, tuple[float, float]] = OrderedDict()
        """member id -> (tokens left, when they were counted); least recently active first."""

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def enabled(self) -> bool:
        """Whether requests are limited at all."""
        return self.capacity > 0

    def _tokens(self, member_id: int, now: float) -> float:
        state = self._buckets.get(member_id)
        if state is None:
            return float(self.capacity)
        tokens, then = state
        refill = max(now - then, 0.0) * self.capacity / self.per_seconds
        return min(float(self.capacity), tokens + refill)

    def retry_after(self, member_id: int, *, now: float) -> float:
        """Seconds until the member has a request left (0 when they have one now)."""
        if not self.enabled:
            return 0.0
        missing = 1.0 - self._tokens(member_id, now)
        return max(missing, 0.0) * self.per_seconds / self.capacity

    def take(self, member_id: int, *, now: float) -> float:
        """Spend one request of the member's; 0 when allowed, else the seconds to wait
        (nothing is spent then)."""
        if not self.enabled:
            return 0.0
        tokens = self._tokens(member_id, now)
        if tokens < 1.0:
            return (1.0 - tokens) * self.per_seconds / self.capacity
        self._buckets.pop(member_id, None)  # re-insert: most recently active last
        self._buckets[member_id] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_members:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        for member_id in [m for m in self._buckets if self._tokens(m, now) >= self.capacity]:
            del self._buckets[member_id]
        excess = len(self._buckets) - (self.max_members * 9) // 10
        for _ in range(max(excess, 0)):
            self._buckets.popitem(last=False)


def admit(member_id: int, *, now: float, budget: MemberBudget | None) -> GateDecision:
    """Whether a member's direct request (mention, DM, ``/ask``, context menu) fits their
    budget; spends one request when it does. Call once per request."""
    if budget is None:
        return _ALLOW
    wait = budget.take(member_id, now=now)
    if wait > 0:
        return GateDecision(False, Reason.OVER_BUDGET, retry_after=wait)
    return _ALLOW


def is_command_for_another_bot(content: str) -> bool:
    """Whether the text looks like a prefix command ("!play", "?help", "-ban")."""
    return bool(_COMMAND.match(content.lstrip()))


def should_answer(
    msg: MessageFacts,
    *,
    now: float,
    config: GateConfig,
    cooldowns: Cooldowns,
    entry_id: str | None = None,
    budget: MemberBudget | None = None,
) -> GateDecision:
    """Whether the bot may answer ``msg`` (with ``entry_id``, when already matched).

    An addressed message (a mention or a DM) spends one request of the author's ``budget``,
    even an empty one (it gets a hint): ask once per addressed message.
    """
    if msg.is_self:
        return GateDecision(False, Reason.SELF)
    if msg.is_system:
        return GateDecision(False, Reason.SYSTEM)
    if msg.is_webhook:
        return GateDecision(False, Reason.WEBHOOK)
    if msg.author_is_bot:
        return GateDecision(False, Reason.BOT)
    if msg.addressed:
        allowed = admit(msg.author_id, now=now, budget=budget)
        if not allowed:
            return allowed
    text = msg.content.strip()
    if not text:
        return GateDecision(False, Reason.EMPTY)
    if msg.addressed:
        return _ALLOW
    if not msg.in_answer_channel:
        return GateDecision(False, Reason.NOT_ANSWER_CHANNEL)
    if is_command_for_another_bot(text):
        return GateDecision(False, Reason.COMMAND)
    if len(text) < config.min_length:
        return GateDecision(False, Reason.TOO_SHORT)
    if cooldowns.member_until(msg.author_id) > now:
        return GateDecision(False, Reason.MEMBER_COOLDOWN)
    if entry_id is not None and cooldowns.channel_until(msg.channel_id, entry_id) > now:
        return GateDecision(False, Reason.CHANNEL_COOLDOWN)
    return _ALLOW


@dataclass(frozen=True, slots=True)
class Admission:
    """An answer the gate let through: the cooldowns it holds until it is sent or dropped."""

    facts: MessageFacts
    entry_id: str
    config: GateConfig
    keys: frozenset[CooldownKey]


class Hold:
    """The gate's answer to "may I answer this?" inside :meth:`Gate.hold`: true when it may
    (its cooldowns are reserved meanwhile); :meth:`sent` says the answer went out."""

    def __init__(self, decision: GateDecision) -> None:
        self.decision = decision
        self.sent_at: float | None = None

    def __bool__(self) -> bool:
        return self.decision.answer

    @property
    def reason(self) -> str:
        """Why (``"ok"`` when the answer may go)."""
        return self.decision.reason

    def sent(self, at: float) -> None:
        """The answer was sent at ``at``: its cooldowns start then, when the hold ends."""
        self.sent_at = at


ChannelLookup = Callable[[MessageFacts], Awaitable[GateConfig | None]]
"""The thresholds for unprompted answers in a message's channel; None when the bot does not
answer there unprompted (the bot reads its settings and the guild's)."""


class Gate:
    """Whether the bot may answer, for the whole bot: the rules of :func:`should_answer` over
    its own cooldowns, the answers being sent (whose cooldowns are reserved) and the member
    budget of direct requests.

    An unprompted (channel or forum) answer goes :meth:`screen_channel` → matching →
    ``with`` :meth:`hold` (send inside it). While a hold lasts, a concurrent message of the
    same member, or for the same entry in the same channel, is refused ("in-flight"); the
    cooldowns start when it ends, if the answer was sent.
    """

    def __init__(
        self,
        config: GateConfig | None = None,
        *,
        budget: MemberBudget | None = None,
        cooldowns: Cooldowns | None = None,
        channels: ChannelLookup | None = None,
    ) -> None:
        self.config = config or GateConfig()
        """The thresholds when a channel has no override of its own."""
        self.budget = budget
        self.cooldowns = cooldowns or Cooldowns()
        self._channels = channels
        """Where the bot answers unprompted (None: only messages marked ``in_answer_channel``,
        with :attr:`config`)."""
        self._held: set[CooldownKey] = set()

    def request(self, member_id: int, *, now: float) -> GateDecision:
        """A direct request (``/ask``, the context menu): spends one of the member's budget."""
        return admit(member_id, now=now, budget=self.budget)

    def screen(self, facts: MessageFacts, *, now: float) -> GateDecision:
        """The rules that need neither the channel's settings nor a match; ask once per message.

        An addressed message (a mention or a DM) spends one request of the member's budget and
        is decided here. An unprompted one passes when it could be answered should its channel
        be an answer channel (bots, commands, short messages and members on cooldown do not).
        """
        if not facts.addressed:
            facts = dataclasses.replace(facts, in_answer_channel=True)
        return should_answer(
            facts, now=now, config=self.config, cooldowns=self.cooldowns, budget=self.budget
        )

    async def screen_channel(self, facts: MessageFacts, *, now: float) -> GateDecision:
        """Whether an unprompted message may be matched: :meth:`screen`'s cheap rules first
        (no lookup for bots, commands, short messages), then its channel. When it passes, the
        decision carries the channel's thresholds (``config``) for :meth:`hold`."""
        verdict = self.screen(dataclasses.replace(facts, addressed=False), now=now)
        if not verdict:
            return verdict
        if self._channels is not None:
            config = await self._channels(facts)
        else:
            config = self.config if facts.in_answer_channel else None
        if config is None:
            return GateDecision(False, Reason.NOT_ANSWER_CHANNEL)
        return GateDecision(True, Reason.OK, config=config)

    @contextmanager
    def hold(
        self, facts: MessageFacts, entry_id: str, *, now: float, config: GateConfig | None = None
    ) -> Iterator[Hold]:
        """May ``entry_id`` answer ``facts`` now, in an answer channel with ``config`` (default:
        :attr:`config`)? One call: the cooldowns are checked and, when it may, reserved until
        the ``with`` block ends; they start then if :meth:`Hold.sent` was called."""
        held = Hold(self._reserve(facts, entry_id, now=now, config=config or self.config))
        try:
            yield held
        finally:
            self._release(held.decision.admission, sent_at=held.sent_at)

    def _reserve(
        self, facts: MessageFacts, entry_id: str, *, now: float, config: GateConfig
    ) -> GateDecision:
        facts = dataclasses.replace(facts, in_answer_channel=True, addressed=False)
        verdict = should_answer(
            facts, now=now, config=config, cooldowns=self.cooldowns, entry_id=entry_id
        )
        if not verdict:
            return verdict
        keys = Cooldowns.keys(facts, entry_id, config)
        if keys & self._held:
            return GateDecision(False, Reason.IN_FLIGHT)
        self._held |= keys
        return GateDecision(True, Reason.OK, admission=Admission(facts, entry_id, config, keys))

    def _release(self, held: Admission | None, *, sent_at: float | None) -> None:
        if held is None:
            return
        if sent_at is not None:
            self.cooldowns.hit(held.facts, held.entry_id, now=sent_at, config=held.config)
        self._held -= held.keys

    def in_flight(self) -> int:
        """How many cooldown keys answers being sent hold (0 when none is being sent)."""
        return len(self._held)
