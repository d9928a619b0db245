-- Files travel with the job (job_blobs) instead of lying in the bot's data directory, and the
-- bot, not the worker, publishes the result into its registry. SQLite can't drop a NOT NULL
-- column, so the jobs table is rebuilt (foreign keys are off while it runs; see jobs/db.py):
-- corpus_path becomes legacy_corpus_path (moved into job_blobs by jobs/sqlite.py, then NULL),
-- plot_path goes (the plot is a result blob), new columns are added.
CREATE TABLE jobs_new (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    model_name      TEXT    NOT NULL,
    base_model      TEXT,                  -- NULL = train from scratch
    base_checksum   TEXT,                  -- a built-in base, sent by name: its weights' SHA-256
    params          TEXT    NOT NULL,      -- JSON: effort, epochs, ... (worker/params.py)
    corpus_bytes    INTEGER NOT NULL,
    corpus_deleted  INTEGER NOT NULL DEFAULT 0,   -- 1 once the uploaded text is removed
    dedupe_key      TEXT    UNIQUE,        -- e.g. the interaction id: a retry makes no new job
    status          TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 3,
    not_before      REAL    NOT NULL DEFAULT 0,   -- retry backoff (unix time)
    lease_owner     TEXT,
    lease_token     TEXT,                  -- the current attempt's token: fences every write
    lease_expires   REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error           TEXT,                  -- why it failed, in words for the user
    checkpoint_epoch INTEGER NOT NULL DEFAULT 0,  -- last epoch whose checkpoint is stored
    model_id        INTEGER,               -- the bot's registry row, once it imported the result
    task_id         INTEGER,               -- procrastinate's job id (PostgreSQL engine only)
    progress_message_id INTEGER,           -- the channel message the bot edits
    reported_event_id   INTEGER NOT NULL DEFAULT 0,  -- last event the bot has shown
    report_failed_at    REAL,              -- the bot gave up posting to the job's channel
    created_at      REAL    NOT NULL,
    started_at      REAL,
    finished_at     REAL,
    legacy_corpus_path TEXT                -- jobs queued before blobs: the upload's file
);
INSERT INTO jobs_new (id, guild_id, channel_id, user_id, model_name, base_model, params,
    corpus_bytes, corpus_deleted, dedupe_key, status, attempts, max_attempts, not_before,
    lease_owner, lease_token, lease_expires, cancel_requested, error, model_id,
    progress_message_id, reported_event_id, created_at, started_at, finished_at,
    legacy_corpus_path)
SELECT id, guild_id, channel_id, user_id, model_name, base_model, params, corpus_bytes,
    corpus_deleted, dedupe_key, status, attempts, max_attempts, not_before, lease_owner,
    lease_token, lease_expires, cancel_requested, error, model_id, progress_message_id,
    reported_event_id, created_at, started_at, finished_at, corpus_path
FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_claim ON jobs (status, not_before, id);
CREATE INDEX jobs_guild ON jobs (guild_id, status);
CREATE INDEX jobs_user ON jobs (user_id, status);

-- A job's files: the upload, a server's own base model, the last checkpoint, the result.
CREATE TABLE job_blobs (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('corpus', 'base', 'checkpoint', 'result')),
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    created_at  REAL    NOT NULL,
    PRIMARY KEY (job_id, kind, name)
);
