"""The ``match`` and ``check`` commands (output to sys.stdout, errors to sys.stderr).

``match`` contract (stable, other tools read it): one result per input message; with
``--json`` each result is ``Decision.to_json()`` on one line (``--explain`` adds an
``explain`` object: the figures behind the decision; fields are only ever added). Reading
stdin, a blank line yields a silent result (``{"text": "", "answer": null, "suggestions":
[]}``) so output line N always belongs to input line N; a line that is not UTF-8 stops with
an error naming it.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.kb.loader import load_knowledge
from bot.kb.model import KBError, KnowledgeBase
from bot.matching.types import Decision, Outcome
from bot.service.check import check_knowledge
from bot.service.replies import Reply, reply_for

if TYPE_CHECKING:
    from bot.matching.factory import MatcherConfig
    from bot.matching.hybrid import HybridMatcher

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def load_or_report(kb_dir: Path | None, err: TextIO | None = None) -> KnowledgeBase | None:
    """Load the knowledge base, or print each problem (``file:line: message``) and return None."""
    stream = err if err is not None else sys.stderr
    try:
        return load_knowledge(kb_dir)
    except KBError as exc:
        for problem in exc.problems:
            stream.write(f"{problem}\n")
        where = kb_dir if kb_dir is not None else "the bundled knowledge base"
        stream.write(f"error: cannot load {where}: {len(exc.problems)} problem(s)\n")
        stream.flush()
        return None


def build_or_report(kb: KnowledgeBase, config: MatcherConfig | None) -> HybridMatcher | None:
    """The factory's matcher, or None after one line naming the model file and the fix."""
    from bot.matching.factory import build_matcher
    from bot.matching.semantic import ModelError

    try:
        return build_matcher(kb, config)
    except ModelError as exc:
        _error(str(exc))
        return None


def format_reply(reply: Reply, *, as_json: bool) -> str:
    """One line: the JSON contract, or "answer: id (score)" / "suggest: a, b" / "silent"."""
    decision = reply.decision
    if as_json:
        return json.dumps(decision.to_json(), ensure_ascii=False)
    if reply.entry is not None and decision.answer is not None:
        return f"answer: {reply.entry.id} ({decision.answer.score:.1f})"
    if reply.suggestions:
        return "suggest: " + ", ".join(entry.id for entry in reply.suggestions)
    return "silent"


def match_command(
    text: str | None,
    *,
    as_json: bool,
    kb_dir: Path | None,
    explain: bool = False,
    config: MatcherConfig | None = None,
) -> int:
    """Print the decision for ``text``, or for each stdin line when ``text`` is None.

    ``explain`` adds the figures behind each decision (``--explain``). Exit 2 when the
    model is missing or corrupt.
    """
    if text is not None and not text.strip():
        _error("empty message; give some text, or pipe one message per line on stdin")
        return EXIT_USAGE
    kb = load_or_report(kb_dir)
    if kb is None:
        return EXIT_ERROR
    matcher = build_or_report(kb, config)
    if matcher is None:
        return EXIT_USAGE

    def show(line: str) -> str:
        if not line.strip():
            return format_reply(reply_for(kb, Decision(line, Outcome.SILENT)), as_json=as_json)
        if not explain:
            return format_reply(reply_for(kb, matcher.match(line)), as_json=as_json)
        explained = matcher.explain(line)
        if as_json:
            return json.dumps(explained.to_json(), ensure_ascii=False)
        return "\n".join(explained.lines())

    out = sys.stdout
    try:
        if text is not None:
            out.write(show(text) + "\n")
            out.flush()
            return EXIT_OK
        for number, raw in enumerate(sys.stdin.buffer, start=1):
            try:
                line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
            except UnicodeDecodeError as exc:
                _error(f"stdin line {number} is not valid UTF-8 (byte {exc.start + 1})")
                return EXIT_ERROR
            out.write(show(line) + "\n")
            out.flush()
    except BrokenPipeError:
        _quiet_stdout()
    return EXIT_OK


def _quiet_stdout() -> None:
    """The reader went away (``| head``): stop writing without a traceback at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def check_command(*, kb_dir: Path | None, config: MatcherConfig | None = None) -> int:
    """Print the check report; 1 on any error, 0 when clean (warnings allowed); 2 when the
    model is missing or corrupt."""
    from bot.matching.semantic import ModelError

    try:
        report = check_knowledge(kb_dir, config=config)
    except ModelError as exc:
        _error(str(exc))
        return EXIT_USAGE
    sys.stdout.write(report.format() + "\n")
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_ERROR


def health_command(*, max_age: float | None) -> int:
    """Exit 0 when the running bot's heartbeat is fresh and connected; 1 otherwise."""
    from bot.service.health import FILE_NAME, MAX_AGE, check_health
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _error(str(exc))
        return EXIT_USAGE
    healthy, why = check_health(
        settings.data_dir / FILE_NAME, max_age=MAX_AGE if max_age is None else max_age
    )
    (sys.stdout if healthy else sys.stderr).write(
        ("ok: " if healthy else "unhealthy: ") + why + "\n"
    )
    return EXIT_OK if healthy else EXIT_ERROR


def stats_command(*, out: Path, days: int, guild_id: int | None) -> int:
    """Write the statistics chart PNG of the database in ``DATA_DIR`` to ``out``.

    Exit 0 when written; 1 when the database is missing or unusable or ``out`` cannot be
    written; 2 for invalid settings.
    """
    import asyncio

    from bot.charts import stats_chart
    from bot.settings import Settings, SettingsError
    from bot.storage import Storage, StorageError, WeeklyStats

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _error(str(exc))
        return EXIT_USAGE
    database = settings.database_path
    if not database.is_file():
        _error(
            f"no database at {database}: set DATA_DIR to the bot's data directory "
            "(the bot creates the database when it first runs)"
        )
        return EXIT_ERROR
    if out.is_dir():
        _error(f"cannot write {out}: it is a directory; give a file name such as stats.png")
        return EXIT_ERROR
    if not out.parent.is_dir():
        _error(f"cannot write {out}: the directory {out.parent} does not exist")
        return EXIT_ERROR

    async def read() -> WeeklyStats:
        storage = await Storage.open(database)
        try:
            return await storage.weekly_stats(days=days, guild_id=guild_id)
        finally:
            await storage.close()

    try:
        weekly = asyncio.run(read())
    except StorageError as exc:
        _error(str(exc))
        return EXIT_ERROR
    heading = "whytwitter-bot statistics" + (f", server {guild_id}" if guild_id else "")
    png = stats_chart(weekly, heading=heading)
    try:
        out.write_bytes(png)
    except OSError as exc:
        _error(f"cannot write {out}: {exc.strerror or exc}")
        return EXIT_ERROR
    answers = sum(sum(counts) for counts in weekly.answers.values())
    sys.stdout.write(
        f"wrote {out}: {_count(answers, 'answer')}, {sum(weekly.helpful)} helpful / "
        f"{sum(weekly.not_helpful)} not helpful votes, "
        f"{_count(sum(weekly.unanswered), 'unanswered question')} in the last {days} days\n"
    )
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
