"""Answers: objections in answer channels, mentions, DMs, ``/ask`` and the
"Answer this objection" message context menu.

Thin: message → facts → gate (``bot.service.gate``) → reply (``bot.service.replies``) →
embed and buttons → send → record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import suggestions_text
from bot.embeds import escape_user_text
from bot.forums import ForumPost, forum_post, is_post_starter
from bot.installs import member_command
from bot.service.gate import GateDecision, MessageFacts, Reason
from bot.service.home import kept_text
from bot.service.replies import MAX_QUESTION, Reply, ReplyKind
from bot.views import answer_message, suggestion_view

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot
    from bot.kb.model import Entry, KnowledgeBase
    from bot.storage import ContextAnswer

log = logging.getLogger(__name__)

NO_ANSWER: Final = (
    "I don't have an answer for that yet. Try `/benefits` to see what Twitter offers."
)
MENTION_HINT: Final = (
    "Tell me what holds you back from Twitter, e.g. `@{name} I'm too busy`, or try `/benefits`."
)
SLOW_DOWN: Final = "Slow down a little: try again in {wait}."
"""The private answer to a member over their budget (mentions and DMs get no reply)."""
ALREADY_ANSWERED: Final = (
    "That message already has a public answer: {url}\nHere it is just for you."
)
ANSWER_DISMISSED: Final = (
    "That message was answered publicly and the answer was dismissed, so here it is just for you."
)
BEING_ANSWERED: Final = "Someone is answering that message right now; here it is just for you."
NOT_CONFIDENT: Final = "I don't have a confident answer for that message."
TRY_LISTS: Final = "Try `/benefits` or `/objections` to see what I know."
CONTEXT_WAIT: Final = 2.0
"""Seconds a context-menu run waits for another run answering the same message (Discord
wants a response within 3 s)."""
SEEN_MESSAGES: Final = 4096
"""How many recent message ids are remembered to ignore events Discord delivers twice."""


def slow_down_text(decision: GateDecision) -> str:
    """The private refusal for a member over budget: try again in N s (N min from two
    minutes on)."""
    seconds = max(1, math.ceil(decision.retry_after))
    wait = f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"
    return SLOW_DOWN.format(wait=wait)


def jump_url(guild_id: int | None, channel_id: int, message_id: int) -> str:
    """The link that opens a message in Discord (``@me`` for DMs), as ``Message.jump_url``."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply as Discord sends it (``None``: not part of this message)."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None


def direct_message(
    kb: KnowledgeBase, reply: Reply, *, member_id: int, ephemeral: bool = False
) -> Outgoing:
    """What a member asking directly (mention, DM, ``/ask``) sees: the answer's embed and
    buttons, the "did you mean" list and buttons, or "no answer yet"."""
    if reply.entry is not None:
        embed, view = answer_message(kb, reply.entry, member_id=member_id, ephemeral=ephemeral)
        return Outgoing(embed=embed, view=view)
    if reply.suggestions:
        return Outgoing(
            suggestions_text(reply.suggestions), view=suggestion_view(reply.suggestions, member_id)
        )
    return Outgoing(NO_ANSWER)


def menu_refusal(reply: Reply, *, member_id: int) -> Outgoing:
    """What the context menu tells its invoker privately when it has no answer to give."""
    if not reply.suggestions:
        return Outgoing(f"{NOT_CONFIDENT}\n{TRY_LISTS}")
    return Outgoing(
        f"{NOT_CONFIDENT}\n{suggestions_text(reply.suggestions)}",
        view=suggestion_view(reply.suggestions, member_id),
    )


class RecentIds:
    """A bounded set of recently seen ids (oldest forgotten first)."""

    def __init__(self, capacity: int = SEEN_MESSAGES) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[int, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: int) -> bool:
        """Remember ``item``; False when it was already there (a duplicate)."""
        if item in self._ids:
            return False
        self._ids[item] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True


def mention_pattern(user_id: int, role_ids: Iterable[int] = ()) -> re.Pattern[str]:
    """Matches ``<@id>`` / ``<@!id>`` mentions of the bot, and ``<@&role>`` of its own
    (managed) roles: Discord's @-autocomplete often offers the bot's role instead of the bot."""
    alternatives = [rf"@!?{user_id}", *(rf"@&{role_id}" for role_id in role_ids)]
    return re.compile(rf"<(?:{'|'.join(alternatives)})>")


def own_role_ids(message: discord.Message) -> list[int]:
    """The ids of the bot's managed (integration) roles in the message's guild."""
    me = message.guild.me if message.guild else None
    return [role.id for role in me.roles if role.managed] if me is not None else []


