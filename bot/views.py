"""Buttons that keep working across restarts: every button is a ``discord.ui.DynamicItem``
whose ``custom_id`` carries all the state it needs (nothing is kept in memory per message).

custom_id schemes (each at most 100 characters):

- ``wt:v:<y|n>:<entry>:<member>``  Helpful / Not helpful on an answer to ``member``
- ``wt:x:<entry>:<member>``        Dismiss (the answered member, or Manage Messages)
- ``wt:p:<entry>:<member>``        "Did you mean" choice offered to ``member``
- ``wt:b:<page>:<owner>:<topic>``  /benefits page turner (``topic`` empty for all)
- ``wt:n:<page>``                  the page counter (disabled; never dispatched in practice)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import discord
from discord import ui

from bot.cards import answer_card, benefit_pages
from bot.embeds import card_embed, truncate
from bot.installs import bot_reaches_channel
from bot.kb.model import Entry, KnowledgeBase

if TYPE_CHECKING:
    from bot.service.live import LiveKnowledge
    from bot.storage import Storage

__all__ = [
    "BenefitPageButton",
    "ConfirmTexts",
    "ConfirmView",
    "DismissButton",
    "OwnedView",
    "PageCounter",
    "ProposalView",
    "SuggestionButton",
    "VoteButton",
    "answer_view",
    "benefits_message",
    "dynamic_items",
    "send_ephemeral",
    "suggestion_view",
]

log = logging.getLogger(__name__)

CUSTOM_ID_MAX: Final = 100
LABEL_MAX: Final = 80
_ENTRY = r"[a-z0-9][a-z0-9-]*"
_ID = r"[0-9]{1,20}"


class Services(Protocol):
    """What the buttons need from the bot (``interaction.client``)."""

    @property
    def storage(self) -> Storage: ...
    @property
    def knowledge(self) -> LiveKnowledge: ...


def _services(interaction: discord.Interaction[Any]) -> Services:
    client: Services = interaction.client
    return client


async def _guarded(
    interaction: discord.Interaction[Any], what: str, action: Callable[[], Awaitable[None]]
) -> None:
    """Run a button's action; on an unexpected error log it and tell the member politely."""
    try:
        await action()
    except discord.NotFound:
        log.debug("%s: the message or interaction is gone", what)
    except Exception:
        log.exception(
            "%s failed (user %s, channel %s)", what, interaction.user.id, interaction.channel_id
        )
        await send_ephemeral(interaction, "Sorry, something went wrong. Please try again later.")


async def send_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Say ``text`` to the member alone (a follow-up once the interaction was answered); a
    failure to say it is logged, not raised."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.debug("could not send an ephemeral notice", exc_info=True)


