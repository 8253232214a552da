"""Forum posts: a new post in a watched forum is read as its title and first message together.

Discord opens a forum post with THREAD_CREATE (a thread whose ``parent_id`` is the forum), then
sends the post's first message as MESSAGE_CREATE in that thread with the thread's own id as the
message id. Only that starter message is read; replies in the post are ordinary thread messages.
Whether the forum is watched (``FORUM_CHANNEL_IDS``, or a forum added with ``/whytwitter channels
add``) is the gate's channel lookup's to say (``MessageFacts.forum_id``), as for any channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

__all__ = ["ForumPost", "forum_post", "is_post_starter", "post_text"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ForumPost:
    """A new forum post: its forum, its title and the text the bot reads."""

    forum_id: int
    title: str
    text: str


def is_post_starter(message: discord.Message) -> bool:
    """Whether ``message`` opens a forum (or media) post: only there does Discord give a message
    the id of the channel it is in."""
    return message.guild is not None and message.id == message.channel.id


def post_text(title: str, content: str) -> str:
    """What the matcher reads: the title, then the first message."""
    return "\n".join(part for part in (title.strip(), content.strip()) if part)


async def forum_post(client: discord.Client, message: discord.Message) -> ForumPost | None:
    """The post ``message`` starts, when it is in a forum; None otherwise.

    The thread normally comes from the cache (THREAD_CREATE arrives first); when the starter
    message arrives before it, the thread is fetched once.
    """
    if not is_post_starter(message):
        return None
    channel = message.channel
    if not isinstance(channel, discord.Thread):
        try:
            fetched = await client.fetch_channel(channel.id)
        except discord.HTTPException:
            log.debug("could not fetch the thread of post %s", message.id, exc_info=True)
            return None
        if not isinstance(fetched, discord.Thread):
            return None
        channel = fetched
    parent = channel.parent
    if parent is not None and not isinstance(parent, discord.ForumChannel):
        return None
    return ForumPost(channel.parent_id, channel.name, post_text(channel.name, message.content))
