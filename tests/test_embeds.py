"""Card → Embed: Discord's limits respected, user text escaped, nothing that pings."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.embeds import (
    BRAND_COLOUR,
    DESCRIPTION_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    TITLE_MAX,
    TOTAL_MAX,
    card_embed,
    escape_user_text,
    list_embed,
    notice_embed,
    truncate,
)


@dataclass(frozen=True)
class F:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class C:
    title: str
    description: str
    fields: tuple[F, ...] = ()
    footer: str = ""


def test_card_maps_to_embed() -> None:
    card = C(
        "I'm too busy for Twitter.",
        "Fifteen minutes a day is enough.",
        (F("Benefits", "• Research updates", inline=True),),
        "Based on the Mayo Clinic Social Media Network, 2015",
    )
    embed = card_embed(card)
    assert embed.title == card.title
    assert embed.description == card.description
    assert embed.colour == BRAND_COLOUR
    assert [(f.name, f.value, f.inline) for f in embed.fields] == [
        ("Benefits", "• Research updates", True)
    ]
    assert embed.footer.text == card.footer


def test_oversized_card_is_cut_to_discord_limits() -> None:
    card = C(
        "t" * 1000,
        "d" * 10_000,
        tuple(F(f"n{i}", "v" * 5000) for i in range(40)),
        "f" * 5000,
    )
    embed = card_embed(card)
    assert embed.title is not None
    assert len(embed.title) <= TITLE_MAX
    assert embed.title.endswith("…")
    assert embed.description is not None
    assert len(embed.description) <= DESCRIPTION_MAX
    assert len(embed.fields) <= FIELDS_MAX
    assert all(len(f.value or "") <= FIELD_VALUE_MAX for f in embed.fields)
    assert len(embed) <= TOTAL_MAX


@given(
    st.text(max_size=400),
    st.text(max_size=5000),
    st.lists(st.tuples(st.text(max_size=300), st.text(max_size=1500)), max_size=30),
    st.text(max_size=2500),
)
def test_any_card_fits(
    title: str, description: str, fields: list[tuple[str, str]], footer: str
) -> None:
    embed = card_embed(C(title, description, tuple(F(n, v) for n, v in fields), footer))
    assert len(embed) <= TOTAL_MAX
    assert len(embed.fields) <= FIELDS_MAX
    assert len(embed.title or "") <= TITLE_MAX
    assert len(embed.description or "") <= DESCRIPTION_MAX
    for field in embed.fields:
        assert field.name
        assert field.value
    embed.to_dict()


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("abcdefghij", 5) == "abcd…"
    assert truncate("abc\\\\\\def", 5) == "abc…"
    assert truncate("anything", 0) == ""


def test_user_text_is_escaped_and_cannot_ping() -> None:
    raw = (
        "@everyone **bold** <@123456789012345678> <@&456789012345678901> "
        "`code` _it_ @here ||spoiler||"
    )
    safe = escape_user_text(raw)
    assert "@everyone" not in safe
    assert "@here" not in safe
    assert "<@123456789012345678>" not in safe
    assert "<@&456789012345678901>" not in safe
    assert "**bold**" not in safe
    assert "\\*\\*bold\\*\\*" in safe


def test_user_text_is_one_line_and_bounded() -> None:
    safe = escape_user_text("line one\nline two\n" + "*" * 1000, limit=50)
    assert "\n" not in safe
    assert len(safe) <= 100


def test_notice_embed() -> None:
    embed = notice_embed("x" * 9000)
    assert len(embed.description or "") <= DESCRIPTION_MAX
    assert embed.title is None


@pytest.mark.parametrize(
    ("entry_id", "start"),
    [
        ("too-busy", "Based on “15 Reasons Twitter is Worth Physicians' Time”"),
        ("patient-privacy", "This community's own advice; the benefits listed are from “15"),
        ("research-updates", "Benefit from “15 Reasons Twitter is Worth Physicians' Time”"),
    ],
)
def test_embed_footer_says_whose_advice_it_is(entry_id: str, start: str) -> None:
    from bot.cards import answer_card
    from bot.kb.loader import load_knowledge

    kb = load_knowledge()
    entry = kb.get(entry_id)
    assert entry is not None
    embed = card_embed(answer_card(kb, entry))
    assert embed.footer.text is not None
    assert embed.footer.text.startswith(start)


def test_list_embed_keeps_whole_lines_within_the_description_and_says_how_many_more() -> None:
    lines = [f"**{n}.** " + "x" * 90 for n in range(100)]
    embed = list_embed("Unanswered questions", lines, footer="Most frequent first.")
    assert embed.title == "Unanswered questions"
    assert embed.footer.text == "Most frequent first."
    assert embed.colour == BRAND_COLOUR
    description = embed.description or ""
    assert len(description) <= 4000
    shown = description.splitlines()
    assert shown[:-1] == lines[: len(shown) - 1]
    assert shown[-1] == f"… and {100 - len(shown) + 1} more"
