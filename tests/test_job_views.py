"""How a finished training job reads in Discord: honest figures, no success mark for a model
that learned nothing (issue 9); why a job failed, in the reader's language (issue 10)."""

from __future__ import annotations

import dataclasses

from cogs.training.job_views import progress_embed, reason_text, result_embed, status_line
from jobs.records import Job


def make_job(**changes) -> Job:
    values = {f.name: None for f in dataclasses.fields(Job)}
    values.update(
        id=7,
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="style",
        base_model="nietzsche",
        params={"effort": "normal"},
        status="succeeded",
        cancel_requested=False,
        corpus_deleted=True,
        attempts=1,
        max_attempts=3,
    )
    values.update(changes)
    return Job(**values)


def payload(loss: float, base: float | None, chars: int = 7000, vocab: int = 90) -> dict:
    card = {
        "heldout_loss_nats": loss,
        "base_heldout_loss_nats": base,
        "uniform_loss_nats": 4.4998,
        "corpus": {"chars": chars, "vocab_size": vocab, "new_chars": 2},
        "training": {"steps_run": 300, "epochs_run": 12},
    }
    return {"card": card, "epochs_run": 12, "seconds": 40.0, "sample": "abc", "sample_seed": "x"}


def fields(embed) -> dict[str, str]:
    return {f.name: f.value for f in embed.fields}


def test_a_model_that_learned_shows_its_loss_beside_base_and_uniform():
    embed = result_embed(make_job(), payload(1.727, 2.225))
    assert embed.title.startswith("✅") and "is trained" in embed.title
    held = fields(embed)["Held-out loss"]
    assert "1.727" in held and "base model: 2.225" in held and "uniform guess: 4.500" in held
    assert "300 steps" in fields(embed)["Training"]


def test_no_better_than_its_base_says_so_and_what_would_help():
    embed = result_embed(make_job(), payload(2.230, 2.225))
    assert "✅" not in embed.title and "learned little" in embed.title
    text = embed.description
    assert "no better than its base model's (2.225)" in text
    assert "More text" in text and "7,000 characters" in text and "effort:thorough" in text
    held = fields(embed)["Held-out loss"]
    assert "base model: 2.225" in held and "uniform guess" in held
    # The progress message does not claim success either.
    progress = progress_embed(make_job(), {"result": payload(2.230, 2.225)})
    assert "✅" not in progress.title and "Done" not in progress.description
    assert "learned little" in progress.description


def test_from_scratch_no_better_than_uniform():
    job = make_job(base_model=None, params={"effort": "thorough"})
    embed = result_embed(job, payload(4.6, None, chars=300_000))
    assert "✅" not in embed.title
    assert "guessing every character uniformly (4.500)" in embed.description
    assert "from scratch needs far more text" in embed.description
    assert "base model" not in fields(embed)["Held-out loss"]


GONE = "the uploaded text is gone (it was removed before training)"


def test_a_failure_reads_in_the_language_of_its_reader():
    job = make_job(
        status="failed", locale="tr", error=GONE, error_code="upload_gone", created_at=0.0
    )
    shown = progress_embed(job, {}).description
    assert shown.startswith("Eğitim başarısız oldu: ") and "yüklenen metin" in shown
    assert "uploaded" not in shown
    assert "yüklenen metin" in status_line(job, locale="tr")
    assert GONE in status_line(job, locale="en-US")  # whoever asks reads their language
    missing = make_job(
        status="failed", locale="pt-BR", error_code="base_missing", error_params={"name": "poe"}
    )
    assert "'poe'" in progress_embed(missing, {}).description
    assert "training worker" not in progress_embed(missing, {}).description


def test_a_reason_without_a_known_code_shows_the_workers_english():
    """Jobs recorded before reasons had codes, and codes of a newer worker."""
    assert reason_text("tr", None, None, GONE) == GONE
    assert reason_text("tr", "from_the_future", {"x": 1}, "something new") == "something new"
    assert reason_text("tr", "base_missing", {}, "no base") == "no base"  # params changed
    assert reason_text("tr", None, None, None) == "bilinmeyen bir neden"
    old = make_job(status="failed", locale="tr", error=GONE)
    assert GONE in progress_embed(old, {}).description


def test_why_a_text_cant_be_trained_on_reads_in_the_language_of_its_reader():
    """A worker that refuses the uploaded text sends the model store's problem code with it."""
    english = "the text is too short to train on (41 characters)"
    problem = {"code": "too_short_to_split", "chars": 4100}
    params = {"detail": english, "problem": problem}
    shown = reason_text("tr", "bad_text", params, english)
    assert shown == "bu metinle eğitim yapılamıyor: Metin eğitim için çok kısa (4.100 karakter)."
    assert reason_text("en", "bad_text", params, english).endswith("(4,100 characters).")
    unknown = {"detail": english, "problem": {"code": "from_the_future"}}
    assert reason_text("tr", "bad_text", unknown, english).endswith(english)
    assert reason_text("tr", "bad_text", {"detail": english}, english).endswith(english)
