"""``python -m bench``: run every section, print a table, write bench/results.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import blind, charts, e2e, matcher, semantic, uploads

SECTIONS: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("matcher", matcher.run),
    ("blind", blind.run),
    ("e2e", e2e.run),
    ("charts", charts.run),
    ("uploads", uploads.run),
    ("semantic", semantic.run),
]
"""(name, run) pairs; other modules append their section here."""

RESULTS = Path(__file__).resolve().parent / "results.json"


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        rows: list[tuple[str, Any]] = []
        for key, item in value.items():
            rows.extend(_flatten(f"{prefix}.{key}" if prefix else key, item))
        return rows
    return [(prefix, value)]


def main() -> int:
    """Run the sections; a failing section is reported and the others still run."""
    results: dict[str, Any] = {}
    status = 0
    for name, run in SECTIONS:
        try:
            results[name] = run()
        except Exception as exc:  # a broken section must not hide the others' figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            status = 1
    rows = _flatten("", results)
    width = max((len(k) for k, _ in rows), default=10)
    out = sys.stdout
    for key, value in rows:
        out.write(f"{key:<{width}}  {value}\n")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    out.write(f"\nwritten to {RESULTS}\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
