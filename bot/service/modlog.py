"""Texts for moderators (no network): reload announcements, problem lists, change previews,
version labels and the statistics bar chart. Used by the moderator cogs
(``bot/cogs/kb_admin.py``, ``bot/cogs/modlog_feed.py``) and ``bot/embeds.py``.

Everything here returns plain strings sized for Discord, so it can be tested without a client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.kb.diff import KBDiff
from bot.kb.model import Problem
from bot.service import check

__all__ = [
    "MESSAGE_MAX",
    "bar_chart",
    "diff_lines",
    "fit_lines",
    "problem_text",
    "reload_line",
    "stats_table",
    "version_choice_name",
]

MESSAGE_MAX: Final = 2000
"""Discord's limit for a message's content."""
CHOICE_NAME_MAX: Final = 100
BAR: Final = "█"
HALF_BAR: Final = "▌"


def fit_lines(lines: Sequence[str], limit: int, *, more: str = "… and {n} more") -> str:
    """``lines`` joined by newlines, cut at a line boundary to fit ``limit`` characters.

    When lines are dropped the text ends with ``more`` (``{n}`` = how many were dropped).
    A first line longer than the limit is shortened with an ellipsis.
    """
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    out: list[str] = []
    for index, line in enumerate(lines):
        tail = more.format(n=len(lines) - index - 1)
        if len("\n".join([*out, line, tail])) > limit:
            break
        out.append(line)
    dropped = len(lines) - len(out)
    if not out:
        room = limit - len(more.format(n=dropped - 1)) - 1 if dropped > 1 else limit
        if room > 1:
            out.append(lines[0][: room - 1] + "…")
            dropped -= 1
    if dropped:
        out.append(more.format(n=dropped))
    return "\n".join(out)[:limit]


def problem_text(problems: Iterable[Problem], limit: int) -> str:
    """One ``file:line: message`` per line (what blocks first: :func:`bot.service.check.blocks`),
    fitted into ``limit`` characters."""
    items = sorted(problems, key=lambda p: (not check.blocks(p), p.file, p.line))
    return fit_lines([f"• {p}" for p in items], limit)


def _ids(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(f"`{i}`" for i in ids[:limit])
    if len(ids) > limit:
        shown += f" +{len(ids) - limit}"
    return shown


def diff_summary(diff: KBDiff | None) -> str:
    """A short one-line summary naming the first few entries, e.g. "1 changed (`too-busy`)"."""
    if diff is None:
        return "reloaded"
    if diff.empty:
        return "no entry changed"
    parts = []
    for label, ids in (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)):
        if ids:
            parts.append(f"{len(ids)} {label} ({_ids(ids)})")
    if diff.other:
        parts.append(f"{', '.join(diff.other)} changed")
    return "; ".join(parts)


def diff_lines(diff: KBDiff, titles: Mapping[str, str]) -> list[str]:
    """A preview of a change, one entry per line: ``+ added``, ``~ changed``, ``- removed``."""
    lines: list[str] = []
    for mark, ids in (("+", diff.added), ("~", diff.changed), ("−", diff.removed)):
        for entry_id in ids:
            title = titles.get(entry_id, "")
            lines.append(f"{mark} `{entry_id}` {title}".rstrip())
    if diff.other:
        lines.append(f"~ {', '.join(diff.other)}")
    return lines


def reload_line(
    ok: bool, diff: KBDiff | None, problems: Sequence[Problem], *, by: str | None = None
) -> str:
    """The mod-log announcement of a reload: one line when it worked, the problems when not."""
    if ok:
        who = f" by {by}" if by else ""
        return f"✅ Knowledge base reloaded{who}: {diff_summary(diff)}."
    head = (
        f"⚠️ The knowledge base was **not** reloaded: {len(problems)} problem"
        f"{'s' * (len(problems) != 1)}. The last good version is still being served.\n"
    )
    return head + problem_text(problems, MESSAGE_MAX - len(head))


def bar_chart(rows: Sequence[tuple[str, int]], *, width: int = 12, label_width: int = 22) -> str:
    """A monospace bar chart: ``label  ████▌ 9`` per row, scaled to the largest count."""
    if not rows:
        return ""
    top = max(count for _, count in rows) or 1
    lines = []
    for label, count in rows:
        units = count * width * 2 / top
        full, half = divmod(round(units), 2)
        bar = BAR * full + (HALF_BAR if half else "")
        if count and not bar:
            bar = HALF_BAR
        name = label if len(label) <= label_width else label[: label_width - 1] + "…"
        lines.append(f"{name:<{label_width}} {bar:<{width}} {count}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class StatRow:
    """Answers and votes of one entry."""

    entry_id: str
    answers: int
    helpful: int
    not_helpful: int


def stat_rows(
    answers: Mapping[str, int], helpful: Mapping[str, int], not_helpful: Mapping[str, int]
) -> list[StatRow]:
    """One row per entry that was answered or voted on, most answered first."""
    ids = set(answers) | set(helpful) | set(not_helpful)
    rows = [StatRow(i, answers.get(i, 0), helpful.get(i, 0), not_helpful.get(i, 0)) for i in ids]
    rows.sort(key=lambda r: (-r.answers, -(r.helpful + r.not_helpful), r.entry_id))
    return rows


def stats_table(rows: Sequence[StatRow], *, limit: int = 15, max_chars: int = 4000) -> str:
    """The chart of answers per entry with 👍/👎 counts, in a code block, fitted to Discord."""
    shown = list(rows[:limit])
    if not shown:
        return "No answers yet in this period."
    chart = bar_chart([(r.entry_id, r.answers) for r in shown]).splitlines()
    lines = [f"{line}  +{r.helpful}/−{r.not_helpful}" for line, r in zip(chart, shown, strict=True)]
    body = fit_lines(lines, max_chars - 8 - 40)
    extra = f"\n… and {len(rows) - limit} more entries" if len(rows) > limit else ""
    return f"```\n{body}\n```{extra}"


def version_choice_name(
    created_at: datetime, author: str, reason: str, summary: str, *, now: datetime
) -> str:
    """An autocomplete label for a saved version (≤ 100 characters)."""
    age = now - created_at
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        when = "just now"
    elif minutes < 60:
        when = f"{minutes} min ago"
    elif minutes < 48 * 60:
        when = f"{minutes // 60} h ago"
    else:
        when = created_at.strftime("%Y-%m-%d")
    text = f"before {reason or 'a change'} by {author or '?'}, {when}"
    if summary:
        text += f" ({summary})"
    return text if len(text) <= CHOICE_NAME_MAX else text[: CHOICE_NAME_MAX - 1] + "…"
