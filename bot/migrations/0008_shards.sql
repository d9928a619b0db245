-- Several bot processes on one database: which process holds which shard (with the shard
-- count it runs with, so a process started with another count is refused), and when each
-- IDENTIFY bucket (shard_id % max_concurrency) may identify next (Discord: one per 5 s).
CREATE TABLE bot_shards (
    shard_id INTEGER PRIMARY KEY,
    shard_count INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    seen_at REAL NOT NULL
);
CREATE TABLE identify_slots (
    bucket INTEGER PRIMARY KEY,
    next_at REAL NOT NULL
);
