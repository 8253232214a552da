"""The statistics chart: a PNG of answers per entry per week, votes and unanswered questions.

Pure (no discord). Drawn with Pillow alone (``PIL.ImageDraw``) and the scalable font Pillow
bundles (Aileron, ``ImageFont.load_default(size)``): no system fonts, the same picture on every
machine. PIL is imported only when a chart is drawn, so the bot's start-up and memory pay for it
when the first chart is drawn, not before. One chart at a time (a lock), so it can be called from
worker threads (``asyncio.to_thread``). Blocking: never call it on the event loop.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

    from bot.storage import WeeklyStats

    Font = FreeTypeFont | ImageFont
    Box = tuple[float, float, float, float]

__all__ = ["FILENAME", "MAX_ROWS", "stats_chart"]

log = logging.getLogger(__name__)

_DRAW = threading.Lock()
"""One chart at a time: the cached fonts are shared, and a chart takes a few tens of ms."""

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
"""At most this many week labels under the bar panels (``GRID_TICKS`` above the grid)."""
WIDTH_IN: Final = 8.0
HEIGHT_IN: Final = 5.0
DPI: Final = 150
"""The PNG is ``WIDTH_IN * DPI`` pixels wide (1200); font sizes below are points at this DPI."""
TITLE_PT: Final = 13.5
PANEL_PT: Final = 12.0
LABEL_PT: Final = 11.0
SMALL_PT: Final = 10.0
TINY_PT: Final = 7.0
"""The smallest size a count in a cell is shrunk to before it is left out."""

HELPFUL_COLOUR: Final = "#1b9e77"
NOT_HELPFUL_COLOUR: Final = "#d95f02"
UNANSWERED_COLOUR: Final = "#7570b3"
TEXT_COLOUR: Final = "#222222"
MUTED_COLOUR: Final = "#666666"
AXIS_COLOUR: Final = "#444444"
GRID_COLOUR: Final = "#dddddd"
BACKGROUND: Final = "#ffffff"
BLUES: Final = (
    (0xF7, 0xFB, 0xFF), (0xDE, 0xEB, 0xF7), (0xC6, 0xDB, 0xEF), (0x9E, 0xCA, 0xE1),
    (0x6B, 0xAE, 0xD6), (0x42, 0x92, 0xC6), (0x21, 0x71, 0xB5), (0x08, 0x51, 0x9C),
    (0x08, 0x30, 0x6B),
)  # fmt: skip
"""ColorBrewer "Blues" (9 steps), light to dark: the answers grid, 0 to the busiest cell."""

GLYPHS: Final = frozenset([chr(c) for c in range(0x20, 0x7F)] + list("©«°±´·»‘’“”…‹›⁄™"))
"""The characters Pillow's bundled font draws; any other shows as an empty box."""

PNG_LEVEL: Final = 3
"""zlib level of the PNG: encoding is most of a chart's time; 3 takes half the time of the
default 6 for a file a few % larger."""

WIDTH: Final = round(WIDTH_IN * DPI)
MARGIN: Final = 18
GAP: Final = 44
"""Between the answers grid and the bar panels."""


def _px(points: float) -> int:
    return round(points * DPI / 72)


@functools.cache
def _font(points: float) -> Font:
    """Pillow's bundled scalable font (Aileron Regular) at ``points`` (at ``DPI``)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=_px(points))


def _char(c: str) -> str:
    """``c`` if the font draws it, else its unaccented letter (é → e), else "?"."""
    if c in GLYPHS:
        return c
    base = unicodedata.normalize("NFKD", c)[:1]
    return base if base in GLYPHS and base.isprintable() else "?"


def _label(text: str, limit: int = LABEL_MAX) -> str:
    """Printable, in the font's characters (others replaced), at most ``limit`` characters."""
    clean = "".join(_char(c) if c.isprintable() else "?" for c in text).strip() or "?"
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return clean


