"""Fit the learned gate (``bot/matching/model/gate.json``) for the bundled encoder.

    python -m tools.fit_gate            # fit on every group, write gate.json
    python -m tools.fit_gate --cv       # leave one group out: figures per group and in all

The gate reads the evidence on each candidate entry of a message (``HybridMatcher.evidence``)
and is fitted mostly on labelled messages the encoder never trained on, so their meaning
scores are what a new message gets: the dev quarters of the spent realistic sets and weeks
(``bench.semantic.is_dev_line``), the sets of the fourth to seventh blind rounds (each looked
at once, then spent), and moderator trials 3 to 7 with their entries added to the knowledge
base (a moderator's new entry). None of these lines is among the bundled ``phrasings`` (those
are the encoder's training lines), so no line is scored against itself. The tidy tuning sets
(trained on) join at a quarter weight (:data:`TIDY_WEIGHT`). A candidate is right when it is
the message's label; every part of a long post is a row (its sentences as well as the whole).
Deterministic: the same sets and model give the same file.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from bench import blind
from bench.matcher import EVAL_SETS
from bench.semantic import SPENT_SETS, is_dev_line
from bot.kb.loader import load_knowledge
from bot.matching.factory import MatcherConfig, build_matcher
from bot.matching.gate import GATE_FILE, Gate, fit
from bot.matching.hybrid import HybridMatcher
from bot.matching.semantic import DEFAULT_MODEL_DIR
from bot.matching.split import units

GROUPS: dict[str, tuple[str, ...]] = {
    "round1_dev": (
        "realistic_tuning",
        "heldout20",
        "heldout21_realistic",
        "heldout24_today",
        "chatter_week23",
    ),
    "round2_dev": ("heldout25_realistic", "chatter_week26", "heldout27_today"),
    "round3_dev": ("heldout28_realistic", "chatter_week29", "heldout30_today"),
    "round4_realistic": ("heldout31_realistic",),
    "round4_week": ("chatter_week32",),
    "round4_today": ("heldout33_today",),
    "round5_realistic": ("heldout34_realistic",),
    "round5_week": ("chatter_week35",),
    "round5_today": ("heldout36_today",),
    "round6_realistic": ("heldout37_realistic",),
    "round6_week": ("chatter_week38",),
    "round6_today": ("heldout39_today",),
    "round7_realistic": ("heldout40_realistic",),
    "round7_week": ("chatter_week41",),
    "round7_today": ("heldout42_today",),
}
"""Groups of never-trained labelled lines (a spent set contributes its dev quarter only)."""
TRIAL_GROUPS = (
    "moderator_trial3",
    "moderator_trial4",
    "moderator_trial5",
    "moderator_trial6",
    "moderator_trial7",
)
TIDY: tuple[str, ...] = tuple(
    spec.name for spec in EVAL_SETS if spec.kind == "tuning" and spec.path.exists()
)
"""The short, tidy tuning sets (the encoder trains on them, so their meaning scores are
high): fitted on as one more group, so the gate learns that a clear word answer in the tidy
style ("sounds like a solution looking for a problem") stands; never measured in ``--cv``."""
L2 = 1.0

TIDY_WEIGHT = 0.25
"""The tidy group's weight per row: it is large, and its meaning scores are optimistic."""
THRESHOLDS = (65.0, 70.0, 75.0)

Row = tuple[str, str, str]  # (message, label id or "none", kind): ``bench.blind.labelled``


def _set_path(name: str) -> Path:
    return blind.REALISTIC.get(name, blind.SETS_DIR / f"{name}.yaml")


def groups() -> dict[str, tuple[HybridMatcher, list[Row]]]:
    """Each group's matcher (hand rules; trials with their entries) and labelled lines."""
    config = MatcherConfig(gate=False)
    bundled = build_matcher(load_knowledge(), config)
    found: dict[str, tuple[HybridMatcher, list[Row]]] = {}
    for group, names in GROUPS.items():
        rows: list[Row] = []
        for name in names:
            rows += [
                row
                for row in blind.labelled(_set_path(name))
                if name not in SPENT_SETS or is_dev_line(row[0])
            ]
        found[group] = (bundled, rows)
    tidy: list[Row] = []
    for spec in EVAL_SETS:
        if spec.name in TIDY:
            tidy += blind.labelled(spec.path)
    found["tidy"] = (bundled, tidy)
    for trial in TRIAL_GROUPS:
        folder = blind.TRIALS[trial]
        with blind.trial_knowledge(folder) as kb_dir:
            matcher = build_matcher(load_knowledge(kb_dir), config)
        found[trial] = (matcher, blind.labelled(folder / "messages.yaml"))
    return found


