-- The Discord language of the member who queued the job ("tr", "pt-BR", "en-US"...): the
-- bot writes the job's progress and result messages in it. NULL (older jobs): English.
ALTER TABLE jobs ADD COLUMN locale TEXT;
