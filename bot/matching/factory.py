"""The one place that builds a matcher: the bot, ``match``, the console, ``check`` and the
upload preview all get the same decision, with the same thresholds, model and cache.

The sentence encoder is loaded once per process and shared, with one embedding cache per
model and cache file: building a matcher for a changed knowledge base embeds only new texts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from bot.kb.model import KnowledgeBase
from bot.matching.classifier import CLASSIFIER_FILE, Classifier, ClassifierError
from bot.matching.gate import GATE_FILE, Gate, GateError
from bot.matching.hybrid import HybridMatcher
from bot.matching.meaning import Embedder, Vectors
from bot.matching.types import Thresholds

if TYPE_CHECKING:
    from bot.matching.semantic import EmbeddingCache

__all__ = [
    "MatcherConfig",
    "build_matcher",
    "configure",
    "current_config",
    "load_embedder",
]

log = logging.getLogger(__name__)

CACHE_FILE = "embeddings.cache"
"""The embedding cache's file name in ``DATA_DIR``."""


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    """Everything a matcher is built from besides the knowledge base."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    model_dir: Path | None = None
    """The sentence encoder's directory (None: the bundled model)."""
    cache_path: Path | None = None
    """The embedding cache file (None: in memory only, shared by the process)."""
    threads: int = 1
    meaning: bool = True
    """False: the word engine alone (for comparisons)."""
    gate: bool = True
    """Use the learned gate shipped with the model, if it has one (False: the hand rules,
    for comparisons and for fitting the gate)."""
    classifier: bool = True
    """Use the members' classifier shipped with the model, if it has one (beside the gate)."""
    cache_messages: bool = False
    """Cache the messages' embeddings too: for ``check``, whose messages are the knowledge
    base's own texts (the bot never caches members' messages)."""


_configured: MatcherConfig | None = None
_lock = threading.Lock()
_embedders: dict[tuple[str, Path | None], _Shared] = {}


def configure(config: MatcherConfig) -> None:
    """Make ``config`` the process's default (the bot does this from its settings at start)."""
    global _configured
    _configured = config


def configure_default() -> None:
    """Forget :func:`configure`: the built-in defaults again (for tests)."""
    global _configured
    _configured = None


def current_config() -> MatcherConfig:
    """The process's default configuration (the built-in defaults until :func:`configure`)."""
    return _configured if _configured is not None else MatcherConfig()


class _Shared:
    """An embedding cache shared by the process's matchers (one call at a time), and the
    encoder itself for messages (never cached)."""

    def __init__(self, cache: EmbeddingCache, encoder: Embedder, model_id: str) -> None:
        self._cache = cache
        self.encoder = encoder
        self.model_id = model_id
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            return self._cache.encode(texts)

    @property
    def cache(self) -> EmbeddingCache:
        """The embedding cache behind this embedder."""
        return self._cache

    def retain(self, texts: Sequence[str]) -> int:
        """Forget every cached text but ``texts``; how many went."""
        with self._lock:
            return self._cache.retain(texts)


def load_embedder(config: MatcherConfig) -> _Shared:
    """The shared embedder for ``config``'s model and cache (the model is loaded once).

    Raises ``semantic.ModelError`` (one line naming the file and the fix) when the model is
    missing or corrupt.
    """
    from bot.matching.semantic import EmbeddingCache, shared_encoder

    encoder = shared_encoder(config.model_dir, threads=config.threads)
    with _lock:
        cache_key = (encoder.model_id, config.cache_path)
        shared = _embedders.get(cache_key)
        if shared is None:
            cache = EmbeddingCache(encoder, config.cache_path)
            # Another cache file of the same model in this process (tests, a second bot):
            # its entries are valid here too, so only texts neither has seen are encoded.
            for other in _embedders.values():
                if other.model_id == encoder.model_id:
                    cache.adopt(other.cache)
            shared = _Shared(cache, encoder, encoder.model_id)
            _embedders[cache_key] = shared
        return shared


class _Fitted(Protocol):
    """A file fitted for one model (the gate, the classifier)."""

    @property
    def model_id(self) -> str: ...


_F = TypeVar("_F", bound=_Fitted)
_fitted: dict[tuple[Path, str], _Fitted | None] = {}


def _fitted_file(
    model_dir: Path | None,
    model_id: str,
    name: str,
    read: Callable[[Path], _F],
    errors: type[Exception],
    tool: str,
) -> _F | None:
    """A file fitted for the model (the gate, the classifier) in its directory, read once per
    process; None when there is none or it was fitted for another model (logged)."""
    from bot.matching.semantic import DEFAULT_MODEL_DIR, ModelError

    path = (model_dir if model_dir is not None else DEFAULT_MODEL_DIR) / name
    key = (path, model_id)
    with _lock:
        if key not in _fitted:
            try:
                found = read(path) if path.exists() else None
            except errors as exc:
                raise ModelError(str(exc)) from exc
            if found is not None and found.model_id != model_id:
                log.warning(
                    "%s was fitted for model %s, not %s: it is not used (refit it with "
                    "`python -m %s`)",
                    path,
                    found.model_id[:12],
                    model_id[:12],
                    tool,
                )
                found = None
            _fitted[key] = found
        return cast("_F | None", _fitted[key])


def load_gate(model_dir: Path | None, model_id: str) -> Gate | None:
    """The learned gate in the model's directory (``gate.json``), read once per process;
    None (the hand rules decide) when there is none or it was fitted for another model.

    Raises ``semantic.ModelError`` (one line naming the file and the fix, like a broken model)
    for a file that exists but is malformed.
    """
    return _fitted_file(model_dir, model_id, GATE_FILE, Gate.load, GateError, "tools.fit_gate")


def load_classifier(model_dir: Path | None, model_id: str) -> Classifier | None:
    """The members' classifier in the model's directory (``classifier.json``), read once per
    process; None when there is none or it was fitted for another model. Raises
    ``semantic.ModelError`` for a file that exists but is malformed."""
    return _fitted_file(
        model_dir,
        model_id,
        CLASSIFIER_FILE,
        Classifier.load,
        ClassifierError,
        "tools.fit_classifier",
    )


def build_matcher(
    kb: KnowledgeBase, config: MatcherConfig | None = None, *, prune: bool = False
) -> HybridMatcher:
    """The matcher for ``kb`` (``config`` defaults to the process's, see :func:`configure`).

    ``prune`` (the live knowledge base after a reload): the embedding cache forgets texts
    ``kb`` no longer uses, so it does not grow with every edit.
    """
    config = config if config is not None else current_config()
    if not config.meaning:
        return HybridMatcher(kb, config.thresholds)
    shared = load_embedder(config)
    matcher = HybridMatcher(
        kb,
        config.thresholds,
        embedder=shared,
        queries=shared if config.cache_messages else shared.encoder,
        model_id=shared.model_id,
        gate=load_gate(config.model_dir, shared.model_id) if config.gate else None,
        classifier=(
            load_classifier(config.model_dir, shared.model_id) if config.classifier else None
        ),
    )
    if prune and matcher.index is not None:
        index = matcher.index
        gone = shared.retain([*index.texts, *index.negatives, *index.ordinary])
        if gone:
            log.info("embedding cache: %d texts no longer used were dropped", gone)
    return matcher
