"""Safe writes to the knowledge-base directory, with a version history (sync I/O, no discord).

Nothing is ever lost: before any write the current files are saved as a version under
``history_dir/<version-id>/`` (the files plus ``meta.json``), then each new file is written
atomically (temp file in the same directory, fsync, ``os.replace``, fsync of the directory).
A fingerprint taken when a change was previewed refuses a stale write (lost update).
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

from bot.kb.loader import MAX_FILE_BYTES, digest_files, is_kb_filename

log = logging.getLogger(__name__)

KEEP_VERSIONS = 50
META_FILE = "meta.json"
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
    """The knowledge-base files of ``directory`` (``*.yaml``/``*.yml``) by name."""
    files: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        if is_kb_filename(path.name) and path.is_file():
            files[path.name] = path.read_bytes()
    return files


def fingerprint(directory: Path) -> str:
    """A hash of the directory's knowledge-base files (equals ``KnowledgeBase.digest``)."""
    return digest_files(snapshot(directory))


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

    Raises StaleError (writing nothing) when ``expected_fingerprint`` no longer matches,
    ValueError for an unsafe name or an oversized file. Returns the saved version.
    """
    for name in (*files, *remove):
        safe_filename(name)
    for name, data in files.items():
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"{name}: file too large ({len(data):,} bytes)")
    history_dir.mkdir(parents=True, exist_ok=True)
    with _locked(history_dir):
        current = snapshot(directory)
        if expected_fingerprint is not None and digest_files(current) != expected_fingerprint:
            raise StaleError(
                "the knowledge base changed since this preview; nothing was written, "
                "please review the new version and try again"
            )
        version = _save_version(history_dir, current, author=author, reason=reason)
        _replace_all(directory, files, current, remove)
        _prune(history_dir, keep)
    log.info(
        "knowledge base written by %s (%s): %s; previous files saved as %s",
        author,
        reason,
        ", ".join([*files, *(f"-{n}" for n in remove)]),
        version.id,
    )
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
    history_dir: Path, files: Mapping[str, bytes], *, author: str, reason: str
) -> Version:
    now = datetime.now(UTC)
    version = Version(_new_version_id(now), now, author, reason, tuple(sorted(files)))
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
        }
        _write_synced(staging / META_FILE, json.dumps(meta, indent=2).encode("utf-8"))
        _fsync_dir(staging)
        os.replace(staging, history_dir / version.id)
        _fsync_dir(history_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def _replace_all(
    directory: Path,
    files: Mapping[str, bytes],
    current: Mapping[str, bytes],
    remove: Collection[str],
) -> None:
    """Write every new file to a temp file first, then swap them in; undo on failure."""
    temps: dict[str, Path] = {}
    try:
        for name, data in files.items():
            temp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
            temps[name] = temp
            _write_synced(temp, data)
        done: list[str] = []
        try:
            for name, temp in temps.items():
                os.replace(temp, directory / name)
                done.append(name)
            for name in remove:
                with contextlib.suppress(FileNotFoundError):
                    (directory / name).unlink()
                done.append(name)
        except BaseException:
            _restore(directory, done, current)
            raise
        finally:
            _fsync_dir(directory)
    finally:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _restore(directory: Path, names: list[str], current: Mapping[str, bytes]) -> None:
    """Put back the previous content of ``names`` after a failed write (best effort)."""
    for name in names:
        try:
            if name in current:
                temp = directory / f".{name}.restore.tmp"
                _write_synced(temp, current[name])
                os.replace(temp, directory / name)
            else:
                (directory / name).unlink(missing_ok=True)
        except OSError:
            log.exception("could not restore %s after a failed write; see the history", name)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
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
    )


def _prune(history_dir: Path, keep: int) -> None:
    for old in list_versions(history_dir)[keep:]:
        shutil.rmtree(history_dir / old.id, ignore_errors=True)
        log.info("pruned knowledge-base version %s", old.id)
