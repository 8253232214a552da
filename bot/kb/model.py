"""Immutable data model of the knowledge base (no I/O, no discord)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum
from pathlib import Path


class EntrySource(StrEnum):
    """Whose advice an entry is: the bundled article's, or the community's own."""

    ARTICLE = "article"
    COMMUNITY = "community"


class EntryKind(StrEnum):
    """What an answerable entry is."""

    OBJECTION = "objection"
    BENEFIT = "benefit"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding, located in a file (line is 1-based, 0 when unknown)."""

    file: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{self.message}"


class KBError(Exception):
    """The knowledge base could not be loaded; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems) or "invalid knowledge base")


@dataclass(frozen=True, slots=True)
class Location:
    """Where an entry (or one of its fields) was defined."""

    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class EntryBase:
    """What objections and benefits share: an id, a title, the words and messages that call
    for them, and where each was written. Past ``id`` and ``title`` (and the text each
    subclass adds), fields are keywords."""

    id: str
    title: str
    _: KW_ONLY
    triggers: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    not_this: tuple[str, ...] = ()
    """Messages that must not get this answer (look-alike talk)."""
    location: Location = field(default_factory=Location, compare=False)
    trigger_lines: tuple[int, ...] = field(default=(), compare=False)
    """1-based line of each trigger (parallel to ``triggers``; empty when unknown)."""
    example_lines: tuple[int, ...] = field(default=(), compare=False)
    """1-based line of each example (parallel to ``examples``; empty when unknown)."""
    not_this_lines: tuple[int, ...] = field(default=(), compare=False)
    """1-based line of each ``not_this`` message (parallel to it; empty when unknown)."""
    field_lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    """1-based line of each field's value by key (e.g. ``"answer"``); empty when unknown."""
    source: EntrySource = EntrySource.COMMUNITY
    """Whose advice this is (the footer says so); unattributed advice is the community's."""


@dataclass(frozen=True, slots=True)
class Objection(EntryBase):
    """Something a physician says against using Twitter, with its rebuttal."""

    answer: str
    _: KW_ONLY
    context: tuple[str, ...] = ()
    """If set, a message needs one of these words to get this answer."""
    everyday: tuple[str, ...] = ()
    """Words or phrases of everyday talk ("today", "lunch"): a message using one gets this
    answer only if it also mentions Twitter."""
    benefits: tuple[str, ...] = ()

    @property
    def kind(self) -> EntryKind:
        return EntryKind.OBJECTION


@dataclass(frozen=True, slots=True)
class Benefit(EntryBase):
    """One concrete benefit of Twitter for physicians."""

    summary: str
    topics: tuple[str, ...] = ()
    _: KW_ONLY
    answer: str = ""
    """What to do and how to start (a few sentences); the card shows it under the title."""

    @property
    def kind(self) -> EntryKind:
        return EntryKind.BENEFIT


Entry = Objection | Benefit


COMMUNITY_CREDIT = "This community's own advice"
"""The default footer of an entry whose ``source`` is ``community``."""


@dataclass(frozen=True, slots=True)
class Source:
    """Attribution of the content, shown in answer footers."""

    name: str
    title: str
    date: str
    author: str = ""
    url: str = ""
    footer: str = ""
    community: str = ""
    """How the community's own advice is credited (default: :data:`COMMUNITY_CREDIT`)."""
    location: Location = field(default_factory=Location, compare=False)

    def credit(self) -> str:
        """The article's title, author, publisher and date, e.g. for "benefits from …"."""
        by = f"{self.author}, " if self.author else ""
        return f"“{self.title}” ({by}{self.name}, {self.date})"

    def footer_text(self) -> str:
        """The one-line attribution of the article's advice for an embed footer."""
        return self.footer or f"Based on {self.credit()}"

    def community_text(self) -> str:
        """The one-line credit of advice that is the community's own, not the article's."""
        return self.community or COMMUNITY_CREDIT


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated knowledge base: objections, benefits, synonyms and attribution."""

    objections: tuple[Objection, ...]
    benefits: tuple[Benefit, ...]
    source: Source
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical term -> words or phrases that mean the same (used by the matcher)."""
    files: tuple[Path, ...] = ()
    digest: str = ""
    """A hash of the files' contents, to tell versions apart."""
    ordinary: tuple[str, ...] = ()
    """Ordinary talk of the server that must get no answer (the files' ``ordinary:`` lists)."""
    ordinary_locations: tuple[Location, ...] = field(default=(), compare=False)
    """Where each ``ordinary`` line was defined (parallel to it; empty when unknown)."""
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Members' own messages by entry id (the files' ``phrasings:``): more texts for the
    matcher's meaning, never for the word engine, and not proven by ``check``."""

    def __post_init__(self) -> None:
        index: dict[str, Entry] = {}
        every: tuple[Entry, ...] = (*self.objections, *self.benefits)
        for entry in every:
            index[entry.id] = entry
        object.__setattr__(self, "_index", index)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every answerable entry, objections first."""
        return (*self.objections, *self.benefits)

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None."""
        index: dict[str, Entry] = self._index  # type: ignore[attr-defined]
        return index.get(entry_id)

    def benefit(self, benefit_id: str) -> Benefit | None:
        """The benefit with this id, or None."""
        entry = self.get(benefit_id)
        return entry if isinstance(entry, Benefit) else None

    def topics(self) -> list[str]:
        """All benefit topics, sorted, without duplicates."""
        return sorted({t for b in self.benefits for t in b.topics})
