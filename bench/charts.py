"""The statistics chart's cost: install size of Pillow and what only it pulls in, memory
and time of the first (cold: imports PIL, loads the font) and later charts, in a fresh process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_PROBE = r"""
import json, resource, statistics, sys, time
from datetime import UTC, date, datetime, timedelta

def rss_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

import bot.bot, bot.cogs.kb_admin, bot.charts  # what the running bot has loaded
from bot.storage import WeeklyStats
base = rss_mb()
assert "PIL" not in sys.modules
first = date(2026, 10, 26)
weeks = tuple(first + timedelta(weeks=i) for i in range(5))
stats = WeeklyStats(
    since=datetime(2026, 10, 26, tzinfo=UTC), until=datetime(2026, 11, 25, tzinfo=UTC),
    weeks=weeks, answers={f"entry-{i}": tuple((i * w) % 9 for w in range(5)) for i in range(20)},
    helpful=(3, 5, 2, 8, 1), not_helpful=(1, 0, 2, 1, 0), unanswered=(4, 2, 0, 6, 3),
)
start = time.perf_counter()
png = bot.charts.stats_chart(stats)
cold = time.perf_counter() - start
after = rss_mb()
warm = []
for _ in range(5):
    start = time.perf_counter()
    bot.charts.stats_chart(stats)
    warm.append(time.perf_counter() - start)
print(json.dumps({
    "rss_before_first_chart_mb": round(base, 1),
    "rss_after_first_chart_mb": round(after, 1),
    "first_chart_s": round(cold, 2),
    "chart_p50_s": round(statistics.median(warm), 3),
    "png_bytes": len(png),
}))
"""


def _name(requirement: str) -> str | None:
    """The distribution name of a requirement, or None when it applies only to an extra."""
    if "extra ==" in requirement:
        return None
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group(0).lower().replace("_", "-") if match else None


def _closure(names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo.extend(n for n in map(_name, requires) if n)
    return seen


def _installed_bytes(name: str) -> int:
    total = 0
    for file in metadata.distribution(name).files or []:
        path = Path(str(file.locate()))
        if path.is_file():
            total += path.stat().st_size
    return total


def install_size() -> dict[str, Any]:
    """Installed MB of Pillow plus the packages only it brings into a ``make run`` env."""
    core = [n for n in map(_name, metadata.requires("whytwitter-bot") or []) if n]
    others = _closure([n for n in core if n != "pillow"])
    added = sorted(_closure(["pillow"]) - others)
    sizes = {name: round(_installed_bytes(name) / 2**20, 1) for name in added}
    return {"added_mb": round(sum(sizes.values()), 1), "packages_mb": sizes}


def run() -> dict[str, Any]:
    """Install size, then memory and time measured in a fresh interpreter."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    return {"install": install_size(), **figures}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
