"""A heartbeat file for container and service health checks (pure: no discord import).

The running bot writes ``DATA_DIR/health.json`` whenever its gateway connection changes and
every :data:`INTERVAL` seconds; ``python -m bot health`` reads it and exits 0 only when the
file is fresh and says the gateway is connected.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "FILE_NAME",
    "INTERVAL",
    "MAX_AGE",
    "Health",
    "check_health",
    "read_health",
    "write_health",
]

FILE_NAME: Final = "health.json"
INTERVAL: Final = 15.0
"""Seconds between two heartbeats of a running bot."""
MAX_AGE: Final = 60.0
"""A heartbeat older than this means the bot is stuck or gone."""


@dataclass(frozen=True, slots=True)
class Health:
    """What the bot last said about itself."""

    connected: bool
    updated: float
    """Unix time of the heartbeat."""
    shards: int = 0
    latency_ms: float | None = None


def write_health(path: Path, health: Health) -> None:
    """Write the heartbeat atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(
        {
            "connected": health.connected,
            "updated": health.updated,
            "shards": health.shards,
            "latency_ms": health.latency_ms,
        }
    )
    fd, tmp = tempfile.mkstemp(prefix=".health-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_health(path: Path) -> Health | None:
    """The last heartbeat, or None when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        latency = data.get("latency_ms")
        return Health(
            connected=bool(data["connected"]),
            updated=float(data["updated"]),
            shards=int(data.get("shards", 0)),
            latency_ms=None if latency is None else float(latency),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def check_health(
    path: Path, *, now: float | None = None, max_age: float = MAX_AGE
) -> tuple[bool, str]:
    """(healthy, one line saying why) from the heartbeat file at ``path``."""
    health = read_health(path)
    if health is None:
        return False, f"no heartbeat in {path.name}: the bot is not running (or not started yet)"
    now = time.time() if now is None else now
    age = now - health.updated
    if age > max_age:
        return False, f"last heartbeat {age:.0f} s ago: the bot is stuck or stopped"
    if not health.connected:
        return False, "the gateway connection to Discord is down"
    latency = "" if health.latency_ms is None else f", latency {health.latency_ms:.0f} ms"
    return True, f"connected ({health.shards} shard(s){latency}), heartbeat {age:.0f} s ago"
