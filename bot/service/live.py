"""The knowledge base the bot serves, reloaded and swapped atomically (no discord import).

``LiveKnowledge`` holds one frozen ``KBSnapshot`` (knowledge base + matcher built from it),
so a reader that takes ``live.snapshot`` once always sees a matching pair. ``reload()``
loads, validates and builds the matcher in a worker thread and swaps the snapshot only if
everything succeeded; otherwise the last good knowledge base stays live and the problems
are returned (and passed to listeners). ``watch()`` reloads after each debounced burst of
changes to ``*.yaml`` / ``*.yml`` files and keeps going through file-system trouble.

With a ``history_dir`` the files are read under the store's lock after finishing any change a
killed writer left (``store.read_live``), and an accepted reload whose files were not written
through the bot (a hand edit) saves the previous files as a version, so it can be rolled back.
Problems never name the server's absolute paths (they may be shown to moderators).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import Change, awatch

from bot.kb import store
from bot.kb.loader import load_scanned, scan_knowledge_files
from bot.kb.model import KBError, KnowledgeBase, Problem
from bot.matching.factory import CACHE_FILE, MatcherConfig, build_matcher
from bot.matching.hybrid import HybridMatcher
from bot.matching.types import Thresholds

if TYPE_CHECKING:
    from bot.kb.diff import KBDiff
    from bot.settings import Settings

__all__ = ["KBSnapshot", "Listener", "LiveKnowledge", "ReloadResult"]

log = logging.getLogger(__name__)

YAML_SUFFIXES = frozenset({".yaml", ".yml"})
MISSING_POLL_S = 1.0
"""How often a missing knowledge directory is checked for again."""
RUST_TIMEOUT_MS = 1000
"""How often the watcher wakes up without changes to check the directory is still the same."""
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of one reload: ``ok`` and a diff, or the problems that kept the old KB."""

    ok: bool
    problems: tuple[Problem, ...]
    diff: KBDiff | None
    version: store.Version | None = None
    """The version saved for a hand edit this reload accepted (None otherwise)."""


@dataclass(frozen=True)
class KBSnapshot:
    """A knowledge base and the matcher built from it, always swapped together."""

    kb: KnowledgeBase
    matcher: HybridMatcher
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    """The file contents the knowledge base was built from, by name."""


Listener = Callable[[ReloadResult], Awaitable[None]]


def _label(directory: Path) -> str:
    """How problems name the knowledge directory: its last component, never its full path."""
    return f"{directory.name or 'knowledge'}/"


def _build(directory: Path, config: MatcherConfig, history_dir: Path | None) -> KBSnapshot:
    """Load and validate ``directory`` and build its matcher (blocking; raises KBError)."""
    label = _label(directory)
    if history_dir is not None:
        files, problems = store.read_live(directory, history_dir, label=label)
    else:
        files, problems = scan_knowledge_files(directory, label=label)
    kb = load_scanned(directory, files, problems, label=label)
    return KBSnapshot(kb, build_matcher(kb, config, prune=True), files)


def _diff(old: KnowledgeBase, new: KnowledgeBase) -> KBDiff | None:
    """``diff_kbs(old, new)``, or None when the diff module is unavailable or fails."""
    try:
        from bot.kb.diff import diff_kbs
    except ImportError:
        log.debug("bot.kb.diff is not available; reload results carry no diff")
        return None
    try:
        return diff_kbs(old, new)
    except Exception:
        log.exception("computing the knowledge-base diff failed")
        return None


def _identity(directory: Path) -> tuple[int, int] | None:
    """The directory's (device, inode), or None when it is missing or not a directory."""
    try:
        st = os.stat(directory)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(directory) else None


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds``; True if ``stop`` was set."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


