"""The combined decision: words and meaning agree, meaning rescues, negatives block, parts."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

from bot.kb.model import KnowledgeBase
from bot.matching.hybrid import (
    NULL_WEIGHT,
    OFF_TOPIC_EXTRA,
    OFF_TOPIC_KEEP_EXTRA,
    RULE_AGREE,
    RULE_BOTH,
    RULE_RESCUE,
    WORD_SURE,
    HybridMatcher,
)
from bot.matching.meaning import NEAREST_WEIGHT, MeaningIndex
from bot.matching.types import Outcome, Thresholds
from tests.matching.conftest import tiny_kb
from tests.matching.toy_encoder import ToyEncoder

BUSY = {"busy": 1.0}
CONCEPTS: dict[str, dict[str, float]] = {
    # The knowledge base's own texts.
    "I'm too busy.": BUSY,
    "i'm too busy": BUSY,
    "i don't have time for twitter": BUSY,
    "my schedule is full": BUSY,
    "Privacy.": {"privacy": 1.0},
    "hipaa": {"privacy": 1.0},
    "patient privacy": {"privacy": 1.0},
    "i could breach confidentiality": {"privacy": 1.0},
    "Too short.": {"short": 1.0},
    "140 characters": {"short": 1.0},
    "tweets are too short for nuance": {"short": 1.0},
    "Research": {"research": 1.0},
    "Keep up with research.": {"research": 1.0},
    "keep up with research": {"research": 1.0},
    "follow new studies": {"research": 1.0},
    "too busy to chat": {"chat": 1.0},
    "see you at lunch": {"lunch": 1.0},
    # Messages.
    "I'm far too busy for twitter": BUSY,
    "i am way too busy for twitter": {"busy": 0.5, "chat": 1.0},
    "i am so busy with twitter lately": {"busy": 0.5, "lunch": 1.0},
    "clinic eats every hour I have": BUSY,
    "my clinic eats every hour I have": BUSY,
    "the literature moves so fast": {"research": 1.0},
    "would it keep me current with the literature?": {"research": 1.0},
    "can someone share the link": BUSY,
    "rounds and secrets on twitter and all that": {"busy": 1.0, "privacy": 1.0},
    "the pager never stops and charting eats my evenings": {"busy": 1.0, "elsewhere": 0.95},
    "twitter? the pager never stops and charting eats my evenings": {
        "busy": 1.0,
        "elsewhere": 0.95,
    },
    "it's mandatory": BUSY,
    "privacy scares me off it": {"privacy": 1.0},
    # Long posts: the whole is a little of each part.
    "honestly same lol. The weather was nice.\nMy clinic eats every hour I have.": {"busy": 0.1},
    "Ugh, where do I start today.\nmy clinic eats every hour I have\nprivacy scares me off it": {
        "busy": 0.1,
        "privacy": 0.1,
    },
    "Ugh, the weather.\nmy clinic eats every hour I have\nprivacy scares me off it": {
        "privacy": 0.1,
        "short": 0.1,
    },
}


TOY = Thresholds(meaning_keep=50, meaning_answer=68, meaning_margin=8, meaning_negative_margin=10)
"""The figures these toy-encoder tests were written for (the bundled model's defaults differ)."""


def toy_matcher(kb: KnowledgeBase, encoder: ToyEncoder, **kwargs: Any) -> HybridMatcher:
    """A matcher on the toy encoder, without the per-entry chance correction (the toy's
    ordinary talk is one random direction, so its correction would be noise) and scoring an
    entry by its nearest text (the figures below are the toy's cosines; the centroid has its
    own test)."""
    kwargs.setdefault("nearest_weight", 1.0)
    return HybridMatcher(kb, TOY, embedder=encoder, null_weight=0.0, **kwargs)


def kb_with_negatives() -> KnowledgeBase:
    kb = tiny_kb()
    busy = dataclasses.replace(kb.objections[0], not_this=("too busy to chat",))
    return dataclasses.replace(
        kb, objections=(busy, *kb.objections[1:]), ordinary=("see you at lunch",)
    )


@pytest.fixture
def encoder() -> ToyEncoder:
    return ToyEncoder(CONCEPTS)


@pytest.fixture
def hybrid(encoder: ToyEncoder) -> HybridMatcher:
    return toy_matcher(kb_with_negatives(), encoder, model_id="toy")


def test_words_and_meaning_agree(hybrid: HybridMatcher) -> None:
    explained = hybrid.explain("I'm far too busy for twitter")
    assert explained.decision.outcome is Outcome.ANSWER
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert explained.rule == RULE_BOTH
    whole = explained.parts[0]
    assert whole.meaning is not None
    assert whole.meaning.id == "too-busy"
    assert whole.meaning.score > 90


def test_a_word_answer_far_in_meaning_is_blocked() -> None:
    hybrid = toy_matcher(kb_with_negatives(), ToyEncoder({}))
    assert hybrid.lexical.match("I'm far too busy for twitter").outcome is Outcome.ANSWER
    explained = hybrid.explain("I'm far too busy for twitter")
    assert explained.decision.outcome is Outcome.SUGGEST
    assert [c.id for c in explained.decision.suggestions][:1] == ["too-busy"]
    assert "meaning too far" in explained.rule


@pytest.mark.parametrize(
    ("text", "negative"),
    [
        ("i am way too busy for twitter", "too busy to chat"),  # the entry's not_this
        ("i am so busy with twitter lately", "see you at lunch"),  # ordinary talk
    ],
)
def test_a_word_answer_closer_to_a_negative_is_blocked(
    hybrid: HybridMatcher, text: str, negative: str
) -> None:
    assert hybrid.lexical.match(text).outcome is Outcome.ANSWER
    explained = hybrid.explain(text)
    assert explained.decision.outcome is not Outcome.ANSWER
    assert "closer to a negative" in explained.rule
    assert explained.parts[0].negative is not None
    assert explained.parts[0].negative.text == negative


def test_meaning_rescues_what_the_words_miss(hybrid: HybridMatcher) -> None:
    text = "clinic eats every hour I have"
    assert hybrid.lexical.match(text).outcome is not Outcome.ANSWER
    decision = hybrid.match(text)
    assert decision.outcome is Outcome.ANSWER
    assert decision.answer is not None
    assert decision.answer.id == "too-busy"
    assert hybrid.explain(text).rule == RULE_RESCUE


def test_a_benefit_is_rescued_only_for_a_question(hybrid: HybridMatcher) -> None:
    assert hybrid.match("the literature moves so fast").outcome is not Outcome.ANSWER
    decision = hybrid.match("would it keep me current with the literature?")
    assert decision.answer is not None
    assert decision.answer.id == "research-updates"


def test_requests_to_the_channel_are_never_rescued(hybrid: HybridMatcher) -> None:
    explained = hybrid.explain("can someone share the link")
    assert explained.decision.outcome is not Outcome.ANSWER
    assert "request to the channel" in explained.rule


def test_a_rescue_needs_a_clear_margin(hybrid: HybridMatcher) -> None:
    explained = hybrid.explain("rounds and secrets on twitter and all that")
    assert explained.decision.outcome is not Outcome.ANSWER
    assert "margin" in explained.rule


def test_meaning_alone_needs_more_when_the_message_names_no_social_media(
    hybrid: HybridMatcher,
) -> None:
    """Clinical talk and jokes sit near objections in meaning: without a word for Twitter or
    social media, meaning alone needs OFF_TOPIC_EXTRA more, and never answers a short line."""
    topical = hybrid.explain("twitter? the pager never stops and charting eats my evenings")
    assert topical.decision.answer is not None
    assert topical.decision.answer.id == "too-busy"
    assert topical.rule == RULE_RESCUE
    score = topical.parts[0].meaning.score if topical.parts[0].meaning else 0.0
    assert TOY.meaning_answer <= score < TOY.meaning_answer + OFF_TOPIC_EXTRA
    off_topic = hybrid.explain("the pager never stops and charting eats my evenings")
    assert off_topic.decision.outcome is not Outcome.ANSWER
    assert f"< {TOY.meaning_answer + OFF_TOPIC_EXTRA:g}" in off_topic.rule
    short = hybrid.explain("it's mandatory")
    assert short.parts[0].meaning is not None
    assert short.parts[0].meaning.score > TOY.meaning_answer + OFF_TOPIC_EXTRA
    assert short.decision.outcome is not Outcome.ANSWER
    assert "short message off topic" in short.rule


def test_a_word_answer_needs_more_meaning_when_the_message_names_no_social_media() -> None:
    """Clinical talk shares an objection's words ("what's the point of a daily CBC?"): a
    word answer to a message that names no social media needs OFF_TOPIC_KEEP_EXTRA more."""
    mix = {"busy": 0.55, "elsewhere": 0.8}
    off_topic, topical = "my schedule is full these days", "twitter? my schedule is full these days"
    hybrid = toy_matcher(
        kb_with_negatives(), ToyEncoder({**CONCEPTS, off_topic: mix, topical: mix})
    )
    for text in (off_topic, topical):
        assert hybrid.lexical.match(text).outcome is Outcome.ANSWER
    answered = hybrid.explain(topical)
    assert answered.decision.answer is not None
    assert answered.decision.answer.id == "too-busy"
    score = answered.parts[0].meaning.score if answered.parts[0].meaning else 0.0
    assert TOY.meaning_keep <= score < TOY.meaning_keep + OFF_TOPIC_KEEP_EXTRA
    blocked = hybrid.explain(off_topic)
    assert blocked.decision.outcome is not Outcome.ANSWER
    assert f"< {TOY.meaning_keep + OFF_TOPIC_KEEP_EXTRA:g})" in blocked.rule


def test_a_sentence_of_a_long_reply_answers(hybrid: HybridMatcher, encoder: ToyEncoder) -> None:
    text = "@Sam honestly same lol. The weather was nice.\nMy clinic eats every hour I have."
    explained = hybrid.explain(text)
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert explained.rule.startswith("a part:")
    assert [p.text for p in explained.parts][1:] == [
        "honestly same lol.",
        "The weather was nice.",
        "My clinic eats every hour I have.",
    ]


def test_parts_that_disagree_give_no_answer(hybrid: HybridMatcher) -> None:
    text = (
        "Ugh, where do I start today.\nmy clinic eats every hour I have\nprivacy scares me off it"
    )
    explained = hybrid.explain(text)
    assert explained.decision.outcome is not Outcome.ANSWER
    assert explained.rule == "parts disagree: patient-privacy, too-busy"


def test_a_part_answers_only_what_fits_the_whole_post(hybrid: HybridMatcher) -> None:
    text = "Ugh, the weather.\nmy clinic eats every hour I have\nprivacy scares me off it"
    explained = hybrid.explain(text)
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "patient-privacy"
    busy = next(p for p in explained.parts if p.text == "my clinic eats every hour I have")
    assert busy.answer is None
    assert busy.rule == "the whole message is nearer in meaning to other entries"


def test_a_message_is_embedded_once_and_the_kb_once() -> None:
    encoder = ToyEncoder(CONCEPTS)
    hybrid = toy_matcher(kb_with_negatives(), encoder)
    kb_texts = len(encoder.encoded)
    assert kb_texts == len(set(encoder.encoded)) > 10
    hybrid.match("I'm far too busy for twitter")
    assert encoder.encoded[kb_texts:] == ["I'm far too busy for twitter"]


def test_explain_keeps_the_json_contract_and_adds_the_figures(hybrid: HybridMatcher) -> None:
    data = json.loads(json.dumps(hybrid.explain("clinic eats every hour I have").to_json()))
    assert {"text", "answer", "suggestions"} <= set(data)
    assert data["answer"]["id"] == "too-busy"
    whole = data["explain"]["parts"][0]
    assert set(whole) >= {"word", "meaning", "nearest", "runner_up", "margin", "negative", "rule"}
    assert whole["nearest"] in CONCEPTS
    assert whole["margin"] > 50
    lines = "\n".join(hybrid.explain("clinic eats every hour I have").lines())
    assert "runner-up:" in lines
    assert "nearest:" in lines


def test_without_an_embedder_the_words_decide(kb: KnowledgeBase) -> None:
    hybrid = HybridMatcher(kb)
    for text in ("I'm far too busy for twitter", "what about hipaa?", "nice weather"):
        assert hybrid.match(text) == hybrid.lexical.match(text)


def test_a_part_cannot_answer_what_the_whole_is_closer_to_a_negative_of() -> None:
    concepts = {
        **CONCEPTS,
        "see you at lunch": {"lunch": 1.0},
        "lunch? my clinic eats every hour I have": {"lunch": 1.0, "busy": 0.3},
    }
    hybrid = toy_matcher(kb_with_negatives(), ToyEncoder(concepts))
    assert hybrid.match("my clinic eats every hour I have").outcome is Outcome.ANSWER
    explained = hybrid.explain("lunch? my clinic eats every hour I have")
    assert explained.decision.outcome is not Outcome.ANSWER
    assert explained.parts[1].rule == "the whole message is closer to a negative than to this entry"


def test_a_rescue_respects_the_entrys_everyday_words() -> None:
    kb = kb_with_negatives()
    busy = dataclasses.replace(kb.objections[0], everyday=("today",))
    kb = dataclasses.replace(kb, objections=(busy, *kb.objections[1:]))
    concepts = {**CONCEPTS, "clinic eats every hour I have today": BUSY}
    hybrid = toy_matcher(kb, ToyEncoder(concepts))
    assert hybrid.match("clinic eats every hour I have").outcome is Outcome.ANSWER
    explained = hybrid.explain("clinic eats every hour I have today")
    assert explained.decision.outcome is not Outcome.ANSWER
    assert explained.rule == "everyday talk (the entry's context/everyday)"


def test_a_word_suggestion_answers_when_meaning_clearly_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "my schedule is a mess"
    concepts = {**CONCEPTS, text: {"busy": 0.11}}
    hybrid = toy_matcher(kb_with_negatives(), ToyEncoder(concepts))
    lexical = hybrid.lexical.match(text)
    assert lexical.outcome is Outcome.SUGGEST
    assert lexical.suggestions[0].id == "too-busy"
    # Off topic (no word for social media), agreeing keys are not enough:
    assert hybrid.match(text).outcome is not Outcome.ANSWER
    # In a message that names social media (the toy's synonyms would make the words answer
    # outright, so the engine is told it does):
    monkeypatch.setattr(hybrid.lexical, "mentions_twitter", lambda _text: True)
    explained = hybrid.explain(text)
    whole = explained.parts[0]
    assert whole.meaning is not None
    assert hybrid.thresholds.meaning_keep <= whole.meaning.score < hybrid.thresholds.meaning_answer
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "too-busy"
    assert explained.rule == RULE_AGREE
    unrelated = toy_matcher(kb_with_negatives(), ToyEncoder(CONCEPTS))
    monkeypatch.setattr(unrelated.lexical, "mentions_twitter", lambda _text: True)
    assert unrelated.match(text).outcome is Outcome.SUGGEST


def test_meaning_that_points_clearly_elsewhere_replaces_the_word_answer() -> None:
    text = "I'm far too busy for twitter"
    concepts = {**CONCEPTS, text: {"busy": 0.7, "privacy": 1.0}}
    hybrid = toy_matcher(kb_with_negatives(), ToyEncoder(concepts))
    assert hybrid.lexical.match(text).outcome is Outcome.ANSWER  # the words say too-busy
    explained = hybrid.explain(text)
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "patient-privacy"
    assert explained.rule == RULE_RESCUE
    assert explained.parts[0].word_rule == (
        "words answer `too-busy`, but meaning points clearly elsewhere"
    )


def test_meaning_that_points_elsewhere_but_not_clearly_enough_leaves_the_message_alone() -> None:
    text = "I'm far too busy for twitter"
    # Privacy leads busy by more than DISAGREE x the margin (4 here), but is under the rescue
    # bar (68).
    concepts = {**CONCEPTS, text: {"busy": 0.5, "privacy": 0.68, "elsewhere": 0.55}}
    limits = dataclasses.replace(TOY, meaning_margin=4)
    hybrid = HybridMatcher(
        kb_with_negatives(),
        limits,
        embedder=ToyEncoder(concepts),
        null_weight=0.0,
        nearest_weight=1.0,
    )
    assert hybrid.lexical.match(text).outcome is Outcome.ANSWER
    explained = hybrid.explain(text)
    whole = explained.parts[0]
    assert whole.meaning is not None
    assert whole.meaning.id == "patient-privacy"
    assert whole.meaning.score < TOY.meaning_answer
    assert explained.decision.outcome is not Outcome.ANSWER
    assert explained.rule.startswith(
        "words answer `too-busy`, but meaning points clearly elsewhere"
    )
    assert [c.id for c in explained.decision.suggestions][:1] == ["too-busy"]


def test_an_entry_is_scored_on_its_topic_not_on_one_stray_text() -> None:
    """A large entry's one stray trigger does not outrank a coherent entry's topic."""
    stray = "who sees my posts at work"
    busy = dataclasses.replace(
        tiny_kb().objections[0], triggers=(*tiny_kb().objections[0].triggers, stray)
    )
    kb = dataclasses.replace(tiny_kb(), objections=(busy, *tiny_kb().objections[1:]))
    privacy = {"privacy": 0.8, "patients": 0.6}
    concepts: dict[str, dict[str, float]] = {
        **CONCEPTS,
        stray: {"privacy": 1.0},
        "who sees what I post": {"privacy": 1.0},
        **{t: privacy for t in ("Privacy.", "hipaa", "patient privacy")},
        "i could breach confidentiality": privacy,
    }
    encoder = ToyEncoder(concepts)
    ids = [e.id for e in kb.entries]

    def nearest_entry(nearest_weight: float) -> str:
        index = MeaningIndex(kb, encoder, nearest_weight=nearest_weight)
        meaning = index.measure(index.embed(["who sees what I post"]))[0]
        return ids[meaning.order()[0]]

    assert nearest_entry(1.0) == "too-busy"  # the nearest text alone: the stray trigger
    assert nearest_entry(NEAREST_WEIGHT) == "patient-privacy"


def test_unseen_an_example_does_not_answer_itself() -> None:
    kb = kb_with_negatives()
    busy = dataclasses.replace(kb.objections[0], examples=("a riddle wrapped in an enigma",))
    hybrid = toy_matcher(
        dataclasses.replace(kb, objections=(busy, *kb.objections[1:])), ToyEncoder(CONCEPTS)
    )
    seen = hybrid.match("a riddle wrapped in an enigma")
    assert seen.answer is not None
    assert seen.answer.id == "too-busy"
    assert hybrid.match_unseen("a riddle wrapped in an enigma").outcome is not Outcome.ANSWER
    assert hybrid.match_unseen("clinic eats every hour I have").outcome is Outcome.ANSWER


def test_a_word_answer_on_an_entrys_own_text_stands_when_meaning_points_elsewhere() -> None:
    """The encoder reads typos and odd spellings poorly: a message the word engine finds to
    be one of the entry's own texts keeps its answer although another entry is nearer in
    meaning (the bundled example "hipa scares me off twitter")."""
    text = "hipaa?"
    concepts = {**CONCEPTS, text: {"busy": 1.0, "privacy": 0.8}}
    hybrid = toy_matcher(kb_with_negatives(), ToyEncoder(concepts))
    word = hybrid.lexical.match(text)
    assert word.outcome is Outcome.ANSWER
    assert word.answer is not None
    assert word.answer.score >= WORD_SURE
    explained = hybrid.explain(text)
    whole = explained.parts[0]
    assert whole.margin is not None
    assert whole.margin <= -hybrid.thresholds.meaning_margin  # meaning points to too-busy
    assert explained.decision.answer is not None
    assert explained.decision.answer.id == "patient-privacy"
    assert explained.rule == RULE_BOTH


def test_an_entry_near_ordinary_talk_by_chance_is_scored_down() -> None:
    """Each entry's chance closeness to the ordinary talk (``MeaningIndex.null``) is taken
    off its meaning score in part, so an entry whose texts sit near everyday talk does not
    outrank a small entry on everyday words."""
    kb = kb_with_negatives()
    short = dataclasses.replace(
        kb.objections[2], triggers=(*kb.objections[2].triggers, "short lunch chats")
    )
    kb = dataclasses.replace(kb, objections=(*kb.objections[:2], short))
    encoder = ToyEncoder({**CONCEPTS, "short lunch chats": {"lunch": 1.0}})
    hybrid = HybridMatcher(kb, TOY, embedder=encoder, nearest_weight=1.0)
    assert hybrid.index is not None
    null = hybrid.index.null
    position = [e.id for e in kb.entries].index("too-short")
    assert null[position] > 0.9  # "see you at lunch" is near "short lunch chats"
    assert all(null[i] < 0.5 for i in range(len(null)) if i != position)
    text = "lunch chats are the best"
    raw = hybrid.index.measure(hybrid.index.embed([text]))[0].entry
    shifted = hybrid.meaning_of([text])[0].entry
    expected = raw + NULL_WEIGHT * (float(null.mean()) - null)
    assert np.allclose(shifted, expected, atol=1e-6)
    assert shifted[position] < raw[position] - 0.5 * NULL_WEIGHT


def test_a_members_phrasing_answers_for_its_entry_in_meaning_only() -> None:
    """``phrasings:`` are more texts of the entry for meaning (a member's long post voiced
    the same way is near one of them), never for the word engine."""
    post = "@Sam lol sure, and who sees my 4pm add-ons while I write threads"
    reply = "@Priya right, and who covers my 5pm add-ons while I craft witty posts"
    mix = {"busy": 0.7, "add-ons while posting": 0.7}
    concepts = {**CONCEPTS, post: mix, reply: mix}
    encoder = ToyEncoder(concepts)
    plain = kb_with_negatives()
    taught = dataclasses.replace(plain, phrasings={"too-busy": (post,)})
    ids = [e.id for e in plain.entries]
    before = MeaningIndex(plain, encoder)
    after = MeaningIndex(taught, encoder)
    assert len(after.texts) == len(before.texts) + 1
    start, stop = after.text_range(ids.index("too-busy"))
    assert post in after.texts[start:stop]
    assert after.measure(after.embed([reply]))[0].nearest(ids.index("too-busy")).text == post
    assert toy_matcher(taught, encoder).lexical.rank(reply, 1) == toy_matcher(
        plain, encoder
    ).lexical.rank(reply, 1)
