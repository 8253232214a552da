"""Memory of refused uploads: peak RSS of a process that previews 60 refused 620 KB uploads.

Each upload is a valid-looking ``objections.yaml`` of about 620 KB (about a thousand
objections with 60 short triggers each, whose ``benefits:`` name a benefit that does not exist:
~70,000 YAML values, under the loader's 100,000 limit), so it is parsed and schema-checked in
full and then refused, as ``/kb upload`` does. Run in a subprocess so the figure is its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

UPLOADS = 60
TARGET_BYTES = 620_000

SCRIPT = r"""
import shutil, sys, tempfile
from pathlib import Path
from bot.service.proposal import upload_proposal
from bot.kb.loader import BUNDLED_DIR, load_knowledge

uploads, target = int(sys.argv[1]), int(sys.argv[2])


def peak_mb() -> float:
    # VmHWM: this process's own peak RSS (ru_maxrss would include the parent's, from the fork).
    with open("/proc/self/status") as fh:
        line = next(l for l in fh if l.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)


def upload(salt: int) -> bytes:
    words = ", ".join(f"w{t}x{{i}}" for t in range(60))
    entry = (
        "  - id: u{salt}-n{i}\n"
        "    title: \"Objection {i} of upload {salt}\"\n"
        "    answer: \"An answer, {i}.\"\n"
        "    benefits: [no-such-benefit-{salt}]\n"
        "    triggers: [" + words + "]\n"
    )
    parts, size, i = ["objections:\n"], 0, 0
    while size < target:
        text = entry.format(salt=salt, i=i)
        parts.append(text)
        size += len(text)
        i += 1
    return "".join(parts).encode()


with tempfile.TemporaryDirectory() as tmp:
    kb_dir = Path(tmp) / "knowledge"
    shutil.copytree(BUNDLED_DIR, kb_dir)
    live = load_knowledge(kb_dir)
    before = peak_mb()
    refused = 0
    size = 0
    for salt in range(uploads):
        data = upload(salt)
        size = len(data)
        proposal = upload_proposal(kb_dir, "objections.yaml", data, live=live)
        refused += bool(proposal.errors)
    after = peak_mb()
print(refused, size, before, after)
"""


def run() -> dict[str, Any]:
    """The ``uploads`` section of ``python -m bench``."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(UPLOADS), str(TARGET_BYTES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "uploads": UPLOADS,
        "refused": int(out[0]),
        "upload_bytes": int(out[1]),
        "peak_rss_mb_before_uploads": float(out[2]),
        "peak_rss_mb_after_uploads": float(out[3]),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
