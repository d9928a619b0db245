-- The job tables on PostgreSQL: the same columns as on SQLite (jobs/migrations/sqlite), with
-- PostgreSQL's types. procrastinate's own tables (procrastinate_*) carry the dispatch: which
-- worker runs which job, heartbeats, retries. Applied by `lstm-bot db migrate`.
CREATE TABLE jobs (
    id              bigserial PRIMARY KEY,
    guild_id        bigint  NOT NULL,
    channel_id      bigint  NOT NULL,
    user_id         bigint  NOT NULL,
    model_name      text    NOT NULL,
    base_model      text,
    base_checksum   text,
    params          text    NOT NULL,
    corpus_bytes    bigint  NOT NULL,
    corpus_deleted  integer NOT NULL DEFAULT 0,
    dedupe_key      text    UNIQUE,
    status          text    NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL DEFAULT 3,
    not_before      double precision NOT NULL DEFAULT 0,
    lease_owner     text,
    lease_token     text,
    lease_expires   double precision,
    cancel_requested integer NOT NULL DEFAULT 0,
    error           text,
    checkpoint_epoch integer NOT NULL DEFAULT 0,
    model_id        bigint,
    task_id         bigint,
    progress_message_id bigint,
    reported_event_id   bigint NOT NULL DEFAULT 0,
    report_failed_at    double precision,
    created_at      double precision NOT NULL,
    started_at      double precision,
    finished_at     double precision
);
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_guild ON jobs (guild_id, status);
CREATE INDEX jobs_user ON jobs (user_id, status);

CREATE TABLE job_events (
    id          bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind        text   NOT NULL,
    payload     text   NOT NULL,
    created_at  double precision NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE job_blobs (
    job_id      bigint NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind        text   NOT NULL CHECK (kind IN ('corpus', 'base', 'checkpoint', 'result')),
    name        text   NOT NULL,
    sha256      text   NOT NULL,
    size        bigint NOT NULL,
    data        bytea  NOT NULL,
    created_at  double precision NOT NULL,
    PRIMARY KEY (job_id, kind, name)
);

-- Every new event wakes the bot (LISTEN lstm_bot_job_events); it polls as well.
CREATE FUNCTION lstm_bot_notify_job_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lstm_bot_job_events', NEW.job_id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
    FOR EACH ROW EXECUTE FUNCTION lstm_bot_notify_job_event();
