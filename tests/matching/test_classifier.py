"""The members' classifier: the file, the fit, and its place in the decision."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bot.kb.loader import load_knowledge
from bot.matching.classifier import CLASSIFIER_FILE, NONE, Classifier, ClassifierError, fit
from bot.matching.factory import load_classifier
from bot.matching.gate import FEATURES, GATE_FILE, Gate
from bot.matching.hybrid import (
    CLASSIFIER_AGREE,
    CLASSIFIER_BACKING,
    GATE_AGREE,
    RULE_CLASSIFIER,
    HybridMatcher,
)
from bot.matching.semantic import DEFAULT_MODEL_DIR, ModelError
from bot.matching.types import Outcome
from tests.matching.test_hybrid import BUSY, CONCEPTS, TOY, kb_with_negatives
from tests.matching.toy_encoder import ToyEncoder, _direction

IDS = ("too-busy", "patient-privacy", "too-short", "research-updates")


def concept(name: str) -> np.ndarray:
    return _direction("concept:" + name, ToyEncoder.dim).astype(np.float64)


def pointing(
    columns: dict[str, str],
    classes: tuple[str, ...] = (*IDS, NONE),
    *,
    weight: float = 10.0,
    none: float = 2.0,
) -> Classifier:
    """A classifier whose class ``c`` reads the toy encoder's concept ``columns[c]``; ``none``
    wins any message near none of them."""
    weights = np.zeros((ToyEncoder.dim, len(classes)))
    for c, name in columns.items():
        weights[:, classes.index(c)] = weight * concept(name)
    bias = np.array([none if c == NONE else 0.0 for c in classes])
    return Classifier(classes, weights, bias, scale=5.0, model_id="toy")


TOPICAL = "twitter? the pager never stops and charting eats my evenings"
"""Names social media, near too-busy in meaning; not one of its texts."""
OFF_TOPIC = "clinic eats every hour I have"
"""Near too-busy in meaning, and names no social media."""
LONG_POST = "Lunch plans, anyone? twitter was a mess today\nmy clinic eats every hour I have"
OFF_HAND = "Lunch plans, anyone? twitter was dull today\nmy clinic eats every hour I have"
POSTS = {
    LONG_POST: {"lunch": 1.0, "busy": 0.3},  # the whole leans a little to too-busy
    OFF_HAND: {"lunch": 1.0},  # the whole does not
    "Lunch plans, anyone? twitter was a mess today": {"lunch": 1.0},
    "Lunch plans, anyone? twitter was dull today": {"lunch": 1.0},
    "twitter? never, clinic": BUSY,
}


def flat_gate(p: float) -> Gate:
    """A gate that gives every candidate probability ``p`` whatever the evidence."""
    n = len(FEATURES)
    return Gate((0.0,) * n, (0.0,) * n, (1.0,) * n, math.log(p / (1 - p)), model_id="toy")


def toy(model: Classifier | None, gate_p: float = 0.01, **thresholds: float) -> HybridMatcher:
    """The toy knowledge base under a gate that gives every candidate ``gate_p`` (below its
    bar): only the entries' own texts, or the classifier, can answer."""
    return HybridMatcher(
        kb_with_negatives(),
        dataclasses.replace(TOY, **thresholds),
        embedder=ToyEncoder({**CONCEPTS, **POSTS}),
        null_weight=0.0,
        nearest_weight=1.0,
        gate=flat_gate(gate_p),
        classifier=model,
    )


BUSY_CLASSIFIER = pointing({"too-busy": "busy", "research-updates": "research"})


def test_fit_learns_the_classes_and_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    names = ("busy", "privacy", "lunch")
    classes = ("too-busy", "patient-privacy", NONE)
    vectors, labels = [], []
    for name, label in zip(names, classes, strict=True):
        for _ in range(20):
            v = concept(name) + 0.3 * rng.standard_normal(ToyEncoder.dim) / 16
            vectors.append(v / np.linalg.norm(v))
            labels.append(label)
    x = np.array(vectors)
    weights, bias = fit(x, labels, classes, steps=300)
    again = fit(x, labels, classes, steps=300)
    assert np.array_equal(weights, again[0])
    assert np.array_equal(bias, again[1])
    model = Classifier(classes, weights, bias, 5.0, "toy")
    for name, label in zip(names, classes, strict=True):
        found, p = model.best(concept(name))
        assert found == label
        assert p > 0.9
    assert model.probabilities(concept("busy")).sum() == pytest.approx(1.0)


