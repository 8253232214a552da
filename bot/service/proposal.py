"""Changes of the knowledge-base files, previewed before they are applied (pure: no discord).

A :class:`Proposal` is what ``/kb upload``, ``/kb rollback`` and *Add as a negative* would
write: the files, the entries it adds, changes and removes, and the problems of the knowledge
base it would make. It is validated by the one validation step (:func:`bot.service.check.
validate`), so a change the preview accepts passes ``/kb check``; errors block, warnings are
shown for the files the change touches.
"""

from __future__ import annotations

import errno
import io
import logging
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.kb import store
from bot.kb.diff import KBDiff, diff_kbs
from bot.kb.loader import digest_files
from bot.kb.model import KnowledgeBase, Problem
from bot.kb.negatives import add_not_this_to_files
from bot.service.check import validate
from bot.storage import VersionRow

if TYPE_CHECKING:
    from bot.matching.factory import MatcherConfig
    from bot.matching.types import MatcherLike
    from bot.storage import Storage

__all__ = [
    "Proposal",
    "author_label",
    "evaluate",
    "negative_proposal",
    "record_version",
    "rollback_proposal",
    "upload_proposal",
    "write_failure",
    "zip_files",
]

log = logging.getLogger(__name__)


def author_label(name: str, user_id: int) -> str:
    """How a moderator is named in the history: ``name (id)``."""
    return f"{name} ({user_id})"


@dataclass(frozen=True)
class Proposal:
    """A previewed change of the knowledge-base files, ready to apply (or refused)."""

    reason: str
    files: Mapping[str, bytes]
    remove: tuple[str, ...]
    fingerprint: str
    """Fingerprint of the live directory when the preview was made (stale check)."""
    new_digest: str
    diff: KBDiff | None
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        """True when the change can be applied."""
        return not self.errors and not self.unchanged


def evaluate(
    current: Mapping[str, bytes],
    new: Mapping[str, bytes],
    *,
    live: KnowledgeBase,
    reason: str,
    remove: tuple[str, ...] = (),
    matcher: MatcherLike | None = None,
    config: MatcherConfig | None = None,
) -> Proposal:
    """Validate the knowledge base ``new`` would make (blocking; run it in a thread).

    ``current`` are the files on disk now (their digest is the stale-check fingerprint),
    ``new`` the complete set of files after the change. Every error of the check blocks
    (the same lines ``/kb check`` prints); the warnings kept are those of the files written.
    """
    fingerprint = digest_files(current)
    new_digest = digest_files(new)
    writes = {name: data for name, data in new.items() if current.get(name) != data}
    if not writes and not remove:
        return Proposal(reason, {}, (), fingerprint, new_digest, None, (), unchanged=True)
    report = validate(new, matcher=matcher, config=config)
    if report.kb is None or report.errors:
        errors = tuple(report.errors) or report.problems
        return Proposal(reason, writes, remove, fingerprint, new_digest, None, errors)
    kb = report.kb
    warnings = tuple(p for p in report.warnings if Path(p.file).name in writes)
    titles = {entry.id: entry.title for entry in (*live.entries, *kb.entries)}
    return Proposal(
        reason,
        writes,
        remove,
        fingerprint,
        new_digest,
        diff_kbs(live, kb),
        (),
        warnings,
        titles,
    )


def upload_proposal(directory: Path, name: str, data: bytes, *, live: KnowledgeBase) -> Proposal:
    """The change an uploaded file makes: it replaces (or adds) ``name``."""
    current = store.snapshot(directory)
    return evaluate(current, {**current, name: data}, live=live, reason=f"upload {name}")


def rollback_proposal(
    directory: Path, history: Path, version_id: str, *, live: KnowledgeBase
) -> Proposal:
    """The change restoring the files saved as ``version_id`` (UnknownVersionError if none)."""
    saved = store.read_version(history, version_id)
    current = store.snapshot(directory)
    remove = tuple(sorted(name for name in current if name not in saved))
    return evaluate(current, saved, live=live, reason=f"rollback to {version_id}", remove=remove)


def negative_proposal(
    directory: Path, entry_id: str, message: str, *, live: KnowledgeBase, hint: str = ""
) -> Proposal:
    """The change adding ``message`` to ``entry_id``'s ``not_this`` (in the file holding it,
    ``hint`` first); NegativeError when it cannot be added."""
    current = store.snapshot(directory)
    name, data = add_not_this_to_files(current, entry_id, message, hint=hint)
    return evaluate(current, {**current, name: data}, live=live, reason=f"negative for {entry_id}")


def write_failure(exc: Exception) -> str:
    """Why a write failed, for a moderator: the OS reason, never a path."""
    if isinstance(exc, OSError):
        reason = {
            errno.EROFS: "the knowledge directory is read-only",
            errno.EACCES: "the bot may not write to the knowledge directory",
            errno.EPERM: "the bot may not write to the knowledge directory",
            errno.ENOSPC: "the disk is full",
            errno.EDQUOT: "the disk quota is used up",
        }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    else:
        reason = str(exc)
    return (
        f"Writing the files failed ({reason}), so nothing was changed and no version was saved. "
        "Ask the operator to check the bot's log."
    )


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """The files in one zip archive (in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


async def record_version(storage: Storage, version: store.Version, summary: str) -> None:
    """Keep a saved version's summary for ``/kb history``; a failure is logged, not raised."""
    row = VersionRow(version.id, version.created_at, version.author, version.reason, summary)
    try:
        await storage.record_kb_version(row)
    except Exception:
        log.exception("recording knowledge-base version %s failed", version.id)
