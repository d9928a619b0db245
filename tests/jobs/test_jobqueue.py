"""The durable job queue: dedupe, claims, leases, fencing, retries, cancel, position."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.db import bot_database
from jobs.db import Database
from jobs.errors import CancelRequested, LeaseLost, NameTaken, QuotaExceeded
from jobs.records import Limits
from jobs.sqlite import JobQueue


async def submit(queue: JobQueue, n: int = 0, **kw: Any):
    args: dict[str, Any] = dict(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name=f"style-{n}",
        corpus_path=f"/tmp/corpus-{n}.txt",
        corpus_bytes=1000,
        params={"effort": "quick"},
        dedupe_key=f"interaction-{n}",
    )
    args.update(kw)
    job, created = await queue.submit(**args)
    return job


async def test_submit_dedupe_returns_existing_job(queue: JobQueue) -> None:
    first, created = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="poe",
        corpus_path="/c",
        corpus_bytes=10,
        params={"effort": "quick"},
        dedupe_key="i-42",
    )
    again, created_again = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="poe",
        corpus_path="/c",
        corpus_bytes=10,
        params={"effort": "quick"},
        dedupe_key="i-42",
    )
    assert created and not created_again
    assert again.id == first.id and again.params == {"effort": "quick"}
    assert await queue.active_jobs_for_user(3) == 1
    assert await queue.active_jobs_for_guild(1) == 1
    assert await queue.corpus_bytes_for_guild(1) == 10


async def test_submit_quotas_and_names(queue: JobQueue, db: Database) -> None:
    limits = Limits(max_jobs_per_user=2, max_jobs_per_guild=3, max_corpus_bytes_per_guild=2500)
    await submit(queue, 0, limits=limits)
    await submit(queue, 1, limits=limits)
    with pytest.raises(QuotaExceeded, match="you already have 2"):
        await submit(queue, 2, limits=limits)
    with pytest.raises(QuotaExceeded, match="uploaded texts"):
        await submit(queue, 2, user_id=4, limits=limits)
    with pytest.raises(NameTaken):
        await submit(queue, 3, model_name="style-0", user_id=5)  # an unfinished job's name
    await db.execute(
        "INSERT INTO models (name, guild_id, card, path, created_at)"
        " VALUES ('nietzsche', 0, '{}', '/x', '')"
    )
    with pytest.raises(NameTaken):
        await submit(queue, 4, model_name="nietzsche", user_id=5)  # a built-in's name


async def test_position_and_listing(queue: JobQueue) -> None:
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


async def test_concurrent_claimers_never_share_a_job(tmp_path: Path, queue: JobQueue) -> None:
    for n in range(12):
        await submit(queue, n)
    # Two connections, as two worker processes would have.
    path = tmp_path / "bot.sqlite3"
    async with bot_database(path) as db_a, bot_database(path) as db_b:
        qa, qb = JobQueue(db_a), JobQueue(db_b)

        async def drain(q: JobQueue, name: str) -> list[int]:
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
        await queue.complete(old, card={}, path="/models/x")
    with pytest.raises(LeaseLost):
        await queue.fail(old, "boom", retryable=True)
    with pytest.raises(LeaseLost):
        await queue.release(old)
    events = await queue.events_after(job.id)
    assert [e.kind for e in events] == ["retry"]
    assert events[0].payload["attempt"] == 2
    # The new holder can.
    model_id = await queue.complete(new, card={"name": "style-0"}, path="/models/y")
    done = await queue.get(job.id)
    assert done is not None and done.status == "succeeded" and done.model_id == model_id
    assert not (await queue.heartbeat(new)).held  # a finished job has no lease


async def test_retry_with_backoff_then_failed_with_reason(queue, clock) -> None:
    job = await submit(queue)
    lease = await queue.claim("w")
    after = await queue.fail(lease, "the disk was full", retryable=True)
    assert after.status == "queued" and after.not_before == clock.now + 10
    assert await queue.claim("w") is None  # backoff not over
    clock.advance(10)
    lease = await queue.claim("w")
    assert lease is not None and lease.attempt == 2
    after = await queue.fail(lease, "the disk was full", retryable=True)
    assert after.not_before == clock.now + 20  # doubled
    clock.advance(20)
    lease = await queue.claim("w")
    after = await queue.fail(lease, "the disk was full again", retryable=True)
    assert after.status == "failed" and after.error == "the disk was full again"
    kinds = [(e.kind, e.payload.get("retry_in")) for e in await queue.events_after(job.id)]
    assert kinds == [("retry", 10), ("retry", 20), ("failed", None)]


async def test_non_retryable_failure_is_final(queue) -> None:
    job = await submit(queue)
    lease = await queue.claim("w")
    after = await queue.fail(lease, "the text is too short", retryable=False)
    assert after.status == "failed" and after.attempts == 1
    assert (await queue.get(job.id)).error == "the text is too short"


async def test_dead_worker_out_of_attempts_fails_with_reason(queue, clock) -> None:
    job = await submit(queue)
    for _ in range(3):
        assert await queue.claim("w") is not None
        clock.advance(31)  # the worker dies each time
    assert await queue.claim("w") is None
    failed = await queue.get(job.id)
    assert failed.status == "failed" and "stopped responding" in failed.error
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
    with pytest.raises(CancelRequested):  # finished training meanwhile: publish nothing
        await queue.complete(lease, card={}, path="/m")
    await queue.finish_cancelled(lease)
    assert (await queue.get(job.id)).status == "cancelled"
    assert await queue.db.fetchone("SELECT 1 FROM models") is None
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


async def test_events_reporting_and_progress_pruning(queue) -> None:
    job = await submit(queue)
    lease = await queue.claim("w")
    await queue.add_event(lease, "started", {"resumed_from_epoch": 0})
    p1 = await queue.add_event(lease, "progress", {"step": 1})
    await queue.set_progress_message(job.id, 555)
    assert [j.id for j in await queue.jobs_to_report()] == [job.id]
    await queue.mark_reported(job.id, p1)
    p2 = await queue.add_event(lease, "progress", {"step": 2})  # prunes reported progress
    events = await queue.events_after(job.id)
    assert [e.kind for e in events] == ["started", "progress"] and events[1].id == p2
    assert [e.id for e in await queue.events_after(job.id, p1)] == [p2]
    await queue.complete(lease, card={}, path="/m")
    last = (await queue.events_after(job.id))[-1]
    assert last.kind == "succeeded"
    got = await queue.get(job.id)
    assert got.progress_message_id == 555
    assert [j.id for j in await queue.jobs_to_report()] == [job.id]  # unreported events
    await queue.mark_reported(job.id, last.id)
    assert await queue.jobs_to_report() == []


async def test_complete_refuses_a_name_taken_meanwhile(queue, db) -> None:
    job = await submit(queue)
    lease = await queue.claim("w")
    await db.execute(
        "INSERT INTO models (name, guild_id, card, path, created_at)"
        " VALUES ('style-0', 1, '{}', '/x', '')"
    )
    with pytest.raises(NameTaken):
        await queue.complete(lease, card={}, path="/m")
    assert (await queue.get(job.id)).status == "running"  # the caller fails it
    rows = await db.fetchall("SELECT path FROM models")
    assert [r["path"] for r in rows] == ["/x"]
