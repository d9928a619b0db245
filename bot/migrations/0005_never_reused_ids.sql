-- Model ids are never reused (AUTOINCREMENT): a button, a confirmation or a server's default
-- that names a deleted model's id can never reach a newer model that took its place. SQLite
-- can't add AUTOINCREMENT to a table, so the table is rebuilt (ids kept).
CREATE TABLE models_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    guild_id    INTEGER NOT NULL,          -- 0 = built-in, visible to every server
    owner_id    INTEGER,                   -- Discord user id; NULL for built-in models
    base        TEXT,                      -- base model name when fine-tuned
    status      TEXT    NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'deleting')),
    card        TEXT    NOT NULL,          -- the model card, JSON
    path        TEXT    NOT NULL,          -- model directory
    created_at  TEXT    NOT NULL,
    job_id      INTEGER,                   -- the training job it came from
    UNIQUE (guild_id, name)
);
INSERT INTO models_new (id, name, guild_id, owner_id, base, status, card, path, created_at, job_id)
    SELECT id, name, guild_id, owner_id, base, status, card, path, created_at, job_id FROM models;
DROP TABLE models;
ALTER TABLE models_new RENAME TO models;
CREATE UNIQUE INDEX models_job ON models (job_id);
