"""The command line and the offline console, above ``bot/`` and ``worker/``: ``lstm-bot``
(``python -m cli``) trains, evaluates and lists models, runs, syncs and migrates the bot, starts
a worker and opens the console (``console.py``: the real bot against ``fake_discord``)."""
