"""Write ``knowledge/phrasings.yaml``: members' own messages for each bundled entry.

    python -m tools.phrasings           # write the file
    python -m tools.phrasings --check   # exit 1 if the file differs from what it would write

The lines are the ones the bundled encoder trains on (``tools.training_lines``: the labelled
lines of the "tuning" and "realistic" eval sets, less the spent sets' dev quarter), grouped by
entry. The matcher adds them to each entry's texts for meaning only, so a member's long post,
reply or story is compared with the way members really voiced that objection, not only with
the tidy triggers. Never a blind, spent or moderator-trial line: those measure the matcher.
Deterministic: the same sets give the same file.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from bot.kb.loader import BUNDLED_DIR, load_knowledge_from_texts
from tools.training_lines import labelled_positives

PHRASINGS_FILE = BUNDLED_DIR / "phrasings.yaml"
MAX_CHARS = 1000
"""The schema's longest phrase; a longer post is left out."""

HEADER = """\
# yaml-language-server: $schema=./schema.json
# Members' own messages for each entry, as they wrote them (long posts, replies, stories,
# typos; whitespace collapsed). The matcher adds them to the entry's texts for meaning only
# (never for the word engine), so real talk is compared with real talk. Written by
# `python -m tools.phrasings` from the labelled lines the bundled encoder trains on (the
# "tuning" and "realistic" sets in tests/matching/, less a dev quarter). A moderator may add
# a member's message under its entry's id; `check` does not prove these as it does examples.

"""


def render() -> str:
    """The file's text: every bundled entry with phrasings, in the knowledge base's order."""
    others = {  # the entries come from the other files (this one may be stale or broken)
        path.name: path.read_bytes()
        for path in sorted(BUNDLED_DIR.glob("*.yaml"))
        if path != PHRASINGS_FILE
    }
    entries = [e.id for e in load_knowledge_from_texts(others).entries]
    found = labelled_positives(set(entries))
    body: dict[str, list[str]] = {}
    for entry_id in entries:
        kept: dict[str, str] = {}  # the loader's duplicate test: case and spacing aside
        for line in found.get(entry_id, ()):
            if len(line) <= MAX_CHARS:
                kept.setdefault(" ".join(line.casefold().split()), line)
        if kept:
            body[entry_id] = list(kept.values())
    dumped = yaml.safe_dump(
        {"phrasings": body}, allow_unicode=True, sort_keys=False, width=100, default_style=None
    )
    return HEADER + dumped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = PHRASINGS_FILE.read_text(encoding="utf-8") if PHRASINGS_FILE.exists() else ""
        if current != text:
            sys.stderr.write(f"{PHRASINGS_FILE} is stale: run python -m tools.phrasings\n")
            return 1
        return 0
    PHRASINGS_FILE.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {PHRASINGS_FILE}: {sum(1 for _ in text.splitlines())} lines\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
