"""Cogs: thin Discord adapters over the pure core (loaded as extensions by the bot)."""
