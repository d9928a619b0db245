"""The writing cooldown: a turn is taken when a request is accepted, given back when it is
refused before anything was written, kept once the model writes (issue 18, finding 5)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from discord import app_commands

from bot.cooldown import WritingCooldown


def request(user_id: int = 1) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(id=user_id), extras={})


@pytest.fixture
def clock() -> list[float]:
    return [100.0]


@pytest.fixture
def cooldown(clock) -> WritingCooldown:
    return WritingCooldown(lambda: 60, clock=lambda: clock[0])


def test_a_refused_request_gives_its_turn_back(cooldown, clock):
    first = request()
    cooldown.check(first)
    cooldown.refund(first)
    clock[0] += 1
    second = request()
    cooldown.check(second)  # not on cooldown
    cooldown.spent(second)
    cooldown.refund(second)  # (too late: it wrote)
    with pytest.raises(app_commands.CommandOnCooldown):
        cooldown.check(request())


def test_a_refund_restores_the_use_before_and_never_a_later_one(cooldown, clock):
    used = request()
    cooldown.check(used)
    cooldown.spent(used)
    clock[0] += 61
    refused = request()
    cooldown.check(refused)
    clock[0] += 1
    cooldown.refund(refused)  # back to the use 62 s ago: free again
    cooldown.check(later := request())
    cooldown.refund(refused)  # twice: nothing more
    with pytest.raises(app_commands.CommandOnCooldown):
        cooldown.check(request())
    assert later.extras
