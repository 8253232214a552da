"""Sentence-encoder figures: nearest-neighbour accuracy, latency, load time, memory, install size.

``python -m bench.semantic [--model DIR] [--holdout a,b,c]`` prints them for one model
directory (to compare a frozen and a fine-tuned build); ``make bench`` reports the bundled one.

Nearest-neighbour accuracy: each labelled objection/benefit line of the eval sets of kind
"tuning" is given the entry of its most similar knowledge-base text (title, trigger or
example). It measures the representation alone, not the matcher's decisions (no thresholds,
no silence). Sets of other kinds are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.matcher import EVAL_SETS, _rss_mb, load_labelled
from bot.kb.loader import load_knowledge
from bot.kb.model import KnowledgeBase
from bot.matching.semantic import DEFAULT_MODEL_DIR, EmbeddingCache, Encoder

RUN_PACKAGES = ("onnxruntime", "tokenizers", "numpy")


def kb_texts(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """(texts, entry id of each): title, triggers and examples of every entry."""
    texts: list[str] = []
    ids: list[str] = []
    for entry in (*kb.objections, *kb.benefits):
        for text in (entry.title, *entry.triggers, *entry.examples):
            texts.append(text)
            ids.append(entry.id)
    return texts, ids


def tuning_lines() -> list[tuple[str, str]]:
    """(line, entry id) of the objection/benefit lines of the "tuning" sets only."""
    pairs: list[tuple[str, str]] = []
    for spec in EVAL_SETS:
        if spec.kind == "tuning" and spec.path.exists():
            pairs.extend((t, e) for t, e in load_labelled(spec.path) if e != "none")
    return pairs


def is_eval_negative(text: str) -> bool:
    """One ordinary-talk line in five, by hash: kept out of the fine-tuning, measured here."""
    key = " ".join(text.split()).encode("utf-8")
    return int(hashlib.sha256(key).hexdigest()[:8], 16) % 5 == 0


SPENT_SETS = (
    "realistic_tuning",
    "heldout20",
    "heldout21_realistic",
    "heldout24_today",
    "chatter_week23",
    "heldout25_realistic",
    "chatter_week26",
    "heldout27_today",
    "heldout28_realistic",
    "chatter_week29",
    "heldout30_today",
)
"""Realistic sets whose lines the encoder trains on, less a fixed dev quarter (see
:func:`is_dev_line`) kept apart to tune thresholds on and report honestly."""


READ_SETS = (
    "heldout31_realistic",
    "chatter_week32",
    "heldout33_today",
    "heldout34_realistic",
    "chatter_week35",
    "heldout36_today",
    "heldout37_realistic",
    "chatter_week38",
    "heldout39_today",
    "heldout40_realistic",
    "chatter_week41",
    "heldout42_today",
    "heldout43_realistic",
    "chatter_week44",
    "heldout45_today",
    "heldout46_realistic",
    "chatter_week47",
    "heldout48_today",
    "heldout49_realistic",
    "chatter_week50",
    "heldout51_today",
    "heldout52_realistic",
    "chatter_week53",
    "heldout54_today",
    "heldout55_realistic",
    "chatter_week56",
    "heldout57_today",
    "heldout58_realistic",
    "chatter_week59",
    "heldout60_today",
    "heldout61_realistic",
    "chatter_week62",
    "heldout63_today",
    "heldout64_realistic",
    "chatter_week65",
    "heldout66_today",
    "heldout67_realistic",
    "chatter_week68",
    "heldout69_today",
    "heldout70_realistic",
    "chatter_week71",
    "heldout72_today",
    "heldout73_realistic",
    "chatter_week74",
    "heldout75_today",
    "heldout76_realistic",
    "chatter_week77",
    "heldout78_today",
    "heldout79_realistic",
    "chatter_week80",
    "heldout81_today",
)
"""The read blind sets (rounds 4 to 20): the members' classifier
(``tools/fit_classifier.py``) trains on their lines less the same dev quarter; the encoder
does not train on them."""


def is_held_out(name: str, text: str) -> bool:
    """Whether a line of eval set ``name`` is outside the encoder's and the classifier's
    training: a spent or read set's dev quarter, any line of another set."""
    return name not in SPENT_SETS + READ_SETS or is_dev_line(text)


