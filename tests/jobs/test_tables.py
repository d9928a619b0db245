"""The job tables' operations, the same on every engine: submit, quotas, events, blobs,
checkpoints, results and their import marks, fencing."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.blobs import BlobError
from jobs.errors import LeaseLost, NameTaken, QueueUnavailable, QuotaExceeded
from jobs.reasons import Reason
from jobs.records import BASE, CHECKPOINT, CORPUS, RESULT, BaseModel, Limits

CORPUS_BYTES = b"some text " * 100


@pytest.fixture
def queue(any_queue):
    """Every test here runs on both engines."""
    return any_queue


async def submit(queue, n: int = 0, **kw: Any):
    args: dict[str, Any] = dict(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name=f"style-{n}",
        corpus=CORPUS_BYTES,
        params={"effort": "quick"},
        dedupe_key=f"interaction-{n}",
    )
    args.update(kw)
    job, created = await queue.submit(**args)
    return job


async def test_the_submitters_language_is_kept_with_the_job(queue) -> None:
    """The bot writes a job's messages in the language of the member who queued it."""
    job = await submit(queue, 1, locale="pt-BR")
    assert job.locale == "pt-BR" and (await queue.get(job.id)).locale == "pt-BR"
    assert (await submit(queue, 2)).locale is None  # older callers: English


async def test_a_reason_is_kept_in_english_and_as_a_code(queue, take, clock) -> None:
    """The job row and its events carry why it was retried or failed: the English sentence
    (CLI, logs, older bots) and the code with its parameters (the bot translates it)."""
    job = await submit(queue)
    await queue.fail(await take(queue), Reason("temporary"), retryable=True)
    retried = await queue.get(job.id)
    assert (retried.status, retried.error_code, retried.error_params) == ("queued", "temporary", {})
    clock.advance(3600)
    await queue.release(await take(queue))
    clock.advance(3600)
    missing = Reason("base_missing", {"name": "poe"})
    await queue.fail(await take(queue), missing, retryable=False)
    failed = await queue.get(job.id)
    assert failed.error == "the base model 'poe' is not installed on the training worker"
    assert (failed.error_code, failed.error_params) == ("base_missing", {"name": "poe"})
    events = [e for e in await queue.events_after(job.id) if e.kind != "started"]
    assert [(e.kind, e.payload["code"], e.payload["params"]) for e in events] == [
        ("retry", "temporary", {}),
        ("released", "worker_stopped", {}),
        ("failed", "base_missing", {"name": "poe"}),
    ]
    assert events[1].payload["reason"] == "the worker shut down"
    assert events[2].payload["reason"] == failed.error


async def test_an_import_failure_has_a_code_and_success_clears_it(queue, take, clock) -> None:
    await submit(queue, 1)
    lease = await take(queue)
    await queue.fail(lease, Reason("temporary"), retryable=True)
    job = await queue.get(lease.job_id)
    assert job.error_code == "temporary"
    clock.advance(3600)
    done = await queue.complete(await take(queue), {"card.json": b"{}"}, {})
    assert (done.error, done.error_code, done.error_params) == (None, None, None)
    await queue.fail_import(done.id, Reason("name_taken_meanwhile", {"name": "style-1"}))
    failed = await queue.get(done.id)
    assert failed.error_code == "name_taken_meanwhile" and "'style-1'" in failed.error
    assert failed.error_params == {"name": "style-1"}
    (event,) = [e for e in await queue.events_after(done.id) if e.kind == "failed"]
    assert event.payload["code"] == "name_taken_meanwhile"


async def test_submit_dedupe_returns_existing_job(queue) -> None:
    first, created = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="poe",
        corpus=b"0123456789",
        params={"effort": "quick"},
        dedupe_key="i-42",
    )
    again, created_again = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="poe",
        corpus=b"0123456789",
        params={"effort": "quick"},
        dedupe_key="i-42",
    )
    assert created and not created_again
    assert again.id == first.id and again.params == {"effort": "quick"}
    assert await queue.active_jobs_for_user(3) == 1
    assert await queue.active_jobs_for_guild(1) == 1
    assert await queue.corpus_bytes_for_guild(1) == 10
    assert await queue.files(first.id, CORPUS) == {"corpus.txt": b"0123456789"}


