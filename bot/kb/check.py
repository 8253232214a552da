"""Transitional: the check moved to :mod:`bot.service.check` (one validation step).

Only re-exports, for ``bot/cli.py`` and ``bot/console.py`` until they import from
``bot.service.check`` (another change is reworking both); delete this file then, and its
exemption in ``tests/test_layering.py``.
"""

from bot.service.check import CheckReport, MatcherLike, check_kb, check_knowledge

__all__ = ["CheckReport", "MatcherLike", "check_kb", "check_knowledge"]
