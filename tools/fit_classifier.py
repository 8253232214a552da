"""Fit the members' classifier (``classifier.json`` beside the encoder) for the bot's entries.

    python -m tools.fit_classifier             # fit, write classifier.json
    python -m tools.fit_classifier --kb DIR    # fit on the entries of another knowledge base
    python -m tools.fit_classifier --report    # held-out figures without and with it

It learns the entries of the knowledge base the bot serves (``KNOWLEDGE_DIR``, from the
environment or ``.env``, else the bundled one; ``--kb`` overrides) and writes into the model
directory the bot reads (``MODEL_DIR``, else the bundled model's).

Training rows (``training_rows``): every labelled line of the "tuning" eval sets, of the
spent realistic sets the encoder trains on and of the read blind rounds 4 to 20
(``bench.semantic.READ_SETS``), less their dev quarter (``bench.semantic.is_dev_line``);
each entry's title, triggers and examples; the knowledge base's ordinary talk as ``none``.
A message is embedded as the matcher embeds it whole (``split.units``). The dev quarters of
the read rounds, which neither the encoder nor the classifier saw, are what ``--report``
measures, with the moderator trials (their new entries added, unknown to the classifier).
Deterministic: the same sets and model give the same file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import blind
from bench.matcher import EVAL_SETS
from bench.semantic import READ_SETS, SPENT_SETS, is_dev_line, is_held_out
from bot.kb.loader import load_knowledge
from bot.kb.model import KBError, KnowledgeBase
from bot.matching.classifier import CLASSIFIER_FILE, NONE, Classifier, fit
from bot.matching.factory import MatcherConfig, build_matcher, load_embedder
from bot.matching.semantic import DEFAULT_MODEL_DIR
from bot.matching.split import units
from bot.matching.types import Outcome
from bot.settings import Settings, SettingsError

SCALE = 5.0
L2 = 1e-4
STEPS = 2000
TRAIN_KINDS = ("tuning", "realistic", "spent")
"""Eval-set kinds the classifier may read (never "blind", "public", "aggregate" or a near-miss
set, nor a moderator trial)."""
TRIALS = tuple(f"moderator_trial{n}" for n in range(3, 20))
"""Trials whose entries the encoder never trained on (reported, never fitted on); trial 20 is
blind."""

Row = tuple[str, str]  # (message, label: an entry id or "none")


def whole(text: str) -> str:
    """The message as the matcher embeds it whole (reply markers removed)."""
    pieces = units(text)
    return pieces[0] if pieces else " ".join(text.split())


def training_rows(kb: KnowledgeBase) -> list[Row]:
    """The labelled lines the classifier is fitted on (see the module's docstring)."""
    ids = {e.id for e in kb.entries}
    rows: list[Row] = []
    for spec in EVAL_SETS:
        if spec.kind not in TRAIN_KINDS or not spec.path.exists():
            continue
        split = spec.name in SPENT_SETS + READ_SETS
        for text, label, _kind in blind.labelled(spec.path):
            if (label in ids or label == NONE) and not (split and is_dev_line(text)):
                rows.append((text, label))
    for entry in kb.entries:
        rows += [(str(t), entry.id) for t in (entry.title, *entry.triggers, *entry.examples)]
    rows += [(str(t), NONE) for t in kb.ordinary]
    return rows


def held_out_rows() -> list[Row]:
    """The read rounds' dev quarters: never trained on by the encoder or the classifier."""
    paths = {spec.name: spec.path for spec in EVAL_SETS}
    return [
        (text, label)
        for name in READ_SETS
        for text, label, _kind in blind.labelled(paths[name])
        if is_held_out(name, text)
    ]


def fitted(kb: KnowledgeBase, model_dir: Path | None = None) -> Classifier:
    """The classifier for ``kb``'s entries, fitted on :func:`training_rows` with the encoder
    in ``model_dir`` (default: the bundled model)."""
    rows = training_rows(kb)
    shared = load_embedder(MatcherConfig(model_dir=model_dir))
    vectors = shared.encode([whole(text) for text, _ in rows])
    classes = (*tuple(e.id for e in kb.entries), NONE)
    weights, bias = fit(
        vectors, [label for _, label in rows], classes, scale=SCALE, l2=L2, steps=STEPS
    )
    recipe = (
        f"tools/fit_classifier.py: softmax regression (scale {SCALE:g}, l2 {L2:g}, {STEPS} "
        f"full-batch steps) on {len(rows)} rows: the tuning sets, the spent and read realistic "
        "sets less a dev quarter, the entries' titles, triggers and examples, ordinary talk"
    )
    return Classifier(classes, weights, bias, SCALE, shared.model_id, recipe)


def _figures(rows: list[Row], got: list[str]) -> str:
    labelled = [i for i, (_, label) in enumerate(rows) if label != NONE]
    right = sum(g == label for g, (_, label) in zip(got, rows, strict=True))
    wrong = sum(g not in (NONE, label) for g, (_, label) in zip(got, rows, strict=True))
    found = sum(got[i] == rows[i][1] for i in labelled)
    return (
        f"{100 * right / len(rows):5.1f} % right, {wrong:3d} wrong, "
        f"{100 * found / max(1, len(labelled)):5.1f} % of objections and questions"
    )


def report() -> None:
    """Held-out figures of the bundled matcher without and with its classifier."""
    groups: list[tuple[str, Path | None, list[Row]]] = [("rounds 4-20, dev", None, held_out_rows())]
    for trial in TRIALS:
        folder = blind.TRIALS[trial]
        rows = [(t, label) for t, label, _ in blind.labelled(folder / "messages.yaml")]
        groups.append((trial, folder, rows))
    for name, folder, rows in groups:
        line = [f"{name:18s}"]
        if folder is None:
            kb = load_knowledge()
        else:
            with blind.trial_knowledge(folder) as kb_dir:
                kb = load_knowledge(kb_dir)
        for label, use in (("without", False), ("with", True)):
            matcher = build_matcher(kb, MatcherConfig(classifier=use))
            got = []
            for text, _ in rows:
                decision = matcher.match(text)
                answered = decision.outcome is Outcome.ANSWER and decision.answer is not None
                got.append(decision.answer.id if answered and decision.answer else NONE)
            line.append(f"{label}: {_figures(rows, got)}")
        sys.stdout.write("  ".join(line) + "\n")


def targets(kb: Path | None) -> tuple[Path, Path]:
    """(knowledge directory, model directory) to fit for: ``kb`` or the bot's
    ``KNOWLEDGE_DIR``, and its ``MODEL_DIR`` or the bundled model's (``SettingsError`` for
    invalid settings)."""
    settings = Settings.from_env()
    return (kb or settings.knowledge_dir, settings.model_dir or DEFAULT_MODEL_DIR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="held-out figures only")
    parser.add_argument(
        "--kb", type=Path, help="knowledge-base directory (default: KNOWLEDGE_DIR, else bundled)"
    )
    args = parser.parse_args()
    if args.report:
        report()
        return
    try:
        kb_dir, model_dir = targets(args.kb)
        kb = load_knowledge(kb_dir)
    except (SettingsError, KBError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from exc
    classifier = fitted(kb, model_dir)
    path = model_dir / CLASSIFIER_FILE
    classifier.save(path)
    sys.stdout.write(f"wrote {path} for the entries in {kb_dir}: {classifier.recipe}\n")


if __name__ == "__main__":
    main()