async def test_submit_quotas_and_names(queue) -> None:
    limits = Limits(max_jobs_per_user=2, max_jobs_per_guild=3, max_corpus_bytes_per_guild=2500)
    await submit(queue, 0, limits=limits)
    await submit(queue, 1, limits=limits)
    with pytest.raises(QuotaExceeded, match="you already have 2"):
        await submit(queue, 2, limits=limits)
    with pytest.raises(QuotaExceeded, match="uploaded texts"):
        await submit(queue, 2, user_id=4, limits=limits)
    with pytest.raises(NameTaken):
        await submit(queue, 3, model_name="style-0", user_id=5)  # an unfinished job's name
    other_guild = await submit(queue, 4, model_name="style-0", guild_id=9)
    assert other_guild.guild_id == 9


async def test_base_model_by_name_or_by_files(queue) -> None:
    builtin = await submit(queue, 0, base=BaseModel("nietzsche", checksum="ab" * 32))
    assert (builtin.base_model, builtin.base_checksum) == ("nietzsche", "ab" * 32)
    assert await queue.files(builtin.id, BASE) == {}
    files = {"weights.npz": b"w", "charset.json": b"[]", "card.json": b"{}"}
    own = await submit(queue, 1, base=BaseModel("mine", files=files))
    assert (own.base_model, own.base_checksum) == ("mine", None)
    assert await queue.files(own.id, BASE) == files


async def test_blobs_are_checked_when_read(queue) -> None:
    job = await submit(queue)
    await queue.store.exec(
        "UPDATE job_blob_parts SET data = ? WHERE job_id = ?", (b"x" * 1000, job.id)
    )
    with pytest.raises(BlobError, match="checksum"):
        await queue.files(job.id, CORPUS)
    await queue.store.exec("UPDATE job_blobs SET size = 5 WHERE job_id = ?", (job.id,))
    with pytest.raises(BlobError, match="truncated"):
        await queue.files(job.id, CORPUS)
    with pytest.raises(BlobError, match="unsafe name"):
        await queue.submit(
            guild_id=1,
            channel_id=2,
            user_id=3,
            model_name="evil",
            corpus=b"text",
            params={},
            base=BaseModel("x", files={"../../etc/passwd": b"x"}),
        )


async def test_events_reporting_and_progress_pruning(queue, take) -> None:
    job = await submit(queue)
    lease = await take(queue)
    await queue.add_event(lease, "started", {"resumed_from_epoch": 0})
    p1 = await queue.add_event(lease, "progress", {"step": 1})
    await queue.set_progress_message(job.id, 555)
    assert [j.id for j in await queue.jobs_to_report()] == [job.id]
    await queue.mark_reported(job.id, p1)
    p2 = await queue.add_event(lease, "progress", {"step": 2})  # prunes reported progress
    events = await queue.events_after(job.id)
    assert [e.kind for e in events] == ["started", "progress"] and events[1].id == p2
    assert [e.id for e in await queue.events_after(job.id, p1)] == [p2]
    await queue.complete(lease, {"card.json": b"{}"}, {"card": {"name": "style-0"}})
    last = (await queue.events_after(job.id))[-1]
    assert last.kind == "succeeded" and last.payload["card"] == {"name": "style-0"}
    got = await queue.get(job.id)
    assert got.progress_message_id == 555
    assert [j.id for j in await queue.jobs_to_report()] == [job.id]  # unreported events
    await queue.mark_reported(job.id, last.id)
    assert await queue.jobs_to_report() == []


async def test_checkpoints_replace_each_other_and_go_with_the_job(queue, take) -> None:
    job = await submit(queue, base=BaseModel("mine", files={"card.json": b"{}"}))
    lease = await take(queue)
    await queue.save_checkpoint(lease, 1, {"state.json": b"1", "best.npz": b"b1"})
    await queue.save_checkpoint(lease, 2, {"state.json": b"2"})
    assert (await queue.get(job.id)).checkpoint_epoch == 2
    assert await queue.files(job.id, CHECKPOINT) == {"state.json": b"2"}
    await queue.complete(lease, {"card.json": b"{}"}, {})
    assert await queue.files(job.id, CHECKPOINT) == {}  # inputs dropped when it ends
    assert await queue.files(job.id, BASE) == {}
    assert await queue.files(job.id, CORPUS) != {}  # the bot decides about the upload


async def test_import_marks_are_once_only(queue, take) -> None:
    done = await submit(queue, 0)
    lost = await submit(queue, 1)
    for _ in range(2):
        lease = await take(queue)
        await queue.complete(lease, {"card.json": b"{}"}, {})
    assert [j.id for j in await queue.jobs_to_import()] == [done.id, lost.id]
    await queue.mark_imported(done.id, 77)
    await queue.fail_import(lost.id, Reason("name_taken_meanwhile", {"name": "style-1"}))
    assert await queue.jobs_to_import() == []
    assert (await queue.get(done.id)).model_id == 77
    failed = await queue.get(lost.id)
    assert failed.status == "failed" and "in the meantime" in failed.error
    assert await queue.files(done.id, RESULT) == {} == await queue.files(lost.id, RESULT)
    await queue.fail_import(done.id, Reason("result_damaged"))  # an imported job stays imported
    assert (await queue.get(done.id)).status == "succeeded"


