-- A blob's bytes in parts of at most 1 MB (jobs/tables.py put_blob): written and read a part at
-- a time, so no side holds a big checkpoint, result or upload whole. job_blobs keeps each
-- file's name, size and checksum; its data column is left empty (older versions' bytes are
-- moved here, one part each).
CREATE TABLE job_blob_parts (
    job_id  INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    start   INTEGER NOT NULL CHECK (start >= 0),  -- the offset of the part's first byte
    data    BLOB    NOT NULL,
    PRIMARY KEY (job_id, kind, name, start),
    FOREIGN KEY (job_id, kind, name) REFERENCES job_blobs (job_id, kind, name) ON DELETE CASCADE
);
INSERT INTO job_blob_parts (job_id, kind, name, start, data)
SELECT job_id, kind, name, 0, data FROM job_blobs WHERE length(data) > 0;
UPDATE job_blobs SET data = x'' WHERE length(data) > 0;
