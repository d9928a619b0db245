-- The queue database's identity: a random name made once, when this migration runs. Job ids
-- start at 1 in every queue database, so the bot keys what it imported by (identity, job id);
-- a move to another queue database (PostgreSQL) can't take a new job for an old one.
CREATE TABLE queue_identity (
    one_row  INTEGER PRIMARY KEY CHECK (one_row = 1),
    identity TEXT    NOT NULL
);
INSERT INTO queue_identity (one_row, identity) VALUES (1, lower(hex(randomblob(16))));