def is_dev_line(text: str) -> bool:
    """One line in four, by hash: a spent realistic set's dev split (never trained on)."""
    key = ("dev:" + " ".join(text.split())).encode("utf-8")
    return int(hashlib.sha256(key).hexdigest()[:8], 16) % 4 == 0


def tuning_negatives() -> list[str]:
    """The ``none:`` lines of the "tuning" sets that the fine-tuning never saw."""
    lines: dict[str, None] = {}
    for spec in EVAL_SETS:
        if spec.kind == "tuning" and spec.path.exists():
            for text, expected in load_labelled(spec.path):
                if expected == "none" and is_eval_negative(text):
                    lines.setdefault(text, None)
    return list(lines)


def separation(encoder: Encoder, kb: KnowledgeBase) -> dict[str, Any]:
    """How well similarity alone keeps ordinary talk away from the entries.

    At the similarity threshold that keeps 90 % (95 %) of the tuning sets' objection/benefit
    lines whose nearest text is right, the share of unseen ordinary-talk lines (see
    :func:`is_eval_negative`) that stay below it.
    """
    texts, ids = kb_texts(kb)
    bank = encoder.encode(texts)
    pairs = tuning_lines()
    sims = encoder.encode([t for t, _ in pairs]) @ bank.T
    right = [
        float(row.max())
        for row, (_, e) in zip(sims, pairs, strict=True)
        if ids[int(row.argmax())] == e
    ]
    negatives = tuning_negatives()
    neg_top = (encoder.encode(negatives) @ bank.T).max(axis=1) if negatives else np.zeros(0)
    result: dict[str, Any] = {"unseen_chatter_lines": len(negatives)}
    for recall in (90, 95):
        threshold = float(np.percentile(right, 100 - recall)) if right else 1.0
        silent = float((neg_top < threshold).mean()) if len(neg_top) else 1.0
        result[f"threshold_at_{recall}_recall"] = round(threshold, 3)
        result[f"chatter_silent_at_{recall}_recall"] = round(silent, 4)
    return result


def nn_accuracy(encoder: Encoder, kb: KnowledgeBase, holdout: Sequence[str] = ()) -> dict[str, Any]:
    """Nearest-neighbour accuracy on the tuning sets' lines, overall and on ``holdout``."""
    texts, ids = kb_texts(kb)
    bank = encoder.encode(texts)
    pairs = tuning_lines()
    queries = encoder.encode([t for t, _ in pairs])
    nearest = (queries @ bank.T).argmax(axis=1)
    hits = [ids[int(n)] == expected for n, (_, expected) in zip(nearest, pairs, strict=True)]
    known = {" ".join(t.lower().split()) for t in texts}
    novel = [
        h for h, (t, _) in zip(hits, pairs, strict=True) if " ".join(t.lower().split()) not in known
    ]
    result: dict[str, Any] = {
        "lines": len(pairs),
        "nn_accuracy": round(sum(hits) / len(hits), 4) if hits else None,
        "novel_lines": len(novel),
        "novel_nn_accuracy": round(sum(novel) / len(novel), 4) if novel else None,
    }
    if holdout:
        held = [h for h, (_, e) in zip(hits, pairs, strict=True) if e in holdout]
        rest = [h for h, (_, e) in zip(hits, pairs, strict=True) if e not in holdout]
        result["holdout_entries"] = list(holdout)
        result["holdout_lines"] = len(held)
        result["holdout_nn_accuracy"] = round(sum(held) / len(held), 4) if held else None
        result["other_nn_accuracy"] = round(sum(rest) / len(rest), 4) if rest else None
    return result


def _percentiles_ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1000.0,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000.0,
    )


def latency(encoder: Encoder, texts: Sequence[str], repetitions: int = 3) -> dict[str, float]:
    """p50/p99 of encoding one message (tokenisation included), one call per message."""
    samples: list[float] = []
    clock = time.perf_counter
    for _ in range(repetitions):
        for text in texts:
            start = clock()
            encoder.encode([text])
            samples.append(clock() - start)
    p50, p99 = _percentiles_ms(samples)
    long_text = " ".join(texts)[:20_000]
    start = clock()
    encoder.encode([long_text])
    long_ms = (clock() - start) * 1000.0
    start = clock()
    encoder.encode(["I'm too busy " * 800_000])
    huge_ms = (clock() - start) * 1000.0
    return {
        "message_p50_ms": round(p50, 2),
        "message_p99_ms": round(p99, 2),
        "long_post_ms": round(long_ms, 2),
        "ten_mb_message_ms": round(huge_ms, 2),
    }


