"""Shared test configuration: the fake Discord fixtures (tests/fakediscord/fixtures.py), and
a matcher configuration that does not leak from one test to the next."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.matching import factory
from tests.fakediscord.fixtures import fake_discord

__all__ = ["fake_discord"]


@pytest.fixture(autouse=True, scope="session")
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Commands that read the settings (``python -m bot match``) keep their embedding cache in
    one temporary DATA_DIR for the whole session, never in the checkout."""
    path = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(path))
        yield path


@pytest.fixture(autouse=True)
def _matcher_defaults() -> Iterator[None]:
    """A command that configured the process's matcher (``bot.__main__``) is forgotten."""
    yield
    factory.configure_default()
