"""Training jobs, shared by the bot and the workers: records, event kinds, the queue interface
(:mod:`jobs.queue`) and its engines (:mod:`jobs.sqlite` embedded, :mod:`jobs.postgres` on
procrastinate), the job tables both use (:mod:`jobs.tables`), the files that travel with a
job (:mod:`jobs.blobs`) and why a job fails or is retried (:mod:`jobs.reasons`). Nothing here
imports the bot, the worker, Discord or TensorFlow.

Event kinds and payloads (JSON), in the order a job usually produces them:

- ``started``: attempt, max_attempts, worker, device, resumed_from_epoch (0 = fresh start),
  epochs, steps_per_epoch, network, base_model, base_heldout_loss
- ``progress``: epoch, epochs, step, steps, loss, heldout_loss, chars_per_sec, eta_seconds,
  elapsed (throttled; older reported ones are pruned)
- ``epoch``: epoch, epochs, loss, heldout_loss, best_heldout_loss, improved, sample,
  sample_seed, seconds
- ``retry``: attempt, max_attempts, reason, code, params, retry_in (seconds)
- ``released``: reason, code, params, attempt (a worker shut down; the job resumes from its
  checkpoint)
- ``succeeded``: model_name, card, sample, sample_seed, stopped, epochs_run, heldout_loss,
  seconds (the model files and the loss plot are result blobs; the bot imports them)
- ``failed``: reason, code, params, attempts (also written by the bot when a result can't be
  imported)

``reason`` is the English sentence; ``code`` and ``params`` say the same for the bot to show
in the user's language (:mod:`jobs.reasons`). Events written before codes existed have only
``reason``.
- ``cancelled``: reason, during ("queued" or "running")
"""
