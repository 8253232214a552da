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


def test_an_example_the_classifier_takes_for_ordinary_talk_says_so() -> None:
    import dataclasses

    from bot.matching.classifier import NONE
    from bot.matching.hybrid import HybridMatcher
    from tests.matching.test_classifier import flat_gate, pointing
    from tests.matching.test_hybrid import CONCEPTS, TOY, kb_with_negatives
    from tests.matching.toy_encoder import ToyEncoder

    kb = kb_with_negatives()
    privacy = dataclasses.replace(kb.objections[1], examples=("privacy scares me off it",))
    kb = dataclasses.replace(kb, objections=(kb.objections[0], privacy, *kb.objections[2:]))
    unknown = ("too-busy", "too-short", "research-updates", NONE)  # not fitted on privacy

    def example_errors(none: float) -> list[str]:
        matcher = HybridMatcher(
            kb,
            TOY,
            embedder=ToyEncoder(CONCEPTS),
            null_weight=0.0,
            nearest_weight=1.0,
            gate=flat_gate(0.99),
            classifier=pointing({"too-busy": "busy"}, classes=unknown, none=none),
        )
        return [str(p) for p in check_kb(kb, matcher=matcher) if "example" in p.message]

    vetoed = example_errors(none=6.0)  # sure the example is ordinary talk
    assert len(vetoed) == 1, vetoed
    assert "privacy scares me off it" in vetoed[0]
    assert "takes it for ordinary talk" in vetoed[0]
    assert "as a member would voice the reluctance" in vetoed[0]
    assert example_errors(none=2.0) == []  # not sure: the gate's answer stands


def test_a_trigger_that_means_another_entry_is_a_located_warning() -> None:
    import dataclasses

    from bot.matching.hybrid import HybridMatcher
    from bot.service.check import OVERLAP_LEAD
    from tests.matching.test_hybrid import BUSY, CONCEPTS, TOY, kb_with_negatives
    from tests.matching.toy_encoder import ToyEncoder

    kb = kb_with_negatives()
    stray = "my rota leaves me no spare hour"  # a busy complaint filed under privacy
    privacy = dataclasses.replace(
        kb.objections[1], triggers=(*kb.objections[1].triggers, stray), trigger_lines=(7, 8, 9, 10)
    )
    kb = dataclasses.replace(kb, objections=(kb.objections[0], privacy, *kb.objections[2:]))
    matcher = HybridMatcher(
        kb, TOY, embedder=ToyEncoder({**CONCEPTS, stray: BUSY}), null_weight=0.0
    )
    found = matcher.overlaps("patient-privacy", privacy.triggers, OVERLAP_LEAD)
    assert [(o.text, o.other) for o in found] == [(stray, "too-busy")]
    assert found[0].lead >= OVERLAP_LEAD
    assert found[0].nearest in kb.objections[0].triggers
    warnings = [p for p in check_kb(kb, matcher=matcher) if p.severity == "warning"]
    assert len(warnings) == 1, warnings
    assert warnings[0].line == 10
    assert f"trigger {stray!r} of `patient-privacy` means something nearer to `too-busy`" in (
        warnings[0].message
    )
    assert "move it to `too-busy`" in warnings[0].message
    # The word engine alone has no meaning to compare: no such warning.
    assert not [p for p in check_kb(kb, matcher=Matcher(kb)) if "nearer to" in p.message]
