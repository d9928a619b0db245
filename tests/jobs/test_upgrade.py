"""Upgrading a database made before the job tables moved to jobs/ (registry version 2, the
job tables created by the registry's old 0002 migration) loses nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.db import REGISTRY_MIGRATIONS, bot_database
from jobs.records import CORPUS
from jobs.sqlite import SQLITE_MIGRATIONS, SqliteQueue

# The schema as released before (bot/migrations 0001 and 0002 at that time).
LEGACY_SCHEMA = """
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    guild_id    INTEGER NOT NULL,
    owner_id    INTEGER,
    base        TEXT,
    status      TEXT    NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'deleting')),
    card        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (guild_id, name)
);
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    model_name      TEXT    NOT NULL,
    base_model      TEXT,
    params          TEXT    NOT NULL,
    corpus_path     TEXT    NOT NULL,
    corpus_bytes    INTEGER NOT NULL,
    corpus_deleted  INTEGER NOT NULL DEFAULT 0,
    dedupe_key      TEXT    UNIQUE,
    status          TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 3,
    not_before      REAL    NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_token     TEXT,
    lease_expires   REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    model_id        INTEGER REFERENCES models(id) ON DELETE SET NULL,
    plot_path       TEXT,
    progress_message_id INTEGER,
    reported_event_id   INTEGER NOT NULL DEFAULT 0,
    created_at      REAL    NOT NULL,
    started_at      REAL,
    finished_at     REAL
);
CREATE INDEX jobs_claim ON jobs (status, not_before, id);
CREATE INDEX jobs_guild ON jobs (guild_id, status);
CREATE INDEX jobs_user ON jobs (user_id, status);
CREATE TABLE job_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  REAL    NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);
"""


def make_legacy(path: Path, corpus: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY_SCHEMA)
    conn.execute(
        "INSERT INTO models (id, name, guild_id, owner_id, card, path, created_at)"
        " VALUES (1, 'old', 7, 9, '{}', '/models/old', '2024-01-01')"
    )
    jobs = [
        (1, "old", "/gone/a.txt", "succeeded", 1, 1),
        (2, "waiting", str(corpus), "queued", None, 0),
        (3, "lost", "/gone/c.txt", "queued", None, 0),
    ]
    for job_id, name, path_, status, model_id, deleted in jobs:
        conn.execute(
            "INSERT INTO jobs (id, guild_id, channel_id, user_id, model_name, params,"
            " corpus_path, corpus_bytes, corpus_deleted, status, model_id, created_at)"
            " VALUES (?, 7, 8, 9, ?, '{}', ?, 5, ?, ?, ?, 1.0)",
            (job_id, name, path_, deleted, status, model_id),
        )
    conn.execute(
        "INSERT INTO job_events (job_id, kind, payload, created_at)"
        " VALUES (1, 'succeeded', '{}', 2.0)"
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


async def test_legacy_database_is_upgraded_without_loss(tmp_path: Path) -> None:
    corpus = tmp_path / "corpora" / "upload.txt"
    corpus.parent.mkdir()
    corpus.write_text("hello")
    path = tmp_path / "lstm-bot.sqlite3"
    make_legacy(path, corpus)
    async with bot_database(path) as db:
        assert await db.version() == REGISTRY_MIGRATIONS.latest
        assert await db.version(SQLITE_MIGRATIONS) == SQLITE_MIGRATIONS.latest
        queue = SqliteQueue(db)
        await queue.adopt_legacy_corpora()
        old, waiting, lost = [await queue.get(n) for n in (1, 2, 3)]
        assert (old.status, old.model_id, old.model_name) == ("succeeded", 1, "old")
        assert [e.kind for e in await queue.events_after(1)] == ["succeeded"]
        assert await queue.files(2, CORPUS) == {"corpus.txt": b"hello"}
        assert not corpus.exists() and not waiting.corpus_deleted
        assert lost.corpus_deleted and await queue.files(3, CORPUS) == {}
        row = await db.fetchone("SELECT name, job_id FROM models WHERE id = 1")
        assert (row["name"], row["job_id"]) == ("old", None)
        assert (await db.fetchone("PRAGMA foreign_key_check")) is None
        job, _ = await queue.submit(
            guild_id=7, channel_id=8, user_id=9, model_name="new", corpus=b"x", params={}
        )
        assert job.id == 4
    async with bot_database(path) as again:  # reopening applies nothing twice
        assert await again.version(SQLITE_MIGRATIONS) == SQLITE_MIGRATIONS.latest
