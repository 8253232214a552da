"""The one validation step: what ``python -m bot check``, ``/kb check`` and the upload
preview report, and the one rule for what blocks (pure: no discord).

:func:`validate` turns knowledge-base files into a :class:`CheckReport`: the loader's problems
(a file that does not load), Discord's limits on the answer cards, examples that miss their
entry, ``not_this`` messages and ordinary talk that get an answer (errors), and triggers that
match another entry better, by their words or their meaning (warnings). An error blocks
(the check exits 1, the preview offers no Apply); a warning never does (:func:`blocks`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cards import answer_card
from bot.kb.loader import BUNDLED_DIR, load_knowledge_from_texts, scan_knowledge_files
from bot.kb.model import Entry, KBError, KnowledgeBase, Objection, Problem
from bot.matching.hybrid import RULE_NOT_FITTED
from bot.matching.types import MatcherLike, Outcome

if TYPE_CHECKING:
    from bot.matching.factory import MatcherConfig

__all__ = [
    "CheckReport",
    "MatcherLike",
    "blocks",
    "check_kb",
    "check_knowledge",
    "validate",
]


def blocks(problem: Problem) -> bool:
    """The one severity rule: an error blocks (check fails, no Apply); a warning does not."""
    return problem.severity == "error"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every problem found, with counts for the summary line (and the loaded knowledge base,
    None when the files did not load)."""

    problems: tuple[Problem, ...]
    files: int = 0
    objections: int = 0
    benefits: int = 0
    kb: KnowledgeBase | None = field(default=None, compare=False, repr=False)

    @property
    def errors(self) -> list[Problem]:
        """The problems that block (:func:`blocks`)."""
        return [p for p in self.problems if blocks(p)]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that do not block."""
        return [p for p in self.problems if not blocks(p)]

    @property
    def ok(self) -> bool:
        """True when nothing blocks (warnings allowed)."""
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
    directory: Path | None = None,
    *,
    matcher: MatcherLike | None = None,
    config: MatcherConfig | None = None,
    label: str | None = None,
) -> CheckReport:
    """Read ``directory`` (default: bundled) and :func:`validate` it; never raises for a bad KB.

    Entries the loader skips (symbolic links, folders named ``*.yaml``) are warnings;
    ``label`` names the directory in problems about the directory itself.
    """
    directory = directory if directory is not None else BUNDLED_DIR
    try:
        files, read = scan_knowledge_files(directory, label=label)
    except KBError as exc:
        return CheckReport(tuple(exc.problems))
    return validate(
        files, read=read, origin=str(directory), label=label, matcher=matcher, config=config
    )


def validate(
    files: Mapping[str, bytes],
    *,
    read: Sequence[Problem] = (),
    origin: str = "",
    label: str | None = None,
    matcher: MatcherLike | None = None,
    config: MatcherConfig | None = None,
) -> CheckReport:
    """The one validation step: load ``files`` and check the knowledge base they make.

    ``read`` are the problems met reading them from a directory (an error there stops at
    once); ``origin`` and ``label`` name the directory as the loader does. Never raises for
    a bad knowledge base.
    """
    if any(blocks(p) for p in read):
        return CheckReport(tuple(read))
    try:
        kb = load_knowledge_from_texts(files, origin=origin, label=label)
    except KBError as exc:
        return CheckReport((*exc.problems, *read))
    return CheckReport(
        (*read, *check_kb(kb, matcher=matcher, config=config)),
        len(kb.files),
        len(kb.objections),
        len(kb.benefits),
        kb,
    )


def check_kb(
    kb: KnowledgeBase, *, matcher: MatcherLike | None = None, config: MatcherConfig | None = None
) -> list[Problem]:
    """Problems of an already-loaded knowledge base: limits, examples, negatives, ordinary
    talk and trigger conflicts. The matcher comes from the factory (``config``, default the
    process's) unless one is given."""
    if matcher is None:
        import dataclasses

        from bot.matching.factory import build_matcher, current_config

        # The checked messages are the knowledge base's own texts: their embeddings are cached.
        config = config if config is not None else current_config()
        matcher = build_matcher(kb, dataclasses.replace(config, cache_messages=True))
    problems: list[Problem] = []
    for entry in kb.entries:
        problems += _limit_problems(kb, entry)
        problems += _example_problems(entry, matcher)
        problems += _negative_problems(entry, matcher)
        problems += _trigger_warnings(entry, matcher)
    problems += _ordinary_problems(kb, matcher)
    problems.sort(key=lambda p: (not blocks(p), p.file, p.line))
    return problems


OVERLAP_LEAD = 15.0
"""A trigger nearer in meaning to another entry than to the rest of its own by this many points
(of 100) gets a warning. On the bundled encoder the bundled triggers that far over were ones
that belong elsewhere ("on x i'd be posting to an empty room" under `platform-exodus`); below
it, most were short phrases the encoder reads loosely ("i'd be glued to it" nearest to "i'd be
invisible") or ones the members' own labels put where they are ("does it help you become a
thought leader", 14.7 points nearer `leadership`, which members asked meaning invitations to
speak)."""


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
    # An example must get its answer from the rest of its entry, not from its own copy among
    # the entry's embedded texts (a matcher without meaning has no such copy, nor ``explain``).
    explain = getattr(matcher, "explain", None)
    for example, line in zip(entry.examples, lines, strict=True):
        if explain is not None:
            explained = explain(example, detail=False, unseen=True)
            decision, rule = explained.decision, str(explained.rule)
        else:
            decision, rule = matcher.match(example), ""
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
                f"example {example!r} of `{entry.id}` does not get its answer: the bot {got}; "
                f"{_advice(entry, got, vetoed=f'`{entry.id}` {RULE_NOT_FITTED}' in rule)}",
            )
        )
    return problems


