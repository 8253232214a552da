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

from bot.kb.loader import load_knowledge
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
