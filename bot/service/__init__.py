"""Pure services between the core (``bot.kb``, ``bot.matching``) and the cogs: no discord.

The cogs, the console and the CLI call these; each module does one job and is tested alone.
"""
