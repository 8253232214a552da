"""The home servers (``HOME_GUILD_IDS``): the only servers whose moderators may change the
knowledge base and the bot's settings (pure: no discord).

Anyone can add a public bot to a server they own and have Manage Server there; without this
rule, that owner could rewrite the answers the home server's members get.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HOME_UNSET", "MODERATOR_GROUPS", "NOT_HOME", "home_refusal", "kept_text"]

MODERATOR_GROUPS: Final = ("kb", "whytwitter")
"""The command groups registered in the home servers only."""
HOME_UNSET: Final = (
    "Knowledge-base and settings changes from Discord are off: the bot's operator must set "
    "HOME_GUILD_IDS (the servers whose moderators own the answers). Nothing was changed."
)
NOT_HOME: Final = (
    "This bot's knowledge base and settings are managed only in its home server; "
    "nothing was changed here."
)


def home_refusal(guild_id: int | None, home_guild_ids: frozenset[int]) -> str | None:
    """Why an interaction from ``guild_id`` (None: a DM) may not touch the knowledge base or
    the settings, or None when it comes from a home server."""
    if not home_guild_ids:
        return HOME_UNSET
    if guild_id is None or guild_id not in home_guild_ids:
        return NOT_HOME
    return None


def kept_text(guild_id: int | None, home_guild_ids: frozenset[int], text: str) -> str | None:
    """The answered message's text to store with its answer (for the home servers'
    moderators' ``/kb false-answers``): kept in the home servers and DMs only, None elsewhere
    (nobody there may review it)."""
    if guild_id is None or guild_id in home_guild_ids:
        return text
    return None
