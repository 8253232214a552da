"""Cards: content of answers and pages, and Discord limits for anything that validates."""

from __future__ import annotations

import dataclasses
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cards import (
    BENEFITS_FIELD,
    DESCRIPTION_LIMIT,
    FIELD_VALUE_LIMIT,
    FIELDS_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    Card,
    Field,
    answer_card,
    benefit_pages,
    objections_card,
    suggestions_text,
    truncate,
)
from bot.kb.loader import load_knowledge
from bot.kb.model import Benefit, EntrySource, KnowledgeBase, Objection

KB = load_knowledge()


def test_objection_card_has_title_answer_benefits_and_footer() -> None:
    entry = KB.get("too-busy")
    assert entry is not None
    card = answer_card(KB, entry)
    assert card.title == entry.title
    assert card.description == entry.answer
    assert card.footer == KB.source.footer_text()
    [field] = card.fields
    assert field.name == BENEFITS_FIELD
    for benefit_id, line in zip(entry.benefits, field.value.splitlines(), strict=True):
        benefit = KB.benefit(benefit_id)
        assert benefit is not None
        assert line.startswith(f"**{benefit.title}** — ")


def test_benefit_card_shows_its_answer_not_a_list_of_objections() -> None:
    benefit = KB.benefit("research-updates")
    assert benefit is not None
    card = answer_card(KB, benefit)
    assert (card.title, card.description) == (benefit.title, benefit.answer)
    assert card.fields == ()
    assert card.footer == (
        "Benefit from “15 Reasons Twitter is Worth Physicians' Time” (Lee Aase, Mayo Clinic "
        "Social Media Network, 2015-04-15). How to start: This community's own advice"
    )


def test_every_bundled_benefit_has_a_short_concrete_answer() -> None:
    """Two to four sentences: what to do and how to start."""
    for benefit in KB.benefits:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", benefit.answer.strip()) if s]
        assert 2 <= len(sentences) <= 4, (benefit.id, sentences)
        assert len(benefit.answer) <= 700, benefit.id


def test_benefit_without_answer_shows_its_summary() -> None:
    benefit = Benefit("b", "Title", "One line.", source=EntrySource.ARTICLE)
    kb = dataclasses.replace(KB, benefits=(benefit,), objections=())
    card = answer_card(kb, benefit)
    assert card.description == "One line."
    assert card.footer == KB.source.footer_text()


def _footer_kb(source: EntrySource, benefit_source: EntrySource) -> tuple[KnowledgeBase, Objection]:
    benefit = Benefit("b", "Title", "One line.", source=benefit_source)
    entry = Objection("o", "Objection", "Answer.", triggers=("x",), benefits=("b",), source=source)
    return dataclasses.replace(KB, objections=(entry,), benefits=(benefit,)), entry


def test_footer_credits_the_article_only_for_its_own_advice() -> None:
    kb, entry = _footer_kb(EntrySource.ARTICLE, EntrySource.ARTICLE)
    assert answer_card(kb, entry).footer == (
        "Based on “15 Reasons Twitter is Worth Physicians' Time” "
        "(Lee Aase, Mayo Clinic Social Media Network, 2015-04-15)"
    )


def test_footer_of_community_advice_with_article_benefits_says_both() -> None:
    kb, entry = _footer_kb(EntrySource.COMMUNITY, EntrySource.ARTICLE)
    footer = answer_card(kb, entry).footer
    assert footer == (
        "This community's own advice; the benefits listed are from “15 Reasons Twitter is "
        "Worth Physicians' Time” (Lee Aase, Mayo Clinic Social Media Network, 2015-04-15)"
    )
    assert not footer.startswith("Based on")


def test_footer_of_community_advice_alone_never_names_the_article() -> None:
    kb, entry = _footer_kb(EntrySource.COMMUNITY, EntrySource.COMMUNITY)
    assert answer_card(kb, entry).footer == "This community's own advice"
    custom = dataclasses.replace(kb.source, community="Advice from #doctors-online members")
    kb = dataclasses.replace(kb, source=custom)
    assert answer_card(kb, entry).footer == "Advice from #doctors-online members"


def test_bundled_community_entries_are_not_credited_to_the_article() -> None:
    for entry_id in ("patient-privacy", "professional-risk", "misinformation-noise"):
        entry = KB.get(entry_id)
        assert entry is not None
        footer = answer_card(KB, entry).footer
        assert footer.startswith("This community's own advice"), entry_id
        assert not footer.startswith("Based on"), entry_id


