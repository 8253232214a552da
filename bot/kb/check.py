"""The ``check`` report: loading problems, Discord limits, examples and trigger conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.cards import answer_card
from bot.kb.loader import BUNDLED_DIR, load_knowledge_from_texts, scan_knowledge_files
from bot.kb.model import Entry, KBError, KnowledgeBase, Objection, Problem
from bot.matching.types import Candidate, Decision, Outcome


class MatcherLike(Protocol):
    """What the check needs from a matcher (``bot.matching.engine.Matcher`` fits)."""

    def match(self, text: str) -> Decision: ...

    def rank(self, text: str, limit: int = 5) -> list[Candidate]: ...


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every problem found, with counts for the summary line."""

    problems: tuple[Problem, ...]
    files: int = 0
    objections: int = 0
    benefits: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def summary(self) -> str:
        """One line: verdict and counts."""
        errors, warnings = len(self.errors), len(self.warnings)
        counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        if not self.files:
            return f"check failed: {counts}"
        kb = (
            f"{self.files} file{'s' * (self.files != 1)}, {self.objections} objections, "
            f"{self.benefits} benefits"
        )
        return f"{'OK' if self.ok else 'check failed'}: {counts} ({kb})"

    def format(self) -> str:
        """One problem per line (errors first), then the summary."""
        lines = [str(p) for p in (*self.errors, *self.warnings)]
        return "\n".join([*lines, self.summary()])


def check_knowledge(
    directory: Path | None = None, *, matcher: MatcherLike | None = None, label: str | None = None
) -> CheckReport:
    """Load ``directory`` (default: bundled) and check it; never raises for a bad KB.

    Entries the loader skips (symbolic links, folders named ``*.yaml``) are warnings;
    ``label`` names the directory in problems about the directory itself.
    """
    directory = directory if directory is not None else BUNDLED_DIR
    try:
        files, read = scan_knowledge_files(directory, label=label)
    except KBError as exc:
        return CheckReport(tuple(exc.problems))
    if any(p.severity == "error" for p in read):
        return CheckReport(tuple(read))
    try:
        kb = load_knowledge_from_texts(files, origin=str(directory), label=label)
    except KBError as exc:
        return CheckReport((*exc.problems, *read))
    return CheckReport(
        (*read, *check_kb(kb, matcher=matcher)),
        len(kb.files),
        len(kb.objections),
        len(kb.benefits),
    )


def check_kb(kb: KnowledgeBase, *, matcher: MatcherLike | None = None) -> list[Problem]:
    """Problems of an already-loaded knowledge base: limits, examples, trigger conflicts."""
    if matcher is None:
        from bot.matching.engine import Matcher

        matcher = Matcher(kb)
    problems: list[Problem] = []
    for entry in kb.entries:
        problems += _limit_problems(kb, entry)
        problems += _example_problems(entry, matcher)
        problems += _trigger_warnings(entry, matcher)
    problems.sort(key=lambda p: (p.severity != "error", p.file, p.line))
    return problems


def _line(entry: Entry, key: str) -> int:
    return entry.field_lines.get(key, entry.location.line) or 1


def _limit_problems(kb: KnowledgeBase, entry: Entry) -> list[Problem]:
    card = answer_card(kb, entry, fit=False)
    key = "answer" if isinstance(entry, Objection) or entry.answer else "summary"
    line = _line(entry, key)
    return [
        Problem(entry.location.file, line, f"{entry.kind} `{entry.id}`: {v}")
        for v in card.violations()
    ]


def _example_problems(entry: Entry, matcher: MatcherLike) -> list[Problem]:
    problems: list[Problem] = []
    lines = entry.example_lines or (0,) * len(entry.examples)
    for example, line in zip(entry.examples, lines, strict=True):
        decision = matcher.match(example)
        if decision.outcome is Outcome.ANSWER and decision.answer is not None:
            if decision.answer.id == entry.id:
                continue
            got = f"answers `{decision.answer.id}` ({decision.answer.score:.1f})"
        elif decision.outcome is Outcome.SUGGEST:
            got = "only suggests " + ", ".join(f"`{c.id}`" for c in decision.suggestions)
        else:
            got = "stays silent"
        problems.append(
            Problem(
                entry.location.file,
                line or _line(entry, "examples"),
                f"example {example!r} of `{entry.id}` does not get its answer: the bot {got}",
            )
        )
    return problems


def _trigger_warnings(entry: Entry, matcher: MatcherLike) -> list[Problem]:
    problems: list[Problem] = []
    lines = entry.trigger_lines or (0,) * len(entry.triggers)
    for trigger, line in zip(entry.triggers, lines, strict=True):
        ranked = matcher.rank(trigger, limit=5)
        if not ranked or ranked[0].id == entry.id:
            continue
        top = ranked[0]
        own = next((c.score for c in ranked if c.id == entry.id), None)
        own_text = f"{own:.1f}" if own is not None else "not in the top 5"
        problems.append(
            Problem(
                entry.location.file,
                line or _line(entry, "triggers"),
                f"trigger {trigger!r} of `{entry.id}` matches `{top.id}` better "
                f"({top.score:.1f} vs {own_text})",
                severity="warning",
            )
        )
    return problems
