-- The training job a model came from: the bot imports each job's result once (keyed by job id).
ALTER TABLE models ADD COLUMN job_id INTEGER;
CREATE UNIQUE INDEX models_job ON models (job_id);
