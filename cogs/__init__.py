"""The features, one discord.py extension each (``bot.load_extension("cogs.models")``), each
owning its commands, services and views (their texts are in ``bot/i18n``'s catalogues):
``models``, ``training``, ``writing``, ``privacy``. A feature imports what ``bot`` shares,
never another feature or ``cli``."""
