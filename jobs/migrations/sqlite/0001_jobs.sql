-- Training jobs: a durable queue. A worker claims a job with a lease (lease_token, renewed
-- by heartbeats); every worker write is fenced by that token (see jobs/sqlite.py).
-- IF NOT EXISTS: databases made before the job tables moved here already have them.
CREATE TABLE IF NOT EXISTS jobs (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    model_name      TEXT    NOT NULL,
    base_model      TEXT,                  -- NULL = train from scratch
    params          TEXT    NOT NULL,      -- JSON: effort, epochs, ... (worker/params.py)
    corpus_path     TEXT    NOT NULL,
    corpus_bytes    INTEGER NOT NULL,
    corpus_deleted  INTEGER NOT NULL DEFAULT 0,   -- 1 once the uploaded text is removed
    dedupe_key      TEXT    UNIQUE,        -- e.g. the interaction id: a retry makes no new job
    status          TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 3,
    not_before      REAL    NOT NULL DEFAULT 0,   -- retry backoff (unix time)
    lease_owner     TEXT,
    lease_token     TEXT,
    lease_expires   REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error           TEXT,                  -- why it failed, in words for the user
    model_id        INTEGER,               -- the model registry's row, once published
    plot_path       TEXT,                  -- PNG of the loss curves, once succeeded
    progress_message_id INTEGER,           -- the channel message the bot edits
    reported_event_id   INTEGER NOT NULL DEFAULT 0,  -- last event the bot has shown
    created_at      REAL    NOT NULL,
    started_at      REAL,
    finished_at     REAL
);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (status, not_before, id);
CREATE INDEX IF NOT EXISTS jobs_guild ON jobs (guild_id, status);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id, status);

CREATE TABLE IF NOT EXISTS job_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the bot reports "after id"
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,  -- started | progress | epoch | retry | released | succeeded | failed | cancelled
    payload     TEXT    NOT NULL,  -- JSON
    created_at  REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id, id);
