"""Where the app is installed, and what the bot can reach from an interaction.

Servers add the app with its bot (a *guild install*); members can also add it to their own
account (a *user install*) and use the member commands (``/ask``, ``/benefits``,
``/objections``) in DMs and in any server, including servers the bot is not in. There Discord
lets the app answer only through the interaction (its response and at most 5 follow-ups): the
bot cannot read or post in the channel with its own token.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import discord
from discord import app_commands

__all__ = ["SERVER_ONLY", "bot_reaches_channel", "member_command"]

T = TypeVar("T")

SERVER_ONLY: Final = app_commands.AppInstallationType(guild=True, user=False)
"""The tree's default: a command is installed with the server unless it opts in to more."""


def member_command(command: T) -> T:
    """Make a member command usable from a user install too: in servers (with or without the
    bot), in DMs with the app and in group DMs."""
    command = app_commands.allowed_installs(guilds=True, users=True)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)


def bot_reaches_channel(interaction: discord.Interaction[Any]) -> bool:
    """Whether the bot itself can use the channel the interaction came from.

    False in group DMs and DMs between other users, and in a server the bot is not a member
    of (the app is there only through a member's account): only the interaction's own
    responses reach those channels.
    """
    if interaction.context.private_channel:
        return False
    if interaction.guild_id is None:
        return True  # a DM with the bot
    return interaction.client.get_guild(interaction.guild_id) is not None