def needed_permissions(channel: discord.abc.Messageable) -> tuple[str, ...]:
    """The permission names a reply with an embed needs in ``channel``."""
    in_thread = isinstance(channel, discord.Thread)
    return (
        "view_channel",
        "send_messages_in_threads" if in_thread else "send_messages",
        "embed_links",
        "read_message_history",
    )


class Answers(commands.Cog):
    """Replies to objections wherever members raise them."""

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot
        self._warned_channels: set[int] = set()
        # A RESUME may replay MESSAGE_CREATE events already handled (Discord re-sends what it
        # did not see acknowledged): answer each message id once.
        self._seen = RecentIds()
        # Target messages the context menu is answering publicly right now (set when done).
        self._context_in_flight: dict[int, asyncio.Event] = {}
        self.context_menu = app_commands.ContextMenu(
            name="Answer this objection", callback=self.answer_this
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.context_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.context_menu.name, type=self.context_menu.type)

    # ---------------------------------------------------------------- messages

    def _facts(
        self,
        message: discord.Message,
        *,
        content: str,
        addressed: bool = False,
        forum_id: int | None = None,
    ) -> MessageFacts:
        me = self.bot.user
        return MessageFacts(
            author_id=message.author.id,
            channel_id=message.channel.id,
            guild_id=message.guild.id if message.guild else None,
            content=content,
            author_is_bot=message.author.bot,
            is_webhook=message.webhook_id is not None,
            is_self=me is not None and message.author.id == me.id,
            is_system=message.is_system(),
            forum_id=forum_id,
            addressed=addressed,
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.id == me.id:
            return
        if not self._seen.add(message.id):
            log.debug("ignoring message %s delivered twice", message.id)
            return
        pattern = mention_pattern(me.id, own_role_ids(message))
        is_dm = message.guild is None
        mentioned = bool(pattern.search(message.content))
        if is_dm or mentioned:
            text = pattern.sub(" ", message.content).strip()
            facts = self._facts(message, content=text, addressed=True)
            verdict = self.bot.gate.screen(facts, now=time.monotonic())
            if verdict:
                await self._answer_directly(message, text, via="dm" if is_dm else "mention")
            elif verdict.reason is Reason.EMPTY:
                await self._send(message, content=MENTION_HINT.format(name=me.display_name))
            else:
                log.debug("not answering %s: %s", message.id, verdict.reason)
            return
        if is_post_starter(message):
            await self._forum_answer(message)
            return
        await self._channel_answer(message)

    async def _forum_answer(self, message: discord.Message) -> None:
        """A new post in a watched forum: answered like a channel message, in the post."""
        post = await forum_post(self.bot, message)
        if post is not None:
            await self._channel_answer(message, post=post)

    async def _channel_answer(
        self, message: discord.Message, *, post: ForumPost | None = None
    ) -> None:
        """The one unprompted path: in answer channels, and for new posts in watched forums
        (``post``: its title and first message are read; the post's thread is the channel)."""
        gate = self.bot.gate
        content = message.content if post is None else post.text
        facts = self._facts(
            message, content=content, forum_id=post.forum_id if post is not None else None
        )
        # Cheap rules first (no database or matcher for bots, commands, short messages), then
        # whether this channel is answered, and with which cooldowns.
        screened = await gate.screen_channel(facts, now=time.monotonic())
        if not screened:
            return
        # The sentence encoder takes milliseconds: off the event loop, which keeps serving
        # Discord (and its rate-limit headers) meanwhile.
        snapshot, reply = await self.bot.ask(content)
        if reply.entry is None:
            return
        entry = reply.entry
        # The clock is read after the awaits above, so answers sent meanwhile are compared
        # with the time they were sent; until this answer is sent, its cooldowns are held.
        with gate.hold(facts, entry.id, now=time.monotonic(), config=screened.config) as held:
            if not held:
                log.debug("not answering %s in %s: %s", entry.id, facts.channel_id, held.reason)
                return
            if not self._can_send(message.channel):
                return
            embed, view = answer_message(snapshot.kb, entry, member_id=message.author.id)
            sent = await self._send(message, embed=embed, view=view)
            if sent is None:
                return
            held.sent(time.monotonic())
        await self._record(
            reply,
            via="channel" if post is None else "forum",
            guild_id=facts.guild_id,
            channel_id=facts.channel_id,
            user_id=facts.author_id,
            message_id=sent.id,
        )
        log.info("answered %s in channel %s (message %s)", entry.id, facts.channel_id, message.id)

    async def _answer_directly(self, message: discord.Message, text: str, *, via: str) -> None:
        snapshot, reply = await self.bot.ask(text)
        out = direct_message(snapshot.kb, reply, member_id=message.author.id)
        sent = await self._send(message, content=out.content, embed=out.embed, view=out.view)
        if sent is None and reply.kind is ReplyKind.ANSWER:
            return  # an answer counts once it was sent (a question without one regardless)
        await self._record(
            reply,
            via=via,
            guild_id=message.guild.id if message.guild else None,
            channel_id=message.channel.id,
            user_id=message.author.id,
            message_id=sent.id if sent is not None else None,
        )

    async def _record(
        self,
        reply: Reply,
        *,
        via: str,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        message_id: int | None = None,
    ) -> None:
        """Record an answer given (``via``), or a question without one; suggestions are not
        recorded."""
        if reply.entry is not None:
            await self.bot.storage.record_answer(
                guild_id=guild_id,
                channel_id=channel_id or 0,
                entry_id=reply.entry.id,
                via=via,
                message_id=message_id,
                text=self._kept(guild_id, reply.question),
                user_id=user_id,
            )
        elif reply.kind is ReplyKind.SILENT:
            await self.bot.record_unanswered(
                guild_id=guild_id, channel_id=channel_id, user_id=user_id, text=reply.question
            )

    def _can_send(self, channel: discord.abc.Messageable) -> bool:
        """Whether the bot may reply with an embed here (logs the first refusal per channel)."""
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return True
        guild = channel.guild
        me = guild.me
        if me is None:
            return True
        perms = channel.permissions_for(me)
        missing = [name for name in needed_permissions(channel) if not getattr(perms, name)]
        if missing:
            self._warn_channel(channel.id, missing)
            return False
        return True

    def _warn_channel(self, channel_id: int, missing: list[str]) -> None:
        if channel_id in self._warned_channels:
            return
        self._warned_channels.add(channel_id)
        log.warning(
            "cannot answer in channel %s: missing permission(s) %s",
            channel_id,
            ", ".join(missing) or "unknown",
        )

    async def _send(
        self,
        message: discord.Message,
        *,
        content: str | None = None,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> discord.Message | None:
        """Reply to ``message`` without pinging; None when it could not be sent."""
        try:
            return await message.reply(
                content=content,
                embed=embed or discord.utils.MISSING,
                view=view or discord.utils.MISSING,
                mention_author=False,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.NotFound:
            log.debug("message %s vanished before the reply", message.id)
        except discord.Forbidden:
            missing = [
                name
                for name in needed_permissions(message.channel)
                if isinstance(message.channel, discord.abc.GuildChannel | discord.Thread)
                and message.guild is not None
                and message.guild.me is not None
                and not getattr(message.channel.permissions_for(message.guild.me), name)
            ]
            self._warn_channel(message.channel.id, missing)
        except discord.HTTPException:
            log.exception("replying to message %s in %s failed", message.id, message.channel.id)
        return None

    # ---------------------------------------------------------------- /ask

    @member_command
    @app_commands.command(name="ask", description="Ask the bot about an objection to Twitter")
    @app_commands.describe(
        question="What holds you (or a colleague) back from Twitter?",
        private="Only you see the answer (default: no)",
    )
    async def ask(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        question: app_commands.Range[str, 1, MAX_QUESTION],
        private: bool = False,
    ) -> None:
        """Same as mentioning the bot; ``private`` answers ephemerally."""
        if not await self._admit(interaction):
            return
        await self._respond(interaction, question, ephemeral=private, via="ask")

    async def _admit(self, interaction: discord.Interaction[WhyTwitterBot]) -> bool:
        """Spend one request of the member's budget; when over it, say so privately."""
        verdict = self.bot.gate.request(interaction.user.id, now=time.monotonic())
        if not verdict:
            log.debug("%s is over budget (%.0f s)", interaction.user.id, verdict.retry_after)
            await interaction.response.send_message(slow_down_text(verdict), ephemeral=True)
        return verdict.answer

    async def _respond(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        text: str,
        *,
        ephemeral: bool,
        via: str,
    ) -> None:
        snapshot, reply = await self.bot.ask(text)
        out = direct_message(snapshot.kb, reply, member_id=interaction.user.id, ephemeral=ephemeral)
        await interaction.response.send_message(
            out.content,
            embed=out.embed or discord.utils.MISSING,
            view=out.view or discord.utils.MISSING,
            ephemeral=ephemeral,
        )
        await self._record(
            reply,
            via=via,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
        )

    def _kept(self, guild_id: int | None, text: str) -> str | None:
        """The answered text to store (home servers and DMs only; see ``kept_text``)."""
        return kept_text(guild_id, self.bot.settings.home_guild_ids, text)

    # ---------------------------------------------------------------- context menu

    async def answer_this(
        self, interaction: discord.Interaction[WhyTwitterBot], message: discord.Message
    ) -> None:
        """Reply publicly to ``message`` with its best answer, or tell the invoker privately.

        A message gets one public answer: later runs answer privately with a link to it.
        """
        if not await self._admit(interaction):
            return
        snapshot, reply = await self.bot.ask(message.content.strip())
        kb = snapshot.kb
        entry = reply.entry
        if entry is None:
            out = menu_refusal(reply, member_id=interaction.user.id)
            await interaction.response.send_message(
                out.content, view=out.view or discord.utils.MISSING, ephemeral=True
            )
            if reply.question:
                # The question is the target message's: its author may have it deleted.
                await self.bot.record_unanswered(
                    guild_id=interaction.guild_id,
                    channel_id=interaction.channel_id,
                    user_id=message.author.id,
                    text=reply.question,
                )
            return

        running = self._context_in_flight.get(message.id)
        if running is not None:
            # Another run is answering this message: wait for it, then link to its answer.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.wait(), CONTEXT_WAIT)
            previous = await self.bot.storage.context_answer(message.id)
            note = BEING_ANSWERED if previous is None else _repeat_note(previous)
            await self._answer_privately(interaction, kb, entry, note)
            return
        done = self._context_in_flight[message.id] = asyncio.Event()
        try:
            previous = await self.bot.storage.context_answer(message.id)
            if previous is not None:
                await self._answer_privately(interaction, kb, entry, _repeat_note(previous))
                return
            await self._answer_publicly(interaction, message, kb, reply, entry)
        finally:
            del self._context_in_flight[message.id]
            done.set()

    async def _answer_privately(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        kb: KnowledgeBase,
        entry: Entry,
        note: str,
    ) -> None:
        embed, view = answer_message(kb, entry, member_id=interaction.user.id, ephemeral=True)
        await interaction.response.send_message(
            note, embed=embed, view=view or discord.utils.MISSING, ephemeral=True
        )

    async def _answer_publicly(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        message: discord.Message,
        kb: KnowledgeBase,
        reply: Reply,
        entry: Entry,
    ) -> None:
        embed, buttons = answer_message(kb, entry, member_id=message.author.id)
        perms = interaction.app_permissions
        can_reply = all(getattr(perms, name) for name in needed_permissions(message.channel))
        if can_reply:
            await interaction.response.defer(ephemeral=True, thinking=True)
            try:
                sent = await message.reply(
                    embed=embed,
                    view=buttons or discord.utils.MISSING,
                    mention_author=False,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except discord.NotFound:
                await interaction.followup.send("That message was deleted.", ephemeral=True)
                return
            except discord.Forbidden:
                self._warn_channel(message.channel.id, [])
                await interaction.followup.send(
                    "I can't reply in this channel (missing permissions).", ephemeral=True
                )
                return
            # Recorded before the note, so a later run already sees this public answer.
            await self._record_public(interaction, message, reply, sent.channel.id, sent.id)
            await interaction.followup.send(f"Answered: {sent.jump_url}", ephemeral=True)
        else:
            # No channel permissions needed for an interaction response.
            callback = await interaction.response.send_message(
                f"Answering {escape_user_text(message.author.display_name, 80)}'s message "
                f"{message.jump_url}",
                embed=embed,
                view=buttons or discord.utils.MISSING,
            )
            channel_id = interaction.channel_id or message.channel.id
            await self._record_public(interaction, message, reply, channel_id, callback.message_id)

    async def _record_public(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        target: discord.Message,
        reply: Reply,
        channel_id: int,
        answer_id: int | None,
    ) -> None:
        """Record the context menu's public answer ``answer_id`` to ``target``."""
        if answer_id is not None:
            await self.bot.storage.record_context_answer(
                target_message_id=target.id,
                guild_id=interaction.guild_id,
                channel_id=channel_id,
                answer_message_id=answer_id,
            )
        await self._record(
            reply,
            via="context",
            guild_id=interaction.guild_id,
            channel_id=target.channel.id,
            user_id=target.author.id,
            message_id=answer_id,
        )


def _repeat_note(previous: ContextAnswer) -> str:
    """What a later run of the context menu says about the message's public answer."""
    if previous.dismissed:
        return ANSWER_DISMISSED
    url = jump_url(previous.guild_id, previous.channel_id, previous.answer_message_id)
    return ALREADY_ANSWERED.format(url=url)


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Answers(bot))