def _negative_problems(entry: Entry, matcher: MatcherLike) -> list[Problem]:
    """Each ``not_this`` message must not get its entry."""
    problems: list[Problem] = []
    lines = entry.not_this_lines or (0,) * len(entry.not_this)
    for message, line in zip(entry.not_this, lines, strict=True):
        decision = matcher.match(message)
        if decision.answer is None or decision.answer.id != entry.id:
            continue
        problems.append(
            Problem(
                entry.location.file,
                line or _line(entry, "not_this"),
                f"not_this {message!r} of `{entry.id}` gets that answer "
                f"({decision.answer.score:.1f}); make the entry's triggers more specific, "
                "or add more messages like it to not_this",
            )
        )
    return problems


def _ordinary_problems(kb: KnowledgeBase, matcher: MatcherLike) -> list[Problem]:
    """Every ordinary line must get no answer."""
    problems: list[Problem] = []
    locations = kb.ordinary_locations or (None,) * len(kb.ordinary)
    for message, where in zip(kb.ordinary, locations, strict=True):
        decision = matcher.match(message)
        if decision.outcome is not Outcome.ANSWER or decision.answer is None:
            continue
        problems.append(
            Problem(
                where.file if where else "",
                where.line if where else 0,
                f"ordinary talk {message!r} gets `{decision.answer.id}` "
                f"({decision.answer.score:.1f}); add it (or messages like it) to that entry's "
                "not_this, or make its triggers more specific",
            )
        )
    return problems


def _advice(entry: Entry, got: str, *, vetoed: bool = False) -> str:
    """What a moderator can do about an example that misses its entry (``vetoed``: the
    members' classifier took it for ordinary talk, see ``hybrid.CLASSIFIER_ORDINARY``)."""
    if vetoed:
        return (
            "the members' classifier, which was not fitted on this entry, takes it for "
            "ordinary talk: write it as a member would voice the reluctance about Twitter"
        )
    if got.startswith("answers"):
        return f"add triggers like it to `{entry.id}`, or add it to the other entry's not_this"
    return f"add triggers like it (other words for the same thing) to `{entry.id}`"


def _trigger_warnings(entry: Entry, matcher: MatcherLike) -> list[Problem]:
    """Triggers whose words match another entry better, or (with meaning) whose meaning is
    :data:`OVERLAP_LEAD` points nearer to another entry than to the rest of their own."""
    problems: list[Problem] = []
    lines = entry.trigger_lines or (0,) * len(entry.triggers)
    at = dict(zip(entry.triggers, lines, strict=True))
    worded: set[str] = set()
    for trigger, line in zip(entry.triggers, lines, strict=True):
        ranked = matcher.rank(trigger, limit=5)
        if not ranked or ranked[0].id == entry.id:
            continue
        worded.add(trigger)
        top = ranked[0]
        own = next((c.score for c in ranked if c.id == entry.id), None)
        own_text = f"{own:.1f}" if own is not None else "not in the top 5"
        problems.append(
            Problem(
                entry.location.file,
                line or _line(entry, "triggers"),
                f"trigger {trigger!r} of `{entry.id}` matches `{top.id}` better "
                f"({top.score:.1f} vs {own_text}): reword it with words only `{entry.id}` "
                f"uses, or move it to `{top.id}` if that is what it means",
                severity="warning",
            )
        )
    overlaps = getattr(matcher, "overlaps", None)
    if overlaps is None:
        return problems
    unwarned = [t for t in entry.triggers if t not in worded]
    for found in overlaps(entry.id, unwarned, OVERLAP_LEAD):
        problems.append(
            Problem(
                entry.location.file,
                at[found.text] or _line(entry, "triggers"),
                f"trigger {found.text!r} of `{entry.id}` means something nearer to "
                f"`{found.other}` ({found.nearest!r}) than to the rest of `{entry.id}` "
                f"({found.lead:.1f} points nearer): members who say it may get the wrong "
                f"answer; reword it so it says what only `{entry.id}` is about, or move it "
                f"to `{found.other}` if that is what it means",
                severity="warning",
            )
        )
    return problems