def test_a_classifier_survives_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / CLASSIFIER_FILE
    BUSY_CLASSIFIER.save(path)
    loaded = Classifier.load(path)
    assert loaded.classes == BUSY_CLASSIFIER.classes
    assert loaded.model_id == "toy"
    vector = concept("busy")
    assert loaded.probabilities(vector) == pytest.approx(BUSY_CLASSIFIER.probabilities(vector))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(classes=["too-busy", "other"]), "including 'none'"),
        (lambda d: d.update(bias=d["bias"][:-1]), "a bias for each"),
        (lambda d: d.update(weights=[row[:-1] for row in d["weights"]]), "weight column"),
        (lambda d: d.update(scale=0), "positive scale"),
        (lambda d: d.pop("weights"), "malformed"),
        (lambda d: d.update(classes=["too-busy", "too-busy", NONE, "x", "y"]), "distinct"),
    ],
)
def test_a_malformed_classifier_is_refused_naming_the_file(
    tmp_path: Path, change: object, message: str
) -> None:
    path = tmp_path / CLASSIFIER_FILE
    data = BUSY_CLASSIFIER.to_json()
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ClassifierError, match=message) as raised:
        Classifier.load(path)
    assert str(path) in str(raised.value)


def test_a_broken_classifier_stops_the_start_and_another_models_is_not_used(
    tmp_path: Path,
) -> None:
    (tmp_path / CLASSIFIER_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot read the classifier"):
        load_classifier(tmp_path, "toy")
    good = tmp_path / "good"
    good.mkdir()
    BUSY_CLASSIFIER.save(good / CLASSIFIER_FILE)
    assert load_classifier(good, "another-model") is None
    found = load_classifier(good, "toy")
    assert found is not None
    assert found.classes == BUSY_CLASSIFIER.classes
    assert load_classifier(tmp_path / "none-here", "toy") is None


def test_the_bundled_classifier_knows_the_bundled_entries_and_the_model() -> None:
    classifier = Classifier.load(DEFAULT_MODEL_DIR / CLASSIFIER_FILE)
    gate = Gate.load(DEFAULT_MODEL_DIR / GATE_FILE)
    assert classifier.model_id == gate.model_id
    assert classifier.classes == (*(e.id for e in load_knowledge().entries), NONE)
    assert "tools/fit_classifier.py" in classifier.recipe


def test_the_classifier_answers_what_the_gate_left_silent() -> None:
    text = TOPICAL
    assert toy(None).match(text).outcome is not Outcome.ANSWER
    explained = toy(BUSY_CLASSIFIER).explain(text)
    assert explained.decision.outcome is Outcome.ANSWER
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert explained.rule.startswith(RULE_CLASSIFIER)
    assert "the gate:" in explained.rule  # and why the gate kept silent


def test_the_classifier_does_not_answer_a_fragment() -> None:
    fragment = "twitter? never, clinic"
    assert BUSY_CLASSIFIER.best(ToyEncoder(POSTS).encode([fragment])[0])[1] > 0.9
    assert toy(BUSY_CLASSIFIER).match(fragment).outcome is not Outcome.ANSWER


def test_off_topic_the_gate_must_lean_the_same_way() -> None:
    # A message that names no social media: the classifier alone is not enough.
    assert toy(BUSY_CLASSIFIER, gate_p=0.3).match(OFF_TOPIC).outcome is not Outcome.ANSWER
    leaning = toy(BUSY_CLASSIFIER, gate_p=0.55).explain(OFF_TOPIC)  # below the gate's 70 %
    assert leaning.decision.answer is not None
    assert leaning.decision.answer.id == "too-busy"
    assert leaning.rule.startswith(RULE_CLASSIFIER)
    assert toy(None, gate_p=0.55).match(OFF_TOPIC).outcome is not Outcome.ANSWER


def test_the_classifier_needs_to_be_sure() -> None:
    text = TOPICAL
    assert toy(BUSY_CLASSIFIER, classifier=100.0).match(text).outcome is not Outcome.ANSWER
    base = pointing({"too-busy": "busy"})
    unsure = dataclasses.replace(base, weights=base.weights / 15.0, bias=np.zeros(5))
    entry, p = unsure.best(ToyEncoder(CONCEPTS).encode([text])[0])
    assert entry == "too-busy"
    assert 0.6 < p < 0.9
    assert toy(unsure).match(text).outcome is not Outcome.ANSWER  # below 90 %
    assert toy(unsure, classifier=60.0).match(text).outcome is Outcome.ANSWER


def _leaning(columns: dict[str, str]) -> Classifier:
    """A classifier 70-90 % sure of TOPICAL's class: below its own bar."""
    base = pointing(columns)
    return dataclasses.replace(base, weights=base.weights / 12.0, bias=np.zeros(5))


def test_an_unsure_classifier_answers_when_the_gate_leans_the_same_way() -> None:
    model = _leaning({"too-busy": "busy"})
    entry, p = model.best(ToyEncoder(CONCEPTS).encode([TOPICAL])[0])
    assert entry == "too-busy"
    assert CLASSIFIER_AGREE <= p < 0.9
    agreed = toy(model, gate_p=GATE_AGREE + 0.05).explain(TOPICAL)
    assert agreed.decision.answer is not None
    assert agreed.decision.answer.id == "too-busy"
    assert agreed.rule.startswith(RULE_CLASSIFIER)
    assert "and the gate agrees" in agreed.rule
    # The gate leaning less than GATE_AGREE: silence, as before.
    assert toy(model, gate_p=GATE_AGREE - 0.05).match(TOPICAL).outcome is not Outcome.ANSWER
    # A message that names no social media needs a sure classifier.
    assert toy(model, gate_p=0.45).match(OFF_TOPIC).outcome is not Outcome.ANSWER


def test_the_agreement_is_on_the_gates_own_choice() -> None:
    # The classifier leans to patient-privacy, the gate's likeliest entry is too-busy.
    model = _leaning({"patient-privacy": "busy"})
    assert model.best(ToyEncoder(CONCEPTS).encode([TOPICAL])[0])[0] == "patient-privacy"
    explained = toy(model, gate_p=0.6).explain(TOPICAL)
    assert explained.parts[0].meaning is not None
    assert explained.parts[0].meaning.id == "too-busy"
    assert explained.decision.outcome is not Outcome.ANSWER


def test_the_classifier_never_overrides_the_hard_limits() -> None:
    matcher = toy(BUSY_CLASSIFIER)
    # Closer to the entry's own not_this ("too busy to chat") than to the entry.
    assert matcher.match("i am way too busy for twitter").outcome is not Outcome.ANSWER
    # A statement never gets a benefit.
    assert matcher.match("the literature moves so fast").outcome is not Outcome.ANSWER
    # ``check`` asks whether an example answers from the rest of its entry: no classifier.
    assert matcher.match_unseen(TOPICAL).outcome is not Outcome.ANSWER


def test_the_classifier_defers_to_an_entry_it_does_not_know() -> None:
    # As near to patient-privacy as to too-busy: a classifier fitted without patient-privacy
    # (a moderator's new entry, say) keeps silent, and the gate alone decides.
    text = "rounds and secrets on twitter and all that"
    stale = pointing(
        {"too-busy": "busy"}, classes=("too-busy", "too-short", "research-updates", NONE)
    )
    assert toy(stale).match(text).outcome is not Outcome.ANSWER
    found = toy(pointing({"too-busy": "busy"})).match(text)
    assert found.answer is not None
    assert found.answer.id == "too-busy"


def test_a_part_answers_through_the_classifier_only_if_the_whole_leans_its_way() -> None:
    model = pointing({"too-busy": "busy"}, weight=2.0, none=3.0)
    matcher = toy(model)
    encoder = ToyEncoder({**CONCEPTS, **POSTS})
    p = model.probabilities(encoder.encode([LONG_POST])[0])[0]
    assert 0.2 < p < 0.9  # not sure of the whole post, but it leans that way
    assert model.probabilities(encoder.encode([OFF_HAND])[0])[0] < 0.2
    assert model.best(encoder.encode(["my clinic eats every hour I have"])[0])[1] > 0.9
    explained = matcher.explain(LONG_POST)
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert explained.rule.startswith(f"a part: {RULE_CLASSIFIER}")
    # The same sentence in a post that is about something else keeps its silence.
    assert matcher.match(OFF_HAND).outcome is not Outcome.ANSWER


def test_a_new_entry_does_not_answer_what_the_classifier_is_sure_is_ordinary_talk() -> None:
    # The gate would answer patient-privacy; a classifier fitted without that entry (a
    # moderator's new one) cannot recognise it, but it can tell ordinary talk.
    text = "privacy scares me off it"
    unknown = ("too-busy", "too-short", "research-updates", NONE)
    sure = pointing({"too-busy": "busy"}, classes=unknown, none=6.0)
    unsure = pointing({"too-busy": "busy"}, classes=unknown, none=2.0)
    vector = ToyEncoder(CONCEPTS).encode([text])[0]
    assert sure.probabilities(vector)[-1] > 0.95 > unsure.probabilities(vector)[-1]
    vetoed = toy(sure, gate_p=0.99).explain(text)
    assert vetoed.decision.outcome is not Outcome.ANSWER
    ordinary = round(100 * sure.probabilities(vector)[-1])
    assert vetoed.rule.startswith(f"{RULE_CLASSIFIER}: {ordinary} % ordinary talk")
    assert "`patient-privacy` is an entry it was not fitted on" in vetoed.rule
    # ``check`` and the upload preview decide the same way.
    assert toy(sure, gate_p=0.99).match_unseen(text).outcome is not Outcome.ANSWER
    for answering in (
        toy(unsure, gate_p=0.99),  # not sure enough that it is ordinary talk
        toy(pointing({"too-busy": "busy"}, none=6.0), gate_p=0.99),  # it knows the entry
        toy(sure, gate_p=0.99, classifier=100.0),  # the classifier is off
        toy(None, gate_p=0.99),
    ):
        found = answering.match(text)
        assert found.answer is not None
        assert found.answer.id == "patient-privacy"


def test_a_part_with_a_new_entry_is_vetoed_too() -> None:
    text = "Ugh, the weather.\nmy clinic eats every hour I have\nprivacy scares me off it"
    unknown = ("too-busy", "too-short", "research-updates", NONE)
    sure = pointing({"too-busy": "busy"}, classes=unknown, none=6.0)
    whole = ToyEncoder({**CONCEPTS, **POSTS}).encode([text])[0]
    assert sure.probabilities(whole)[-1] > 0.95
    explained = toy(sure, gate_p=0.99).explain(text)
    assert explained.decision.answer is None or explained.decision.answer.id != "patient-privacy"
    vetoed = [p for p in explained.parts if "ordinary talk" in p.rule]
    assert vetoed, [p.rule for p in explained.parts]


def test_a_bundled_entry_near_a_new_one_needs_the_classifiers_backing() -> None:
    # too-short is the moderator's new entry (the classifier was not fitted on it) and one of
    # the entries nearest to TOPICAL; the gate answers too-busy.
    fitted = ("too-busy", "patient-privacy", "research-updates", NONE)
    base = pointing({"too-busy": "busy"}, classes=fitted)
    vector = ToyEncoder(CONCEPTS).encode([TOPICAL])[0]

    def leaning(divisor: float) -> Classifier:
        return dataclasses.replace(base, weights=base.weights / divisor, bias=np.zeros(4))

    weak, strong = leaning(20.0), leaning(12.0)
    assert weak.best(vector)[1] < CLASSIFIER_BACKING <= strong.best(vector)[1]
    vetoed = toy(weak, gate_p=0.99).explain(TOPICAL)
    assert vetoed.decision.outcome is not Outcome.ANSWER
    assert vetoed.rule.startswith(f"{RULE_CLASSIFIER}: only ")
    assert "`too-short`, an entry it was not fitted on" in vetoed.rule
    for answering in (
        toy(strong, gate_p=0.99),  # the classifier backs it
        toy(pointing({"too-busy": "busy"}), gate_p=0.99),  # no entry it does not know
        toy(weak, gate_p=0.99, classifier=100.0),  # the classifier is off
    ):
        found = answering.match(TOPICAL)
        assert found.answer is not None
        assert found.answer.id == "too-busy"
    # ``check`` asks whether the rest of the entry reaches a text: the veto stays out of it.
    unseen = toy(weak, gate_p=0.99).match_unseen(TOPICAL)
    assert unseen.answer is not None
    assert unseen.answer.id == "too-busy"
