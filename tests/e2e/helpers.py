"""What a user sees of an interaction: the final answer, and whether it was private."""

from __future__ import annotations

import asyncio
import contextlib


def reply(ix) -> str:
    """The text the user was finally shown: the latest followup, else @original's content."""
    return ix.followups[-1].content if ix.followups else (ix.content or "")


def private(ix) -> bool:
    """Only the user saw the answer: an ephemeral @original, or ephemeral followups after the
    public "thinking..." placeholder was deleted."""
    if not ix.followups:
        return ix.ephemeral
    original_gone = ix.original is None or ix.original.ephemeral or ix.original.deleted
    return original_gone and all(m.ephemeral for m in ix.followups)


async def answered(ix, timeout: float = 15.0):
    """Wait for the user's final answer: a reply, an edit of the placeholder, or (for a private
    error after a public placeholder) the placeholder's deletion and the ephemeral followup."""

    def final(i) -> bool:
        if i.original is not None and i.original.deleted:
            return bool(i.followups)
        return i.done

    await ix.wait_for(final, timeout, "the final answer")
    return ix


async def wait_until(predicate, timeout: float = 15.0, what: str = "a condition") -> None:
    """Poll ``predicate()`` (bot-side state the fake can't see change) until it holds."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


def hold_database(monkeypatch) -> asyncio.Event:
    """Make every database call of the bot (queries and transactions) wait until the returned
    event is set: a database slowed down by a burst."""
    from jobs.db import Database

    released = asyncio.Event()
    for name in ("execute", "fetchone", "fetchall"):
        method = getattr(Database, name)

        async def held(self, *args, _method=method, **kwargs):
            await released.wait()
            return await _method(self, *args, **kwargs)

        monkeypatch.setattr(Database, name, held)
    transaction = Database.transaction

    @contextlib.asynccontextmanager
    async def held_transaction(self):
        await released.wait()
        async with transaction(self) as conn:
            yield conn

    monkeypatch.setattr(Database, "transaction", held_transaction)
    return released
