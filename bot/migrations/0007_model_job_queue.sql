-- The training job a model came from is (job_queue, job_id): job ids start at 1 in every
-- queue database, so the queue's identity (its queue_identity table) is part of the key.
-- Rows imported before this have job_queue NULL until the bot finds their job in its queue
-- (bot.registry.ModelRegistry.adopt_results); a NULL key matches no job of any queue.
ALTER TABLE models ADD COLUMN job_queue TEXT;
DROP INDEX models_job;
CREATE UNIQUE INDEX models_job ON models (job_queue, job_id);
