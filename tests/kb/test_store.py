"""Store: safe names, atomic writes, history, stale refusal, retention."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.kb import store
from bot.kb.loader import BUNDLED_DIR, load_knowledge
from bot.kb.store import (
    StaleError,
    UnknownVersionError,
    fingerprint,
    list_versions,
    read_version,
    safe_filename,
    snapshot,
    write_files,
)


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    d = tmp_path / "knowledge"
    d.mkdir()
    (d / "a.yaml").write_bytes(b"old a\n")
    (d / "b.yaml").write_bytes(b"old b\n")
    (d / "notes.txt").write_bytes(b"not part of the KB\n")
    return d


@pytest.mark.parametrize("name", ["objections.yaml", "extra_faq-2.yml", "A.yaml"])
def test_safe_filename_accepts(name: str) -> None:
    assert safe_filename(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../evil.yaml", "without folders"),
        ("sub/dir.yaml", "without folders"),
        ("..\\evil.yaml", "without folders"),
        (".hidden.yaml", "must not start with a dot"),
        ("notes.txt", "must end in .yaml"),
        ("bad name.yaml", "only letters"),
        ("x" * 80 + ".yaml", "at most 64"),
        ("", "no name"),
        (".yaml", "dot"),
    ],
)
def test_safe_filename_refuses(name: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        safe_filename(name)


def test_write_saves_previous_version_first(kb_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    before = fingerprint(kb_dir)
    version = write_files(
        kb_dir,
        {"a.yaml": b"new a\n", "c.yaml": b"new c\n"},
        history_dir=history,
        author="mod#1",
        reason="upload a.yaml",
        expected_fingerprint=before,
    )
    assert snapshot(kb_dir) == {"a.yaml": b"new a\n", "b.yaml": b"old b\n", "c.yaml": b"new c\n"}
    assert read_version(history, version.id) == {"a.yaml": b"old a\n", "b.yaml": b"old b\n"}
    [listed] = list_versions(history)
    assert listed == version
    assert (listed.author, listed.reason, listed.files) == (
        "mod#1",
        "upload a.yaml",
        ("a.yaml", "b.yaml"),
    )
    assert not [p for p in kb_dir.iterdir() if p.name.startswith(".")]  # no temp files left


def test_stale_fingerprint_refuses_and_writes_nothing(kb_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    seen = fingerprint(kb_dir)
    (kb_dir / "b.yaml").write_bytes(b"hand edit\n")
    with pytest.raises(StaleError, match="changed since this preview"):
        write_files(
            kb_dir,
            {"a.yaml": b"new"},
            history_dir=history,
            author="m",
            reason="r",
            expected_fingerprint=seen,
        )
    assert (kb_dir / "a.yaml").read_bytes() == b"old a\n"
    assert list_versions(history) == []


def test_fingerprint_equals_kb_digest(tmp_path: Path) -> None:
    for p in BUNDLED_DIR.glob("*.yaml"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    assert fingerprint(tmp_path) == load_knowledge(tmp_path).digest


def test_failure_mid_write_leaves_old_files_whole(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    calls: list[str] = []

    def flaky_replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        calls.append(str(dst))
        if str(dst).endswith("b.yaml"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="No space"):
        write_files(
            kb_dir,
            {"a.yaml": b"new a\n", "b.yaml": b"new b\n"},
            history_dir=tmp_path / "h",
            author="m",
            reason="r",
        )
    monkeypatch.setattr(store.os, "replace", real_replace)
    assert any(c.endswith("a.yaml") for c in calls)  # a.yaml had been swapped in ...
    assert snapshot(kb_dir) == {"a.yaml": b"old a\n", "b.yaml": b"old b\n"}  # ... and restored
    assert not [p for p in kb_dir.iterdir() if p.name.startswith(".")]


def test_failure_writing_temp_file_changes_nothing(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store._write_synced

    def failing(path: Path, data: bytes) -> None:
        if path.parent == kb_dir:
            raise OSError(5, "I/O error")
        real(path, data)

    monkeypatch.setattr(store, "_write_synced", failing)
    with pytest.raises(OSError, match="I/O"):
        write_files(kb_dir, {"a.yaml": b"new"}, history_dir=tmp_path / "h", author="m", reason="r")
    assert snapshot(kb_dir) == {"a.yaml": b"old a\n", "b.yaml": b"old b\n"}


def test_remove_and_rollback_restore_exact_state(kb_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "h"
    v1 = write_files(kb_dir, {"c.yaml": b"c"}, history_dir=history, author="m", reason="add c")
    old = read_version(history, v1.id)
    added = sorted(set(snapshot(kb_dir)) - set(old))
    write_files(kb_dir, old, history_dir=history, author="m", reason="rollback", remove=added)
    assert snapshot(kb_dir) == {"a.yaml": b"old a\n", "b.yaml": b"old b\n"}
    assert [v.reason for v in list_versions(history)] == ["rollback", "add c"]


def test_history_keeps_the_last_versions(kb_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "h"
    ids = [
        write_files(
            kb_dir,
            {"a.yaml": f"v{i}".encode()},
            history_dir=history,
            author="m",
            reason=f"edit {i}",
            keep=5,
        ).id
        for i in range(8)
    ]
    versions = list_versions(history)
    assert [v.id for v in versions] == ids[::-1][:5]
    assert read_version(history, ids[-1]) == {"a.yaml": b"v6", "b.yaml": b"old b\n"}
    with pytest.raises(UnknownVersionError):
        read_version(history, ids[0])
    with pytest.raises(UnknownVersionError):
        read_version(history, "../../etc")


def test_unsafe_names_and_sizes_are_refused_before_writing(kb_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without folders"):
        write_files(
            kb_dir, {"../evil.yaml": b"x"}, history_dir=tmp_path / "h", author="m", reason="r"
        )
    with pytest.raises(ValueError, match="too large"):
        write_files(
            kb_dir,
            {"big.yaml": b"x" * 1_000_001},
            history_dir=tmp_path / "h",
            author="m",
            reason="r",
        )
    assert list_versions(tmp_path / "h") == []
    assert not (tmp_path / "evil.yaml").exists()
