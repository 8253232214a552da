"""Fixtures for the cogs' end-to-end tests (see ``tests/cogs/helpers.py``)."""

from tests.cogs.helpers import bot_env, bot_world

__all__ = ["bot_env", "bot_world"]
