-- A blob's bytes in parts of at most 1 MB (jobs/tables.py put_blob): written and read a part at
-- a time, so no side holds a big checkpoint, result or upload whole, and a part is written
-- once (appending to one bytea would rewrite it all for every slice). job_blobs keeps each
-- file's name, size and checksum; its data column is left empty (older versions' bytes are
-- moved here, one part each). Default storage: a text part is compressed, a zip one is not.
CREATE TABLE job_blob_parts (
    job_id  bigint  NOT NULL,
    kind    text    NOT NULL,
    name    text    NOT NULL,
    start   bigint  NOT NULL CHECK (start >= 0),  -- the offset of the part's first byte
    data    bytea   NOT NULL,
    PRIMARY KEY (job_id, kind, name, start),
    FOREIGN KEY (job_id, kind, name) REFERENCES job_blobs (job_id, kind, name) ON DELETE CASCADE
);
INSERT INTO job_blob_parts (job_id, kind, name, start, data)
SELECT job_id, kind, name, 0, data FROM job_blobs WHERE length(data) > 0;
UPDATE job_blobs SET data = '\x'::bytea WHERE length(data) > 0;
