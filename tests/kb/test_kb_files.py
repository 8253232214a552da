"""The knowledge directory on disk (issue 11, section 4): symbolic links and folders, the
parse cache's memory, failed writes, the journal that makes a multi-file change atomic, and
hand edits saved in the history."""

from __future__ import annotations

import errno
import gc
import json
import os
from pathlib import Path

import pytest

from bot.kb import loader, store
from bot.kb.loader import BUNDLED_DIR, load_knowledge, load_knowledge_from_texts
from bot.kb.model import KBError
from bot.matching.types import Thresholds
from bot.service.check import check_knowledge
from bot.service.live import LiveKnowledge
from tests.cogs.helpers import copy_knowledge

OUTSIDE_OBJECTION = b"""objections:
  - id: secret-outside
    title: "Secret from outside the knowledge directory."
    triggers: ["outside secret"]
    answer: This file lives outside the knowledge directory.
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    return copy_knowledge(tmp_path / "knowledge")


# --------------------------------------------------------------------------- links, folders


def test_folder_named_yaml_is_reported_and_the_rest_loads(kb_dir: Path) -> None:
    (kb_dir / "extra.yaml").mkdir()
    kb = load_knowledge(kb_dir)
    assert kb.digest == load_knowledge(BUNDLED_DIR).digest
    report = check_knowledge(kb_dir)
    assert report.ok
    assert "extra.yaml:1: warning: is a folder, not a file" in report.format()
    assert store.snapshot(kb_dir).keys() == {p.name for p in BUNDLED_DIR.glob("*.yaml")}


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_symbolic_links_are_never_followed(kb_dir: Path, tmp_path: Path, where: str) -> None:
    if where == "outside":
        target = tmp_path / "elsewhere" / "secret.yaml"
        target.parent.mkdir()
    else:
        target = kb_dir / ".hidden-source.yml"  # hidden: not read as a file of its own
    target.write_bytes(OUTSIDE_OBJECTION)
    (kb_dir / "linked.yaml").symlink_to(target)

    kb = load_knowledge(kb_dir)
    assert "secret-outside" not in {e.id for e in kb.entries}
    report = check_knowledge(kb_dir)
    assert report.ok
    assert "linked.yaml:1: warning: is a symbolic link" in report.format()
    files = store.snapshot(kb_dir)  # what /kb download sends and previews compare against
    assert "linked.yaml" not in files
    assert OUTSIDE_OBJECTION not in files.values()


def test_a_write_replaces_a_link_and_never_writes_through_it(kb_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.yaml"
    target.write_bytes(b"# not the bot's\n")
    (kb_dir / "linked.yaml").symlink_to(target)
    store.write_files(
        kb_dir, {"linked.yaml": b"# written\n"}, history_dir=tmp_path / "h", author="m", reason="r"
    )
    assert target.read_bytes() == b"# not the bot's\n"
    assert not (kb_dir / "linked.yaml").is_symlink()
    assert (kb_dir / "linked.yaml").read_bytes() == b"# written\n"


def test_a_write_onto_a_folder_is_refused_before_anything_changes(
    kb_dir: Path, tmp_path: Path
) -> None:
    (kb_dir / "extra.yaml").mkdir()
    before = store.snapshot(kb_dir)
    with pytest.raises(ValueError, match=r"extra\.yaml is a folder"):
        store.write_files(
            kb_dir,
            {"objections.yaml": b"# x\n", "extra.yaml": b"# y\n"},
            history_dir=tmp_path / "h",
            author="m",
            reason="r",
        )
    assert store.snapshot(kb_dir) == before
    assert store.list_versions(tmp_path / "h") == []


# --------------------------------------------------------------------------- parse cache


def _refused_upload(salt: int, size: int = 200_000) -> bytes:
    entry = (
        '  - id: u{salt}-n{i}\n    title: "Objection {i}"\n    answer: "An answer {i}."\n'
        "    benefits: [no-such-benefit]\n    triggers:\n"
        + "".join(f'      - "trigger number {t} of {{i}}"\n' for t in range(10))
    )
    parts, i, total = ["objections:\n"], 0, 0
    while total < size:
        text = entry.format(salt=salt, i=i)
        parts.append(text)
        total += len(text)
        i += 1
    return "".join(parts).encode()


def _parsed_nodes() -> int:
    gc.collect()
    return sum(isinstance(o, loader._Node) for o in gc.get_objects())


def test_refused_uploads_are_not_kept_in_memory() -> None:
    files = store.snapshot(BUNDLED_DIR)
    load_knowledge_from_texts(files)  # the live files, parsed and cached once
    baseline = _parsed_nodes()
    for salt in range(5):
        with pytest.raises(KBError, match="no-such-benefit"):
            load_knowledge_from_texts({**files, "objections.yaml": _refused_upload(salt)})
    # Each upload parses to ~30,000 YAML nodes; none of them may stay once it is refused.
    assert _parsed_nodes() == baseline


def test_the_parse_cache_is_bounded_by_bytes() -> None:
    cache = loader._ParseCache(max_bytes=1000)
    parsed = loader._Parsed(None, ())
    for i in range(10):
        cache.add(cache.key(f"f{i}.yaml", b"x"), 300, parsed)
    assert cache.size <= 1000
    assert len(cache) == 3
    assert cache.get(cache.key("f9.yaml", b"x")) is parsed
    assert cache.get(cache.key("f0.yaml", b"x")) is None
    cache.add(cache.key("big.yaml", b"y"), 5000, parsed)  # larger than the whole budget
    assert cache.get(cache.key("big.yaml", b"y")) is None


# --------------------------------------------------------------------------- failed writes


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
@pytest.mark.parametrize("where", ["temp", "history", "replace"])
def test_a_failed_write_changes_nothing_and_keeps_no_version(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, where: str
) -> None:
    history = tmp_path / "h"
    before = store.snapshot(kb_dir)
    real_write, real_replace = store._write_synced, os.replace

    def write(path: Path, data: bytes) -> None:
        if (where == "temp" and path.parent == kb_dir) or (
            where == "history" and path.name == store.META_FILE
        ):
            raise OSError(code, os.strerror(code), str(path))
        real_write(path, data)

    def replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if where == "replace" and str(dst).endswith("source.yaml"):
            raise OSError(code, os.strerror(code), str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(store, "_write_synced", write)
    monkeypatch.setattr(store.os, "replace", replace)
    new = {n: d + b"\n# changed\n" for n, d in before.items()}  # three files, source.yaml last
    with pytest.raises(OSError, match=os.strerror(code)):
        store.write_files(kb_dir, new, history_dir=history, author="m", reason="r")
    monkeypatch.undo()
    assert store.snapshot(kb_dir) == before
    assert store.list_versions(history) == []
    assert not (history / store.JOURNAL_FILE).exists()
    assert [p.name for p in kb_dir.iterdir() if p.name.startswith(".")] == []
    assert [p.name for p in history.iterdir() if p.name.startswith(".staging")] == []


# --------------------------------------------------------------------------- the journal


def _interrupted_change(kb_dir: Path, history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write killed between its replaces: journal committed, only the first file swapped."""

    class Killed(BaseException):
        pass

    real_replace = os.replace
    swapped: list[str] = []

    def replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(dst).parent == kb_dir and swapped:
            raise Killed  # the process dies: no undo runs
        real_replace(src, dst)
        if Path(dst).parent == kb_dir:
            swapped.append(Path(dst).name)

    monkeypatch.setattr(store.os, "replace", replace)
    monkeypatch.setattr(store, "_undo", lambda *a, **k: None)  # a SIGKILL runs no cleanup
    with pytest.raises(Killed):
        store.write_files(kb_dir, _new_kb(kb_dir), history_dir=history, author="m", reason="r")
    monkeypatch.undo()
    assert swapped == ["objections.yaml"]


