"""Tests of the cogs (end to end through tests/fakediscord)."""
