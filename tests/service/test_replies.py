"""The one function from a matcher's decision to the reply: answer, suggestions or none."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.kb.loader import load_knowledge
from bot.kb.model import EntryKind
from bot.matching.types import Candidate, Decision, Outcome
from bot.service.replies import MAX_QUESTION, Reply, ReplyKind, ask, question_text, reply_for

KB = load_knowledge()
BUSY = Candidate("too-busy", EntryKind.OBJECTION, 90.0)
PRIVACY = Candidate("patient-privacy", EntryKind.OBJECTION, 60.0)
GONE = Candidate("no-such-entry", EntryKind.OBJECTION, 95.0)


def test_an_answer_carries_its_entry() -> None:
    reply = reply_for(KB, Decision("I'm too busy", Outcome.ANSWER, answer=BUSY))
    assert reply.kind is ReplyKind.ANSWER
    assert reply.entry is KB.get("too-busy")
    assert reply.suggestions == ()
    assert reply.question == "I'm too busy"


def test_suggestions_carry_their_entries_in_order_and_skip_unknown_ids() -> None:
    decision = Decision("twitter?", Outcome.SUGGEST, suggestions=(PRIVACY, GONE, BUSY))
    reply = reply_for(KB, decision)
    assert reply.kind is ReplyKind.SUGGEST
    assert reply.entry is None
    assert [e.id for e in reply.suggestions] == ["patient-privacy", "too-busy"]


def test_an_answer_the_kb_no_longer_holds_is_no_reply() -> None:
    reply = reply_for(KB, Decision("x", Outcome.ANSWER, answer=GONE))
    assert reply.kind is ReplyKind.SILENT
    assert reply.entry is None


def test_suggestions_all_gone_are_no_reply() -> None:
    reply = reply_for(KB, Decision("x", Outcome.SUGGEST, suggestions=(GONE,)))
    assert reply == Reply(ReplyKind.SILENT, "x", reply.decision)


def test_silence_is_silent_even_with_stray_candidates() -> None:
    assert reply_for(KB, Decision("good morning", Outcome.SILENT)).kind is ReplyKind.SILENT
    stray = Decision("good morning", Outcome.SILENT, suggestions=(BUSY,))
    assert reply_for(KB, stray).suggestions == ()


class Recorder:
    """A matcher that answers too-busy and remembers what it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def match(self, text: str) -> Decision:
        self.seen.append(text)
        return Decision(text, Outcome.ANSWER, answer=BUSY)


def test_ask_matches_and_keeps_the_question_cut_once() -> None:
    matcher = Recorder()
    long = "I'm too busy " + "x" * (2 * MAX_QUESTION)
    reply = ask(KB, matcher, long)
    assert matcher.seen == [long[:MAX_QUESTION]]
    assert reply.question == long[:MAX_QUESTION]
    assert reply.kind is ReplyKind.ANSWER


@given(st.text(max_size=3 * MAX_QUESTION))
def test_question_text_is_a_prefix_within_the_limit(text: str) -> None:
    cut = question_text(text)
    assert len(cut) <= MAX_QUESTION
    assert text.startswith(cut)
    assert cut == text or len(cut) == MAX_QUESTION
