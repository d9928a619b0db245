-- Each worker's own lease (its LSTM_BOT_LEASE_SECONDS): the other workers count it as dead
-- after dead_after seconds without a heartbeat, never by their own setting, so workers with
-- different leases can share the queue. The row goes with procrastinate's worker row.
CREATE TABLE worker_leases (
    worker_id     bigint PRIMARY KEY REFERENCES procrastinate_workers(id) ON DELETE CASCADE,
    name          text NOT NULL,
    lease_seconds double precision NOT NULL,
    dead_after    double precision NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now()
);

-- Blobs stored uncompressed out of line: a worker reads a big one in slices (substring),
-- each slice costing its own size only (a compressed value is decompressed from its start).
ALTER TABLE job_blobs ALTER COLUMN data SET STORAGE EXTERNAL;