def _new_kb(kb_dir: Path) -> dict[str, bytes]:
    """objections.yaml (first) needs the new benefit of benefits.yaml: a mix does not load."""
    objections = (kb_dir / "objections.yaml").read_text()
    benefits = (kb_dir / "benefits.yaml").read_text()
    new_benefit = (
        "  - id: brand-new-benefit\n    title: A brand-new benefit\n"
        "    summary: Only the new files define it.\n"
    )
    return {
        "objections.yaml": objections.replace(
            "benefits: [research-updates,", "benefits: [brand-new-benefit, research-updates,", 1
        ).encode(),
        "benefits.yaml": benefits.replace("benefits:\n", "benefits:\n" + new_benefit, 1).encode(),
    }


def test_a_change_interrupted_between_replaces_is_finished_before_loading(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = tmp_path / "h"
    new = _new_kb(kb_dir)
    old = store.snapshot(kb_dir)
    _interrupted_change(kb_dir, history, monkeypatch)
    with pytest.raises(KBError, match="brand-new-benefit"):
        load_knowledge(kb_dir)  # half a change on disk
    live = LiveKnowledge(kb_dir, Thresholds(), history_dir=history)  # what a restart does
    assert "brand-new-benefit" in {b.id for b in live.kb.benefits}
    assert store.snapshot(kb_dir) == {**old, **new}
    load_knowledge(kb_dir)
    assert not (history / store.JOURNAL_FILE).exists()
    (saved,) = store.list_versions(history)
    assert store.read_version(history, saved.id) == old


def test_a_change_killed_before_its_commit_leaves_the_old_files(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = tmp_path / "h"
    old = store.snapshot(kb_dir)

    class Killed(BaseException):
        pass

    real = store._write_atomic

    def die(folder: Path, path: Path, data: bytes) -> None:
        if path.name == store.JOURNAL_FILE:
            raise Killed
        real(folder, path, data)

    monkeypatch.setattr(store, "_write_atomic", die)
    monkeypatch.setattr(store.shutil, "rmtree", lambda *a, **k: None)  # no cleanup either
    monkeypatch.setattr(Path, "unlink", lambda *a, **k: None)
    with pytest.raises(Killed):
        store.write_files(kb_dir, _new_kb(kb_dir), history_dir=history, author="m", reason="r")
    monkeypatch.undo()
    assert any(p.name.endswith(".tmp") for p in kb_dir.iterdir())  # litter a kill leaves
    live = LiveKnowledge(kb_dir, Thresholds(), history_dir=history)
    assert "brand-new-benefit" not in {b.id for b in live.kb.benefits}
    assert store.snapshot(kb_dir) == old
    assert [p.name for p in kb_dir.iterdir() if p.name.startswith(".")] == []
    assert list(history.glob(".staging-*")) == []
    assert store.list_versions(history) == []


def test_versions_record_the_digest_they_lead_to(kb_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "h"
    version = store.write_files(
        kb_dir, _new_kb(kb_dir), history_dir=history, author="m", reason="r"
    )
    assert version.after == load_knowledge(kb_dir).digest
    meta = json.loads((history / version.id / store.META_FILE).read_text())
    assert meta["after"] == version.after


# --------------------------------------------------------------------------- hand edits


async def test_an_accepted_hand_edit_is_saved_and_a_bot_write_is_not_saved_twice(
    kb_dir: Path, tmp_path: Path
) -> None:
    history = tmp_path / "h"
    live = LiveKnowledge(kb_dir, Thresholds(), history_dir=history)
    before = store.snapshot(kb_dir)
    path = kb_dir / "source.yaml"
    path.write_bytes(path.read_bytes() + b"\n# a hand edit\n")
    result = await live.reload()
    assert result.ok
    assert result.version is not None
    assert result.version.author == store.HAND_EDIT_AUTHOR
    assert store.read_version(history, result.version.id) == before

    broken = kb_dir / "objections.yaml"
    good = broken.read_bytes()
    broken.write_bytes(b"objections: [\n")
    assert not (await live.reload()).ok  # refused: nothing happened, nothing saved
    broken.write_bytes(good)
    assert (await live.reload()).version is None  # back to the live files: no change
    assert len(store.list_versions(history)) == 1

    store.write_files(kb_dir, _new_kb(kb_dir), history_dir=history, author="m", reason="r")
    written = await live.reload()
    assert written.ok
    assert written.version is None  # the write saved its own version
    assert [v.author for v in store.list_versions(history)] == ["m", store.HAND_EDIT_AUTHOR]


@pytest.mark.parametrize(
    "journal",
    [b"{not json", b"[]", b'{"version": "v1", "replace": {}, "remove": []}'],
)
def test_a_damaged_journal_is_set_aside_and_the_files_load(
    kb_dir: Path, tmp_path: Path, journal: bytes
) -> None:
    history = tmp_path / "h"
    history.mkdir()
    (history / store.JOURNAL_FILE).write_bytes(journal)
    live = LiveKnowledge(kb_dir, Thresholds(), history_dir=history)
    assert live.kb.digest == load_knowledge(BUNDLED_DIR).digest
    assert not (history / store.JOURNAL_FILE).exists()
    assert len(list(history.glob(f"{store.JOURNAL_FILE}.*.bad"))) == 1


def test_a_journal_naming_unsafe_files_is_not_followed(kb_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "h"
    history.mkdir()
    victim = tmp_path / "victim.yaml"
    victim.write_bytes(b"keep me\n")
    entry = {
        "version": "v20260101-000000-000000-abcd",
        "replace": {},
        "remove": ["../victim.yaml"],
    }
    (history / store.JOURNAL_FILE).write_text(json.dumps(entry))
    LiveKnowledge(kb_dir, Thresholds(), history_dir=history)
    assert victim.read_bytes() == b"keep me\n"