def records(matcher: HybridMatcher, rows: list[Row]) -> tuple[list[list[float]], list[float]]:
    """One feature row per candidate entry of every part of every message; 1 for the label."""
    x: list[list[float]] = []
    y: list[float] = []
    for text, label, _kind in rows:
        pieces = units(text)
        meanings = matcher.meaning_of(pieces)
        if not meanings:
            continue
        topical = matcher.lexical.mentions_twitter(pieces[0])
        for number, (piece, meaning) in enumerate(zip(pieces, meanings, strict=True)):
            decision, _ = matcher.lexical.decide(piece)
            found = matcher.evidence(piece, meaning, decision, topical=topical, part=number > 0)
            for index, evidence in found:
                x.append(evidence.vector())
                y.append(1.0 if matcher.kb.entries[index].id == label else 0.0)
    return x, y


def _gate(x: list[list[float]], y: list[float], model_id: str, r: list[float]) -> Gate:
    weights, mean, scale, bias = fit(x, y, l2=L2, weights=r)
    recipe = (
        f"tools/fit_gate.py: L2-regularised logistic regression (l2={L2:g}) on "
        f"{len(y)} candidate rows ({int(sum(y))} right) of never-trained lines: "
        + ", ".join([*GROUPS, *TRIAL_GROUPS])
        + f"; and the tidy tuning sets at weight {TIDY_WEIGHT:g}"
    )
    return Gate(tuple(weights), tuple(mean), tuple(scale), bias, model_id, recipe)


def _weight(group: str) -> float:
    return TIDY_WEIGHT if group == "tidy" else 1.0


def cross_validate(found: dict[str, tuple[HybridMatcher, list[Row]]]) -> None:
    """Leave one group out: fit on the others, measure the group (hand rules beside it)."""
    rows_of = {g: records(m, r) for g, (m, r) in found.items()}
    totals: dict[str, list[int]] = {}
    for group, (matcher, rows) in found.items():
        if group == "tidy":
            continue
        x = [v for g, (gx, _) in rows_of.items() if g != group for v in gx]
        y = [v for g, (_, gy) in rows_of.items() if g != group for v in gy]
        r = [_weight(g) for g, (_, gy) in rows_of.items() if g != group for _ in gy]
        line = [f"{group:18s}"]
        for label, gate, bar in [("rules", None, 0.0)] + [
            (f"gate {t:g}", _gate(x, y, matcher.model_id, r), t) for t in THRESHOLDS
        ]:
            matcher.gate = gate
            matcher.thresholds = replace(matcher.thresholds, gate=bar or 70.0)
            figures = blind.detail(matcher, rows)
            n, wrong = figures["messages"], figures["wrong_answers"]
            right = round(figures["right"] * n)
            total = totals.setdefault(label, [0, 0, 0])
            total[0] += n
            total[1] += right
            total[2] += wrong
            line.append(f"{label}: {100 * right / n:5.1f} % / {wrong:2d}")
        matcher.gate = None
        sys.stdout.write("  ".join(line) + "\n")
    figures = "  ".join(
        f"{label}: {100 * r / n:5.1f} % / {w:2d}" for label, (n, r, w) in totals.items()
    )
    sys.stdout.write(f"{'all':18s}  {figures}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-group-out figures only")
    args = parser.parse_args()
    found = groups()
    if args.cv:
        cross_validate(found)
        return
    x: list[list[float]] = []
    y: list[float] = []
    r: list[float] = []
    for group, (matcher, rows) in found.items():
        gx, gy = records(matcher, rows)
        x += gx
        y += gy
        r += [_weight(group)] * len(gy)
    model_id = next(iter(found.values()))[0].model_id
    gate = _gate(x, y, model_id, r)
    gate.save(DEFAULT_MODEL_DIR / GATE_FILE)
    sys.stdout.write(f"wrote {DEFAULT_MODEL_DIR / GATE_FILE}: {gate.recipe}\n")


if __name__ == "__main__":
    main()
