"""Run a discord.py client against a ``FakeDiscord`` in the current event loop.

async with FakeDiscord(ack_timeout=0.5) as fake:
    guild = fake.add_guild("Guild A")
    async with running_bot(fake, bot):
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import discord

    from .server import FakeAddress, FakeDiscord

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound="discord.Client")


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord | FakeAddress,
    bot: ClientT,
    *,
    token: str = "fake-token",
    ready_timeout: float = 10.0,
    guild_ready_timeout: float = 0.05,
    compression: str | None = "zlib-stream",
) -> AsyncIterator[ClientT]:
    """Start ``bot`` against ``fake`` (starting the fake if needed), yield once it is ready,
    then close the bot and wait for its task. ``fake`` may be a ``FakeAddress``: a fake
    serving in another process.

    ``guild_ready_timeout`` replaces discord.py's 2 s wait for more GUILD_CREATEs after READY,
    so that tests do not idle. ``compression`` goes to ``FakeDiscord.patch_discord``: the
    default forces zlib-stream; ``None`` lets discord.py choose. The fake accepts any token.
    """
    if not fake.started:
        await fake.start()
    with fake.patch_discord(compression):
        bot._connection.guild_ready_timeout = guild_ready_timeout
        task = asyncio.create_task(bot.start(token), name="fake-discord-bot")
        startup_error: BaseException | None = None
        try:
            try:
                await _wait_ready(bot, task, ready_timeout)
            except BaseException as exc:
                startup_error = exc  # raised to the caller: not logged again below
                raise
            yield bot
        finally:
            await bot.close()
            try:
                await asyncio.wait_for(task, 10.0)
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # the test's own failure matters more
                if exc is not startup_error:
                    log.exception("bot task ended with an error")
            await _drain_bot_tasks()


async def _wait_ready(bot: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.is_ready():
        if task.done():
            task.result()  # raises the bot's startup error
            raise RuntimeError("the bot stopped before it was ready")
        if loop.time() > deadline:
            raise TimeoutError(f"bot not ready after {timeout}s")
        await asyncio.sleep(0.01)


async def _drain_bot_tasks(timeout: float = 2.0) -> None:
    """Let discord.py's leftover handler tasks (command invokers, view timeouts) finish."""
    current = asyncio.current_task()
    names = ("CommandTree-invoker", "discord.py:", "discord-ui-")
    pending = [
        t
        for t in asyncio.all_tasks()
        if t is not current and not t.done() and t.get_name().startswith(names)
    ]
    if not pending:
        return
    _, still = await asyncio.wait(pending, timeout=timeout)
    for t in still:
        t.cancel()
    if still:
        await asyncio.gather(*still, return_exceptions=True)
