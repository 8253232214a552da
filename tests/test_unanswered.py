"""Grouping of similar unanswered questions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.unanswered import group_questions, normalize_question

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_normalize_strips_case_punctuation_and_markup() -> None:
    assert normalize_question("  Is <@123> TWITTER safe?!  <:smile:42> ") == "is twitter safe"
    assert normalize_question("See https://x.com/foo, ok") == "see ok"


def test_similar_questions_merge_distinct_ones_do_not() -> None:
    rows = [
        ("Is Twitter safe for doctors?", at(1)),
        ("is twitter safe for doctors", at(2)),
        ("Is twitter really safe for doctors??", at(3)),
        ("What about HIPAA on Twitter?", at(4)),
        ("HIPAA and twitter?", at(5)),
        ("How do I verify my account", at(6)),
    ]
    groups = group_questions(rows)
    assert [g.count for g in groups] == [3, 2, 1]
    safe, hipaa, verify = groups
    assert safe.text == "is twitter safe for doctors"  # most recent of the tied phrasings
    # examples are differently worded phrasings, not case/punctuation variants
    assert safe.examples == ("Is twitter really safe for doctors??",)
    assert safe.last_seen == at(3)
    assert {hipaa.text, *hipaa.examples} == {"What about HIPAA on Twitter?", "HIPAA and twitter?"}
    assert verify.examples == ()


def test_one_word_question_does_not_swallow_longer_ones() -> None:
    rows = [("twitter", at(1)), ("is twitter good for my career", at(2))]
    assert len(group_questions(rows)) == 2


def test_most_frequent_phrasing_represents_the_group() -> None:
    rows = [("Twitter for nurses?", at(i)) for i in range(3)] + [("twitter for nurses", at(9))]
    (group,) = group_questions(rows)
    assert group.count == 4
    assert group.text == "Twitter for nurses?"
    assert group.last_seen == at(9)


def test_empty_and_blank_rows() -> None:
    assert group_questions([]) == []
    assert group_questions([("   ", at(1))]) == []
    (group,) = group_questions([("???", at(1)), ("???", at(2))])
    assert (group.text, group.count) == ("???", 2)


def test_only_the_most_recent_rows_are_considered() -> None:
    rows = [("old question about podcasts", at(0))] + [
        (f"new question number {i}", at(i + 1)) for i in range(10)
    ]
    groups = group_questions(rows, max_rows=10)
    assert all("podcasts" not in g.text for g in groups)
    assert sum(g.count for g in groups) == 10


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["is twitter safe", "Is Twitter safe?", "what is a hashtag", "hashtags?", "x", ""]
            ),
            st.integers(0, 1000),
        ),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_grouping_is_deterministic_and_counts_everything(
    raw: list[tuple[str, int]], rnd: random.Random
) -> None:
    rows = [(text, at(m)) for text, m in raw]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    groups = group_questions(rows)
    assert groups == group_questions(shuffled)
    assert sum(g.count for g in groups) == sum(1 for text, _ in rows if text.strip())
    counts = [g.count for g in groups]
    assert counts == sorted(counts, reverse=True)
