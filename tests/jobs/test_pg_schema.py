"""Safe upgrades of the PostgreSQL queue's schema (the real server): procrastinate's
post-migrations wait for ``db migrate --post``; bot and workers refuse a schema older or newer
than they know; an older lstm-bot's ``schema_versions`` is converted."""

from __future__ import annotations

import psycopg
import pytest

from jobs.pg import make_pool
from jobs.pg_schema import (
    PG_MIGRATIONS,
    POST,
    PRE,
    SchemaError,
    _key,
    check_schema,
    installed_key,
    migrate,
    procrastinate_migrations,
    procrastinate_version,
)

LAST_POST = "03.04.00_50_post_add_retry_failed_job_procedure.sql"


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def set_version(url: str, component: str, version: int) -> None:
    sql(url, "UPDATE schema_versions SET version = %s WHERE component = %s", (version, component))


async def check(url: str) -> None:
    pool = make_pool(url)
    await pool.open(wait=True)
    try:
        await check_schema(pool)
    finally:
        await pool.close()


def test_the_installed_procrastinate_has_the_migration_these_tests_replay() -> None:
    names = [m.name for m in procrastinate_migrations() if m.post]
    assert names[-1] == LAST_POST, "pick the newest post-migration of this procrastinate"


async def test_post_migrations_wait_for_post(pg_url: str) -> None:
    # An upgrade from procrastinate 3.3: 3.4's pre-migration is applied, its post isn't yet.
    set_version(pg_url, POST, _key(3, 3, 0, 99))
    await check(pg_url)  # bot and workers run meanwhile: waiting posts are fine
    done = await migrate(pg_url)
    assert "applied procrastinate" not in done
    assert f"procrastinate's post-migrations wait ({LAST_POST})" in done
    assert "run `lstm-bot db migrate --post`" in done
    done = await migrate(pg_url, post=True)
    assert done == f"applied procrastinate's {LAST_POST}"
    assert await migrate(pg_url, post=True) == "up to date"
    (post,) = sql(pg_url, "SELECT version FROM schema_versions WHERE component = %s", (POST,))
    assert post == (_key(3, 4, 0, 50),)


async def test_an_older_schema_is_refused(pg_url: str) -> None:
    set_version(pg_url, PRE, _key(3, 3, 0, 99))  # 3.4's pre-migration not applied
    with pytest.raises(SchemaError, match=r"older than this lstm-bot: run `lstm-bot db migrate`$"):
        await check(pg_url)
    set_version(pg_url, PRE, installed_key())
    set_version(pg_url, "jobs", PG_MIGRATIONS.latest - 1)
    with pytest.raises(SchemaError, match="older than this lstm-bot"):
        await check(pg_url)
    set_version(pg_url, "jobs", PG_MIGRATIONS.latest)
    await check(pg_url)
    sql(pg_url, "DELETE FROM schema_versions WHERE component = %s", (POST,))
    with pytest.raises(SchemaError, match="older than this lstm-bot"):
        await check(pg_url)


@pytest.mark.parametrize(
    "component, version, what",
    [
        (PRE, installed_key() + 1, "its procrastinate schema is newer than procrastinate"),
        (POST, _key(99, 0, 0, 50), "its procrastinate schema is newer than procrastinate"),
        (
            "jobs",
            PG_MIGRATIONS.latest + 1,
            f"its job tables are at version {PG_MIGRATIONS.latest + 1}",
        ),
    ],
)
async def test_a_newer_schema_is_refused_and_never_migrated(
    pg_url: str, component: str, version: int, what: str
) -> None:
    set_version(pg_url, component, version)
    with pytest.raises(SchemaError, match="newer than this lstm-bot") as refused:
        await check(pg_url)
    assert what in str(refused.value) and str(refused.value).endswith("upgrade lstm-bot here")
    with pytest.raises(SchemaError, match="migrated by a newer lstm-bot") as refused:
        await migrate(pg_url, post=True)
    assert what in str(refused.value)


async def test_an_older_lstm_bots_version_table_is_converted(pg_url: str) -> None:
    # What an lstm-bot before queue identities left: a text column, procrastinate's version.
    sql(pg_url, "DROP TABLE schema_versions")
    sql(pg_url, "DROP TABLE queue_identity")
    sql(pg_url, "DROP TABLE job_blob_parts")
    sql(pg_url, "CREATE TABLE schema_versions (component text PRIMARY KEY, version text)")
    sql(
        pg_url,
        "INSERT INTO schema_versions VALUES ('procrastinate', %s), ('jobs', '4')",
        (procrastinate_version(),),
    )
    with pytest.raises(SchemaError, match="older than this lstm-bot"):
        await check(pg_url)
    done = await migrate(pg_url)
    assert done == "applied 0005_queue_identity.sql; applied 0006_blob_parts.sql"
    await check(pg_url)
    assert dict(sql(pg_url, "SELECT component, version FROM schema_versions")) == {
        PRE: installed_key(),
        POST: installed_key(),
        "jobs": PG_MIGRATIONS.latest,
    }
    (column,) = sql(
        pg_url,
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_name = 'schema_versions' AND column_name = 'version'",
    )
    assert column == ("integer",)


async def test_blobs_an_older_lstm_bot_stored_whole_are_moved_into_parts(pg_url: str) -> None:
    from jobs.postgres import PostgresQueue
    from jobs.records import CORPUS

    queue = await PostgresQueue.connect(pg_url)
    try:
        job, _ = await queue.submit(
            guild_id=1, channel_id=2, user_id=3, model_name="old", corpus=b"x", params={}
        )
        # What version 5 left: each file's bytes in job_blobs.data, no parts.
        sql(pg_url, "DROP TABLE job_blob_parts")
        sql(pg_url, "UPDATE job_blobs SET data = %s, size = 11, sha256 = %s", (b"hello world", SHA))
        set_version(pg_url, "jobs", 5)
        assert await migrate(pg_url) == "applied 0006_blob_parts.sql"
        assert await queue.files(job.id, CORPUS) == {"corpus.txt": b"hello world"}
        assert sql(pg_url, "SELECT length(data) FROM job_blobs") == [(0,)]
    finally:
        await queue.close()


SHA = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"  # of b"hello world"
