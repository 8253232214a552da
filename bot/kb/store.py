"""Safe writes to the knowledge-base directory, with a version history (sync I/O, no discord).

Nothing is ever lost: before any write the current files are saved as a version under
``history_dir/<version-id>/`` (the files plus ``meta.json``). A change of several files is
atomic as a whole, through a journal in ``history_dir``:

1. every new file is written to a temp file beside its target and fsynced;
2. the version is written to a staging folder and fsynced;
3. the journal (the version id, each temp and its target, the files to delete) is written and
   fsynced: this is the commit point;
4. the version is renamed into place, the temps are renamed over their targets (``os.replace``)
   and the deletions done, the directory fsynced, the journal deleted.

A process killed before 3 left only hidden temp files and a staging folder (removed at the next
:func:`recover`); killed after 3, :func:`recover` finishes the change (every step is
idempotent). :func:`recover` runs under the writers' lock before every write and every read of
the live files (:func:`read_live`), so a loader never sees half a change. A write that fails
in this process is undone: the old files are put back and its version is deleted (a failed
change leaves no history entry). The knowledge directory stays a plain directory that can be
edited by hand and watched; names that are symbolic links are replaced (never written through)
and folders named ``*.yaml`` are refused. A fingerprint taken when a change was previewed
refuses a stale write (lost update).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.kb.loader import (
    MAX_FILE_BYTES,
    digest_files,
    scan_knowledge_files,
)
from bot.kb.model import Problem

log = logging.getLogger(__name__)

KEEP_VERSIONS = 50
META_FILE = "meta.json"
JOURNAL_FILE = ".journal.json"
HISTORY_DIRNAME = "kb-history"
HAND_EDIT_AUTHOR = "hand edit"
_TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(yaml|yml)$")
_VERSION_RE = re.compile(r"^v\d{8}-\d{6}-\d{6}-[0-9a-f]{4}$")
_lock = threading.Lock()


class StaleError(Exception):
    """The knowledge base changed since the change was previewed; nothing was written."""


class UnknownVersionError(LookupError):
    """No saved version has that id."""


@dataclass(frozen=True, slots=True)
class Version:
    """A saved copy of the knowledge-base files, taken before a change."""

    id: str
    created_at: datetime
    author: str
    reason: str
    files: tuple[str, ...]
    after: str = ""
    """Digest of the files the change produced ("" for versions saved before it was kept)."""


def history_dir_of(data_dir: Path) -> Path:
    """Where saved knowledge-base versions live (``DATA_DIR/kb-history``)."""
    return data_dir / HISTORY_DIRNAME


def safe_filename(name: str) -> str:
    """``name`` if it is a safe knowledge-base file name (``foo.yaml``/``foo.yml``).

    Raises ValueError with a sentence a moderator understands otherwise.
    """
    if not name:
        raise ValueError("the file has no name")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"{name!r}: give a file name only, without folders")
    if name.startswith("."):
        raise ValueError(f"{name!r}: the name must not start with a dot")
    if not name.endswith((".yaml", ".yml")):
        raise ValueError(f"{name!r}: the file must end in .yaml or .yml")
    if not _NAME_RE.match(name):
        raise ValueError(
            f"{name!r}: use only letters, digits, - and _ before .yaml (at most 64 characters)"
        )
    return name


def snapshot(directory: Path) -> dict[str, bytes]:
    """The knowledge-base files of ``directory`` (``*.yaml``/``*.yml``) by name.

    Only regular files are read: symbolic links and folders are left out, as the loader does.
    """
    return scan_knowledge_files(directory)[0]


def fingerprint(directory: Path) -> str:
    """A hash of the directory's knowledge-base files (equals ``KnowledgeBase.digest``)."""
    return digest_files(snapshot(directory))


def read_live(
    directory: Path, history_dir: Path, *, label: str | None = None
) -> tuple[dict[str, bytes], list[Problem]]:
    """The files of ``directory`` and the problems reading them, never half of a change.

    Like ``scan_knowledge_files``, after taking the writers' lock and finishing a change a
    killed writer left (see :func:`recover`).
    """
    try:
        history_dir.mkdir(parents=True, exist_ok=True)
        with _locked(history_dir):
            recover(directory, history_dir)
            return scan_knowledge_files(directory, label=label)
    except OSError as exc:
        log.error(
            "cannot lock or recover %s (%s); reading %s as it is", history_dir, exc, directory
        )
        return scan_knowledge_files(directory, label=label)


