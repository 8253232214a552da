"""Sentence embeddings from the bundled encoder (onnxruntime + tokenizers + numpy).

The model (``bot/matching/model/``: ``model.onnx`` and ``tokenizer.json``) is built once by
``make model`` and shipped with the package; nothing is downloaded, ever. Embeddings are
float32 rows of unit length, so a dot product is a cosine similarity.
:class:`EmbeddingCache` keeps the knowledge base's embeddings on disk, keyed by the model and
the text, so a restart or the reload of one file encodes only what is new.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_MODEL_DIR",
    "MAX_TOKENS",
    "EmbeddingCache",
    "Encoder",
    "ModelError",
    "check_model",
    "shared_encoder",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR: Final = Path(__file__).resolve().parent / "model"
"""Where ``make model`` writes the encoder, and where the installed package carries it."""
MODEL_FILE: Final = "model.onnx"
TOKENIZER_FILE: Final = "tokenizer.json"
MAX_TOKENS: Final = 128
"""Longer texts are truncated to this many tokens (the model's own limit is 256)."""
MAX_CHARS: Final = 4096
"""Texts are cut to this many characters before tokenising: 128 tokens never need more, and a
huge message then costs no more than a short one."""

FloatArray = npt.NDArray[np.float32]


class ModelError(Exception):
    """The encoder's files are missing or unusable; ``str()`` is one line naming file and fix."""


def _fix_hint(model_dir: Path) -> str:
    if model_dir.resolve() == DEFAULT_MODEL_DIR:
        return "run `make model` in a checkout, or reinstall the package"
    return "point to a directory built by `make model` (model.onnx + tokenizer.json)"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]


