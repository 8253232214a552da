"""whytwitter-bot: answers physicians' objections to Twitter with rebuttals and benefits."""

__version__ = "0.1.0"
