"""What changed between two knowledge bases (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.kb.model import KnowledgeBase


@dataclass(frozen=True, slots=True)
class KBDiff:
    """Entry ids added, changed and removed; ``other`` names changed non-entry parts."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    other: tuple[str, ...] = ()  # "source", "synonyms", "ordinary talk", "order"

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (self.added or self.changed or self.removed or self.other)

    def summary(self) -> str:
        """One line, e.g. "2 added, 1 changed, 0 removed"."""
        text = f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"
        if self.other:
            text += f" ({', '.join(self.other)} changed)"
        return text


def diff_kbs(old: KnowledgeBase, new: KnowledgeBase) -> KBDiff:
    """Compare entries by id (content only; line numbers and files are ignored)."""
    old_ids = [e.id for e in old.entries]
    new_ids = [e.id for e in new.entries]
    old_set, new_set = set(old_ids), set(new_ids)
    added = tuple(i for i in new_ids if i not in old_set)
    removed = tuple(i for i in old_ids if i not in new_set)
    changed = tuple(i for i in new_ids if i in old_set and old.get(i) != new.get(i))
    other: list[str] = []
    if old.source != new.source:
        other.append("source")
    if old.synonyms != new.synonyms:
        other.append("synonyms")
    if old.ordinary != new.ordinary:
        other.append("ordinary talk")
    if old.phrasings != new.phrasings:
        other.append("phrasings")
    if [i for i in old_ids if i in new_set] != [i for i in new_ids if i in old_set]:
        other.append("order")
    return KBDiff(added, changed, removed, tuple(other))
