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
-- A server's default is one model, by its id (default_model_id), no longer by name: a deleted
-- default, even one deleted while the bot was stopped mid-delete, never passes to a newer model
-- of the same name. Names chosen before become the id of the model they named then.
ALTER TABLE guild_settings ADD COLUMN default_model_id INTEGER;
UPDATE guild_settings SET default_model_id = (
    SELECT m.id FROM models m
     WHERE m.name = guild_settings.default_model AND m.guild_id IN (0, guild_settings.guild_id)
       AND m.status = 'ready'
     ORDER BY m.guild_id = 0 LIMIT 1
);
ALTER TABLE guild_settings DROP COLUMN default_model;