async def test_corpus_deletion_and_reporting_give_up(queue, take) -> None:
    job = await submit(queue)
    lease = await take(queue)
    await queue.fail(
        lease, Reason("bad_text", {"detail": "the text is too short"}), retryable=False
    )
    assert [j.id for j in await queue.finished_with_corpus()] == [job.id]
    await queue.delete_corpus(job.id)
    assert await queue.finished_with_corpus() == []
    assert (await queue.get(job.id)).corpus_deleted
    assert await queue.corpus_bytes_for_guild(1) == 0
    assert [j.id for j in await queue.jobs_to_report()] == [job.id]
    await queue.give_up_reporting(job.id)
    assert await queue.jobs_to_report() == []
    assert (await queue.get(job.id)).report_failed_at is not None


async def test_a_finished_job_refuses_worker_writes(queue, take) -> None:
    await submit(queue)
    lease = await take(queue)
    await queue.fail(
        lease, Reason("bad_text", {"detail": "the text is too short"}), retryable=False
    )
    with pytest.raises(LeaseLost):
        await queue.add_event(lease, "progress", {"step": 1})
    with pytest.raises(LeaseLost):
        await queue.save_checkpoint(lease, 1, {"state.json": b"{}"})


async def test_files_download_piece_by_piece_checked_and_stoppable(
    queue, take, tmp_path, monkeypatch
) -> None:
    from jobs.errors import DownloadStopped

    monkeypatch.setattr(queue.store, "chunk_bytes", 7, raising=False)
    job = await submit(queue)
    got = await queue.download(job.id, CORPUS, tmp_path / "a")
    assert got == {"corpus.txt": tmp_path / "a" / "corpus.txt"}
    assert got["corpus.txt"].read_bytes() == CORPUS_BYTES
    asked = []
    with pytest.raises(DownloadStopped):  # asked between pieces: cancel reaches a download
        await queue.download(
            job.id, CORPUS, tmp_path / "b", stop=lambda: len(asked) > 3 or asked.append(1)
        )
    assert len(asked) == 4
    await queue.store.exec("UPDATE job_blobs SET sha256 = ? WHERE job_id = ?", ("0" * 64, job.id))
    with pytest.raises(BlobError, match="checksum"):
        await queue.download(job.id, CORPUS, tmp_path / "c")


async def test_a_checkpoint_is_replaced_in_place(queue, take) -> None:
    job = await submit(queue)
    lease = await take(queue)
    await queue.save_checkpoint(lease, 1, {"a.bin": b"1", "b.bin": b"1"})
    await queue.save_checkpoint(lease, 2, {"a.bin": b"22"})
    assert await queue.files(job.id, CHECKPOINT) == {"a.bin": b"22"}
    assert (await queue.get(job.id)).checkpoint_epoch == 2


async def test_each_bot_process_is_offered_the_jobs_of_its_own_servers_only(queue) -> None:
    """With several bot processes, each asks for its shards' jobs: the oldest jobs of
    servers another process holds (or held, before it died) never hide a process's own."""
    from jobs.records import Servers

    shard_1, shard_0 = 1 << 22, 2 << 22  # (guild_id >> 22) % 2
    others = [await submit(queue, n, guild_id=shard_1) for n in range(3)]
    mine = await submit(queue, 9, guild_id=shard_0)
    wanted = Servers(count=2, ids=(0,))
    assert [j.id for j in await queue.jobs_to_report(limit=2, servers=wanted)] == [mine.id]
    assert len(await queue.jobs_to_report(limit=10)) == 4  # no filter: every server's
    for job in [*others, mine]:
        lease = await (queue.claim("w") if hasattr(queue, "claim") else queue.start(job.id, "w"))
        await queue.complete(lease, {"card.json": b"{}"}, {})
    assert [j.id for j in await queue.jobs_to_import(limit=2, servers=wanted)] == [mine.id]
    assert Servers(count=2, ids=(1,)).holds(shard_1) and not wanted.holds(shard_1)


PART = 1000  # the part size these tests give the store: a few parts make a "big" blob


