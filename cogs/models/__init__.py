"""The models feature (one extension): ``/model list | info | default | delete``.

``commands`` holds the cog, ``embeds`` the list pages and model cards, ``views`` the pager
and the delete dialog, ``deletion`` the service that deletes a model everywhere it is held.
"""

from __future__ import annotations

from bot.client import LSTMBot

from .commands import Models


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Models(bot))
