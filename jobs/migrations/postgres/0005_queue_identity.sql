-- The queue database's identity: a random name made once, when this migration runs. Job ids
-- start at 1 in every queue database, so the bot keys what it imported by (identity, job id);
-- a move to another queue database can't take a new job for an old one. A copy of the
-- database (a restored backup, CREATE DATABASE ... TEMPLATE) is the same queue: same identity.
CREATE TABLE queue_identity (
    one_row  integer PRIMARY KEY CHECK (one_row = 1),
    identity text    NOT NULL
);
INSERT INTO queue_identity (one_row, identity)
VALUES (1, replace(gen_random_uuid()::text, '-', ''));
