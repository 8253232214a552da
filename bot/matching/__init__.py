"""The objection matcher: text in, decision out. Imports nothing from discord."""

from bot.matching.types import Candidate, Decision, Outcome, Thresholds

__all__ = ["Candidate", "Decision", "Outcome", "Thresholds"]
