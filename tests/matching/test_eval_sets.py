"""Decision quality of the bundled knowledge base on every eval set (see bench.matcher).

A blind set's failing lines are never printed: only its totals may be looked at.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bench.matcher import EVAL_SETS, EvalResult, EvalSet, evaluate, load_labelled
from bot.kb.loader import load_knowledge
from bot.matching.factory import build_matcher
from bot.matching.types import Outcome

BY_NAME = {spec.name: spec for spec in EVAL_SETS}


@cache
def _result(path: Path) -> EvalResult:
    return evaluate(build_matcher(load_knowledge()), load_labelled(path))


def _report(result: EvalResult, spec: EvalSet | None = None) -> str:
    if spec is not None and spec.kind == "blind":
        return str(result.to_json())
    return f"{result.to_json()}\n" + "\n".join(result.failures)


def _present(spec: EvalSet) -> EvalSet:
    if not spec.path.exists():
        pytest.skip(f"{spec.path} not present" + (f": {spec.origin}" if spec.origin else ""))
    return spec


_BLIND = {
    "heldout82_realistic_blind": "83.6 % right, 0.5 % wrong (1 of 220), 100 % silent at its one"
    " look (76.4 % without the members' classifier; words alone 59.1 %, 7 wrong)",
    "heldout84_today_blind": "94.6 % right, 0.6 % wrong (1 of 167), 100 % silent at its one look"
    " (90.4 % without the members' classifier; words alone 61.7 %, 10 wrong)",
}
"""The twenty-first round of blind sets (2026-12-01), looked at once with the matcher as
shipped: the honest estimate now. Its week, ``chatter_week83_blind``, was 99.7 % silent (1 of
392 answered; words alone answered 8)."""
_REGRESSED: dict[str, str] = {}
"""Tuning sets that got worse with a change (their figures now); none at present."""
_RIGHT_BELOW_BAR = {"heldout82_realistic_blind": _BLIND["heldout82_realistic_blind"]}
"""Blind sets expected to miss the 92 % bar (their totals at their one look)."""
_PRECISION_BELOW_BAR = {**_REGRESSED}
"""Sets expected to miss the precision bar."""


def _expected_to_fail(names: dict[str, str], spec: EvalSet) -> Any:
    if spec.name in names:
        return pytest.param(spec, marks=pytest.mark.xfail(reason=names[spec.name], strict=False))
    return spec


@pytest.mark.parametrize(
    "spec",
    [
        _expected_to_fail(_PRECISION_BELOW_BAR, s)
        for s in EVAL_SETS
        if s.kind not in ("nearmiss", "realistic", "spent")
    ],
    ids=lambda spec: spec.name,
)
def test_precision(spec: EvalSet) -> None:
    """Never answer wrongly, never answer chit-chat: the bar a channel bot must clear."""
    result = _result(_present(spec).path)
    assert result.wrong_rate <= 0.02, _report(result, spec)
    assert result.silence_rate >= 0.96, _report(result, spec)


_REALISTIC_BELOW_BAR = {
    "heldout31_realistic": "74.1 % right, 0.9 % wrong (2 of 220), 100 % silent (73.6 %, 9 wrong at"
    " its one blind look with the hand rules)",
    "heldout33_today": "89.2 % right, 2.4 % wrong (4 of 166), 96.3 % silent (72.9 %, 5 wrong at"
    " its one blind look with the hand rules)",
    "heldout34_realistic": "79.1 % right, 0.9 % wrong (2 of 220), 100 % silent (71.8 %, 2 wrong at"
    " its one blind look)",
    "heldout37_realistic": "80.0 % right, 0.9 % wrong (2 of 220), 98.2 % silent (71.4 %, 4 wrong"
    " at its one blind look)",
    "heldout40_realistic": "81.4 % right, 0.5 % wrong (1 of 220), 100 % silent (71.4 %, 4 wrong at"
    " its one blind look)",
    "heldout42_today": "89.8 % right, 1.2 % wrong (2 of 167), 100 % silent (76.6 %, 2 wrong at its"
    " one blind look)",
    "heldout43_realistic": "79.1 % right, 1.8 % wrong (4 of 220), 98.2 % silent (70.5 %, 2 wrong"
    " at its one blind look)",
    "heldout45_today": "89.8 % right, 2.4 % wrong (4 of 167), 96.5 % silent (83.2 %, 1 wrong at"
    " its one blind look)",
    "heldout46_realistic": "75.0 % right, 1.8 % wrong (4 of 220), 98.2 % silent (66.8 %, 3 wrong"
    " at its one blind look)",
    "heldout48_today": "89.8 % right, 1.8 % wrong (3 of 167), 98.2 % silent (79.6 %, 1 wrong at"
    " its one blind look)",
    "heldout49_realistic": "78.6 % right, 1.8 % wrong (4 of 220), 98.2 % silent (72.3 %, 3 wrong"
    " at its one blind look)",
    "heldout51_today": "79.6 % right, 1.8 % wrong (3 of 167), 96.5 % silent (73.1 % at its one"
    " blind look)",
    "heldout52_realistic": "75.0 % right, 1.8 % wrong (4 of 220), 96.4 % silent (70.0 %, 4 wrong"
    " at its one blind look)",
    "heldout54_today": "88.6 % right, 1.8 % wrong (3 of 167), 100 % silent (85.0 %, 3 wrong at its"
    " one blind look)",
    "heldout55_realistic": "70.9 % right, 0.9 % wrong (2 of 220), 98.2 % silent (67.3 %, 3 wrong"
    " at its one blind look)",
    "heldout57_today": "86.8 % right, 2.4 % wrong (4 of 167), 98.2 % silent (83.8 %, 5 wrong at"
    " its one blind look)",
    "heldout58_realistic": "73.6 % right, 1.4 % wrong (3 of 220), 98.2 % silent (71.8 %, 3 wrong"
    " at its one blind look)",
    "heldout60_today": "82.6 % right, 3.0 % wrong (5 of 167), 100 % silent (80.8 %, 5 wrong at its"
    " one blind look)",
    "heldout61_realistic": "74.1 % right, 1.4 % wrong (3 of 220), 98.2 % silent (70.5 %, 4 wrong"
    " at its one blind look)",
    "heldout63_today": "84.4 % right, 2.4 % wrong (4 of 167), 100 % silent (81.4 %, 3 wrong at its"
    " one blind look)",
    "heldout64_realistic": "79.1 % right, 1.4 % wrong (3 of 220), 100 % silent (78.6 %, 3 wrong at"
    " its one blind look)",
    "heldout66_today": "82.6 % right, 1.8 % wrong (3 of 167), 96.5 % silent (81.4 %, 3 wrong at"
    " its one blind look)",
    "heldout67_realistic": "73.6 % right, 1.8 % wrong (4 of 220), 100 % silent (68.2 %, 5 wrong at"
    " its one blind look)",
    "heldout69_today": "80.2 % right, 3.0 % wrong (5 of 167), 98.2 % silent (76.6 %, 5 wrong at"
    " its one blind look)",
    "heldout70_realistic": "77.3 % right, 1.4 % wrong (3 of 220), 100 % silent (75.9 %, 3 wrong at"
    " its one blind look)",
    "heldout72_today": "82.6 % right, 3.0 % wrong (5 of 167), 96.5 % silent (82.0 %, 5 wrong at"
    " its one blind look)",
    "heldout73_realistic": "85.5 % right, 0.5 % wrong (1 of 220), 100 % silent (83.6 %, 1 wrong at"
    " its one blind look)",
    "heldout76_realistic": "75.9 % right, 1.4 % wrong (3 of 220), 100 % silent (73.6 %, 3 wrong at"
    " its one blind look)",
    "heldout78_today": "90.4 % right, 3.0 % wrong (5 of 167), 98.2 % silent (89.2 %, 5 wrong at its"
    " one blind look)",
    "heldout79_realistic": "75.9 % right, 0.9 % wrong (2 of 220), 98.0 % silent (75.0 %, 2 wrong at"
    " its one blind look)",
}
"""Realistic sets, blind at one look and read or fitted on since, expected to miss issue 12's
bar (their totals now; the gate is fitted on rounds 4 to 7 and the members' classifier on
three quarters of rounds 4 to 20, so these are no estimate; ``heldout75_today`` clears it).
The sets of the first three rounds clear it since their lines (less a dev quarter) became the
bundled phrasings: a guard against regressions, not an estimate."""


@pytest.mark.parametrize(
    "spec",
    [
        _expected_to_fail(_REALISTIC_BELOW_BAR, s)
        for s in EVAL_SETS
        if s.floor == 0.90 and s.kind in ("realistic", "spent")
    ],
    ids=lambda spec: spec.name,
)
def test_realistic_sets_meet_the_bar(spec: EvalSet) -> None:
    """Issue 12's bar on the spent realistic sets (blind at one look; read or trained on
    since): at least 90 % right, at most 2 % wrong, 96 % silent."""
    result = _result(_present(spec).path)
    assert result.right_rate >= spec.floor, _report(result)
    assert result.wrong_rate <= 0.02, _report(result)
    assert result.silence_rate >= 0.96, _report(result)


def test_dev_set_quality() -> None:
    result = _result(_present(BY_NAME["dev"]).path)
    assert result.right_rate >= 0.95, _report(result)


@pytest.mark.parametrize(
    "spec",
    [s for s in EVAL_SETS if s.kind in ("tuning", "aggregate") and "chatter" not in s.name],
    ids=lambda spec: spec.name,
)
def test_right_decisions(spec: EvalSet) -> None:
    """Sets whose misses (or totals) were looked at while tuning: at least 92 % right
    (a set of harder phrasings has its own floor)."""
    result = _result(_present(spec).path)
    assert result.right_rate >= spec.floor, _report(result)


@pytest.mark.parametrize(
    "name",
    [
        "chatter",
        "chatter_team",
        "chatter2",
    ],
)
def test_chatter_is_left_alone(name: str) -> None:
    """Everyday community talk, much of it about Twitter: the bot answers almost none."""
    result = _result(_present(BY_NAME[name]).path)
    assert result.silence_rate >= 0.98, _report(result)


def test_realistic_tuning_does_not_regress() -> None:
    """Realistic posts (read while tuning; the encoder trains on all but a dev quarter, and
    those lines are phrasings since): floors under 82.0 % right and 1.0 % wrong without the
    phrasings (71.3 % and 2.3 % when added; 91.0 % and 1.3 % with them), guarding regressions."""
    result = _result(_present(BY_NAME["realistic_tuning"]).path)
    assert result.right_rate >= BY_NAME["realistic_tuning"].floor, _report(result)
    assert result.wrong_rate <= 0.03, _report(result)
    assert result.silence_rate >= 0.96, _report(result)


_WEEK_BELOW_BAR = {
    "chatter_week26": "98.75 % silent (5 of 400 answered); 96.75 % at its one blind look; the"
    " goal is 99.5 %",
    "chatter_week29": "98.6 % silent (5 of 350 answered); 97.7 % at its one blind look; the"
    " goal is 99.5 %",
    "chatter_week35": "99.2 % silent (3 of 381 answered; 6 at its one blind look with the learned"
    " gate, which is fitted on it since); the goal is 99.5 %",
    "chatter_week38": "98.2 % silent (7 of 388 answered; 8 at its one blind look with the learned"
    " gate, which is fitted on it since); the goal is 99.5 %",
    "chatter_week41": "99.25 % silent (3 of 399 answered; 2 at its one blind look; the gate is"
    " fitted on it since); the goal is 99.5 %",
    "chatter_week50": "99.24 % silent (3 of 393 answered, as at its one look); the goal is 99.5 %",
    "chatter_week56": "99.0 % silent (4 of 399 answered; 6 at its one look, before the members'"
    " classifier's five-word minimum); the goal is 99.5 %",
    "chatter_week62": "99.49 % silent (2 of 391 answered; 3 at its one look); the goal is 99.5 %",
    "chatter_week71": "99.25 % silent (3 of 402 answered, as at its one look); the goal is 99.5 %",
    "chatter_week80": "98.98 % silent (4 of 392 answered; 5 at its one look); the goal is 99.5 %",
}
"""Weeks expected to miss the goal (their figures)."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=_WEEK_BELOW_BAR[n], strict=False))
        if n in _WEEK_BELOW_BAR
        else n
        for n in (
            "chatter_week23",
            "chatter_week26",
            "chatter_week29",
            "chatter_week32",
            "chatter_week35",
            "chatter_week38",
            "chatter_week41",
            "chatter_week44",
            "chatter_week47",
            "chatter_week50",
            "chatter_week53",
            "chatter_week56",
            "chatter_week59",
            "chatter_week62",
            "chatter_week65",
            "chatter_week68",
            "chatter_week71",
            "chatter_week74",
            "chatter_week77",
            "chatter_week80",
            "chatter_week83_blind",
        )
    ],
)
def test_a_week_of_ordinary_talk_is_left_alone(name: str) -> None:
    """Issue 12's goal: a realistic week of a medical server's talk, at least 99.5 % silent."""
    result = _result(_present(BY_NAME[name]).path)
    assert result.silence_rate >= 0.995, f"{result.silence_rate:.3f}"


