"""The bot imports a job's result exactly once, checked, and is the only registry writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.model_files import ModelFilesError, PostgresModelFiles
from bot.registry import ModelRegistry
from bot.transfer import ResultImporter, sweep_orphans
from jobs.sqlite import SqliteQueue
from model_store import ModelCatalog, load_artifact
from model_store.artifact import write_artifact

from ..test_model_files import execute, rows


@pytest.fixture
def registry(db, tmp_path) -> ModelRegistry:
    return ModelRegistry(db, ModelCatalog(tmp_path / "models", tmp_path / "builtin"))


@pytest.fixture
def importer(queue, registry, tmp_path) -> ResultImporter:
    return ResultImporter(queue, registry, tmp_path / "guild-models", tmp_path)


def result_files(tiny_model, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "result"
    write_artifact(out, tiny_model.artifact)
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    return files | {"loss.png": b"\x89PNG\r\n\x1a\n fake"}


async def finished_job(queue, files: dict[str, bytes], name: str = "poet"):
    job, _ = await queue.submit(
        guild_id=7, channel_id=8, user_id=9, model_name=name, corpus=b"text", params={}
    )
    lease = await queue.claim("w")
    return await queue.complete(lease, files, {"card": {}})


def model_dirs(tmp_path: Path) -> list[Path]:
    root = tmp_path / "guild-models" / "7"
    return sorted(root.iterdir()) if root.is_dir() else []


async def test_a_second_delivery_changes_nothing(queue, importer, tiny_model, tmp_path):
    job = await finished_job(queue, result_files(tiny_model, tmp_path))
    real_mark = queue.mark_imported

    async def crash(job_id: int, model_id: int) -> None:
        raise RuntimeError("the bot stopped here")

    queue.mark_imported = crash  # the row is written, then the bot dies
    with pytest.raises(RuntimeError):
        await importer.import_job(job)
    queue.mark_imported = real_mark
    (again,) = await queue.jobs_to_import()  # delivered again after the restart
    record = await importer.import_job(again)
    assert record is not None and record.job_id == job.id and record.name == "poet"
    assert await queue.jobs_to_import() == []
    assert (await queue.get(job.id)).model_id == record.id
    assert [p.resolve() for p in model_dirs(tmp_path)] == [Path(record.path)]
    plot = tmp_path / "plots" / f"{await queue.identity()}-job-{job.id}.png"
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert await importer.import_job(await queue.get(job.id)) == record  # and again: nothing
    assert len(await importer.registry.all_rows()) == 1


async def test_a_damaged_result_is_refused(queue, importer, tiny_model, tmp_path):
    files = result_files(tiny_model, tmp_path)
    files["weights.npz"] = files["weights.npz"][:-10] + b"0123456789"  # card checksum breaks
    job = await finished_job(queue, files)
    assert await importer.import_job(job) is None
    failed = await queue.get(job.id)
    assert failed.status == "failed" and failed.error == (
        "the trained model arrived damaged; train it again"
    )
    assert failed.error_code == "result_damaged"
    assert model_dirs(tmp_path) == [] and await importer.registry.all_rows() == []


async def test_a_name_taken_meanwhile_fails_the_job_cleanly(
    queue, importer, registry, tiny_model, tmp_path
):
    job = await finished_job(queue, result_files(tiny_model, tmp_path))
    await registry.add(name="poet", guild_id=7, owner_id=1, card={}, path="/elsewhere")
    assert await importer.import_job(job) is None
    failed = await queue.get(job.id)
    assert failed.status == "failed" and "created in the meantime" in failed.error
    assert (failed.error_code, failed.error_params) == (
        "name_taken_meanwhile",
        {"name": job.model_name},
    )
    assert model_dirs(tmp_path) == []


async def test_orphan_model_directories_are_swept(queue, importer, tiny_model, tmp_path):
    job = await finished_job(queue, result_files(tiny_model, tmp_path))
    record = await importer.import_job(job)
    orphan = tmp_path / "guild-models" / "7" / "poet-j99-0123abcd"
    orphan.mkdir()
    unrelated = tmp_path / "guild-models" / "7" / "notes"
    unrelated.mkdir()
    await sweep_orphans(importer.registry, tmp_path / "guild-models")
    assert not orphan.exists() and unrelated.exists() and Path(record.path).exists()


async def test_models_imported_before_queue_identities_are_kept_apart(
    queue, importer, registry, db, tiny_model, tmp_path
):
    """Rows imported before results were keyed by queue (job_queue NULL) become this queue's
    only when this queue's job was imported as that very row; the others (imported from
    another queue database) stay, and are taken for no job of this queue."""
    files = result_files(tiny_model, tmp_path)
    ours = await importer.import_job(await finished_job(queue, files, "ours"))
    await db.execute("UPDATE models SET job_queue = NULL WHERE id = ?", (ours.id,))
    await db.execute(
        "INSERT INTO models (name, guild_id, card, path, created_at, job_id)"
        " VALUES ('theirs', 7, '{}', '/elsewhere', '', 2)"
    )
    await importer.adopt_legacy()
    identity = await queue.identity()
    assert (await registry.by_job(identity, 1)).name == "ours"
    assert await registry.by_job(identity, 2) is None
    second = await finished_job(queue, files, "second")  # this queue's job 2
    assert second.id == 2
    record = await importer.import_job(second)
    assert record is not None and record.name == "second"
    assert {r.name for r in await registry.all_rows()} == {"ours", "theirs", "second"}


async def finish_any(queue, files: dict[str, bytes], *, name: str, guild_id: int):
    """A job finished as a worker would, on either engine."""
    job, _ = await queue.submit(
        guild_id=guild_id, channel_id=8, user_id=9, model_name="poet", corpus=b"text", params={}
    )
    # What a tampered database (or a buggy worker) could hand the bot.
    await queue.store.exec("UPDATE jobs SET model_name = ? WHERE id = ?", (name, job.id))
    lease = await (queue.claim("w") if isinstance(queue, SqliteQueue) else queue.start(job.id, "w"))
    return await queue.complete(lease, files, {"card": {}})


@pytest.mark.parametrize(
    "name, guild_id",
    [("Bad Name!", 7), ("../escape", 7), ("poet", 0), ("poet", -5)],
)
async def test_a_result_the_bot_refuses_fails_the_job_once(
    any_queue, registry, tiny_model, tmp_path, name, guild_id
):
    """A name the bot refuses, or a server id no Discord server has (0 is the built-in
    models'), fails the job once with a clear reason: never a built-in model, never retried."""
    importer = ResultImporter(any_queue, registry, tmp_path / "guild-models", tmp_path)
    job = await finish_any(
        any_queue, result_files(tiny_model, tmp_path), name=name, guild_id=guild_id
    )
    assert await importer.import_job(job) is None
    failed = await any_queue.get(job.id)
    assert failed.status == "failed" and failed.error_code == "result_refused"
    assert failed.error == "the trained model names no valid server or model name; train it again"
    events = await any_queue.events_after(job.id, 0, 100)
    assert [e.kind for e in events].count("failed") == 1
    assert await any_queue.jobs_to_import() == []
    assert await registry.all_rows() == []
    assert not (tmp_path / "guild-models").exists() or not any(
        (tmp_path / "guild-models").rglob("*.npz")
    )


async def test_a_result_is_decoded_once_from_the_fetched_bytes(
    queue, importer, tiny_model, tmp_path, monkeypatch
):
    """The files fetched from the queue are checked and decoded where they are; nothing is
    read back from the disk they were written to."""
    job = await finished_job(queue, result_files(tiny_model, tmp_path))
    reads: list[Path] = []
    for method in ("read_bytes", "read_text"):
        real = getattr(Path, method)

        def spy(self, *args, _real=real, **kwargs):
            reads.append(self)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Path, method, spy)
    record = await importer.import_job(job)
    assert record is not None and record.card["name"] == tiny_model.artifact.card["name"]
    assert [p for p in reads if (tmp_path / "guild-models") in p.parents] == []