def _fit(text: str, font: Font, width: float) -> str:
    """``text``, shortened with "…" until it is at most ``width`` pixels wide."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _short(n: int) -> str:
    """A count in at most ~4 characters: 9999, 12k, 1.5M."""
    if n < 10_000:
        return str(n)
    for divisor, unit in ((10**3, "k"), (10**6, "M"), (10**9, "G")):
        value = n / divisor
        if round(value) < 1000 or unit == "G":
            text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    raise AssertionError("unreachable: the last unit always returns")


def _day(d: date) -> str:
    return f"{d.day} {d:%b}"


def _period(stats: WeeklyStats) -> str:
    since, until = stats.since.date(), stats.until.date()
    days = round((stats.until - stats.since).total_seconds() / 86400)
    year = "" if since.year == until.year else f" {since.year}"
    return f"{_day(since)}{year} - {_day(until)} {until.year} ({days} days, UTC)"


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


def _blue(fraction: float) -> tuple[int, int, int]:
    """The "Blues" colour at ``fraction`` (0 light, 1 dark), interpolated linearly."""
    position = min(max(fraction, 0.0), 1.0) * (len(BLUES) - 1)
    low = min(int(position), len(BLUES) - 2)
    t = position - low
    a, b = BLUES[low], BLUES[low + 1]
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _bold(draw: ImageDraw, xy: tuple[float, float], text: str, points: float) -> None:
    """A heading: the regular font thickened by a thin outline of the same colour."""
    draw.text(
        xy, text, font=_font(points), fill=TEXT_COLOUR, anchor="la",
        stroke_width=0.6, stroke_fill=TEXT_COLOUR,
    )  # fmt: skip


def _week_labels(
    draw: ImageDraw, weeks: Sequence[date], centre: list[float], y: float, most: int
) -> None:
    """Label at most ``most`` weeks (every n-th Monday), day over month, from ``y`` down."""
    font = _font(SMALL_PT)
    step = max(1, -(-len(weeks) // most))
    for i in range(0, len(weeks), step):
        day, month = str(weeks[i].day), f"{weeks[i]:%b}"
        # A label under the last narrow week is pulled in so it stays inside the picture.
        half = max(font.getlength(day), font.getlength(month)) / 2
        x = min(centre[i], WIDTH - MARGIN / 2 - half)
        draw.text((x, y), day, font=font, fill=TEXT_COLOUR, anchor="ma")
        draw.text(
            (x, y + _px(SMALL_PT) + 2), month, font=font, fill=TEXT_COLOUR, anchor="ma",
        )  # fmt: skip


def _week_labels_height() -> int:
    return 2 * _px(SMALL_PT) + 6


def _empty(draw: ImageDraw, box: Box, message: str) -> None:
    x0, y0, x1, y1 = box
    draw.text(
        ((x0 + x1) / 2, (y0 + y1) / 2), message, font=_font(LABEL_PT), fill=MUTED_COLOUR,
        anchor="mm",
    )  # fmt: skip


def _answers_panel(
    draw: ImageDraw, box: Box, weeks: Sequence[date], rows: list[tuple[str, tuple[int, ...]]]
) -> None:
    x0, y0, x1, y1 = box
    _bold(draw, (x0, y0), "Answers per entry per week", PANEL_PT)
    top = y0 + _px(PANEL_PT) + 14
    if not rows:
        _empty(draw, (x0, top, x1, y1), "No answers in this period")
        return
    font = _font(SMALL_PT)
    label_width = (x1 - x0) * 0.45
    labels = []
    for entry, counts in rows:
        total = f" ({_short(sum(counts))})"
        labels.append(_fit(_label(entry), font, label_width - font.getlength(total)) + total)
    grid_x0 = x0 + max(font.getlength(label) for label in labels) + 10
    grid_y0 = top + _week_labels_height() + 4
    cell_w = (x1 - grid_x0) / len(weeks)
    cell_h = (y1 - grid_y0) / max(len(rows), MIN_ROWS)
    centres = [grid_x0 + (i + 0.5) * cell_w for i in range(len(weeks))]
    _week_labels(draw, weeks, centres, top, GRID_TICKS)
    peak = max(max(counts) for _, counts in rows) or 1
    annotate = len(weeks) <= ANNOTATE_WEEKS
    for y, (label, (_entry, counts)) in enumerate(zip(labels, rows, strict=True)):
        cy0 = grid_y0 + y * cell_h
        draw.text((grid_x0 - 8, cy0 + cell_h / 2), label, font=font, fill=TEXT_COLOUR, anchor="rm")
        for x, count in enumerate(counts):
            cx0 = grid_x0 + x * cell_w
            draw.rectangle((cx0, cy0, cx0 + cell_w, cy0 + cell_h), fill=_blue(count / peak))
            if annotate and count:
                _cell_count(draw, count, centres[x], cy0 + cell_h / 2, cell_w - 4, count / peak)
    bottom = grid_y0 + len(rows) * cell_h
    for y in range(1, len(rows)):  # white lines between the cells
        draw.line((grid_x0, grid_y0 + y * cell_h, x1, grid_y0 + y * cell_h), BACKGROUND, 2)
    if annotate:
        for x in range(1, len(weeks)):
            edge = grid_x0 + x * cell_w
            draw.line((edge, grid_y0, edge, bottom), BACKGROUND, 2)


def _cell_count(
    draw: ImageDraw, count: int, x: float, y: float, width: float, fraction: float
) -> None:
    """``count`` centred in its cell, shrunk (or left out) so it stays inside."""
    colour = BACKGROUND if fraction > 0.55 else TEXT_COLOUR
    for text in dict.fromkeys((str(count), _short(count))):
        for points in (SMALL_PT, 8.5, TINY_PT):
            if _font(points).getlength(text) <= width:
                draw.text((x, y), text, font=_font(points), fill=colour, anchor="mm")
                return


def _ticks(top: float, most: int = 5) -> list[int]:
    """Integer ticks 0, step, 2·step … ≤ ``top``, the step 1, 2, 5, 10, 20, 50 … (≤ most+1)."""
    step, factors = 1, (2, 2.5, 2)  # 1 → 2 → 5 → 10 → 20 → 50 …
    i = 0
    while top / step > most:
        step = round(step * factors[i % 3])
        i += 1
    return list(range(0, int(top) + 1, step))


def _bars(
    draw: ImageDraw,
    box: Box,
    title: str,
    weeks: Sequence[date],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    headroom: float = 1.2,
) -> Box:
    """A bar panel (bars side by side per week); returns the plot area."""
    x0, y0, x1, y1 = box
    font = _font(SMALL_PT)
    _bold(draw, (x0, y0), title, PANEL_PT)
    plot_y0 = y0 + _px(PANEL_PT) + 14
    plot_y1 = y1 - _week_labels_height() - 6
    top = max(1, *(max(counts, default=0) for _, counts, _ in series)) * headroom
    ticks = _ticks(top)
    plot_x0 = x0 + max(font.getlength(_short(t)) for t in ticks) + 10

    def height(value: float) -> float:
        return plot_y1 - (plot_y1 - plot_y0) * value / top

    for tick in ticks:
        y = round(height(tick))
        draw.line((plot_x0, y, x1, y), GRID_COLOUR, 1)
        draw.text((plot_x0 - 6, y), _short(tick), font=font, fill=TEXT_COLOUR, anchor="rm")
    slot = (x1 - plot_x0) / len(weeks)
    width = 0.8 * slot / len(series)
    annotate = len(weeks) * len(series) <= ANNOTATE_WEEKS
    for i, (_name, counts, colour) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        for x, count in enumerate(counts):
            if not count:
                continue
            centre = plot_x0 + (x + 0.5) * slot + offset
            bar_top = min(height(count), plot_y1 - 1)  # at least one pixel high
            draw.rectangle((centre - width / 2, bar_top, centre + width / 2 - 1, plot_y1), colour)
            if annotate:
                text = str(count) if font.getlength(str(count)) <= slot else _short(count)
                draw.text((centre, bar_top - 3), text, font=font, fill=TEXT_COLOUR, anchor="md")
    draw.line((plot_x0, plot_y0, plot_x0, plot_y1), AXIS_COLOUR, 1)
    draw.line((plot_x0, plot_y1, x1, plot_y1), AXIS_COLOUR, 1)
    centres = [plot_x0 + (i + 0.5) * slot for i in range(len(weeks))]
    _week_labels(draw, weeks, centres, plot_y1 + 6, BAR_TICKS)
    return plot_x0, plot_y0, x1, plot_y1


def _legend(draw: ImageDraw, x: float, y: float, items: Sequence[tuple[str, str]]) -> None:
    font = _font(SMALL_PT)
    size = _px(SMALL_PT) * 0.8
    for name, colour in items:
        draw.rectangle((x, y, x + size, y + size), colour)
        draw.text((x + size + 6, y + size / 2), name, font=font, fill=TEXT_COLOUR, anchor="lm")
        x += size + 6 + font.getlength(name) + 18


def stats_chart(stats: WeeklyStats, *, heading: str = "whytwitter-bot statistics") -> bytes:
    """The PNG (bytes) of ``stats``: answers per entry per week (a grid, entry ids as labels),
    helpful / not helpful votes per week, and unanswered questions per week.

    Landscape (1200 px wide, about 1.6:1) so that Discord's preview keeps it legible.
    """
    with _DRAW:
        return _draw(stats, heading)


def _draw(stats: WeeklyStats, heading: str) -> bytes:
    from PIL import Image, ImageDraw

    weeks = list(stats.weeks)
    rows = entry_rows(stats.answers, len(weeks))
    height = round(max(HEIGHT_IN, 2.2 + 0.3 * len(rows)) * DPI)
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN

    period = f", {_period(stats)}"
    title_font = _font(TITLE_PT)
    title = _fit(_label(heading, 60), title_font, inner - title_font.getlength(period)) + period
    _bold(draw, (MARGIN, MARGIN), title, TITLE_PT)

    total_answers = sum(sum(c) for c in stats.answers.values())
    helpful, not_helpful = sum(stats.helpful), sum(stats.not_helpful)
    footer = (
        f"{total_answers} answers · {helpful} helpful / {not_helpful} not helpful votes · "
        f"{sum(stats.unanswered)} unanswered · weeks start on Monday (UTC)"
    )
    footer_font = _font(SMALL_PT)
    draw.text(
        (WIDTH / 2, height - MARGIN), _fit(footer, footer_font, inner), font=footer_font,
        fill=MUTED_COLOUR, anchor="md",
    )  # fmt: skip

    top = MARGIN + _px(TITLE_PT) + 22
    bottom = height - MARGIN - _px(SMALL_PT) - 22
    split = MARGIN + (inner - GAP) * 1.35 / 2.35
    _answers_panel(draw, (MARGIN, top, split, bottom), weeks, rows)

    right = split + GAP
    middle = (top + bottom) / 2
    votes = _bars(
        draw,
        (right, top, WIDTH - MARGIN, middle - 12),
        "Votes per week",
        weeks,
        [
            ("helpful", stats.helpful, HELPFUL_COLOUR),
            ("not helpful", stats.not_helpful, NOT_HELPFUL_COLOUR),
        ],
        headroom=1.7,  # room for the legend above the bars
    )
    if helpful or not_helpful:
        legend = [("helpful", HELPFUL_COLOUR), ("not helpful", NOT_HELPFUL_COLOUR)]
        _legend(draw, votes[0] + 10, votes[1] + 4, legend)
    else:
        _empty(draw, votes, "No votes in this period")

    unanswered = _bars(
        draw,
        (right, middle + 12, WIDTH - MARGIN, bottom),
        "Unanswered per week",
        weeks,
        [("unanswered", stats.unanswered, UNANSWERED_COLOUR)],
    )
    if not any(stats.unanswered):
        _empty(draw, unanswered, "No unanswered questions")

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI), compress_level=PNG_LEVEL)
    data = buffer.getvalue()
    log.debug("drew a %d-byte chart of %d weeks, %d rows", len(data), len(weeks), len(rows))
    return data