def write_files(
    directory: Path,
    files: Mapping[str, bytes],
    *,
    history_dir: Path,
    author: str,
    reason: str,
    expected_fingerprint: str | None = None,
    remove: Collection[str] = (),
    keep: int = KEEP_VERSIONS,
) -> Version:
    """Save the current files as a version, then write ``files`` (and delete ``remove``).

    The change is atomic as a whole (see the module docstring). Raises StaleError (writing
    nothing) when ``expected_fingerprint`` no longer matches, ValueError for an unsafe name,
    an oversized file or a target that is a folder, OSError when the disk refuses (then
    nothing changed and no version was kept). Returns the saved version.
    """
    for name in (*files, *remove):
        safe_filename(name)
    for name, data in files.items():
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"{name}: file too large ({len(data):,} bytes)")
    history_dir.mkdir(parents=True, exist_ok=True)
    with _locked(history_dir):
        recover(directory, history_dir)
        current = snapshot(directory)
        if expected_fingerprint is not None and digest_files(current) != expected_fingerprint:
            raise StaleError(
                "the knowledge base changed since this preview; nothing was written, "
                "please review the new version and try again"
            )
        for name in (*files, *remove):
            if (directory / name).is_dir() and not (directory / name).is_symlink():
                raise ValueError(
                    f"{name} is a folder in the knowledge directory, not a file; "
                    "ask the operator to move it away"
                )
        after = {**current, **files}
        for name in remove:
            after.pop(name, None)
        version = _change(
            directory,
            history_dir,
            files,
            remove,
            current,
            author=author,
            reason=reason,
            after=digest_files(after),
        )
        _prune(history_dir, keep)
    log.info(
        "knowledge base written by %s (%s): %s; previous files saved as %s",
        author,
        reason,
        ", ".join([*files, *(f"-{n}" for n in remove)]),
        version.id,
    )
    return version


def record_hand_edit(
    history_dir: Path, before: Mapping[str, bytes], after_digest: str, *, keep: int = KEEP_VERSIONS
) -> Version | None:
    """Save ``before`` as the version preceding a change made outside the bot.

    Called when a reload accepts files whose digest is ``after_digest``; returns None (saving
    nothing) when the newest version already records that change (a write through the bot).
    """
    if not before:
        return None
    history_dir.mkdir(parents=True, exist_ok=True)
    with _locked(history_dir):
        versions = list_versions(history_dir)
        if versions and versions[0].after == after_digest:
            return None
        version = _save_version(
            history_dir,
            before,
            author=HAND_EDIT_AUTHOR,
            reason="edit of the knowledge files on disk",
            after=after_digest,
        )
        _prune(history_dir, keep)
    log.info("hand edit of the knowledge base: previous files saved as %s", version.id)
    return version


