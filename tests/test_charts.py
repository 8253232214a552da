"""The statistics chart (bot/charts.py): valid PNGs for empty, filled and odd data; the data
is drawn; matplotlib is imported only when a chart is drawn."""

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

from bot.charts import DPI, LABEL_MAX, MAX_ROWS, WIDTH_IN, _label, entry_rows, stats_chart
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


def test_labels_are_short_printable_and_not_mathtext() -> None:
    assert _label("x" * 100) == "x" * (LABEL_MAX - 1) + "…"
    assert _label("follow-conferences-remotely") == "follow-conferences-remotely"
    assert _label("cost $5 or $10") == r"cost \$5 or \$10"
    assert _label("tab\there\x00") == "tab?here?"
    assert _label("   ") == "?"


# Ids with mathtext specials, non-ASCII letters and lengths up to the stored 200 characters.
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
    width, height = png_size(stats_chart(stats, heading="odd $data$ " + "long " * 30))
    assert width == int(WIDTH_IN * DPI)
    assert height < 2 * width


async def test_charts_drawn_in_parallel_threads() -> None:
    sets = [weekly({f"e{i}": (i, 0, 1, 2, 3)}, helpful=(i, 1, 1, 1, 1)) for i in range(1, 4)]
    results = await asyncio.gather(*(asyncio.to_thread(stats_chart, s) for s in sets))
    assert results == [stats_chart(s) for s in sets]
    for data in results:
        png_size(data)


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    code = (
        "import sys\n"
        "import bot.__main__, bot.bot, bot.charts, bot.cli, bot.cogs.moderation\n"
        "assert 'matplotlib' not in sys.modules, 'imported at start-up'\n"
        "from tests.test_charts import weekly\n"
        "bot.charts.stats_chart(weekly())\n"
        "assert 'matplotlib' in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot keeps global state'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
