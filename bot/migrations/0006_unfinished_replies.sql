-- Replies being written, by message id: what the next start needs to finish one that a crash
-- (kill -9) left mid-write. Ids, the buttons' state (model id and name, options) and the
-- writer's language only, never text (README, "Privacy"). A row lives while its reply is
-- written.
CREATE TABLE unfinished_replies (
    message_id  INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL,
    guild_id    INTEGER,            -- NULL for a DM; a process repairs those of its shards
    state       TEXT    NOT NULL,   -- bot.reply_text.ReplyState.encode(): the buttons' custom id
    locale      TEXT    NOT NULL,   -- the language of the footer and the buttons' labels
    started_at  TEXT    NOT NULL
);
