-- Why a job failed or is tried again, as a code of jobs/reasons.py and its parameters (JSON):
-- the bot shows it in the reader's language. ``error`` keeps the English sentence. NULL
-- (older jobs, or no error): the bot shows ``error`` as it is.
ALTER TABLE jobs ADD COLUMN error_code text;
ALTER TABLE jobs ADD COLUMN error_params text;
