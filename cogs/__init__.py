"""The features, one discord.py extension each (``bot.load_extension("cogs.models")``), each
owning its commands, services, views and texts: ``models``, ``training``, ``writing``,
``privacy``. A feature imports what ``bot`` shares, never another feature or ``cli``."""
