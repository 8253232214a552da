"""check proves the negatives: each not_this message misses its entry, ordinary talk is silent."""

from __future__ import annotations

from bot.kb.loader import BUNDLED_DIR, load_knowledge_from_texts
from bot.kb.model import Problem
from bot.matching.engine import Matcher
from bot.service.check import CheckReport, blocks, check_kb

OBJECTION = b"""objections:
  - id: too-busy
    title: "I'm too busy."
    triggers: ["i'm too busy for twitter", "i have no time for twitter"]
    answer: Ten minutes.
    examples: ["honestly i'm too busy for twitter"]
    not_this:
      - "the weather is lovely in spring"
      - "i'm too busy for twitter these days"
"""
ORDINARY = b"""ordinary:
  - "anyone for coffee?"
  - "i have no time for twitter"
"""


def test_negatives_that_get_their_entry_are_located_errors() -> None:
    kb = load_knowledge_from_texts(
        {
            "source.yaml": (BUNDLED_DIR / "source.yaml").read_bytes(),
            "o.yaml": OBJECTION,
            "ordinary.yaml": ORDINARY,
        }
    )
    problems = check_kb(kb, matcher=Matcher(kb))
    errors = [str(p) for p in problems if p.severity == "error"]
    assert len(errors) == 2, errors
    assert errors[0].startswith(
        'o.yaml:9: not_this "i\'m too busy for twitter these days" of `too-busy` gets that answer'
    )
    assert "add more messages like it to not_this" in errors[0]
    assert errors[1].startswith(
        "ordinary.yaml:3: ordinary talk 'i have no time for twitter' gets `too-busy`"
    )
    assert "not_this" in errors[1]


def test_the_bundled_negatives_hold() -> None:
    from bot.kb.loader import load_knowledge

    kb = load_knowledge()
    problems = [p for p in check_kb(kb) if p.severity == "error"]
    assert not problems, "\n".join(map(str, problems))


def test_warnings_never_block_errors_always_do() -> None:
    warning = Problem("a.yaml", 1, "looks odd", severity="warning")
    error = Problem("a.yaml", 2, "is wrong")
    report = CheckReport((warning, error), files=1)
    assert not blocks(warning)
    assert blocks(error)
    assert report.errors == [error]
    assert report.warnings == [warning]
    assert not report.ok
    assert CheckReport((warning,), files=1).ok