async def test_a_result_is_stored_as_blobs_with_model_files_in_postgres(
    queue, registry, tiny_model, tmp_path, pg_state_url
):
    """With the bot's state in PostgreSQL the result goes through :mod:`bot.model_files`:
    blobs any machine can fetch, nothing left in the data folder; deleting removes them."""
    pg_url = pg_state_url
    here = PostgresModelFiles(pg_url, tmp_path / "cache-here")
    there = PostgresModelFiles(pg_url, tmp_path / "cache-there")
    await here.open()
    await there.open()
    try:
        registry.files = here
        importer = ResultImporter(queue, registry, tmp_path / "guild-models", tmp_path, here)
        record = await importer.import_job(
            await finished_job(queue, result_files(tiny_model, tmp_path))
        )
        assert record is not None and record.path.startswith("blob:7/poet-j1-")
        assert model_dirs(tmp_path) == []  # staged there, then stored and moved to the cache
        folder = await there.local_path(record.path, record.checksum, record.name)
        assert load_artifact(folder).card == record.card
        await registry.hide(record)
        await registry.remove(record)
        with pytest.raises(ModelFilesError):
            await there.local_path(record.path, record.checksum, record.name)
    finally:
        await here.close()
        await there.close()


async def test_orphan_blobs_are_swept_in_the_servers_this_process_holds(
    queue, registry, tiny_model, tmp_path, pg_state_url
):
    """Blobs stored for a result whose row never came (the bot stopped between the two) go at
    the next start, in this process's servers, once older than an import can take."""
    pg_url = pg_state_url
    files = PostgresModelFiles(pg_url, tmp_path / "cache")
    await files.open()
    try:
        registry.files = files
        importer = ResultImporter(queue, registry, tmp_path / "guild-models", tmp_path, files)
        kept = await importer.import_job(
            await finished_job(queue, result_files(tiny_model, tmp_path))
        )
        orphans = {}
        for guild in (7, 8):
            staged = tmp_path / f"staged-{guild}"
            write_artifact(staged, tiny_model.artifact)
            orphans[guild] = await files.publish(staged, f"{guild}/poet-j9{guild}-0123abcd")
        await sweep_orphans(registry, tmp_path / "guild-models", lambda guild: guild == 7)
        assert rows(pg_url, "SELECT count(DISTINCT model) FROM model_files") == [(3,)]
        execute(pg_url, "UPDATE model_files SET created_at = created_at - 7200")
        await sweep_orphans(registry, tmp_path / "guild-models", lambda guild: guild == 7)
        stored = {key for (key,) in rows(pg_url, "SELECT DISTINCT model FROM model_files")}
        assert stored == {kept.path.removeprefix("blob:"), orphans[8].removeprefix("blob:")}
        assert not (files.cache / "7" / "poet-j97-0123abcd").exists()
    finally:
        await files.close()