async def parts_of(queue, job_id: int, kind: str, name: str) -> list[int]:
    rows = await queue.store.all(
        "SELECT length(data) AS n FROM job_blob_parts WHERE job_id = ? AND kind = ?"
        " AND name = ? ORDER BY start",
        (job_id, kind, name),
    )
    return [int(r["n"]) for r in rows]


async def test_big_blobs_are_written_in_parts_and_read_back_whole(
    queue, take, tmp_path, monkeypatch
) -> None:
    """Uploads, checkpoints and results alike: streamed from bytes or a file, a part at a
    time (memory holds one part), read back identical."""
    monkeypatch.setattr(queue.store, "chunk_bytes", PART, raising=False)
    upload = bytes(range(256)) * 14  # 3,584 bytes
    job = await submit(queue, corpus=upload)
    assert await parts_of(queue, job.id, CORPUS, "corpus.txt") == [PART] * 3 + [584]
    lease = await take(queue)
    big = tmp_path / "checkpoint.keras"
    big.write_bytes(bytes(reversed(upload)) * 2)
    await queue.save_checkpoint(lease, 1, {"checkpoint.keras": big, "state.json": b"{}"})
    assert await parts_of(queue, job.id, CHECKPOINT, "checkpoint.keras") == [PART] * 7 + [168]
    assert (await queue.files(job.id, CHECKPOINT))["checkpoint.keras"] == big.read_bytes()
    got = await queue.download(job.id, CHECKPOINT, tmp_path / "d")
    assert got["checkpoint.keras"].read_bytes() == big.read_bytes()
    smaller = tmp_path / "smaller.keras"
    smaller.write_bytes(upload[:1500])
    await queue.save_checkpoint(lease, 2, {"checkpoint.keras": smaller, "state.json": b"{}"})
    assert await parts_of(queue, job.id, CHECKPOINT, "checkpoint.keras") == [PART, 500]
    assert (await queue.files(job.id, CHECKPOINT))["checkpoint.keras"] == upload[:1500]
    await queue.complete(lease, {"weights.npz": big, "card.json": b"{}"}, {})
    assert await parts_of(queue, job.id, RESULT, "weights.npz") == [PART] * 7 + [168]
    assert (await queue.files(job.id, RESULT))["weights.npz"] == big.read_bytes()
    assert await parts_of(queue, job.id, CHECKPOINT, "checkpoint.keras") == []  # dropped


class CutOff:
    """A transaction whose connection is lost at its ``after + 1``-th blob part."""

    def __init__(self, tx: Any, after: int):
        self.tx, self.after, self.parts = tx, after, 0

    async def one(self, sql: str, params: Any = ()) -> Any:
        return await self.tx.one(sql, params)

    async def all(self, sql: str, params: Any = ()) -> Any:
        return await self.tx.all(sql, params)

    async def exec(self, sql: str, params: Any = ()) -> int:
        if sql.startswith("INSERT INTO job_blob_parts"):
            self.parts += 1
            if self.parts > self.after:
                raise QueueUnavailable("the job queue's database can't be reached (lost)")
        return await self.tx.exec(sql, params)


async def test_a_blob_write_cut_off_halfway_leaves_the_previous_one_whole(
    queue, take, tmp_path, monkeypatch
) -> None:
    from contextlib import asynccontextmanager

    monkeypatch.setattr(queue.store, "chunk_bytes", PART, raising=False)
    job = await submit(queue)
    lease = await take(queue)
    old = bytes(range(256)) * 10
    await queue.save_checkpoint(lease, 1, {"checkpoint.keras": old, "state.json": b"1"})
    new = tmp_path / "checkpoint.keras"
    new.write_bytes(b"n" * 4500)
    real = queue.store.transaction

    @asynccontextmanager
    async def cut_off():
        async with real() as tx:
            yield CutOff(tx, after=2)

    monkeypatch.setattr(queue.store, "transaction", cut_off)
    with pytest.raises(QueueUnavailable):
        await queue.save_checkpoint(lease, 2, {"checkpoint.keras": new, "state.json": b"2"})
    monkeypatch.setattr(queue.store, "transaction", real)
    assert await queue.files(job.id, CHECKPOINT) == {"checkpoint.keras": old, "state.json": b"1"}
    assert await parts_of(queue, job.id, CHECKPOINT, "checkpoint.keras") == [PART, PART, 560]
    assert (await queue.get(job.id)).checkpoint_epoch == 1
    got = await queue.download(job.id, CHECKPOINT, tmp_path / "d")
    assert got["checkpoint.keras"].read_bytes() == old
