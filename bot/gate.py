"""The one gate that decides whether the bot may answer a message (pure; no discord import).

The cog turns a :class:`discord.Message` into :class:`MessageFacts`, asks :func:`should_answer`
before matching (cheap rules), asks again with the matched ``entry_id`` (cooldowns), and calls
:meth:`Cooldowns.hit` only after an answer was actually sent.

Direct requests (a mention, a DM, ``/ask``, the "Answer this objection" menu) share one
per-member :class:`MemberBudget`: :func:`admit` (or :func:`should_answer` for an addressed
message) spends one request of it, and refuses once the member is over it.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

__all__ = [
    "Cooldowns",
    "GateConfig",
    "GateDecision",
    "MemberBudget",
    "MessageFacts",
    "admit",
    "should_answer",
]

# A command for another bot: one prefix character (or the same one doubled) directly followed
# by a letter or digit: "!play", "?help", ".w", "/ask", "$bal", "%rank", ">p", "-ban", ";;q".
# Not a command: "- I'm too busy" (a list item), "> quote", "... too busy", "?? what's the point".
_COMMAND = re.compile(r"^([!?./$%>;~+=&,-])\1?[^\W_]", re.UNICODE)


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

    def __bool__(self) -> bool:
        return self.answer


_ALLOW: Final = GateDecision(True, "ok")


class Cooldowns:
    """Expiry times keyed per (channel, entry) and per member, with bounded memory.

    Keys are only recorded by :meth:`hit`, after an answer was sent. Expired keys are dropped
    when the table grows past ``max_keys``; if all are live, the oldest are evicted.
    """

    def __init__(self, *, max_keys: int = 10_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be positive")
        self.max_keys = max_keys
        self._until: dict[tuple[str, int, str], float] = {}

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
        self._set(("c", facts.channel_id, entry_id), now + config.channel_cooldown_seconds, now)
        self._set(("m", facts.author_id, ""), now + config.member_cooldown_seconds, now)

    def _set(self, key: tuple[str, int, str], until: float, now: float) -> None:
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
        return GateDecision(False, "member-budget", retry_after=wait)
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
        return GateDecision(False, "self")
    if msg.is_system:
        return GateDecision(False, "system")
    if msg.is_webhook:
        return GateDecision(False, "webhook")
    if msg.author_is_bot:
        return GateDecision(False, "bot")
    if msg.addressed:
        allowed = admit(msg.author_id, now=now, budget=budget)
        if not allowed:
            return allowed
    text = msg.content.strip()
    if not text:
        return GateDecision(False, "empty")
    if msg.addressed:
        return _ALLOW
    if not msg.in_answer_channel:
        return GateDecision(False, "not-answer-channel")
    if is_command_for_another_bot(text):
        return GateDecision(False, "command")
    if len(text) < config.min_length:
        return GateDecision(False, "too-short")
    if cooldowns.member_until(msg.author_id) > now:
        return GateDecision(False, "member-cooldown")
    if entry_id is not None and cooldowns.channel_until(msg.channel_id, entry_id) > now:
        return GateDecision(False, "channel-cooldown")
    return _ALLOW