def test_benefit_pages_footer_follows_the_benefits_sources() -> None:
    assert benefit_pages(KB)[0].footer == KB.source.footer_text()
    own = Benefit("own", "Own", "One line.", topics=("career",))
    kb = dataclasses.replace(KB, benefits=(*KB.benefits, own))
    assert benefit_pages(kb, "career")[0].footer.startswith("From “15 Reasons")
    only = dataclasses.replace(KB, benefits=(own,))
    assert benefit_pages(only)[0].footer == "This community's own advice"


def test_every_bundled_card_fits() -> None:
    for entry in KB.entries:
        assert answer_card(KB, entry, fit=False).violations() == []
    assert objections_card(KB).violations() == []


def test_benefit_pages_all_fifteen_in_order() -> None:
    pages = benefit_pages(KB)
    names = [f.name for page in pages for f in page.fields]
    assert names == [f"{n}. {b.title}" for n, b in enumerate(KB.benefits, start=1)]
    assert all(not page.violations() for page in pages)


def test_benefit_pages_by_topic_and_unknown_topic() -> None:
    topic = KB.topics()[0]
    pages = benefit_pages(KB, topic.upper())
    expected = [b.title for b in KB.benefits if topic in b.topics]
    assert [f.name.split(". ", 1)[1] for p in pages for f in p.fields] == expected
    assert benefit_pages(KB, "no-such-topic") == []


def test_many_long_benefits_are_paged_within_limits() -> None:
    many = tuple(
        Benefit(id=f"b-{i}", title=f"Benefit {i} " + "t" * 200, summary="s" * 1000)
        for i in range(60)
    )
    kb = dataclasses.replace(KB, benefits=many)
    pages = benefit_pages(kb)
    assert len(pages) > 1
    assert sum(len(p.fields) for p in pages) == 60
    for i, page in enumerate(pages, start=1):
        assert page.violations() == []
        assert page.footer.endswith(f"page {i}/{len(pages)}")


def test_long_moderator_text_is_truncated_but_reported() -> None:
    entry = KB.objections[0]
    long = dataclasses.replace(entry, title="T" * 300, answer="word " * 1200)
    raw = answer_card(KB, long, fit=False)
    assert any("title is 300 characters" in v for v in raw.violations())
    fitted = answer_card(KB, long)
    assert fitted.violations() == []
    assert fitted.title.endswith("…")
    assert len(fitted.title) == TITLE_LIMIT
    assert fitted.description.endswith("…")


def test_fitted_respects_total_and_field_count() -> None:
    fields = tuple(Field("n" * 200, "v" * 1000) for _ in range(30))
    card = Card("t", "d" * 4000, fields, "f").fitted()
    assert len(card.fields) <= FIELDS_LIMIT
    assert card.total_length() <= TOTAL_LIMIT
    assert card.violations() == []


@given(st.text(max_size=3000), st.integers(min_value=0, max_value=2000))
@settings(max_examples=300)
def test_truncate_never_exceeds(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    assert out == text or out.endswith("…") or limit == 0


@given(
    title=st.text(min_size=1, max_size=400),
    answer=st.text(min_size=1, max_size=5000),
    summary=st.text(min_size=1, max_size=1100),
)
@settings(max_examples=200)
def test_fitted_cards_always_fit(title: str, answer: str, summary: str) -> None:
    benefits = tuple(dataclasses.replace(b, summary=summary) for b in KB.benefits)
    entry = dataclasses.replace(
        KB.objections[0], title=title, answer=answer, benefits=tuple(b.id for b in benefits)
    )
    kb = dataclasses.replace(KB, benefits=benefits, objections=(entry,))
    card = answer_card(kb, entry)
    assert card.violations() == []
    assert len(card.description) <= DESCRIPTION_LIMIT
    assert all(len(f.value) <= FIELD_VALUE_LIMIT for f in card.fields)


def test_suggestions_text_lists_the_titles_in_order() -> None:
    too_busy, privacy = KB.get("too-busy"), KB.get("patient-privacy")
    assert too_busy is not None
    assert privacy is not None
    assert suggestions_text([privacy, too_busy]) == (
        f"Did you mean:\n1. {privacy.title}\n2. {too_busy.title}"
    )
    assert suggestions_text([]) == "I don't have an answer for that yet."


def test_objections_card_lists_every_objection() -> None:
    card = objections_card(KB)
    assert card.description.splitlines() == [f"• {o.title}" for o in KB.objections]