def list_versions(history_dir: Path) -> list[Version]:
    """Saved versions, newest first (unreadable ones are skipped with a log line)."""
    if not history_dir.is_dir():
        return []
    versions: list[Version] = []
    for path in history_dir.iterdir():
        if not _VERSION_RE.match(path.name) or not path.is_dir():
            continue
        try:
            versions.append(_read_meta(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("skipping unreadable knowledge-base version %s: %s", path.name, exc)
    versions.sort(key=lambda v: (v.created_at, v.id), reverse=True)
    return versions


def read_version(history_dir: Path, version_id: str) -> dict[str, bytes]:
    """The files of a saved version by name; UnknownVersionError if there is none."""
    path = history_dir / version_id
    if not _VERSION_RE.match(version_id) or not path.is_dir():
        raise UnknownVersionError(f"no saved version {version_id!r}")
    meta = _read_meta(path)
    return {name: (path / name).read_bytes() for name in meta.files}


# --------------------------------------------------------------------------- internals


@contextlib.contextmanager
def _locked(history_dir: Path) -> Iterator[None]:
    """Serialise writers in this process (thread lock) and across processes (flock)."""
    with _lock, (history_dir / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _new_version_id(now: datetime) -> str:
    return f"v{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(2)}"


def _save_version(
    history_dir: Path,
    files: Mapping[str, bytes],
    *,
    author: str,
    reason: str,
    after: str,
) -> Version:
    """Write a version in one step (staging folder, then one rename)."""
    version, staging = _stage_version(history_dir, files, author=author, reason=reason, after=after)
    try:
        os.replace(staging, history_dir / version.id)
        _fsync_dir(history_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def _stage_version(
    history_dir: Path,
    files: Mapping[str, bytes],
    *,
    author: str,
    reason: str,
    after: str,
) -> tuple[Version, Path]:
    """Write a version's files and meta to a fsynced staging folder; returns both."""
    now = datetime.now(UTC)
    version = Version(_new_version_id(now), now, author, reason, tuple(sorted(files)), after)
    staging = history_dir / f".staging-{version.id}"
    staging.mkdir()
    try:
        for name, data in files.items():
            _write_synced(staging / name, data)
        meta = {
            "id": version.id,
            "created_at": now.isoformat(),
            "author": author,
            "reason": reason,
            "files": list(version.files),
            "after": after,
        }
        _write_synced(staging / META_FILE, json.dumps(meta, indent=2).encode("utf-8"))
        _fsync_dir(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version, staging


def _change(
    directory: Path,
    history_dir: Path,
    files: Mapping[str, bytes],
    remove: Collection[str],
    current: Mapping[str, bytes],
    *,
    author: str,
    reason: str,
    after: str,
) -> Version:
    """Steps 1-4 of the module docstring; undone (no version kept) if this process fails."""
    temps: dict[str, Path] = {}
    staging: Path | None = None
    journal = history_dir / JOURNAL_FILE
    try:
        for name, data in files.items():
            temp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
            temps[name] = temp
            _write_synced(temp, data)
        version, staging = _stage_version(
            history_dir, current, author=author, reason=reason, after=after
        )
        entry = {
            "version": version.id,
            "replace": {name: temp.name for name, temp in temps.items()},
            "remove": list(remove),
        }
        _write_atomic(history_dir, journal, json.dumps(entry).encode("utf-8"))
    except BaseException:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        _finish(directory, history_dir, entry)
    except BaseException:
        _undo(directory, history_dir, version.id, temps, remove, current)
        raise
    return version


def recover(directory: Path, history_dir: Path) -> None:
    """Finish a change a killed writer committed, and remove what an uncommitted one left.

    Call it holding the writers' lock (``write_files`` and ``read_live`` do).
    """
    journal = history_dir / JOURNAL_FILE
    try:
        entry = json.loads(journal.read_bytes())
        if not _valid_entry(entry):
            raise ValueError("not a journal entry")
    except FileNotFoundError:
        entry = None
    except (OSError, ValueError) as exc:
        # Written to a temp file and renamed, a journal is whole: this one was damaged later.
        aside = journal.with_name(f"{JOURNAL_FILE}.{secrets.token_hex(4)}.bad")
        log.error("unreadable knowledge-base journal %s (%s); moved to %s", journal, exc, aside)
        os.replace(journal, aside)
        entry = None
    if entry is not None:
        log.warning(
            "finishing an interrupted knowledge-base change (version %s)", entry.get("version")
        )
        _finish(directory, history_dir, entry)
    for path in history_dir.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        for path in directory.iterdir():
            if _TEMP_RE.match(path.name) and path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)


def _valid_entry(entry: object) -> bool:
    """True for a journal entry as ``_change`` writes it (names checked like any write)."""
    if not isinstance(entry, dict):
        return False
    version, replace, remove = entry.get("version"), entry.get("replace"), entry.get("remove")
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        return False
    if not isinstance(replace, dict) or not isinstance(remove, list):
        return False
    names = [*replace, *remove]
    temps = list(replace.values())
    try:
        for name in names:
            safe_filename(name)
    except (ValueError, TypeError):
        return False
    return all(isinstance(t, str) and _TEMP_RE.match(t) for t in temps)


def _finish(directory: Path, history_dir: Path, entry: Mapping[str, Any]) -> None:
    """Apply a committed journal entry (idempotent), then delete the journal."""
    version_id = str(entry["version"])
    replace: dict[str, str] = entry["replace"]
    remove: list[str] = entry["remove"]
    staging = history_dir / f".staging-{version_id}"
    if staging.is_dir() and not (history_dir / version_id).exists():
        os.replace(staging, history_dir / version_id)
        _fsync_dir(history_dir)
    for name, temp_name in replace.items():
        temp = directory / temp_name
        if temp.exists():
            os.replace(temp, directory / name)
    for name in remove:
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()
    _fsync_dir(directory)
    (history_dir / JOURNAL_FILE).unlink(missing_ok=True)
    _fsync_dir(history_dir)


def _undo(
    directory: Path,
    history_dir: Path,
    version_id: str,
    temps: Mapping[str, Path],
    remove: Collection[str],
    current: Mapping[str, bytes],
) -> None:
    """Put the old files back after a change failed in this process; drop its version."""
    restored = _restore(directory, [*temps, *remove], current)
    for temp in temps.values():
        temp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        _fsync_dir(directory)
    if restored:
        shutil.rmtree(history_dir / version_id, ignore_errors=True)
        shutil.rmtree(history_dir / f".staging-{version_id}", ignore_errors=True)
    else:
        log.error("a failed change left files half written; version %s holds the old", version_id)
    (history_dir / JOURNAL_FILE).unlink(missing_ok=True)


def _restore(directory: Path, names: list[str], current: Mapping[str, bytes]) -> bool:
    """Put back the previous content of ``names`` after a failed write; False if any failed."""
    ok = True
    for name in names:
        target = directory / name
        try:
            if name in current:
                unchanged = target.is_file() and not target.is_symlink()
                if unchanged and target.read_bytes() == current[name]:
                    continue
                temp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
                _write_synced(temp, current[name])
                os.replace(temp, target)
            elif target.is_file() and not target.is_symlink():
                target.unlink(missing_ok=True)
        except OSError:
            ok = False
            log.exception("could not restore %s after a failed write; see the history", name)
    return ok


def _write_atomic(folder: Path, path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (temp file, fsync, rename, fsync of ``folder``)."""
    temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        _write_synced(temp, data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("xb") as fh:  # a new file: never through a link, never over another file
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_meta(path: Path) -> Version:
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    files = tuple(str(n) for n in meta["files"])
    for name in files:
        safe_filename(name)
    return Version(
        id=str(meta["id"]),
        created_at=datetime.fromisoformat(meta["created_at"]),
        author=str(meta["author"]),
        reason=str(meta["reason"]),
        files=files,
        after=str(meta.get("after", "")),
    )


def _prune(history_dir: Path, keep: int) -> None:
    for old in list_versions(history_dir)[keep:]:
        shutil.rmtree(history_dir / old.id, ignore_errors=True)
        log.info("pruned knowledge-base version %s", old.id)
