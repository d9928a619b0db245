-- Models a server can use. Built-in models are rows with guild_id = 0 (synced at start-up).
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    guild_id    INTEGER NOT NULL,          -- 0 = built-in, visible to every server
    owner_id    INTEGER,                   -- Discord user id; NULL for built-in models
    base        TEXT,                      -- base model name when fine-tuned
    status      TEXT    NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'deleting')),
    card        TEXT    NOT NULL,          -- the model card, JSON
    path        TEXT    NOT NULL,          -- model directory
    created_at  TEXT    NOT NULL,
    UNIQUE (guild_id, name)
);