async def test_two_processes_racing_one_import_leave_one_model(
    queue, registry, tiny_model, tmp_path, pg_state_url
):
    """Two bot processes importing the same result at once (a shard handed over mid-import):
    one row, and the loser's stored files removed (the folder and the blobs)."""
    import asyncio

    job = await finished_job(queue, result_files(tiny_model, tmp_path))
    local = [ResultImporter(queue, registry, tmp_path / "guild-models", tmp_path) for _ in "ab"]
    records = await asyncio.gather(*(i.import_job(job) for i in local))
    assert records[0] == records[1] and len(await registry.all_rows()) == 1
    assert [p.resolve() for p in model_dirs(tmp_path)] == [Path(records[0].path)]

    job = await finished_job(queue, result_files(tiny_model, tmp_path), "bard")
    stores = [PostgresModelFiles(pg_state_url, tmp_path / f"cache-{m}") for m in "ab"]
    for store in stores:
        await store.open()
    try:
        blob = [ResultImporter(queue, registry, tmp_path / "gm", tmp_path, s) for s in stores]
        records = await asyncio.gather(*(i.import_job(job) for i in blob))
        assert records[0] == records[1] and records[0].path.startswith("blob:7/bard-j")
        stored = rows(pg_state_url, "SELECT DISTINCT model FROM model_files")
        assert stored == [(records[0].path.removeprefix("blob:"),)]
    finally:
        for store in stores:
            await store.close()
