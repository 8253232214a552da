"""The knowledge base: the model, the loader and the validator. Imports nothing from discord."""

from bot.kb.model import (
    Benefit,
    Entry,
    EntryKind,
    KBError,
    KnowledgeBase,
    Objection,
    Problem,
    Source,
)

__all__ = [
    "Benefit",
    "Entry",
    "EntryKind",
    "KBError",
    "KnowledgeBase",
    "Objection",
    "Problem",
    "Source",
]
