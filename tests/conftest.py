"""Shared test configuration: the fake Discord fixtures (tests/fakediscord/fixtures.py)."""

from tests.fakediscord.fixtures import fake_discord

__all__ = ["fake_discord"]
