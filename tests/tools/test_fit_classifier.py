"""The classifier is fitted for the knowledge base and model directory the bot serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import BUNDLED_DIR
from bot.matching.semantic import DEFAULT_MODEL_DIR
from bot.settings import SettingsError
from tools.fit_classifier import targets


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("KNOWLEDGE_DIR", "MODEL_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    return tmp_path


def test_by_default_the_bundled_knowledge_and_model(clean_env: Path) -> None:
    assert targets(None) == (BUNDLED_DIR, DEFAULT_MODEL_DIR)


def test_the_bots_knowledge_dir_and_model_dir_from_dotenv(clean_env: Path) -> None:
    (clean_env / "kb").mkdir()
    (clean_env / "model").mkdir()
    (clean_env / ".env").write_text(
        f"KNOWLEDGE_DIR={clean_env / 'kb'}\nMODEL_DIR={clean_env / 'model'}\n"
    )
    assert targets(None) == (clean_env / "kb", clean_env / "model")
    assert targets(Path("elsewhere")) == (Path("elsewhere"), clean_env / "model")


def test_an_invalid_setting_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(clean_env / "missing"))
    with pytest.raises(SettingsError, match="KNOWLEDGE_DIR"):
        targets(None)
