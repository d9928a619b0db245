-- Model files as checksummed blobs (bot/model_files.py, PostgresModelFiles): one row per file
-- of a model folder with its SHA-256 and size, its bytes in parts of at most one chunk
-- (1 MB) each, written and read one part at a time, so neither end holds a whole file.
CREATE TABLE model_files (
    model      text NOT NULL,              -- the model's key: '<guild id>/<folder name>'
    name       text NOT NULL,              -- card.json, weights.npz, charset.json
    sha256     text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    created_at double precision NOT NULL,
    PRIMARY KEY (model, name)
);

CREATE TABLE model_file_parts (
    model text NOT NULL,
    name  text NOT NULL,
    start bigint NOT NULL CHECK (start >= 0),  -- the offset of the part's first byte
    data  bytea NOT NULL,
    PRIMARY KEY (model, name, start),
    FOREIGN KEY (model, name) REFERENCES model_files (model, name) ON DELETE CASCADE
);
