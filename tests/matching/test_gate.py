"""The learned gate: the file, the probability, the fit, and its place in the decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.kb.model import EntryKind
from bot.matching.factory import load_gate
from bot.matching.gate import FEATURES, GATE_FILE, Evidence, Gate, GateError, fit
from bot.matching.hybrid import RULE_GATE, HybridMatcher
from bot.matching.semantic import DEFAULT_MODEL_DIR, ModelError
from bot.matching.types import Outcome
from tests.matching.test_hybrid import CONCEPTS, TOY, kb_with_negatives
from tests.matching.toy_encoder import ToyEncoder


def evidence(**changes: float | bool | int) -> Evidence:
    base: dict[str, float | bool | int] = {
        "meaning": 60.0,
        "best_other": 40.0,
        "first": True,
        "negative": 30.0,
        "own_negative": 0.0,
        "ordinary": 30.0,
        "nearest_text": 70.0,
        "words": 50.0,
        "words_other": 20.0,
        "words_answer": False,
        "words_best": True,
        "words_elsewhere": False,
        "topical": True,
        "question": False,
        "objection": True,
        "words_count": 12,
        "part": False,
        "in_context": True,
        "chance": 30.0,
        "texts": 15,
        "raw": 60.0,
        "own_texts": 55.0,
    }
    base.update(changes)
    return Evidence(**base)  # type: ignore[arg-type]


def lead_gate(bias: float = 0.0) -> Gate:
    """A gate that reads the lead over the next entry alone (log-odds 1 per 10 points)."""
    n = len(FEATURES)
    weights = tuple(1.0 if name == "lead" else 0.0 for name in FEATURES)
    return Gate(weights, (0.0,) * n, (10.0,) * n, bias, model_id="toy")


def test_the_features_are_named_in_order() -> None:
    assert len(evidence().vector()) == len(FEATURES)
    assert evidence(meaning=70, best_other=40).vector()[FEATURES.index("lead")] == 30


def test_probability_rises_with_the_evidence_it_weighs() -> None:
    gate = lead_gate()
    assert gate.probability(evidence(best_other=60)) == pytest.approx(0.5)
    assert gate.probability(evidence(best_other=30)) > 0.9
    assert gate.probability(evidence(best_other=80)) < 0.2
    assert gate.reasons(evidence(best_other=30))[0] == ("lead", pytest.approx(3.0))


def test_a_gate_survives_a_round_trip_and_a_stale_file_is_refused(tmp_path: Path) -> None:
    gate = lead_gate(bias=-1.5)
    path = tmp_path / GATE_FILE
    gate.save(path)
    assert Gate.load(path) == gate
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GateError, match=str(path)):
        Gate.load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(GateError, match="cannot read"):
        Gate.load(path)


def test_a_broken_gate_file_stops_the_start_like_a_broken_model(tmp_path: Path) -> None:
    (tmp_path / GATE_FILE).write_text('{"features": ["meaning"]}', encoding="utf-8")
    with pytest.raises(ModelError, match=GATE_FILE):
        load_gate(tmp_path, "some-model")
    assert load_gate(tmp_path / "none-here", "some-model") is None  # no gate: the hand rules


def test_a_gate_for_another_model_is_not_used(tmp_path: Path) -> None:
    lead_gate().save(tmp_path / GATE_FILE)  # fitted for "toy"
    assert load_gate(tmp_path, "another-model") is None
    assert load_gate(tmp_path, "toy") == lead_gate()


def test_the_bundled_gate_loads_and_names_its_recipe() -> None:
    gate = Gate.load(DEFAULT_MODEL_DIR / GATE_FILE)
    assert gate.model_id
    assert "tools/fit_gate.py" in gate.recipe


def test_fit_learns_which_way_a_feature_points() -> None:
    rows = [[float(x), 0.0] for x in range(-10, 11)]
    labels = [1.0 if x > 0 else 0.0 for x in range(-10, 11)]
    weights, mean, scale, bias = fit(rows, labels, l2=0.1)
    assert weights[0] > 1.0
    assert abs(weights[1]) < 1e-9  # a constant column carries nothing
    assert mean[0] == pytest.approx(0.0)
    assert scale[1] == 1.0
    heavy = fit(rows, labels, l2=0.1, weights=[5.0 if y else 1.0 for y in labels])[3]
    assert heavy > bias  # weighting the positives moves the intercept their way


def toy(gate: Gate) -> HybridMatcher:
    return HybridMatcher(
        kb_with_negatives(),
        TOY,
        embedder=ToyEncoder(CONCEPTS),
        null_weight=0.0,
        nearest_weight=1.0,
        gate=gate,
    )


def test_the_gate_decides_what_the_hand_rules_would_have() -> None:
    # The words miss; meaning clearly leads: the gate answers and says why.
    text = "clinic eats every hour I have"
    confident = toy(lead_gate(bias=2.0))
    explained = confident.explain(text)
    assert explained.decision.outcome is Outcome.ANSWER
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert explained.rule.startswith(RULE_GATE)
    assert explained.parts[0].probability is not None
    assert any(line.strip().startswith("gate:") for line in explained.lines())
    assert explained.to_json()["explain"]["parts"][0]["probability"] is not None
    # The same evidence under a sceptical gate: silent, and the rule says by how much.
    sceptical = toy(lead_gate(bias=-20.0)).explain(text)
    assert sceptical.decision.outcome is not Outcome.ANSWER
    assert "<" in sceptical.rule


def test_the_gate_never_overrides_the_hard_limits() -> None:
    matcher = toy(lead_gate(bias=20.0))  # would answer anything it may
    # A statement never gets a benefit, and requests to the channel are never answered.
    statement = matcher.match("the literature moves so fast")
    assert statement.answer is None or statement.answer.kind is EntryKind.OBJECTION
    assert matcher.match("can someone post the call schedule here?").outcome is not Outcome.ANSWER
    # An entry's own not_this blocks it.
    blocked = matcher.explain("too busy to chat").decision
    assert blocked.answer is None or blocked.answer.id != "too-busy"


def test_without_a_gate_the_hand_rules_decide() -> None:
    matcher = HybridMatcher(
        kb_with_negatives(), TOY, embedder=ToyEncoder(CONCEPTS), null_weight=0.0
    )
    assert matcher.gate is None
    assert not matcher.explain("clinic eats every hour I have").rule.startswith(RULE_GATE)


def test_one_of_an_entrys_own_texts_gets_it_whatever_the_gate_says() -> None:
    # A moderator's trigger works as written, when meaning agrees (at least meaning_keep).
    sceptical = toy(lead_gate(bias=-20.0))
    explained = sceptical.explain("i don't have time for twitter")
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert "one of the entry's own texts" in explained.rule
    # A message merely near it in meaning does not.
    assert sceptical.match("clinic eats every hour I have").outcome is not Outcome.ANSWER