def test_near_miss_chit_chat_does_not_regress() -> None:
    """Adversarial chit-chat, not tuned on: a floor under its first-look 90 % silence."""
    result = _result(_present(BY_NAME["chatter3_nearmiss"]).path)
    assert result.silence_rate >= 0.88, _report(result)


@pytest.mark.parametrize(
    "spec",
    [_expected_to_fail(_RIGHT_BELOW_BAR, s) for s in EVAL_SETS if s.kind == "blind"],
    ids=lambda spec: spec.name,
)
def test_blind_right_decisions(spec: EvalSet) -> None:
    """The honest estimate: at least 92 % right on messages nobody tuned on."""
    result = _result(_present(spec).path)
    assert result.right_rate >= 0.92, f"{result.right_rate:.3f}"


def test_every_bundled_example_answers_its_own_entry() -> None:
    matcher = build_matcher(load_knowledge())
    misses = [
        f"{entry.id}: {example!r} -> {matcher.match(example).to_json()}"
        for entry in matcher.kb.entries
        for example in entry.examples
        if (decision := matcher.match_unseen(example)).outcome is not Outcome.ANSWER
        or decision.answer is None
        or decision.answer.id != entry.id
    ]
    assert not misses, "\n".join(misses)


def test_a_missing_dev_set_says_where_it_comes_from(tmp_path: Path) -> None:
    missing = dataclasses.replace(BY_NAME["dev"], path=tmp_path / "dev.yaml")
    with pytest.raises(pytest.skip.Exception) as info:
        _present(missing)
    assert "../shared/eval/dev.yaml beside the checkout" in str(info.value)
    assert BY_NAME["dev"].path.parts[-3:] == ("shared", "eval", "dev.yaml")
