"""One factory: the live bot's settings (thresholds, model, cache) reach every matcher."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import bot.runner as runner
from bot.kb.loader import load_knowledge
from bot.matching import factory
from bot.matching.factory import (
    CACHE_FILE,
    MatcherConfig,
    build_matcher,
    current_config,
)
from bot.matching.semantic import shared_encoder
from bot.service.check import check_kb
from bot.service.live import config_from_settings
from bot.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MATCH_MEANING_ANSWER", "120"),
        ("MATCH_MEANING_KEEP", "high"),
        ("MATCH_GATE", "101"),
        ("MATCH_CLASSIFIER", "-1"),
        ("MODEL_THREADS", "0"),
        ("MODEL_DIR", "/no/such/model/dir"),
    ],
)
def test_invalid_matcher_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_bot_configures_the_process_so_check_and_previews_use_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(factory, "_configured", None)
    never = {
        name: "100"
        for name in (
            "MATCH_ANSWER_THRESHOLD",
            "MATCH_CLEAR_LEAD_THRESHOLD",
            "MATCH_MEANING_ANSWER",
            "MATCH_MEANING_MARGIN",
            "MATCH_MEANING_KEEP",
            "MATCH_GATE",
            "MATCH_CLASSIFIER",
        )
    }
    strict = Settings.from_env({**never, "DATA_DIR": str(tmp_path)})
    knowledge = runner._load_knowledge(strict)
    assert knowledge is not None
    assert current_config() == config_from_settings(strict)
    assert knowledge.matcher.thresholds.meaning_margin == 100.0
    assert knowledge.matcher.thresholds.gate == 100.0
    assert knowledge.matcher.thresholds.classifier == 100.0
    assert (tmp_path / CACHE_FILE).is_file()
    # check_kb (the /kb check command and the upload preview) builds with the same settings:
    # with thresholds that strict, most examples miss their answer.
    problems = check_kb(knowledge.kb)
    assert sum("does not get its answer" in p.message for p in problems) > 10
    monkeypatch.setattr(factory, "_configured", None)
    assert not [p for p in check_kb(knowledge.kb) if "does not get its answer" in p.message]


def test_a_reload_encodes_only_new_texts(tmp_path: Path) -> None:
    kb = load_knowledge()
    config = MatcherConfig(cache_path=tmp_path / "cache")
    build_matcher(kb, config)
    encoder = shared_encoder()
    before = encoder.calls
    build_matcher(kb, config)
    assert encoder.calls == before
    busy = kb.objections[0]
    changed = dataclasses.replace(busy, triggers=(*busy.triggers, "my pager never stops today"))
    build_matcher(dataclasses.replace(kb, objections=(changed, *kb.objections[1:])), config)
    assert encoder.calls == before + 1


def test_members_messages_are_never_cached(tmp_path: Path) -> None:
    config = MatcherConfig(cache_path=tmp_path / "cache")
    matcher = build_matcher(load_knowledge(), config)
    shared = factory.load_embedder(config)
    cached = len(shared._cache)  # type: ignore[arg-type]
    matcher.match("a message nobody wrote before, about my cat's birthday party")
    assert len(shared._cache) == cached  # type: ignore[arg-type]


def test_without_meaning_the_factory_gives_the_word_engine() -> None:
    matcher = build_matcher(load_knowledge(), MatcherConfig(meaning=False))
    assert matcher.index is None


def test_the_live_knowledge_base_prunes_texts_it_no_longer_uses(tmp_path: Path) -> None:
    kb = load_knowledge()
    config = MatcherConfig(cache_path=tmp_path / "cache")
    busy = kb.objections[0]
    edited = dataclasses.replace(busy, triggers=(*busy.triggers, "my pager never stops today"))
    build_matcher(dataclasses.replace(kb, objections=(edited, *kb.objections[1:])), config)
    cache = factory.load_embedder(config).cache
    gone = cache.key("my pager never stops today")
    assert gone in cache._vectors
    matcher = build_matcher(kb, config, prune=True)
    assert matcher.index is not None
    assert gone not in cache._vectors
    assert all(cache.key(t) in cache._vectors for t in kb.objections[0].triggers)


def test_a_new_cache_file_reuses_what_the_process_encoded(tmp_path: Path) -> None:
    """A bot with a fresh DATA_DIR in a process that already embedded the knowledge base
    (e.g. the next end-to-end test) encodes nothing again."""
    kb = load_knowledge()
    build_matcher(kb, MatcherConfig(cache_path=tmp_path / "one.cache"))
    encoder = factory.load_embedder(MatcherConfig()).encoder
    before = encoder.calls  # type: ignore[attr-defined]
    build_matcher(kb, MatcherConfig(cache_path=tmp_path / "two.cache"))
    assert encoder.calls == before  # type: ignore[attr-defined]
    # ...and still writes its own file, for the next start.
    assert (tmp_path / "two.cache").is_file()