class LiveKnowledge:
    """The current knowledge base and matcher, hot-reloadable from ``directory``."""

    def __init__(
        self,
        directory: Path,
        config: MatcherConfig | Thresholds,
        *,
        history_dir: Path | None = None,
    ) -> None:
        """Load ``directory`` synchronously; raises KBError if it is not valid (and
        ``semantic.ModelError`` if the model is missing or corrupt).

        ``history_dir`` is the store's version history (``DATA_DIR/kb-history``): see the
        module docstring. Without it no hand edit is saved.
        """
        self.directory = Path(directory)
        if isinstance(config, Thresholds):
            config = MatcherConfig(thresholds=config)
        self.config = config
        self.thresholds = config.thresholds
        self.history_dir = history_dir
        self._snapshot = _build(self.directory, config, history_dir)
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []

    @property
    def snapshot(self) -> KBSnapshot:
        """The current knowledge base and matcher, as one consistent pair."""
        return self._snapshot

    @property
    def kb(self) -> KnowledgeBase:
        """The current knowledge base."""
        return self._snapshot.kb

    @property
    def matcher(self) -> HybridMatcher:
        """The matcher built from the current knowledge base."""
        return self._snapshot.matcher

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback`` with the result of every reload (good or bad)."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        """Stop calling ``callback`` (no error if it was not registered)."""
        with suppress(ValueError):
            self._listeners.remove(callback)

    async def reload(self) -> ReloadResult:
        """Load and validate the directory off the event loop; swap in only if valid.

        Concurrent calls run one after another. Listeners are called (after the swap) with
        the result; a failing listener is logged and does not affect the others.
        """
        async with self._lock:
            old = self._snapshot
            label = _label(self.directory)
            try:
                new = await asyncio.to_thread(_build, self.directory, self.config, self.history_dir)
            except KBError as exc:
                problems = tuple(exc.problems) or (Problem(label, 0, "invalid knowledge base"),)
                result = ReloadResult(False, problems, None)
            except OSError as exc:
                log.warning("cannot read %s: %s", self.directory, exc)
                reason = exc.strerror or type(exc).__name__
                message = f"cannot read the knowledge base: {reason}"
                result = ReloadResult(False, (Problem(label, 0, message),), None)
            except Exception as exc:
                log.exception("unexpected error while loading %s", self.directory)
                message = f"unexpected error while loading ({type(exc).__name__}); see the log"
                result = ReloadResult(False, (Problem(label, 0, message),), None)
            else:
                diff = await asyncio.to_thread(_diff, old.kb, new.kb)
                self._snapshot = new
                version = await self._record_hand_edit(old, new)
                result = ReloadResult(True, (), diff, version)
        if result.ok:
            summary = result.diff.summary() if result.diff is not None else "reloaded"
            log.info("knowledge base %s reloaded: %s", self.directory, summary)
        else:
            log.warning(
                "knowledge base %s not reloaded, the last good version stays live:\n%s",
                self.directory,
                "\n".join(str(p) for p in result.problems),
            )
        await self._notify(result)
        return result

    async def _record_hand_edit(self, old: KBSnapshot, new: KBSnapshot) -> store.Version | None:
        """Save the previous files as a version when the files changed outside the bot."""
        if self.history_dir is None or old.kb.digest == new.kb.digest:
            return None
        try:
            return await asyncio.to_thread(
                store.record_hand_edit, self.history_dir, old.files, new.kb.digest
            )
        except Exception:
            log.exception("could not save the previous knowledge base in the history")
            return None

    async def _notify(self, result: ReloadResult) -> None:
        for listener in list(self._listeners):
            try:
                await listener(result)
            except Exception:
                log.exception("knowledge-base reload listener %r failed", listener)

    def _is_relevant(self, change: Change, path: str) -> bool:
        """Changes to YAML files, or to the watched directory itself."""
        candidate = Path(path)
        return candidate.suffix.lower() in YAML_SUFFIXES or candidate == self.directory

    async def watch(self, *, debounce_ms: int = 500, stop: asyncio.Event | None = None) -> None:
        """Reload after every debounced burst of YAML changes until ``stop`` is set.

        Survives the directory disappearing (waits for it to come back, then reloads), being
        replaced, permission errors and watcher failures (logged, retried with backoff, then
        falling back to polling). Only cancellation propagates.
        """
        stop = stop if stop is not None else asyncio.Event()
        failures = 0
        force_polling = False
        missing_logged = False
        needs_reload = False
        while not stop.is_set():
            identity = _identity(self.directory)
            if identity is None:
                if not missing_logged:
                    log.warning("knowledge directory %s is missing; waiting", self.directory)
                    missing_logged = True
                needs_reload = True
                if await _stopped(stop, MISSING_POLL_S):
                    return
                continue
            if missing_logged:
                log.info("knowledge directory %s is back", self.directory)
                missing_logged = False
            if needs_reload:
                needs_reload = False
                await self.reload()
            try:
                needs_reload = await self._watch_once(identity, debounce_ms, stop, force_polling)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, 2.0 ** (failures - 1))
                if failures >= 3 and not force_polling:
                    force_polling = True
                    log.warning("falling back to polling %s", self.directory)
                log.warning(
                    "watching %s failed (%s: %s); retrying in %.0f s",
                    self.directory,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                needs_reload = True  # changes may have been missed meanwhile
                if await _stopped(stop, delay):
                    return

    async def _watch_once(
        self,
        identity: tuple[int, int],
        debounce_ms: int,
        stop: asyncio.Event,
        force_polling: bool,
    ) -> bool:
        """Watch until stopped or the directory changes identity (then return True)."""
        # awatch sets its stop event when cancelled: give it its own, mirroring ``stop``.
        inner = asyncio.Event()
        relay = asyncio.create_task(stop.wait())
        relay.add_done_callback(lambda _: inner.set())
        try:
            changes_iter = awatch(
                self.directory,
                watch_filter=self._is_relevant,
                debounce=debounce_ms,
                stop_event=inner,
                rust_timeout=RUST_TIMEOUT_MS,
                yield_on_timeout=True,
                recursive=False,
                force_polling=force_polling,
                ignore_permission_denied=True,
            )
            async with aclosing(changes_iter) as changes_stream:
                async for changes in changes_stream:
                    if changes:
                        log.info(
                            "knowledge files changed: %s",
                            ", ".join(sorted({Path(p).name for _, p in changes})),
                        )
                        await self.reload()
                    if stop.is_set():
                        return False
                    if _identity(self.directory) != identity:
                        log.info("knowledge directory %s was replaced or removed", self.directory)
                        return True
            return False
        finally:
            relay.cancel()
            with suppress(asyncio.CancelledError):
                await relay


def config_from_settings(settings: Settings) -> MatcherConfig:
    """The live bot's matcher configuration: thresholds, model, threads and cache file."""
    return MatcherConfig(
        thresholds=settings.thresholds,
        model_dir=settings.model_dir,
        cache_path=settings.data_dir / CACHE_FILE,
        threads=settings.model_threads,
    )
