"""The one opening of every moderator command (``/kb``, ``/whytwitter``); not an extension.

Only the home servers (``HOME_GUILD_IDS``) own the knowledge base and the bot's settings: the
moderator groups are registered as guild commands there only (globally when
``HOME_GUILD_IDS`` is unset, to say so), and every command, button press and autocomplete
from any other server or a DM is refused at run time. Moderators are members of a home server
with Manage Server or a role in ``MODERATOR_ROLE_IDS``. The groups carry
``default_permissions(manage_guild=True)`` so Discord hides them from others, and every
command checks again at run time (admins can re-grant commands in Integrations).

:class:`ModeratorCog` runs that check before each of its commands (``interaction_check``):
a refusal is one ephemeral line (:class:`bot.bot.Refused`), and a command declared with
``extras=THINKS`` is deferred (ephemeral "thinking…") once admitted. So a command's body only
parses its options, calls a service and renders the result.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import Refused
from bot.service.home import NOT_HOME, home_refusal

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

__all__ = [
    "MODERATORS_ONLY",
    "THINKS",
    "ModeratorCog",
    "home_guild",
    "is_moderator",
    "moderator_group",
    "refusal",
]

log = logging.getLogger(__name__)

MODERATORS_ONLY: Final = (
    "Moderators only: you need **Manage Server** or a moderator role to use this command."
)
THINKS: Final = {"defer": True}
"""``extras`` of a command whose reply takes a moment: the check defers it (ephemeral)."""


def moderator_group(name: str, description: str) -> app_commands.Group:
    """A moderator command group: a guild command, hidden by Discord from members without
    Manage Server (``default_permissions``; checked again at run time)."""
    return app_commands.Group(
        name=name,
        description=description,
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )


def is_moderator(
    user: discord.abc.User, permissions: discord.Permissions, role_ids: frozenset[int]
) -> bool:
    """Manage Server (in the guild or in the channel's computed permissions) or a moderator
    role; never in DMs."""
    if not isinstance(user, discord.Member):
        return False
    if permissions.manage_guild or user.guild_permissions.manage_guild:
        return True
    return any(role.id in role_ids for role in user.roles)


def refusal(interaction: discord.Interaction[Any]) -> str | None:
    """Why ``interaction`` may not use a moderator command, button or autocomplete (outside a
    home server, or not a moderator), or None when it may."""
    settings = interaction.client.settings
    why = home_refusal(interaction.guild_id, settings.home_guild_ids)
    if why is not None:
        return why
    if not is_moderator(interaction.user, interaction.permissions, settings.moderator_role_ids):
        return MODERATORS_ONLY
    return None


def home_guild(interaction: discord.Interaction[Any]) -> int:
    """The home server a moderator command runs in (the check admitted it)."""
    if interaction.guild_id is None:
        raise Refused(NOT_HOME)
    return interaction.guild_id


class ModeratorCog(commands.Cog):
    """A cog of moderator commands: each runs only for a home server's moderators."""

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Refuse (one ephemeral line, a warning in the log) or admit, deferring a command
        declared with ``extras=THINKS``."""
        why = refusal(interaction)
        command = interaction.command
        if why is not None:
            name = command.qualified_name if command else "?"
            reason = "not a moderator" if why == MODERATORS_ONLY else "not a home server"
            log.warning(
                "refused /%s for %s (%s) in guild %s: %s",
                name,
                interaction.user,
                interaction.user.id,
                interaction.guild_id,
                reason,
            )
            raise Refused(why)
        if command is not None and command.extras.get("defer"):
            await interaction.response.defer(ephemeral=True, thinking=True)
        return True
