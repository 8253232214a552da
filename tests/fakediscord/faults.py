"""Faults a test injects: gateway closes and drops, heartbeat acks, REST errors, 429s.

``Faults`` adds to the gateway the controls a resilience test uses: close or drop the
connections (all or one shard), invalidate a session, ask for a reconnect, stop acking
heartbeats (an outage is the gateway's own flag, ``gateway_down``, checked on each new
connection); and on the REST side one-shot or lasting failures (``fail_next``) and
per-route rate-limit buckets (``enable_rate_limits``). The REST layer asks
``_take_fault`` and ``_rate_limit_check`` before it runs a handler.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from .gateway import SESSION_ENDING_CLOSE_CODES, Gateway
from .state import Options, RecordedRequest

# A refusal: (status, body, headers).
Refusal = tuple[int, Any, dict[str, str]]


@dataclass
class FaultRule:
    method: str
    path_re: re.Pattern[str]
    status: int
    times: int | None  # None: forever
    retry_after: float | None
    global_: bool
    body: Any
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (self.method in ("*", method)) and self.path_re.search(path) is not None


class Faults(Gateway):
    """The gateway plus the faults a test can inject into it and into REST."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.rate_limit_violations: list[RecordedRequest] = []
        self.faults: list[FaultRule] = []
        self._rate_limit: tuple[int, float] | None = None
        # Fixed windows, like Discord's buckets: (window start, requests in it).
        self._buckets: dict[tuple[str, str], tuple[float, int]] = {}

    # ------------------------------------------------------------------ gateway faults

    async def close_gateway(self, code: int = 4000, *, shard_id: int | None = None) -> None:
        """Close every gateway connection (after queued frames) with a close frame ``code``."""
        await self._close_conns(code, shard_id)

    async def drop_gateway(self, *, shard_id: int | None = None) -> None:
        """Abrupt TCP close without a close frame: the client sees 1006."""
        await self._close_conns(None, shard_id)

    async def invalidate_session(self, resumable: bool, *, shard_id: int | None = None) -> None:
        """Send op 9 INVALID_SESSION; a non-resumable session is forgotten."""
        for session in self._live_sessions(shard_id):
            if not resumable:
                session.alive = False
            if session.conn is not None:
                session.conn.send({"op": 9, "d": resumable})
        await asyncio.sleep(0)

    async def request_reconnect(self, *, shard_id: int | None = None) -> None:
        """Send op 7 RECONNECT (the client closes and RESUMEs)."""
        for session in self._live_sessions(shard_id):
            if session.conn is not None:
                session.conn.send({"op": 7, "d": None})
        await asyncio.sleep(0)

    def stop_heartbeat_acks(self) -> None:
        self._acks_enabled = False

    def resume_heartbeat_acks(self) -> None:
        self._acks_enabled = True

    async def _close_conns(self, code: int | None, shard_id: int | None) -> None:
        futures = []
        for conn in list(self._conns):
            if conn.ws.closed or conn.closed_by_server is not None:
                continue
            session = conn.session
            if shard_id is not None and (
                session is None or not session.shard or session.shard[0] != shard_id
            ):
                continue
            if session is not None:
                session.conn = None
                if code in SESSION_ENDING_CLOSE_CODES:
                    session.alive = False
            futures.append(conn.close(code))
        if futures:
            await asyncio.wait_for(asyncio.gather(*futures), 10)

    # ------------------------------------------------------------------ REST faults

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        global_: bool = False,
        body: Any = None,
    ) -> FaultRule:
        """The next ``times`` (None: all) matching REST requests get ``status``.

        429 comes with ``Via`` and ``retry_after`` (default 0.05 s), as Discord sends it;
        403 defaults to code 50013 Missing Permissions; 404 to 10008 Unknown Message.
        """
        rule = FaultRule(
            method.upper(), re.compile(path_regex), status, times, retry_after, global_, body
        )
        self.faults.append(rule)
        return rule

    def enable_rate_limits(self, limit: int = 5, per: float = 5.0) -> None:
        """Per-route buckets with X-RateLimit-* headers; exceeding one is a recorded 429."""
        self._rate_limit = (limit, per)

    def _take_fault(self, rec: RecordedRequest) -> Refusal | None:
        """The answer of the first fault rule ``rec`` matches (counted as a hit), if any."""
        for rule in self.faults:
            if not rule.matches(rec.method, rec.path):
                continue
            rule.hits += 1
            status = rule.status
            headers: dict[str, str] = {}
            body = rule.body
            if status == 429:
                retry_after = rule.retry_after if rule.retry_after is not None else 0.05
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, round(retry_after))),
                    "X-RateLimit-Scope": "global" if rule.global_ else "user",
                }
                if rule.global_:
                    headers["X-RateLimit-Global"] = "true"
                if body is None:
                    body = {
                        "message": "You are being rate limited.",
                        "retry_after": retry_after,
                        "global": rule.global_,
                    }
            elif body is None:
                body = {
                    403: {"message": "Missing Permissions", "code": 50013},
                    404: {"message": "Unknown Message", "code": 10008},
                }.get(status, {"message": f"{status}: fake fault", "code": 0})
            rec.status, rec.response = status, body
            return status, body, headers
        return None

    def _rate_limit_check(
        self, key: tuple[str, str], rec: RecordedRequest, headers: dict[str, str]
    ) -> Refusal | None:
        """Count ``rec`` in its bucket ``key`` (route, major parameter): a 429 past the limit,
        else None with the X-RateLimit-* headers added to ``headers``."""
        assert self._rate_limit is not None
        limit, per = self._rate_limit
        now = time.monotonic()
        start, count = self._buckets.get(key, (now, 0))
        if now - start >= per:  # the bucket reset: every slot is free again
            start, count = now, 0
        reset_after = per - (now - start)
        bucket_hash = format(abs(hash(key[0])) % (1 << 32), "x")
        if count >= limit:
            self.rate_limit_violations.append(rec)
            body = {
                "message": "You are being rate limited.",
                "retry_after": reset_after,
                "global": False,
            }
            rec.status, rec.response = 429, body
            return (
                429,
                body,
                {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, round(reset_after))),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                    "X-RateLimit-Bucket": bucket_hash,
                    "X-RateLimit-Scope": "user",
                },
            )
        count += 1
        self._buckets[key] = (start, count)
        headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(limit - count),
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Bucket": bucket_hash,
            }
        )
        return None
