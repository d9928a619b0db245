"""Slash commands in the user's language: discord.py's translator, from the catalogues.

Descriptions, option descriptions and choice names are translated (the catalogues'
``command`` entries, keyed by the English text); command, group and option names stay English, as
does the message command's name.
"""

from __future__ import annotations

import discord
from discord import app_commands

from . import command_text, language

_Where = app_commands.TranslationContextLocation
_TRANSLATED = (
    _Where.command_description,
    _Where.group_description,
    _Where.parameter_description,
    _Where.choice_name,
)


class CatalogueTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if context.location not in _TRANSLATED:
            return None
        lang = language(locale)
        return None if lang == "en" else command_text(lang, string.message)
