"""Slash command groups, one extension each: validate, call a service, format the reply."""
