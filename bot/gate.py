"""The one gate that decides whether the bot may answer a message (pure; no discord import).

The cog turns a :class:`discord.Message` into :class:`MessageFacts`, asks :func:`should_answer`
before matching (cheap rules), asks again with the matched ``entry_id`` (cooldowns), and calls
:meth:`Cooldowns.hit` only after an answer was actually sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Cooldowns", "GateConfig", "GateDecision", "MessageFacts", "should_answer"]

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

    def __bool__(self) -> bool:
        return self.answer


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


def is_command_for_another_bot(content: str) -> bool:
    """Whether the text looks like a prefix command ("!play", "?help", "-ban")."""
    return bool(_COMMAND.match(content.lstrip()))


_ALLOW: Final = GateDecision(True, "ok")


def should_answer(
    msg: MessageFacts,
    *,
    now: float,
    config: GateConfig,
    cooldowns: Cooldowns,
    entry_id: str | None = None,
) -> GateDecision:
    """Whether the bot may answer ``msg`` (with ``entry_id``, when already matched)."""
    if msg.is_self:
        return GateDecision(False, "self")
    if msg.is_system:
        return GateDecision(False, "system")
    if msg.is_webhook:
        return GateDecision(False, "webhook")
    if msg.author_is_bot:
        return GateDecision(False, "bot")
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
