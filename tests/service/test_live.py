"""LiveKnowledge: atomic reloads, problems keep the old KB, the watcher survives FS trouble."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.kb.model import KBError
from bot.matching.factory import CACHE_FILE
from bot.matching.types import Thresholds
from bot.service.live import LiveKnowledge, ReloadResult, config_from_settings
from bot.settings import Settings

BUNDLED = Path(__file__).resolve().parents[2] / "knowledge"
WAIT_S = 30.0  # generous: the machine is shared
RETRY_S = 2.0
NEW_TITLE = "I'm far too busy for this (edited)."


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled knowledge base, taken at test time."""
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, target)
    return target


def edit_first_title(directory: Path, title: str = NEW_TITLE) -> str:
    """Replace the first objection's title line; returns that objection's id."""
    path = directory / "objections.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry_id = ""
    for i, line in enumerate(lines):
        match = re.match(r"\s*- id:\s*(\S+)", line)
        if match and not entry_id:
            entry_id = match.group(1)
        elif entry_id and re.match(r"\s*title:", line):
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = f'{indent}title: "{title}"\n'
            break
    path.write_text("".join(lines), encoding="utf-8")
    return entry_id


def break_file(directory: Path) -> None:
    path = directory / "objections.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: [unclosed\n", encoding="utf-8")


def has_file_line(result: ReloadResult, name: str) -> bool:
    return any(re.search(rf"{re.escape(name)}:\d+: ", str(p)) for p in result.problems)


