"""Training jobs, shared by the bot and the workers: records, event kinds, the queue and its
engines.

Event kinds and payloads (JSON), in the order a job usually produces them:

- ``started``: attempt, max_attempts, worker, device, resumed_from_epoch (0 = fresh start),
  epochs, steps_per_epoch, network, base_model, base_heldout_loss
- ``progress``: epoch, epochs, step, steps, loss, heldout_loss, chars_per_sec, eta_seconds,
  elapsed (throttled; older reported ones are pruned)
- ``epoch``: epoch, epochs, loss, heldout_loss, best_heldout_loss, improved, sample,
  sample_seed, seconds
- ``retry``: attempt, max_attempts, reason, retry_in (seconds)
- ``released``: reason, attempt (a worker shut down; the job resumes from its checkpoint)
- ``succeeded``: model_id, model_name, path, card, sample, sample_seed, plot, plus the worker's
- ``failed``: reason, attempts
- ``cancelled``: reason, during ("queued" or "running")
"""
