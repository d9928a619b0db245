"""What the PostgreSQL engine asks of procrastinate, checked in procrastinate's own tables."""

from __future__ import annotations

import pytest

from jobs.errors import NameTaken
from jobs.postgres import TRAIN_TASK, PostgresQueue, Timings


@pytest.fixture
async def queue(pg_url):
    queue = await PostgresQueue.connect(pg_url, lease_seconds=60)
    try:
        yield queue
    finally:
        await queue.close()


async def submit(queue, name: str, **kw):
    job, _ = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name=name,
        corpus=b"text " * 200,
        params={},
        **kw,
    )
    return job


async def task(queue, task_id: int):
    return await queue.store.one(
        "SELECT status, task_name, queueing_lock, args, abort_requested"
        " FROM procrastinate_jobs WHERE id = ?",
        (task_id,),
    )


async def test_submit_defers_one_task_with_a_queueing_lock(queue) -> None:
    job = await submit(queue, "poet", dedupe_key="i-1")
    row = await task(queue, job.task_id)
    assert row["status"] == "todo" and row["task_name"] == TRAIN_TASK
    assert row["args"] == {"job_id": job.id} and row["queueing_lock"] == "train:1:poet"
    again, created = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="poet",
        corpus=b"x",
        params={},
        dedupe_key="i-1",
    )
    assert not created and again.task_id == job.task_id
    with pytest.raises(NameTaken):
        await submit(queue, "poet")
    count = await queue.store.one("SELECT COUNT(*) AS n FROM procrastinate_jobs")
    assert count["n"] == 1


async def test_cancel_cancels_or_aborts_the_task(queue) -> None:
    queued = await submit(queue, "one")
    await queue.request_cancel(queued.id)
    assert (await task(queue, queued.task_id))["status"] == "cancelled"
    running = await submit(queue, "two")
    await queue.store.exec(  # as procrastinate's fetch does, then ours
        "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = ?", (running.task_id,)
    )
    assert await queue.start(running.id, "w") is not None
    await queue.request_cancel(running.id)
    row = await task(queue, running.task_id)
    assert row["status"] == "doing" and row["abort_requested"]


async def test_jobs_no_task_would_run_get_a_new_one(queue) -> None:
    job = await submit(queue, "lost")
    kept = await submit(queue, "kept")
    # e.g. finished (and deleted) by a worker that had lost the job to another one
    await queue.store.exec("DELETE FROM procrastinate_jobs WHERE id = ?", (job.task_id,))
    assert await queue.requeue_orphans() == [job.id]
    fresh = await queue.get(job.id)
    assert fresh.task_id not in (None, job.task_id)
    row = await task(queue, fresh.task_id)
    assert row["status"] == "todo" and row["args"] == {"job_id": job.id}
    assert (await queue.get(kept.id)).task_id == kept.task_id
    assert await queue.requeue_orphans() == []


def test_a_dead_worker_is_noticed_within_a_minute_by_default() -> None:
    t = Timings.from_lease(60)
    assert (t.heartbeat, t.stalled_after, t.check_every) == (10, 30, 15)
    assert t.stalled_after + t.check_every < 60


async def test_ended_tasks_are_deleted_after_a_while(queue) -> None:
    cancelled = await submit(queue, "gone")
    await queue.request_cancel(cancelled.id)
    failed = await submit(queue, "broken")
    await queue.store.exec(
        "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = ?", (failed.task_id,)
    )
    waiting = await submit(queue, "waiting")
    assert await queue.delete_ended_tasks(older_than_hours=1) == 0  # not yet
    await queue.store.exec("UPDATE procrastinate_events SET at = at - interval '2 days'")
    assert await queue.delete_ended_tasks(older_than_hours=1) == 2
    rows = await queue.store.all("SELECT id FROM procrastinate_jobs")
    assert [r["id"] for r in rows] == [waiting.task_id]
