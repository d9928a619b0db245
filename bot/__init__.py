"""lstm-bot's Discord process: CLI, settings, client, database, services."""
