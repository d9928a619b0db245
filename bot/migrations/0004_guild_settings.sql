-- A server's own settings. default_model: the model /generate and the "Continue this text"
-- message command use when none is named (NULL: the bot's LSTM_BOT_DEFAULT_MODEL).
CREATE TABLE guild_settings (
    guild_id      INTEGER PRIMARY KEY,
    default_model TEXT
);
