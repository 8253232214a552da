"""The statistics chart (bot/charts.py): valid PNGs for empty, filled and odd data; the data
is drawn; PIL is imported only when a chart is drawn; text stays in the bundled font's
characters and inside its box."""

from __future__ import annotations

import asyncio
import io
import struct
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.charts import (
    DPI,
    GLYPHS,
    LABEL_MAX,
    MAX_ROWS,
    SMALL_PT,
    WIDTH_IN,
    _fit,
    _font,
    _label,
    _short,
    _ticks,
    entry_rows,
    stats_chart,
)
from bot.storage import WeeklyStats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNTIL = datetime(2026, 11, 25, 12, tzinfo=UTC)
HELPFUL_RGB = (0x1B, 0x9E, 0x77)
NOT_HELPFUL_RGB = (0xD9, 0x5F, 0x02)
UNANSWERED_RGB = (0x75, 0x70, 0xB3)


def weekly(
    answers: dict[str, tuple[int, ...]] | None = None,
    *,
    weeks: int = 5,
    helpful: tuple[int, ...] | None = None,
    not_helpful: tuple[int, ...] | None = None,
    unanswered: tuple[int, ...] | None = None,
) -> WeeklyStats:
    """Stats over ``weeks`` Monday weeks ending on UNTIL's week (zeros where not given)."""
    first = date(2026, 11, 23) - timedelta(weeks=weeks - 1)
    zeros = (0,) * weeks
    return WeeklyStats(
        since=datetime(first.year, first.month, first.day, tzinfo=UTC),
        until=UNTIL,
        weeks=tuple(first + timedelta(weeks=i) for i in range(weeks)),
        answers=answers or {},
        helpful=helpful or zeros,
        not_helpful=not_helpful or zeros,
        unanswered=unanswered or zeros,
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Check the PNG signature and IHDR header; decode it fully with Pillow; its size."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()  # decodes every row: a truncated or corrupt file raises here
        assert image.size == (width, height)
    return width, height


def colours(data: bytes) -> set[tuple[int, int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}


def test_empty_data_is_a_valid_png_without_data_colours() -> None:
    data = stats_chart(weekly())
    width, height = png_size(data)
    assert width == int(WIDTH_IN * DPI)
    assert 0.5 < height / width < 0.9  # landscape, for Discord's preview
    assert not {HELPFUL_RGB, NOT_HELPFUL_RGB, UNANSWERED_RGB} & colours(data)


def test_filled_data_draws_every_panel() -> None:
    answers = {f"entry-{i}": tuple((i * w) % 7 for w in range(5)) for i in range(1, 10)}
    data = stats_chart(
        weekly(
            answers,
            helpful=(3, 0, 5, 1, 2),
            not_helpful=(1, 2, 0, 0, 4),
            unanswered=(0, 6, 2, 0, 1),
        )
    )
    width, _ = png_size(data)
    assert width == int(WIDTH_IN * DPI)
    assert {HELPFUL_RGB, NOT_HELPFUL_RGB, UNANSWERED_RGB} <= colours(data)
    assert data != stats_chart(weekly(answers))  # the votes and unanswered bars are drawn


def test_entry_rows_rank_and_sum_the_rest() -> None:
    answers = {f"e{i:02}": (i, 1) for i in range(20)}
    answers["tie-a"] = answers["tie-b"] = (20, 0)
    rows = entry_rows(answers, 2)
    assert len(rows) == MAX_ROWS
    assert [name for name, _ in rows[:3]] == ["e19", "tie-a", "tie-b"]
    shown = {name for name, _ in rows[:-1]}
    rest = [counts for name, counts in answers.items() if name not in shown]
    assert rows[-1] == (f"{len(rest)} other entries", (sum(c[0] for c in rest), len(rest)))
    assert sum(sum(c) for _, c in rows) == sum(sum(c) for c in answers.values())
    assert entry_rows({"only": (0, 2)}, 2) == [("only", (0, 2))]


def test_labels_are_short_printable_and_in_the_fonts_characters() -> None:
    assert _label("x" * 100) == "x" * (LABEL_MAX - 1) + "…"
    assert _label("follow-conferences-remotely") == "follow-conferences-remotely"
    assert _label("cost $5 or $10") == "cost $5 or $10"  # no mathtext any more: drawn as is
    assert _label("tab\there\x00") == "tab?here?"
    assert _label("   ") == "?"
    assert _label("café – naïve 🙂") == "cafe ? naive ?"
    assert set(_label("".join(map(chr, range(0x2100))))) <= GLYPHS


def glyph(c: str) -> bytes:
    font = _font(SMALL_PT)
    return bytes(font.getmask(c)) + repr(font.getbbox(c)).encode()


def test_glyphs_are_the_characters_the_bundled_font_draws() -> None:
    """What GLYPHS says: each draws its own shape; a character outside it draws the empty
    box (why _label replaces them)."""
    missing = glyph("\u4e00")
    assert glyph("é") == glyph("–") == missing
    drawn = {c: glyph(c) for c in GLYPHS if c != " "}
    assert missing not in drawn.values()
    assert len(set(drawn.values())) == len(drawn)


def test_fit_shortens_text_to_the_width() -> None:
    font = _font(SMALL_PT)
    assert _fit("short", font, 500) == "short"
    fitted = _fit("why-should-a-busy-physician-bother", font, 120)
    assert fitted.endswith("…")
    assert font.getlength(fitted) <= 120
    assert "why-should-a-busy-physician-bother".startswith(fitted[:-1])
    assert font.getlength(_fit(fitted[:-1] + "xxxxx", font, 120)) <= 120


def test_short_counts_and_integer_ticks() -> None:
    assert [_short(n) for n in (0, 9999, 10_000, 12_345, 999_999, 1_500_000, 2 * 10**9)] == [
        "0", "9999", "10k", "12k", "1M", "1.5M", "2G",
    ]  # fmt: skip
    assert _ticks(1.2) == [0, 1]
    assert _ticks(8.5) == [0, 2, 4, 6, 8]
    assert _ticks(1.7 * 10**6) == [0, 500_000, 1_000_000, 1_500_000]
    for top in (1, 3.4, 7, 11.9, 57, 1234, 10**6 * 1.7):
        ticks = _ticks(top)
        assert ticks[0] == 0
        assert ticks[-1] <= top
        assert 2 <= len(ticks) <= 6


def bar_heights(data: bytes, rgb: tuple[int, int, int]) -> list[int]:
    """Heights in pixels of the bars of colour ``rgb``, left to right."""
    with Image.open(io.BytesIO(data)) as image:
        rgb_image = image.convert("RGB")
        width, height = rgb_image.size
        pixels = rgb_image.load()
        assert pixels is not None
        columns = [sum(pixels[x, y] == rgb for y in range(height)) for x in range(width)]
    bars: list[int] = []
    previous = 0
    for column in columns:
        if column and not previous:
            bars.append(column)
        previous = column
    return bars


def test_bars_are_as_high_as_their_counts() -> None:
    data = stats_chart(weekly(unanswered=(2, 4, 0, 1, 8), helpful=(0, 0, 3, 0, 6)))
    unanswered = bar_heights(data, UNANSWERED_RGB)
    assert len(unanswered) == 4  # no bar for the week with 0
    unit = unanswered[0] / 2
    for bar, count in zip(unanswered, (2, 4, 1, 8), strict=True):
        assert abs(bar - count * unit) <= 2
    helpful = bar_heights(data, HELPFUL_RGB)
    assert len(helpful) == 3  # the legend's square, then two bars
    assert abs(helpful[2] - 2 * helpful[1]) <= 2


# Ids with former mathtext specials, characters the font lacks, lengths up to the stored 200.
IDS = st.text(alphabet=st.sampled_from("abcxyz-_019 $^{}\\%#&é–…'\"\t"), min_size=1, max_size=200)


@st.composite
def odd_stats(draw: st.DrawFn) -> WeeklyStats:
    weeks = draw(st.integers(min_value=1, max_value=60))
    counts = st.lists(
        st.integers(min_value=0, max_value=10**6), min_size=weeks, max_size=weeks
    ).map(tuple)
    answers = draw(st.dictionaries(IDS, counts, max_size=40))
    return weekly(
        answers,
        weeks=weeks,
        helpful=draw(counts),
        not_helpful=draw(counts),
        unanswered=draw(counts),
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_stats())
def test_odd_data_never_crashes(stats: WeeklyStats) -> None:
    data = stats_chart(stats, heading="odd $data$ " + "long " * 30)
    width, height = png_size(data)
    assert width == int(WIDTH_IN * DPI)
    assert height < 2 * width
    assert blank_border(data, 8)  # no text runs off the picture


def blank_border(data: bytes, size: int) -> bool:
    """Whether the outer ``size`` pixels of the picture are all white."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        strips = [(0, 0, width, size), (0, height - size, width, height)]
        strips += [(0, 0, size, height), (width - size, 0, width, height)]
        return all(
            rgb.crop(box).getcolors() == [(box_area(box), (255, 255, 255))] for box in strips
        )


def box_area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


async def test_charts_drawn_in_parallel_threads() -> None:
    sets = [weekly({f"e{i}": (i, 0, 1, 2, 3)}, helpful=(i, 1, 1, 1, 1)) for i in range(1, 4)]
    results = await asyncio.gather(*(asyncio.to_thread(stats_chart, s) for s in sets))
    assert results == [stats_chart(s) for s in sets]
    for data in results:
        png_size(data)


def test_pil_is_imported_only_when_a_chart_is_drawn() -> None:
    code = (
        "import sys\n"
        "import bot.__main__, bot.bot, bot.charts, bot.cli, bot.cogs.kb_admin\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'PIL'], 'imported at start'\n"
        "from tests.test_charts import weekly\n"
        "bot.charts.stats_chart(weekly())\n"
        "assert 'PIL.ImageDraw' in sys.modules\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def test_last_week_label_stays_inside_the_picture() -> None:
    """31 narrow weeks: the label under the last one is pulled in (found by hypothesis)."""
    weeks = tuple(date(2026, 4, 27) + timedelta(weeks=i) for i in range(31))
    zeros = (0,) * len(weeks)
    stats = WeeklyStats(
        since=datetime(2026, 4, 27, tzinfo=UTC),
        until=datetime(2026, 11, 25, 12, tzinfo=UTC),
        weeks=weeks,
        answers={},
        helpful=zeros,
        not_helpful=zeros,
        unanswered=zeros,
    )
    assert blank_border(stats_chart(stats), 8)