class VoteButton(
    ui.DynamicItem[ui.Button[Any]],
    template=rf"wt:v:(?P<v>[yn]):(?P<entry>{_ENTRY}):(?P<member>{_ID})",
):
    """*Helpful* / *Not helpful*: one vote per member per entry per UTC day, however many
    answer messages of the entry the member presses it on."""

    def __init__(self, entry_id: str, member_id: int, *, helpful: bool) -> None:
        self.entry_id = entry_id
        self.member_id = member_id
        self.helpful = helpful
        super().__init__(
            ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"wt:v:{'y' if helpful else 'n'}:{entry_id}:{member_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["entry"], int(match["member"]), helpful=match["v"] == "y")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def action() -> None:
            message = interaction.message
            if message is None:  # pragma: no cover - component interactions carry the message
                return
            first = await _services(interaction).storage.record_vote(
                message_id=message.id,
                entry_id=self.entry_id,
                user_id=interaction.user.id,
                helpful=self.helpful,
            )
            if not first:
                text = (
                    "You already voted that way on this answer today: your vote is already "
                    "counted (one vote per answer per member a day)."
                )
            elif self.helpful:
                text = "Thanks, glad it helped!"
            else:
                text = "Thanks for telling us. Moderators use this to improve the answers."
            log.info(
                "vote %s on %s (message %s) by %s: %s",
                "helpful" if self.helpful else "not helpful",
                self.entry_id,
                message.id,
                interaction.user.id,
                "recorded" if first else "repeat",
            )
            await interaction.response.send_message(text, ephemeral=True)

        await _guarded(interaction, "vote", action)


class DismissButton(
    ui.DynamicItem[ui.Button[Any]], template=rf"wt:x:(?P<entry>{_ENTRY}):(?P<member>{_ID})"
):
    """*Dismiss*: deletes the answer; only the answered member or someone with Manage Messages."""

    def __init__(self, entry_id: str, member_id: int) -> None:
        self.entry_id = entry_id
        self.member_id = member_id
        super().__init__(
            ui.Button(
                label="Dismiss",
                emoji="🗑️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"wt:x:{entry_id}:{member_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> DismissButton:
        return cls(match["entry"], int(match["member"]))

    def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        """The answered member, or a member with Manage Messages in this channel."""
        return interaction.user.id == self.member_id or interaction.permissions.manage_messages

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def action() -> None:
            if not self.allowed(interaction):
                log.info(
                    "dismiss of %s refused for %s (answered %s)",
                    self.entry_id,
                    interaction.user.id,
                    self.member_id,
                )
                await interaction.response.send_message(
                    "Only the member this answered, or someone who can manage messages, "
                    "can dismiss it.",
                    ephemeral=True,
                )
                return
            await interaction.response.defer()
            message = interaction.message
            if message is None:  # pragma: no cover
                return
            if not bot_reaches_channel(interaction):
                # A user install where the bot is not: only the interaction reaches the message.
                await interaction.delete_original_response()
            else:
                try:
                    await message.delete()  # the bot's own message: no permission needed
                except discord.Forbidden:
                    await interaction.delete_original_response()
            log.info(
                "answer %s (%s) dismissed by %s", message.id, self.entry_id, interaction.user.id
            )
            # A context-menu answer that was dismissed is not posted again for that message.
            await _services(interaction).storage.dismiss_context_answer(message.id)
            # For the moderators' /kb false-answers.
            await _services(interaction).storage.record_dismissal(message_id=message.id)

        await _guarded(interaction, "dismiss", action)


class SuggestionButton(
    ui.DynamicItem[ui.Button[Any]], template=rf"wt:p:(?P<entry>{_ENTRY}):(?P<member>{_ID})"
):
    """One "did you mean" choice: the asker gets the message turned into the answer;
    anyone else gets the answer privately."""

    def __init__(self, entry_id: str, member_id: int, label: str = "Show this answer") -> None:
        self.entry_id = entry_id
        self.member_id = member_id
        super().__init__(
            ui.Button(
                label=truncate(label, LABEL_MAX),
                style=discord.ButtonStyle.primary,
                custom_id=f"wt:p:{entry_id}:{member_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        return cls(match["entry"], int(match["member"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def action() -> None:
            services = _services(interaction)
            kb = services.knowledge.kb
            entry = kb.get(self.entry_id)
            if entry is None:
                await interaction.response.send_message(
                    "That answer is no longer available. Try `/ask` again.", ephemeral=True
                )
                return
            message = interaction.message
            ephemeral = bool(message and message.flags.ephemeral)
            if interaction.user.id == self.member_id:
                embed, view = answer_message(
                    kb, entry, member_id=self.member_id, ephemeral=ephemeral
                )
                await interaction.response.edit_message(content=None, embed=embed, view=view)
            else:
                embed, view = answer_message(
                    kb, entry, member_id=interaction.user.id, ephemeral=True
                )
                await interaction.response.send_message(
                    embed=embed, view=view or discord.utils.MISSING, ephemeral=True
                )
            await services.storage.record_answer(
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id or 0,
                entry_id=entry.id,
                via="button",
                message_id=message.id if message else None,
            )

        await _guarded(interaction, "suggestion", action)


class BenefitPageButton(
    ui.DynamicItem[ui.Button[Any]],
    template=rf"wt:b:(?P<page>[0-9]{{1,3}}):(?P<owner>{_ID}):(?P<topic>.*)",
):
    """Previous / Next on a paged /benefits message; only its owner turns the pages."""

    def __init__(
        self, page: int, owner_id: int, topic: str, *, label: str, disabled: bool = False
    ) -> None:
        self.page = page
        self.owner_id = owner_id
        self.topic = topic
        super().__init__(
            ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"wt:b:{page}:{owner_id}:{topic}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> BenefitPageButton:
        return cls(int(match["page"]), int(match["owner"]), match["topic"], label="page")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def action() -> None:
            if interaction.user.id != self.owner_id:
                await interaction.response.send_message(
                    "Only the member who ran `/benefits` can turn these pages. "
                    "Run `/benefits private:true` to browse them yourself.",
                    ephemeral=True,
                )
                return
            kb = _services(interaction).knowledge.kb
            embed, view = benefits_message(
                kb, topic=self.topic or None, page=self.page, owner_id=self.owner_id
            )
            await interaction.response.edit_message(embed=embed, view=view)

        await _guarded(interaction, "benefits page", action)


class PageCounter(ui.DynamicItem[ui.Button[Any]], template=r"wt:n:(?P<page>[0-9]{1,3})"):
    """The disabled "2/3" label between the page buttons."""

    def __init__(self, page: int, total: int) -> None:
        super().__init__(
            ui.Button(
                label=f"{page + 1}/{total}",
                style=discord.ButtonStyle.secondary,
                disabled=True,
                custom_id=f"wt:n:{page}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> PageCounter:
        return cls(int(match["page"]), int(match["page"]) + 1)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()


def dynamic_items() -> tuple[type[ui.DynamicItem[Any]], ...]:
    """Every button class, for ``Client.add_dynamic_items``."""
    return (VoteButton, DismissButton, SuggestionButton, BenefitPageButton, PageCounter)


def _fits(entry_id: str, member_id: int) -> bool:
    return len(f"wt:v:y:{entry_id}:{member_id}") <= CUSTOM_ID_MAX


def answer_view(entry_id: str, member_id: int, *, dismiss: bool = True) -> ui.View | None:
    """Helpful / Not helpful (and Dismiss) for an answer to ``member_id``; None if the ids
    cannot fit in a custom_id."""
    if not _fits(entry_id, member_id):
        log.warning("entry id %r is too long for buttons; answer sent without them", entry_id)
        return None
    view = ui.View(timeout=None)
    view.add_item(VoteButton(entry_id, member_id, helpful=True))
    view.add_item(VoteButton(entry_id, member_id, helpful=False))
    if dismiss:
        view.add_item(DismissButton(entry_id, member_id))
    return view


def answer_message(
    kb: KnowledgeBase, entry: Entry, *, member_id: int, ephemeral: bool = False
) -> tuple[discord.Embed, ui.View | None]:
    """The answer embed and its buttons (no Dismiss on ephemeral messages)."""
    return card_embed(answer_card(kb, entry)), answer_view(
        entry.id, member_id, dismiss=not ephemeral
    )


def suggestion_view(entries: Sequence[Entry], member_id: int) -> ui.View:
    """Up to three "did you mean" buttons, labelled with the entries' titles."""
    view = ui.View(timeout=None)
    for entry in entries[:3]:
        if not _fits(entry.id, member_id):
            continue
        view.add_item(SuggestionButton(entry.id, member_id, label=entry.title))
    return view


def benefits_message(
    kb: KnowledgeBase, *, topic: str | None, page: int, owner_id: int
) -> tuple[discord.Embed, ui.View | None]:
    """Page ``page`` of /benefits (clamped) and its page buttons (None for a single page)."""
    cards = benefit_pages(kb, topic)
    if not cards:
        raise ValueError(f"no benefits for topic {topic!r}")
    page = min(max(page, 0), len(cards) - 1)
    embed = card_embed(cards[page])
    topic_key = topic or ""
    if len(cards) == 1 or len(f"wt:b:999:{owner_id}:{topic_key}") > CUSTOM_ID_MAX:
        return embed, None
    view = ui.View(timeout=None)
    view.add_item(
        BenefitPageButton(
            max(page - 1, 0), owner_id, topic_key, label="◀ Previous", disabled=page == 0
        )
    )
    view.add_item(PageCounter(page, len(cards)))
    view.add_item(
        BenefitPageButton(
            min(page + 1, len(cards) - 1),
            owner_id,
            topic_key,
            label="Next ▶",
            disabled=page == len(cards) - 1,
        )
    )
    return embed, view


@dataclass(frozen=True, slots=True)
class ConfirmTexts:
    """What a :class:`ConfirmView` or a :class:`ProposalView` says."""

    not_owner: str
    """To anyone but the member who asked."""
    finished: str
    """To a press after the view is done."""
    cancelled: str
    expired: str
    """Shown when the buttons expire unused (if the view knows its message)."""
    cancel_label: str = "Keep"


Guard = Callable[[discord.Interaction[Any]], str | None]
"""Why a press is refused before anything else (e.g. outside a home server), or None."""


class OwnedView(ui.View):
    """Two buttons only ``owner_id`` may press (``guard`` may refuse a press first); they
    expire, and say so on the message when the view knows it."""

    def __init__(
        self, owner_id: int, *, texts: ConfirmTexts, timeout: float, guard: Guard | None = None
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.texts = texts
        self.guard = guard
        self.message: discord.InteractionMessage | discord.WebhookMessage | None = None
        self.done = False

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        refusal = self.guard(interaction) if self.guard is not None else None
        if refusal is None and interaction.user.id != self.owner_id:
            refusal = self.texts.not_owner
        if refusal is not None:
            log.info("%s pressed a button of %s: refused", interaction.user.id, self.owner_id)
            await interaction.response.send_message(refusal, ephemeral=True)
            return False
        return True

    def _finish(self) -> None:
        self.done = True
        self.stop()
        for item in self.children:
            if isinstance(item, ui.Button):
                item.disabled = True

    async def on_timeout(self) -> None:
        if self.done or self.message is None:
            return
        self._finish()
        try:
            await self.message.edit(content=self.texts.expired, view=self)
        except discord.HTTPException:
            log.debug("could not mark expired buttons", exc_info=True)


class ConfirmView(OwnedView):
    """Delete / Keep (or Cancel) before deleting something.

    ``action`` does the deletion and returns the text the message then shows.
    """

    def __init__(
        self,
        owner_id: int,
        action: Callable[[discord.Interaction[Any]], Awaitable[str]],
        *,
        texts: ConfirmTexts,
        timeout: float,
        guard: Guard | None = None,
    ) -> None:
        super().__init__(owner_id, texts=texts, timeout=timeout, guard=guard)
        self.action = action
        self.cancel.label = texts.cancel_label

    @ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        if self.done:
            await interaction.response.send_message(self.texts.finished, ephemeral=True)
            return
        self._finish()
        text = await self.action(interaction)
        await interaction.response.edit_message(content=text, view=self)

    @ui.button(label="Keep", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        self._finish()
        await interaction.response.edit_message(content=self.texts.cancelled, view=self)


class ProposalView(OwnedView):
    """Apply / Cancel under a knowledge-base change preview (only its moderator may press).

    ``apply`` writes the change and returns the text sent after it (the buttons are disabled
    first, as writing and reloading take a moment).
    """

    def __init__(
        self,
        owner_id: int,
        apply: Callable[[discord.Interaction[Any]], Awaitable[str]],
        *,
        what: str,
        timeout: float,
        guard: Guard | None = None,
    ) -> None:
        texts = ConfirmTexts(
            not_owner="Only the moderator who made this preview can apply or cancel it.",
            finished="This preview is finished.",
            cancelled=f"{what} cancelled: nothing was changed.",
            expired=f"{what} expired: nothing was changed. Run the command again.",
            cancel_label="Cancel",
        )
        super().__init__(owner_id, texts=texts, timeout=timeout, guard=guard)
        self.apply_change = apply

    @ui.button(label="Apply", style=discord.ButtonStyle.success)
    async def apply(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        if self.done:
            await interaction.response.send_message(self.texts.finished, ephemeral=True)
            return
        self._finish()
        await interaction.response.edit_message(view=self)
        text = await self.apply_change(interaction)
        await interaction.followup.send(text, ephemeral=True)

    @ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        self._finish()
        await interaction.response.edit_message(content=self.texts.cancelled, view=self)
