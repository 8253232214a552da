"""The catalogue: ``/benefits [topic] [private]`` (paged, topic autocomplete) and
``/objections``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import fuzz, process, utils

from bot.cards import objections_card
from bot.embeds import card_embed, escape_user_text
from bot.installs import member_command
from bot.views import benefits_message

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)

MAX_CHOICES: Final = 25


def topic_choices(topics: list[str], current: str, *, limit: int = MAX_CHOICES) -> list[str]:
    """Topics for autocomplete: fuzzy-ranked against ``current`` (all, sorted, when empty)."""
    query = current.strip().lower()
    if not query:
        return sorted(topics)[:limit]
    ranked = process.extract(
        query,
        topics,
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=60,
    )
    prefix = [t for t in topics if t.lower().startswith(query)]
    ordered = prefix + [choice for choice, _score, _index in ranked if choice not in prefix]
    return ordered[:limit]


def resolve_topic(topics: list[str], value: str) -> str | None:
    """The topic ``value`` names (case-insensitive), or None if it names none."""
    wanted = value.strip().lower()
    for topic in topics:
        if topic.lower() == wanted:
            return topic
    return None


class Catalog(commands.Cog):
    """What the bot knows: benefits and objections."""

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot

    @member_command
    @app_commands.command(
        name="benefits", description="The 15 ways Twitter is worth a physician's time"
    )
    @app_commands.describe(
        topic="Show only the benefits about this topic",
        private="Only you see the list (default: no)",
    )
    async def benefits(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        topic: app_commands.Range[str, 1, 100] | None = None,
        private: bool = False,
    ) -> None:
        """Benefits as an embed, paged with buttons when they don't fit one."""
        kb = self.bot.knowledge.kb
        chosen: str | None = None
        if topic is not None:
            topics = kb.topics()
            chosen = resolve_topic(topics, topic)
            if chosen is None:
                await interaction.response.send_message(
                    f"I don't know the topic “{escape_user_text(topic, 100)}”. "
                    f"Valid topics: {', '.join(f'`{t}`' for t in topics)}.",
                    ephemeral=True,
                )
                return
        embed, view = benefits_message(kb, topic=chosen, page=0, owner_id=interaction.user.id)
        await interaction.response.send_message(
            embed=embed, view=view or discord.utils.MISSING, ephemeral=private
        )

    @benefits.autocomplete("topic")
    async def benefits_topic(
        self, interaction: discord.Interaction[WhyTwitterBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Up to 25 topics, fuzzy-matched to what the member typed."""
        topics = self.bot.knowledge.kb.topics()
        return [app_commands.Choice(name=t, value=t) for t in topic_choices(topics, current)]

    @member_command
    @app_commands.command(
        name="objections", description="The objections to Twitter the bot can answer"
    )
    @app_commands.describe(private="Only you see the list (default: no)")
    async def objections(
        self, interaction: discord.Interaction[WhyTwitterBot], private: bool = False
    ) -> None:
        """The list of known objections, so members can discover what to ask."""
        embed = card_embed(objections_card(self.bot.knowledge.kb))
        await interaction.response.send_message(embed=embed, ephemeral=private)


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Catalog(bot))
