"""``kill -9`` in the middle of an upload's Apply: a real subprocess writes knowledge-base
versions with ``bot.kb.store.write_files`` (the Apply path) and records them in the SQLite
database, and is SIGKILLed at seeded random moments. After each kill every file is whole,
either the old or the new bytes, the knowledge base loads and the database opens."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.kb import store
from bot.kb.loader import load_knowledge
from bot.runner import knowledge_from_settings
from bot.settings import Settings
from bot.storage import Storage
from tests.cogs.helpers import copy_knowledge

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import sqlite3, sys, asyncio
from pathlib import Path
from bot.kb import store
from bot.storage import Storage

kb, history, db = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
versions = [{n: (kb / n).read_bytes() for n in sys.argv[4:]}]
versions.append({n: data + b"\n# edited by an upload\n" for n, data in versions[0].items()})
asyncio.run(Storage.open(db)).__class__  # migrate once (closing not needed: we get killed)
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
print("ready", flush=True)
i = 0
while True:
    i += 1
    store.write_files(kb, versions[i % 2], history_dir=history, author="t", reason="apply", keep=5)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('apply', ?)", (str(i),))
    conn.execute("COMMIT")
"""


@pytest.mark.parametrize("seed", range(5))
def test_sigkill_during_apply_leaves_old_or_new_files_whole(tmp_path: Path, seed: int) -> None:
    kb = copy_knowledge(tmp_path / "knowledge")
    names = sorted(p.name for p in kb.glob("*.yaml"))
    old = {n: (kb / n).read_bytes() for n in names}
    new = {n: data + b"\n# edited by an upload\n" for n, data in old.items()}
    assert old != new
    db = tmp_path / "data" / "whytwitter.sqlite3"
    db.parent.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(kb),
            str(tmp_path / "data" / "kb-history"),
            str(db),
            *names,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready", (
            proc.stderr.read() if proc.stderr else b""
        )
        time.sleep(random.Random(seed).uniform(0.05, 0.6))  # several Applies, then mid-one
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    for name in names:
        data = (kb / name).read_bytes()
        assert data in (old[name], new[name]), f"{name} is neither the old nor the new file"
    load_knowledge(kb)  # raises on any problem
    assert asyncio.run(_applies_recorded(db)) is not None


async def _applies_recorded(db: Path) -> str | None:
    storage = await Storage.open(db)
    try:
        return await storage.get_meta("apply")
    finally:
        await storage.close()


BETWEEN = r"""
import os, sys, time
from pathlib import Path
from bot.kb import store

kb, history = Path(sys.argv[1]), Path(sys.argv[2])
objections = (kb / "objections.yaml").read_text()
benefits = (kb / "benefits.yaml").read_text()
new_benefit = (
    "  - id: brand-new-benefit\n    title: A brand-new benefit\n"
    "    summary: Only the new files define it.\n"
)
new = {  # objections.yaml is swapped first and needs the new benefit: a mix does not load
    "objections.yaml": objections.replace(
        "benefits: [research-updates,", "benefits: [brand-new-benefit, research-updates,", 1
    ).encode(),
    "benefits.yaml": benefits.replace("benefits:\n", "benefits:\n" + new_benefit, 1).encode(),
}
real_replace = os.replace


def replace(src, dst):
    real_replace(src, dst)
    if Path(dst).parent == kb:  # one file swapped: wait here to be killed
        print("between", Path(dst).name, flush=True)
        time.sleep(60)


store.os.replace = replace
store.write_files(kb, new, history_dir=history, author="t", reason="apply")
print("not killed", flush=True)
"""


def test_sigkill_between_the_replaces_of_a_two_file_apply(tmp_path: Path) -> None:
    """A real process killed with SIGKILL after the first of two replaces: the directory is
    half changed (it would not load), and the next start finishes the change from the
    journal before loading, so the knowledge base loads, all new."""
    kb = copy_knowledge(tmp_path / "knowledge")
    history = tmp_path / "data" / "kb-history"
    old = {n: (kb / n).read_bytes() for n in ("objections.yaml", "benefits.yaml")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BETWEEN, str(kb), str(history)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == b"between objections.yaml", proc.stderr.read() if proc.stderr else b""
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (kb / "objections.yaml").read_bytes() != old["objections.yaml"]  # swapped ...
    assert (kb / "benefits.yaml").read_bytes() == old["benefits.yaml"]  # ... and not swapped

    settings = Settings.from_env({"KNOWLEDGE_DIR": str(kb), "DATA_DIR": str(tmp_path / "data")})
    live = knowledge_from_settings(settings)  # what `python -m bot run` does at start
    assert "brand-new-benefit" in {b.id for b in live.kb.benefits}
    load_knowledge(kb)  # the directory itself is whole again
    assert (kb / "benefits.yaml").read_bytes() != old["benefits.yaml"]
    (version,) = store.list_versions(history)
    assert {n: store.read_version(history, version.id)[n] for n in old} == old
