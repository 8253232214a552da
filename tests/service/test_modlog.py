"""Moderator texts (bot/service/modlog.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.kb import store
from bot.kb.diff import KBDiff
from bot.kb.model import Problem
from bot.service.modlog import (
    MESSAGE_MAX,
    bar_chart,
    diff_lines,
    diff_summary,
    fit_lines,
    problem_text,
    reload_line,
    stat_rows,
    stats_table,
    version_choice_name,
)


def test_fit_lines_keeps_whole_lines_and_counts_the_rest() -> None:
    lines = [f"line {i:02d} " + "x" * 20 for i in range(50)]
    text = fit_lines(lines, 200)
    assert len(text) <= 200
    kept = text.splitlines()[:-1]
    assert kept == lines[: len(kept)]
    assert text.endswith(f"… and {50 - len(kept)} more")
    assert fit_lines(["a", "b"], 100) == "a\nb"


def test_fit_lines_shortens_a_single_huge_line() -> None:
    text = fit_lines(["y" * 5000], 100)
    assert len(text) <= 100
    assert text.endswith("…")


def test_problem_text_lists_errors_first_with_file_and_line() -> None:
    problems = [
        Problem("b.yaml", 3, "looks odd", severity="warning"),
        Problem("a.yaml", 12, "unknown benefit `x`"),
    ]
    assert problem_text(problems, 500).splitlines() == [
        "• a.yaml:12: unknown benefit `x`",
        "• b.yaml:3: warning: looks odd",
    ]


def test_problem_text_orders_by_the_checks_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The order follows ``bot.service.check.blocks``, not a copy of it."""
    problems = [
        Problem("a.yaml", 1, "unknown benefit `x`"),
        Problem("b.yaml", 3, "looks odd", severity="warning"),
    ]
    monkeypatch.setattr("bot.service.check.blocks", lambda p: p.severity == "warning")
    assert problem_text(problems, 500).splitlines() == [
        "• b.yaml:3: warning: looks odd",
        "• a.yaml:1: unknown benefit `x`",
    ]


def test_reload_line_good_and_bad() -> None:
    diff = KBDiff(added=("new-one",), changed=("too-busy",))
    good = reload_line(True, diff, (), by="alice (upload objections.yaml)")
    assert good.startswith("✅ Knowledge base reloaded by alice")
    assert "1 added (`new-one`)" in good
    assert "1 changed (`too-busy`)" in good
    many = [Problem("objections.yaml", i, "x" * 80) for i in range(1, 200)]
    bad = reload_line(False, None, many)
    assert len(bad) <= MESSAGE_MAX
    assert "objections.yaml:1:" in bad
    assert "more" in bad.splitlines()[-1]


def test_diff_texts() -> None:
    diff = KBDiff(added=("a",), changed=("b",), removed=("c",), other=("synonyms",))
    assert diff_lines(diff, {"a": "Title A"}) == ["+ `a` Title A", "~ `b`", "− `c`", "~ synonyms"]
    assert diff_summary(KBDiff()) == "no entry changed"
    assert diff_summary(None) == "reloaded"


def test_bar_chart_scales_to_the_largest() -> None:
    chart = bar_chart([("too-busy", 10), ("privacy", 5), ("rare", 1)], width=10).splitlines()
    assert chart[0].count("█") == 10
    assert chart[1].count("█") == 5
    assert "▌" in chart[2] or "█" in chart[2]  # a non-zero count always shows
    assert chart[0].endswith(" 10")
    assert bar_chart([]) == ""


def test_stats_table_orders_by_answers_and_shows_votes() -> None:
    rows = stat_rows({"a": 1, "b": 7}, {"b": 2, "c": 1}, {"b": 1})
    assert [r.entry_id for r in rows] == ["b", "a", "c"]
    table = stats_table(rows)
    assert table.startswith("```")
    assert "+2/−1" in table
    assert stats_table([]) == "No answers yet in this period."


def test_version_choice_name_is_short_and_readable() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    name = version_choice_name(
        now - timedelta(minutes=5), "alice (1)", "upload objections.yaml", "1 changed", now=now
    )
    assert name == "before upload objections.yaml by alice (1), 5 min ago (1 changed)"
    long = version_choice_name(now, "a" * 200, "r", "s" * 200, now=now)
    assert len(long) <= 100


@pytest.mark.parametrize("name", ["../evil.yaml", ".hidden.yaml", "notes.txt", "a/b.yaml"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        store.safe_filename(name)
