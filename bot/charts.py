"""The statistics chart: a PNG of answers per entry per week, votes and unanswered questions.

Pure (no discord). matplotlib is imported only when a chart is drawn, so the bot's
start-up and memory pay for it when the first chart is drawn, not before. Drawing uses the
object-oriented API with the Agg canvas (no pyplot, no global state) and one chart at a time,
so it can be called from worker threads (``asyncio.to_thread``). Blocking: never call it on
the event loop.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from bot.storage import WeeklyStats

__all__ = ["FILENAME", "MAX_ROWS", "stats_chart"]

log = logging.getLogger(__name__)

_DRAW = threading.Lock()
"""One chart at a time: matplotlib does not promise thread safety, and a chart takes < 1 s."""

FILENAME: Final = "whytwitter-stats.png"
"""The attachment name of the chart in ``/kb stats``."""
MAX_ROWS: Final = 12
"""Entries shown one per row; the rest are summed in one "other" row."""
MIN_ROWS: Final = 8
"""The grid is drawn this many rows high even with fewer entries (empty space below)."""
LABEL_MAX: Final = 28
"""Entry ids longer than this are shortened (with "…") in the chart."""
ANNOTATE_WEEKS: Final = 14
"""Counts are written on cells and bars when the period has at most this many weeks."""
BAR_TICKS: Final = 7
GRID_TICKS: Final = 9
"""At most this many week labels under the bar panels (``GRID_TICKS`` under the grid)."""
WIDTH_IN: Final = 8.0
HEIGHT_IN: Final = 5.0
DPI: Final = 150
TITLE_PT: Final = 13.5
PANEL_PT: Final = 12.0
LABEL_PT: Final = 11.0
SMALL_PT: Final = 10.0

HELPFUL_COLOUR: Final = "#1b9e77"
NOT_HELPFUL_COLOUR: Final = "#d95f02"
UNANSWERED_COLOUR: Final = "#7570b3"
TEXT_COLOUR: Final = "#222222"
MUTED_COLOUR: Final = "#666666"
CMAP: Final = "Blues"


def _label(text: str, limit: int = LABEL_MAX) -> str:
    """Printable, not mathtext (``$`` escaped), at most ``limit`` characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text).strip() or "?"
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return clean.replace("$", r"\$")


def _day(d: date) -> str:
    return f"{d.day} {d:%b}"


def _period(stats: WeeklyStats) -> str:
    since, until = stats.since.date(), stats.until.date()
    days = round((stats.until - stats.since).total_seconds() / 86400)
    year = "" if since.year == until.year else f" {since.year}"
    return f"{_day(since)}{year} – {_day(until)} {until.year} ({days} days, UTC)"


def entry_rows(
    answers: dict[str, tuple[int, ...]], weeks: int, *, limit: int = MAX_ROWS
) -> list[tuple[str, tuple[int, ...]]]:
    """Rows of the answers panel: the most answered entries first (ties by id), at most
    ``limit`` rows; when there are more entries the last row sums the rest ("N other entries")."""
    ranked = sorted(answers.items(), key=lambda item: (-sum(item[1]), item[0]))
    if len(ranked) <= limit:
        return [(entry, tuple(counts)) for entry, counts in ranked]
    shown, rest = ranked[: limit - 1], ranked[limit - 1 :]
    other = tuple(sum(counts[i] for _, counts in rest) for i in range(weeks))
    return [*shown, (f"{len(rest)} other entries", other)]


