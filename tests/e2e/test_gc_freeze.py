"""The bot hides its startup objects from the cyclic garbage collector, once per process."""

from __future__ import annotations

import gc

from bot import client


def test_startup_objects_are_frozen_once(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(client, "_frozen", False)
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    client.freeze_startup_objects()
    client.freeze_startup_objects()  # (a second bot in the same process: nothing more)
    assert calls == ["collect", "freeze"]


async def test_a_started_bot_has_frozen_its_startup_objects(env):
    assert client._frozen
    assert gc.get_freeze_count() > 0
