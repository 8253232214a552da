"""Buttons: custom_id round trips (they survive restarts) and the callbacks' rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest
from discord import app_commands

from bot.views import (
    CUSTOM_ID_MAX,
    BenefitPageButton,
    DismissButton,
    PageCounter,
    SuggestionButton,
    VoteButton,
    answer_view,
    dynamic_items,
)

MEMBER = 123456789012345678


async def round_trip(item: discord.ui.DynamicItem[Any]) -> discord.ui.DynamicItem[Any]:
    """What discord.py does on a click after a restart: match the template, rebuild."""
    custom_id = item.custom_id
    assert len(custom_id) <= CUSTOM_ID_MAX
    matches = [
        cls for cls in dynamic_items() if cls.__discord_ui_compiled_template__.fullmatch(custom_id)
    ]
    assert matches == [type(item)]
    match = type(item).__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    rebuilt = await type(item).from_custom_id(cast(Any, None), item.item, match)
    assert rebuilt.custom_id == custom_id
    return rebuilt


async def test_vote_round_trip() -> None:
    for helpful in (True, False):
        rebuilt = await round_trip(VoteButton("too-busy", MEMBER, helpful=helpful))
        assert isinstance(rebuilt, VoteButton)
        assert (rebuilt.entry_id, rebuilt.member_id, rebuilt.helpful) == (
            "too-busy",
            MEMBER,
            helpful,
        )


async def test_dismiss_round_trip() -> None:
    rebuilt = await round_trip(DismissButton("patient-privacy", MEMBER))
    assert isinstance(rebuilt, DismissButton)
    assert (rebuilt.entry_id, rebuilt.member_id) == ("patient-privacy", MEMBER)


async def test_suggestion_round_trip() -> None:
    rebuilt = await round_trip(SuggestionButton("tweet-chats", MEMBER, label="x" * 200))
    assert isinstance(rebuilt, SuggestionButton)
    assert (rebuilt.entry_id, rebuilt.member_id) == ("tweet-chats", MEMBER)


async def test_benefit_page_round_trip_with_odd_topic() -> None:
    rebuilt = await round_trip(BenefitPageButton(2, MEMBER, "career: growth", label="Next"))
    assert isinstance(rebuilt, BenefitPageButton)
    assert (rebuilt.page, rebuilt.owner_id, rebuilt.topic) == (2, MEMBER, "career: growth")
    rebuilt_all = await round_trip(BenefitPageButton(0, MEMBER, "", label="Prev"))
    assert isinstance(rebuilt_all, BenefitPageButton)
    assert rebuilt_all.topic == ""


async def test_page_counter_round_trip() -> None:
    await round_trip(PageCounter(1, 3))


def test_templates_do_not_overlap() -> None:
    samples = [
        VoteButton("a", 1, helpful=True).custom_id,
        DismissButton("a", 1).custom_id,
        SuggestionButton("a", 1).custom_id,
        BenefitPageButton(0, 1, "", label="x").custom_id,
        PageCounter(0, 1).custom_id,
    ]
    for custom_id in samples:
        hits = [
            c for c in dynamic_items() if c.__discord_ui_compiled_template__.fullmatch(custom_id)
        ]
        assert len(hits) == 1, custom_id


def test_answer_view_buttons() -> None:
    view = answer_view("too-busy", MEMBER)
    assert view is not None
    assert view.timeout is None
    ids = [cast(Any, c).custom_id for c in view.children]
    assert ids == [
        f"wt:v:y:too-busy:{MEMBER}",
        f"wt:v:n:too-busy:{MEMBER}",
        f"wt:x:too-busy:{MEMBER}",
    ]
    private = answer_view("too-busy", MEMBER, dismiss=False)
    assert private is not None
    assert len(private.children) == 2


def test_answer_view_refuses_ids_that_cannot_fit() -> None:
    assert answer_view("x" * 90, MEMBER) is None


def test_entry_ids_outside_the_scheme_are_rejected() -> None:
    with pytest.raises(ValueError, match="template"):
        VoteButton("Bad:Id", MEMBER, helpful=True)


# --------------------------------------------------------------------------- callbacks


@dataclass
class FakeResponse:
    sent: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False

    def is_done(self) -> bool:
        return self.done

    async def send_message(self, content: str | None = None, **kw: Any) -> None:
        self.sent.append({"content": content, **kw})
        self.done = True

    async def defer(self, **kw: Any) -> None:
        self.sent.append({"defer": True, **kw})
        self.done = True


@dataclass
class FakeMessage:
    id: int = 555
    deleted: bool = False

    async def delete(self) -> None:
        self.deleted = True


@dataclass
class FakeStorage:
    votes: dict[tuple[int, int], bool] = field(default_factory=dict)
    dismissed: list[int] = field(default_factory=list)
    dismissals: list[int] = field(default_factory=list)

    async def dismiss_context_answer(self, answer_message_id: int) -> bool:
        self.dismissed.append(answer_message_id)
        return False

    async def record_vote(
        self, *, message_id: int, entry_id: str, user_id: int, helpful: bool
    ) -> bool:
        key = (message_id, user_id)
        first = self.votes.get(key) != helpful
        self.votes[key] = helpful
        return first

    async def record_dismissal(self, *, message_id: int) -> bool:
        self.dismissals.append(message_id)
        return True


def interaction(user_id: int, *, manage_messages: bool = False, bot_in_guild: bool = True) -> Any:
    deleted_original: list[bool] = []

    async def delete_original_response() -> None:
        deleted_original.append(True)

    return SimpleNamespace(
        user=SimpleNamespace(id=user_id),
        permissions=discord.Permissions(manage_messages=manage_messages),
        response=FakeResponse(),
        followup=None,
        message=FakeMessage(),
        channel_id=1,
        guild_id=2,
        context=app_commands.AppCommandContext(guild=True),
        client=SimpleNamespace(
            storage=FakeStorage(), get_guild=lambda gid: object() if bot_in_guild else None
        ),
        delete_original_response=delete_original_response,
        deleted_original=deleted_original,
    )


async def test_vote_once_per_member() -> None:
    storage = FakeStorage()
    button = VoteButton("too-busy", MEMBER, helpful=False)
    replies = []
    for _ in range(2):
        i = interaction(42)
        i.client.storage = storage
        await button.callback(i)
        replies.append(i.response.sent[0])
    assert storage.votes == {(555, 42): False}
    assert all(r["ephemeral"] for r in replies)
    assert "already voted" not in replies[0]["content"]
    assert "already voted" in replies[1]["content"]


async def test_dismiss_by_answered_member_deletes() -> None:
    i = interaction(MEMBER)
    await DismissButton("too-busy", MEMBER).callback(i)
    assert i.message.deleted
    assert i.client.storage.dismissed == [i.message.id]  # never reposted from the menu
    assert i.client.storage.dismissals == [i.message.id]  # listed in /kb false-answers


async def test_dismiss_by_moderator_deletes() -> None:
    i = interaction(7, manage_messages=True)
    await DismissButton("too-busy", MEMBER).callback(i)
    assert i.message.deleted


async def test_dismiss_where_the_bot_is_not_deletes_through_the_interaction() -> None:
    i = interaction(MEMBER, bot_in_guild=False)  # a user install in a server without the bot
    await DismissButton("too-busy", MEMBER).callback(i)
    assert i.deleted_original == [True]
    assert not i.message.deleted  # no channel API call


async def test_dismiss_by_someone_else_is_refused() -> None:
    i = interaction(7)
    await DismissButton("too-busy", MEMBER).callback(i)
    assert not i.message.deleted
    assert i.client.storage.dismissed == []
    assert i.client.storage.dismissals == []
    assert i.response.sent[0]["ephemeral"] is True
    assert "Only the member" in i.response.sent[0]["content"]


async def test_page_turn_by_someone_else_is_refused() -> None:
    i = interaction(7)
    await BenefitPageButton(1, MEMBER, "", label="Next").callback(i)
    assert i.response.sent[0]["ephemeral"] is True


def test_template_regexes_are_anchored_by_fullmatch() -> None:
    pattern = VoteButton.__discord_ui_compiled_template__
    assert isinstance(pattern, re.Pattern)
    assert pattern.fullmatch(f"wt:v:y:too-busy:{MEMBER}:extra") is None
