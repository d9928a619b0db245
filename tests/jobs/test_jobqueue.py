"""The embedded queue's dispatch: claims, leases, expiry, takeover, fencing, retries."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.db import bot_database
from jobs.errors import CancelRequested, LeaseLost
from jobs.reasons import Reason
from jobs.records import RESULT
from jobs.sqlite import SqliteQueue


async def submit(queue: SqliteQueue, n: int = 0, **kw: Any):
    args: dict[str, Any] = dict(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name=f"style-{n}",
        corpus=b"some text " * 100,
        params={"effort": "quick"},
        dedupe_key=f"interaction-{n}",
    )
    args.update(kw)
    job, created = await queue.submit(**args)
    return job


async def test_position_and_listing(queue: SqliteQueue) -> None:
    jobs = [await submit(queue, n) for n in range(3)]
    assert [await queue.position(j.id) for j in jobs] == [1, 2, 3]
    lease = await queue.claim("w1")
    assert lease is not None and lease.job_id == jobs[0].id
    assert await queue.position(jobs[0].id) is None
    assert [await queue.position(j.id) for j in jobs[1:]] == [1, 2]
    await queue.request_cancel(jobs[1].id)
    assert await queue.position(jobs[2].id) == 1
    listed = await queue.list_for_guild(1, limit=2)
    assert [j.id for j in listed] == [jobs[2].id, jobs[1].id]


async def test_concurrent_claimers_never_share_a_job(tmp_path: Path, queue: SqliteQueue) -> None:
    for n in range(12):
        await submit(queue, n)
    # Two connections, as two worker processes would have.
    path = tmp_path / "bot.sqlite3"
    async with bot_database(path) as db_a, bot_database(path) as db_b:
        qa, qb = SqliteQueue(db_a), SqliteQueue(db_b)

        async def drain(q: SqliteQueue, name: str) -> list[int]:
            got = []
            while (lease := await q.claim(name)) is not None:
                got.append(lease.job_id)
            return got

        results = await asyncio.gather(drain(qa, "a"), drain(qb, "b"), drain(qa, "c"))
    claimed = [job_id for got in results for job_id in got]
    assert sorted(claimed) == list(range(1, 13))
    assert len(set(claimed)) == 12


async def test_expired_lease_is_reclaimed_and_old_worker_is_fenced(queue, clock) -> None:
    job = await submit(queue)
    old = await queue.claim("w1")
    assert old is not None and old.attempt == 1
    assert (await queue.heartbeat(old)).held
    assert await queue.claim("w2") is None  # lease still valid
    clock.advance(31)
    new = await queue.claim("w2")
    assert new is not None and new.job_id == job.id and new.attempt == 2
    assert new.token != old.token
    # The old worker can no longer write anything.
    hb = await queue.heartbeat(old)
    assert not hb.held
    with pytest.raises(LeaseLost):
        await queue.add_event(old, "progress", {"step": 1})
    with pytest.raises(LeaseLost):
        await queue.save_checkpoint(old, 1, {"state.json": b"{}"})
    with pytest.raises(LeaseLost):
        await queue.complete(old, {"card.json": b"{}"}, {})
    with pytest.raises(LeaseLost):
        await queue.fail(old, Reason("unexpected"), retryable=True)
    with pytest.raises(LeaseLost):
        await queue.release(old)
    events = await queue.events_after(job.id)
    assert [e.kind for e in events] == ["retry"]
    assert events[0].payload["attempt"] == 2
    # The new holder can.
    await queue.complete(new, {"card.json": b"{}"}, {"sample": "x"})
    done = await queue.get(job.id)
    assert done is not None and done.status == "succeeded" and done.model_id is None
    assert await queue.files(job.id, RESULT) == {"card.json": b"{}"}
    assert not (await queue.heartbeat(new)).held  # a finished job has no lease


async def test_retry_with_backoff_then_failed_with_reason(queue, clock) -> None:
    job = await submit(queue)
    lease = await queue.claim("w")
    after = await queue.fail(lease, Reason("temporary"), retryable=True)
    assert after.status == "queued" and clock.now + 5 <= after.not_before <= clock.now + 10
    assert await queue.claim("w") is None  # backoff not over
    clock.advance(10)
    lease = await queue.claim("w")
    assert lease is not None and lease.attempt == 2
    after = await queue.fail(lease, Reason("temporary"), retryable=True)
    assert clock.now + 10 <= after.not_before <= clock.now + 20  # doubled
    clock.advance(20)
    lease = await queue.claim("w")
    after = await queue.fail(lease, Reason("temporary"), retryable=True)
    assert after.status == "failed" and after.error == Reason("temporary").english()
    assert after.error_code == "temporary"
    events = await queue.events_after(job.id)
    assert [e.kind for e in events] == ["retry", "retry", "failed"]
    assert 5 <= events[0].payload["retry_in"] <= 10 and 10 <= events[1].payload["retry_in"] <= 20


async def test_dead_worker_out_of_attempts_fails_with_reason(queue, clock) -> None:
    job = await submit(queue)
    for _ in range(3):
        assert await queue.claim("w") is not None
        clock.advance(31)  # the worker dies each time
    assert await queue.claim("w") is None
    failed = await queue.get(job.id)
    assert failed.status == "failed" and "stopped responding" in failed.error
    assert failed.error_code == "worker_gave_up"
    taken_over = [e for e in await queue.events_after(job.id) if e.kind == "retry"]
    assert [e.payload["code"] for e in taken_over] == ["worker_unresponsive"] * 2
    assert (await queue.events_after(job.id))[-1].kind == "failed"


async def test_cancel_queued_and_running(queue, clock) -> None:
    queued = await submit(queue, 0)
    running = await submit(queue, 1)
    await queue.request_cancel(running.id)  # still queued then: cancelled at once
    assert (await queue.get(running.id)).status == "cancelled"

    job = await submit(queue, 2)
    await queue.request_cancel(queued.id)
    lease = await queue.claim("w")
    assert lease.job_id == job.id
    assert not (await queue.heartbeat(lease)).cancel_requested
    state = await queue.request_cancel(job.id)
    assert state.status == "running" and state.cancel_requested
    assert (await queue.heartbeat(lease)).cancel_requested
    with pytest.raises(CancelRequested):  # finished training meanwhile: store nothing
        await queue.complete(lease, {"card.json": b"{}"}, {})
    await queue.finish_cancelled(lease)
    assert (await queue.get(job.id)).status == "cancelled"
    assert await queue.files(job.id, RESULT) == {}
    assert (await queue.events_after(job.id))[-1].payload == {
        "reason": "cancelled",
        "during": "running",
    }
    # A cancelled running job whose worker died is settled, not re-run.
    job = await submit(queue, 3)
    await queue.claim("w")
    await queue.request_cancel(job.id)
    clock.advance(31)
    assert await queue.claim("w") is None
    assert (await queue.get(job.id)).status == "cancelled"


async def test_release_keeps_attempts_and_requeues(queue) -> None:
    job = await submit(queue)
    lease = await queue.claim("w")
    released = await queue.release(lease)
    assert released.status == "queued" and released.attempts == 0
    again = await queue.claim("w")
    assert again.job_id == job.id and again.attempt == 1