def load_figures(model_dir: Path) -> dict[str, Any]:
    """Model load time and RSS, in a fresh interpreter (nothing else loaded)."""
    code = (
        "import json,time,sys;from pathlib import Path;t=time.perf_counter();"
        "from bot.matching.semantic import Encoder;e=Encoder.load(Path(sys.argv[1]));"
        "d=time.perf_counter()-t;"
        "rss=[int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS:')][0];"
        "print(json.dumps({'load_ms':round(d*1000,1),'rss_after_load_mb':round(rss/1024,1)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(model_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def installed_mb() -> dict[str, float]:
    """Installed size of the run-time packages of the encoder (their site-packages dirs)."""
    import importlib.util

    sizes: dict[str, float] = {}
    for name in RUN_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        dirs = [root, *root.parent.glob(f"{name}.libs"), *root.parent.glob(f"{name}-*.dist-info")]
        total = sum(
            f.stat().st_size
            for d in dirs
            for f in d.rglob("*")
            if f.is_file() and not f.is_symlink()
        )
        sizes[f"{name}_mb"] = round(total / 1e6, 1)
    sizes["total_mb"] = round(sum(sizes.values()), 1)
    model_bytes = sum(f.stat().st_size for f in DEFAULT_MODEL_DIR.iterdir() if f.is_file())
    sizes["bundled_model_mb"] = round(model_bytes / 1e6, 1)
    return sizes


def kb_encode_figures(encoder: Encoder, kb: KnowledgeBase) -> dict[str, Any]:
    """Encoding the whole knowledge base cold, then from the on-disk cache in a new instance."""
    texts, _ = kb_texts(kb)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "embeddings.npz"
        start = time.perf_counter()
        EmbeddingCache(encoder, path).encode(texts)
        cold = time.perf_counter() - start
        before = encoder.calls
        start = time.perf_counter()
        EmbeddingCache(encoder, path).encode(texts)
        warm = time.perf_counter() - start
        reencoded = encoder.calls - before
        cache_kb = path.stat().st_size / 1024
    return {
        "kb_texts": len(texts),
        "kb_encode_cold_ms": round(cold * 1000.0, 1),
        "kb_encode_cached_ms": round(warm * 1000.0, 1),
        "kb_cached_reencoded": reencoded,
        "cache_file_kb": round(cache_kb, 1),
    }


def figures(model_dir: Path, holdout: Sequence[str] = ()) -> dict[str, Any]:
    """Every encoder figure for ``model_dir``."""
    results: dict[str, Any] = {"model_dir": str(model_dir)}
    results.update(load_figures(model_dir))
    encoder = Encoder.load(model_dir, threads=1)
    results["model_id"] = encoder.model_id
    results["model_onnx_mb"] = round((model_dir / "model.onnx").stat().st_size / 1e6, 1)
    kb = load_knowledge()
    results.update(nn_accuracy(encoder, kb, holdout))
    results.update(separation(encoder, kb))
    messages = [t for t, _ in tuning_lines()][::4]
    results.update(latency(encoder, messages))
    results.update(kb_encode_figures(encoder, kb))
    results["rss_now_mb"] = _rss_mb()
    return results


def run() -> dict[str, Any]:
    """The ``make bench`` section: the bundled model, one thread."""
    results = figures(DEFAULT_MODEL_DIR)
    results["run_packages"] = installed_mb()
    results["onnxruntime_threads"] = 1
    results["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS", "")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sentence-encoder figures for one model")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--holdout", default="", help="comma-separated entry ids")
    parser.add_argument("--nn-only", action="store_true", help="accuracy only (fast)")
    args = parser.parse_args(argv)
    holdout = tuple(h for h in args.holdout.split(",") if h)
    if args.nn_only:
        encoder = Encoder.load(args.model)
        kb = load_knowledge()
        result = {
            "model_dir": str(args.model),
            **nn_accuracy(encoder, kb, holdout),
            **separation(encoder, kb),
        }
    else:
        result = figures(args.model, holdout)
        result["run_packages"] = installed_mb()
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