class Encoder:
    """A sentence encoder: texts in, unit float32 rows out. Thread-safe for ``encode``."""

    model_id: str
    """A stable hash of the model files (a cache key: it changes when the model does)."""
    dim: int
    """Length of one embedding."""

    def __init__(
        self, session: Any, tokenizer: Any, model_id: str, dim: int, model_dir: Path
    ) -> None:
        """Use :meth:`load`."""
        self._session = session
        self._tokenizer = tokenizer
        self.model_id = model_id
        self.dim = dim
        self.model_dir = model_dir
        self.calls = 0
        """How many texts were encoded (the cache's tests and the bench count it)."""

    @classmethod
    def load(cls, model_dir: Path = DEFAULT_MODEL_DIR, *, threads: int = 1) -> Encoder:
        """Load ``model.onnx`` and ``tokenizer.json``; :class:`ModelError` if missing/corrupt.

        ``threads`` is onnxruntime's intra-op thread count: 1 by default, since two threads
        stall when the other core is busy.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        hint = _fix_hint(model_dir)
        model_path = model_dir / MODEL_FILE
        tokenizer_path = model_dir / TOKENIZER_FILE
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise ModelError(f"sentence-encoder file missing: {path}: {hint}")
        try:
            model_bytes = model_path.read_bytes()
            tokenizer_bytes = tokenizer_path.read_bytes()
        except OSError as exc:
            raise ModelError(
                f"cannot read sentence-encoder file {exc.filename or model_dir}: "
                f"{_one_line(exc.strerror)}: {hint}"
            ) from exc
        try:
            tokenizer = Tokenizer.from_str(tokenizer_bytes.decode("utf-8"))
        except Exception as exc:  # tokenizers raises plain Exception subclasses
            raise ModelError(f"corrupt sentence-encoder file {tokenizer_path}: {hint}") from exc
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # onnxruntime's warnings are not the bot's
        try:
            session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Exception subclasses
            raise ModelError(f"corrupt sentence-encoder file {model_path}: {hint}") from exc
        names = {i.name for i in session.get_inputs()}
        outputs = session.get_outputs()
        dim = outputs[0].shape[-1] if outputs else None
        if names != {"input_ids", "attention_mask"} or not isinstance(dim, int):
            raise ModelError(
                f"sentence-encoder file {model_path} is not a model built by `make model`: {hint}"
            )
        digest = hashlib.sha256()
        for blob in (model_bytes, tokenizer_bytes):
            digest.update(hashlib.sha256(blob).digest())
        encoder = cls(session, tokenizer, digest.hexdigest()[:32], dim, model_dir)
        try:
            probe = encoder.encode(["probe"])
        except Exception as exc:
            raise ModelError(f"corrupt sentence-encoder file {model_path}: {hint}") from exc
        encoder.calls = 0
        if probe.shape != (1, dim) or not np.isfinite(probe).all():
            raise ModelError(f"corrupt sentence-encoder file {model_path}: {hint}")
        return encoder

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Embeddings of ``texts``: float32 (len(texts), dim), unit rows.

        Each text is cut to :data:`MAX_CHARS` characters and :data:`MAX_TOKENS` tokens and run
        alone: int8 dynamic quantisation scales activations per run, so in a padded batch a
        text's embedding would depend on its neighbours (and one run per text is as fast here).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokenize = self._tokenizer.encode  # not encode_batch: no thread pool, like the model
        run = self._session.run
        for row, text in enumerate(texts):
            ids = np.asarray([tokenize(_clip(text)).ids], dtype=np.int64)
            (vector,) = run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            out[row] = vector[0]
        self.calls += len(texts)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def _clip(text: str) -> str:
    text = text if isinstance(text, str) else str(text)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    return text


_shared: dict[tuple[Path, int], Encoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(model_dir: Path | None = None, *, threads: int = 1) -> Encoder:
    """The process-wide encoder of ``model_dir`` (default: the bundled model), loaded once.

    Startup calls it first (``bot/runner.py``), so a missing or corrupt model stops the bot
    before it connects; every later caller gets the same instance. Raises :class:`ModelError`.
    """
    key = (Path(model_dir if model_dir is not None else DEFAULT_MODEL_DIR).resolve(), threads)
    with _shared_lock:
        encoder = _shared.get(key)
        if encoder is None:
            encoder = _shared[key] = Encoder.load(key[0], threads=threads)
        return encoder


def check_model(model_dir: Path | None = None) -> str | None:
    """The one-line reason the encoder cannot load (for startup: exit 2), or None if it can."""
    try:
        shared_encoder(model_dir)
    except ModelError as exc:
        return str(exc)
    return None


_CACHE_VERSION: Final = 1


class EmbeddingCache:
    """Embeddings by ``sha256(model_id + text)``, in memory and (optionally) in one file.

    The file is rewritten atomically (a temporary file, then ``os.replace``) after every
    :meth:`encode` that added something; an unreadable or corrupt file is logged and ignored.
    Entries of another model are dropped when the file is read.
    """

    def __init__(self, encoder: Encoder, path: Path | None) -> None:
        self.encoder = encoder
        self.path = path
        self._vectors: dict[str, FloatArray] = {}
        self._lock = threading.Lock()
        self._unsaved = False
        """Entries taken from another cache (:meth:`adopt`) and not yet written."""
        if path is not None:
            self._read(path)

    def __len__(self) -> int:
        return len(self._vectors)

    def key(self, text: str) -> str:
        """The cache key of ``text`` under this encoder's model."""
        return hashlib.sha256((self.encoder.model_id + "\0" + text).encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Like :meth:`Encoder.encode`, encoding only texts not seen before."""
        keys = [self.key(t) for t in texts]
        with self._lock:
            missing: dict[str, str] = {}
            for key, text in zip(keys, texts, strict=True):
                if key not in self._vectors:
                    missing.setdefault(key, text)
            if missing:
                vectors = self.encoder.encode(list(missing.values()))
                for key, vector in zip(missing, vectors, strict=True):
                    self._vectors[key] = vector
            if (missing or self._unsaved) and self.path is not None:
                self._write(self.path)
                self._unsaved = False
            out = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
            for row, key in enumerate(keys):
                out[row] = self._vectors[key]
        return out

    def adopt(self, other: EmbeddingCache) -> int:
        """Take ``other``'s entries of the same model that this cache lacks (embeddings are
        deterministic, so another cache of the process saves encoding them again); returns
        how many were taken. They are written at the next :meth:`encode`, so a cache file that
        took everything from the process's other cache still exists for the next start."""
        if other is self or other.encoder.model_id != self.encoder.model_id:
            return 0
        with other._lock:
            theirs = dict(other._vectors)
        with self._lock:
            new = {k: v for k, v in theirs.items() if k not in self._vectors}
            self._vectors.update(new)
            self._unsaved = self._unsaved or bool(new)
        return len(new)

    def retain(self, texts: Sequence[str]) -> int:
        """Forget every entry but those of ``texts`` (after a reload); returns how many went."""
        keep = {self.key(t) for t in texts}
        with self._lock:
            gone = [k for k in self._vectors if k not in keep]
            for key in gone:
                del self._vectors[key]
            if gone and self.path is not None:
                self._write(self.path)
        return len(gone)

    def _read(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["version"])
                model_id = str(data["model_id"])
                keys = data["keys"]
                vectors = data["vectors"]
        except FileNotFoundError:
            return
        except Exception as exc:  # any unreadable file: rebuilt, never fatal
            log.warning("ignoring unreadable embedding cache %s: %s", path, _one_line(exc))
            return
        if version != _CACHE_VERSION or model_id != self.encoder.model_id:
            log.info("embedding cache %s is for another model: rebuilding it", path)
            return
        if (
            vectors.dtype != np.float32
            or vectors.ndim != 2
            or vectors.shape[1] != self.encoder.dim
            or len(keys) != len(vectors)
        ):
            log.warning("ignoring malformed embedding cache %s", path)
            return
        self._vectors = {str(k): v for k, v in zip(keys, vectors, strict=True)}
        log.debug("embedding cache %s: %d entries", path, len(self._vectors))

    def _write(self, path: Path) -> None:
        keys = np.array(list(self._vectors), dtype="<U64")
        vectors = (
            np.stack(list(self._vectors.values()))
            if self._vectors
            else np.zeros((0, self.encoder.dim), dtype=np.float32)
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    np.savez(
                        handle,
                        version=np.array(_CACHE_VERSION),
                        model_id=np.array(self.encoder.model_id),
                        keys=keys,
                        vectors=vectors.astype(np.float32, copy=False),
                    )
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only disk costs speed at the next start, not the bot
            log.warning("could not write embedding cache %s: %s", path, _one_line(exc))