def _week_ticks(ax: Any, weeks: Sequence[date], most: int, *, sep: str = " ") -> None:
    """Label at most ``most`` weeks (every n-th Monday) on the x axis."""
    step = max(1, -(-len(weeks) // most))
    positions = list(range(0, len(weeks), step))
    labels = [f"{weeks[i].day}{sep}{weeks[i]:%b}" for i in positions]
    ax.set_xticks(positions, labels, fontsize=SMALL_PT)
    ax.set_xlim(-0.5, len(weeks) - 0.5)


def _empty(ax: Any, message: str) -> None:
    ax.text(
        0.5, 0.5, message, ha="center", va="center", fontsize=LABEL_PT, color=MUTED_COLOUR,
        transform=ax.transAxes,
    )  # fmt: skip


def _answers_panel(ax: Any, stats: WeeklyStats, rows: list[tuple[str, tuple[int, ...]]]) -> None:
    weeks = stats.weeks
    ax.set_title("Answers per entry per week", loc="left", fontsize=PANEL_PT, fontweight="bold")
    for spine in ax.spines.values():
        spine.set_visible(False)
    if not rows:
        ax.set_xticks([])
        ax.set_yticks([])
        _empty(ax, "No answers in this period")
        return
    grid = [list(counts) for _, counts in rows]
    peak = max(max(row) for row in grid) or 1
    image = ax.imshow(grid, aspect="auto", cmap=CMAP, vmin=0, vmax=peak, interpolation="nearest")
    labels = [f"{_label(entry)} ({sum(counts)})" for entry, counts in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=LABEL_PT)
    _week_ticks(ax, weeks, GRID_TICKS, sep="\n")
    ax.xaxis.tick_top()  # week labels right above the rows, however few rows there are
    ax.tick_params(length=0)
    ax.set_ylim(max(len(rows), MIN_ROWS) - 0.5, -0.5)  # few entries: rows keep their height
    if len(weeks) <= ANNOTATE_WEEKS:
        ax.set_xticks([x - 0.5 for x in range(1, len(weeks))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    if len(weeks) <= ANNOTATE_WEEKS:
        for y, row in enumerate(grid):
            for x, count in enumerate(row):
                if count:
                    dark = image.norm(count) > 0.55
                    ax.text(
                        x, y, str(count), ha="center", va="center", fontsize=SMALL_PT,
                        color="white" if dark else TEXT_COLOUR,
                    )  # fmt: skip


def _bars(
    ax: Any,
    weeks: Sequence[date],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    headroom: float = 1.2,
) -> None:
    from matplotlib.ticker import MaxNLocator

    width = 0.8 / len(series)
    for i, (name, counts, colour) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        bars = ax.bar(
            [x + offset for x in range(len(weeks))], counts, width, label=name, color=colour
        )
        if len(weeks) * len(series) <= ANNOTATE_WEEKS:
            ax.bar_label(bars, [str(c) if c else "" for c in counts], fontsize=SMALL_PT, padding=1)
    _week_ticks(ax, weeks, BAR_TICKS, sep="\n")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=SMALL_PT)
    ax.set_ylim(0, max(1, *(max(c, default=0) for _, c, _ in series)) * headroom)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def stats_chart(stats: WeeklyStats, *, heading: str = "whytwitter-bot statistics") -> bytes:
    """The PNG (bytes) of ``stats``: answers per entry per week (a grid, entry ids as labels),
    helpful / not helpful votes per week, and unanswered questions per week.

    Landscape (1200 px wide, about 1.6:1) so that Discord's preview keeps it legible.
    """
    with _DRAW:
        return _draw(stats, heading)


def _draw(stats: WeeklyStats, heading: str) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    weeks = list(stats.weeks)
    rows = entry_rows(stats.answers, len(weeks))
    height = max(HEIGHT_IN, 2.2 + 0.3 * len(rows))
    layout = ConstrainedLayoutEngine(w_pad=0.06, h_pad=0.06)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout=layout)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.35, 1])
    total_answers = sum(sum(c) for c in stats.answers.values())
    helpful, not_helpful = sum(stats.helpful), sum(stats.not_helpful)
    fig.suptitle(
        f"{_label(heading, 60)}, {_period(stats)}", fontsize=TITLE_PT, fontweight="bold",
        x=0.01, ha="left", color=TEXT_COLOUR,
    )  # fmt: skip
    fig.supxlabel(
        f"{total_answers} answers · {helpful} helpful / {not_helpful} not helpful votes · "
        f"{sum(stats.unanswered)} unanswered · weeks start on Monday (UTC)",
        fontsize=SMALL_PT, color=MUTED_COLOUR,
    )  # fmt: skip

    _answers_panel(fig.add_subplot(grid[:, 0]), stats, rows)

    votes = fig.add_subplot(grid[0, 1])
    votes.set_title("Votes per week", loc="left", fontsize=PANEL_PT, fontweight="bold")
    _bars(
        votes,
        weeks,
        [
            ("helpful", stats.helpful, HELPFUL_COLOUR),
            ("not helpful", stats.not_helpful, NOT_HELPFUL_COLOUR),
        ],
        headroom=1.7,  # room for the legend above the bars
    )
    if helpful or not_helpful:
        votes.legend(
            fontsize=SMALL_PT, frameon=False, loc="upper left", ncols=2, borderaxespad=0.2,
            handlelength=1, columnspacing=0.8,
        )  # fmt: skip
    else:
        _empty(votes, "No votes in this period")

    unanswered = fig.add_subplot(grid[1, 1])
    unanswered.set_title("Unanswered per week", loc="left", fontsize=PANEL_PT, fontweight="bold")
    _bars(unanswered, weeks, [("unanswered", stats.unanswered, UNANSWERED_COLOUR)])
    if not any(stats.unanswered):
        _empty(unanswered, "No unanswered questions")

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    data = buffer.getvalue()
    log.debug("drew a %d-byte chart of %d weeks, %d rows", len(data), len(weeks), len(rows))
    return data