def test_starts_with_valid_kb_and_refuses_a_broken_one(kb_dir: Path, tmp_path: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    assert live.kb.objections
    assert live.matcher is live.snapshot.matcher
    assert live.snapshot.kb is live.kb
    break_file(kb_dir)
    with pytest.raises(KBError):
        LiveKnowledge(kb_dir, Thresholds())


async def test_valid_reload_swaps_pair_and_reports_diff(kb_dir: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    before = live.snapshot
    seen: list[ReloadResult] = []

    async def listener(result: ReloadResult) -> None:
        seen.append(result)

    live.add_listener(listener)
    entry_id = edit_first_title(kb_dir)
    result = await live.reload()

    assert result.ok, result.problems
    assert result.problems == ()
    assert seen == [result]
    entry = live.kb.get(entry_id)
    assert entry is not None
    assert entry.title == NEW_TITLE
    assert live.snapshot is not before
    assert live.matcher is not before.matcher
    assert live.snapshot.matcher.kb is live.snapshot.kb
    assert result.diff is not None
    assert entry_id in result.diff.summary() or result.diff.summary()


async def test_broken_yaml_keeps_old_kb_and_returns_file_line(kb_dir: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    before = live.snapshot
    break_file(kb_dir)
    result = await live.reload()
    assert not result.ok
    assert result.diff is None
    assert has_file_line(result, "objections.yaml"), result.problems
    assert live.snapshot is before


async def test_missing_directory_is_a_problem_not_a_crash(kb_dir: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    before = live.snapshot
    shutil.rmtree(kb_dir)
    result = await live.reload()
    assert not result.ok
    assert result.problems
    assert live.snapshot is before


async def test_concurrent_reloads_are_serialised(kb_dir: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    edit_first_title(kb_dir)
    results = await asyncio.gather(*(live.reload() for _ in range(4)))
    assert all(r.ok for r in results)
    assert live.snapshot.matcher.kb is live.kb


async def test_failing_listener_does_not_stop_others(kb_dir: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    seen: list[bool] = []

    async def broken(result: ReloadResult) -> None:
        raise RuntimeError("listener bug")

    async def good(result: ReloadResult) -> None:
        seen.append(result.ok)

    live.add_listener(broken)
    live.add_listener(good)
    assert (await live.reload()).ok
    assert seen == [True]
    live.remove_listener(good)
    live.remove_listener(good)
    await live.reload()
    assert seen == [True]


# -- the watcher ---------------------------------------------------------------------------


class Watched:
    """A running ``watch()`` task with a queue of the reload results it produced."""

    def __init__(self, live: LiveKnowledge) -> None:
        self.live = live
        self.results: asyncio.Queue[ReloadResult] = asyncio.Queue()
        self.stop = asyncio.Event()
        live.add_listener(self._on_result)
        self.task = asyncio.create_task(live.watch(debounce_ms=50, stop=self.stop))

    async def _on_result(self, result: ReloadResult) -> None:
        await self.results.put(result)

    async def until(
        self, action: Callable[[], object], accept: Callable[[ReloadResult], bool]
    ) -> ReloadResult:
        """Repeat ``action`` until a reload result satisfies ``accept`` (the watcher may not
        be watching yet when the first action happens)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while loop.time() < deadline:
            action()
            try:
                while True:
                    result = await asyncio.wait_for(self.results.get(), timeout=RETRY_S)
                    if accept(result):
                        return result
            except TimeoutError:
                assert not self.task.done(), "the watcher stopped"
        raise AssertionError("no matching reload result from the watcher")


@pytest.fixture
async def watched(kb_dir: Path) -> AsyncIterator[Watched]:
    watcher = Watched(LiveKnowledge(kb_dir, Thresholds()))
    yield watcher
    watcher.stop.set()
    await asyncio.wait_for(watcher.task, timeout=WAIT_S)  # stops cleanly, without raising


async def test_watch_picks_up_a_hand_edit(watched: Watched, kb_dir: Path) -> None:
    entry_id = ""

    def edit() -> None:
        nonlocal entry_id
        entry_id = edit_first_title(kb_dir)

    await watched.until(edit, lambda r: r.ok)
    entry = watched.live.kb.get(entry_id)
    assert entry is not None
    assert entry.title == NEW_TITLE


async def test_watch_reports_a_broken_edit_and_keeps_the_old_kb(
    watched: Watched, kb_dir: Path
) -> None:
    before = watched.live.snapshot
    original = (kb_dir / "objections.yaml").read_text(encoding="utf-8")

    def breaking_edit() -> None:
        (kb_dir / "objections.yaml").write_text(original + "  - id: [unclosed\n", "utf-8")

    result = await watched.until(breaking_edit, lambda r: not r.ok)
    assert has_file_line(result, "objections.yaml"), result.problems
    assert watched.live.snapshot is before

    def fix() -> None:
        (kb_dir / "objections.yaml").write_text(original, "utf-8")
        edit_first_title(kb_dir)

    await watched.until(fix, lambda r: r.ok)  # fixing the file is picked up again
    assert watched.live.snapshot is not before


async def test_watch_survives_half_written_files(watched: Watched, kb_dir: Path) -> None:
    path = kb_dir / "objections.yaml"
    original = path.read_text(encoding="utf-8")
    edit_first_title(kb_dir)
    edited = path.read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")

    def two_step_write() -> None:
        half = len(edited) // 2
        with path.open("w", encoding="utf-8") as fh:
            fh.write(edited[:half])
            fh.flush()
        with path.open("a", encoding="utf-8") as fh:
            fh.write(edited[half:])

    await watched.until(two_step_write, lambda r: r.ok)
    assert any(o.title == NEW_TITLE for o in watched.live.kb.objections)


async def test_watch_ignores_non_yaml_files(watched: Watched, kb_dir: Path) -> None:
    # a YAML edit proves the watcher is live; a later non-YAML write must not reload
    await watched.until(lambda: edit_first_title(kb_dir), lambda r: r.ok)
    while not watched.results.empty():
        watched.results.get_nowait()
    (kb_dir / "notes.txt").write_text("scratch", encoding="utf-8")
    (kb_dir / "objections.yaml~").write_text("backup", encoding="utf-8")
    await watched.until(lambda: edit_first_title(kb_dir, "Second edit."), lambda r: r.ok)
    assert watched.live.kb.objections[0].title == "Second edit."


async def test_watch_survives_directory_deleted_and_recreated(
    watched: Watched, kb_dir: Path
) -> None:
    before = watched.live.snapshot
    await watched.until(lambda: shutil.rmtree(kb_dir, ignore_errors=True), lambda r: not r.ok)
    assert watched.live.snapshot is before
    assert not watched.task.done()

    def recreate() -> None:
        if not kb_dir.exists():
            shutil.copytree(BUNDLED, kb_dir)
        edit_first_title(kb_dir)

    await watched.until(recreate, lambda r: r.ok)
    assert any(o.title == NEW_TITLE for o in watched.live.kb.objections)


async def test_watch_survives_a_file_replaced_by_a_directory(
    watched: Watched, kb_dir: Path
) -> None:
    path = kb_dir / "benefits.yaml"
    saved = path.read_bytes()

    def replace_with_directory() -> None:
        if path.is_file():
            path.unlink()
            path.mkdir()

    result = await watched.until(replace_with_directory, lambda r: not r.ok)
    assert any("benefits.yaml" in str(p) for p in result.problems)

    def restore() -> None:
        if path.is_dir():
            path.rmdir()
        path.write_bytes(saved)

    await watched.until(restore, lambda r: r.ok)


async def test_watch_returns_when_stopped_and_raises_only_cancellation(kb_dir: Path) -> None:
    live = LiveKnowledge(kb_dir, Thresholds())
    stop = asyncio.Event()
    task = asyncio.create_task(live.watch(debounce_ms=50, stop=stop))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, timeout=WAIT_S)

    other_stop = asyncio.Event()
    task = asyncio.create_task(live.watch(debounce_ms=50, stop=other_stop))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not other_stop.is_set()  # cancelling does not touch the caller's event


async def test_watch_retries_after_watcher_errors(
    kb_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.service.live as live_module

    real_awatch = live_module.awatch
    calls = 0

    def flaky_awatch(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise PermissionError(13, "Permission denied", str(kb_dir))
        return real_awatch(*args, **kwargs)

    monkeypatch.setattr(live_module, "awatch", flaky_awatch)
    watcher = Watched(LiveKnowledge(kb_dir, Thresholds()))
    try:
        await watcher.until(lambda: edit_first_title(kb_dir), lambda r: r.ok)
        assert calls >= 2
        assert any(o.title == NEW_TITLE for o in watcher.live.kb.objections)
    finally:
        watcher.stop.set()
        await asyncio.wait_for(watcher.task, timeout=WAIT_S)


def test_settings_give_the_thresholds_model_and_cache(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MATCH_ANSWER_THRESHOLD": "80",
            "MATCH_MEANING_KEEP": "45",
            "MATCH_MEANING_ANSWER": "77",
            "MATCH_MEANING_MARGIN": "9",
            "MATCH_MEANING_NEGATIVE_MARGIN": "4",
            "MODEL_THREADS": "2",
            "DATA_DIR": str(tmp_path),
        }
    )
    config = config_from_settings(settings)
    assert config.thresholds == dataclasses.replace(
        Thresholds(),
        answer=80.0,
        meaning_keep=45.0,
        meaning_answer=77.0,
        meaning_margin=9.0,
        meaning_negative_margin=4.0,
    )
    assert config.cache_path == tmp_path / CACHE_FILE
    assert config.threads == 2
    assert config.model_dir is None
