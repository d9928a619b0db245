"""Fine-tune the default model on a text through the real path, and report the figures.

The real bot (against the in-repo fake Discord server) gets a ``/train`` upload of the
corpus; a real ``lstm-bot worker`` process trains it; the script waits for the result message
in the channel and prints the wall time (upload to result), the held-out loss before and after
(from the model card), and a sample generated with ``/generate`` from the new model.

    .venv/bin/python benchmarks/finetune_real_path.py --corpus ../shared/corpora/dom_casmurro_pt.txt
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.client import LSTMBot
from bot.settings import Settings
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from worker.process import clean_env

ROOT = Path(__file__).resolve().parents[1]


async def main(corpus: Path, effort: str, name: str, seed: str) -> None:
    data = Path(tempfile.mkdtemp()) / "data"
    data.mkdir()
    settings = Settings(data_dir=data, poll_seconds=1.0, generate_cooldown=0)
    env = clean_env()
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env.update(
        PYTHONPATH=path,
        LSTM_BOT_DATA_DIR=str(data),
        LSTM_BOT_POLL_SECONDS="0.5",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    log = open(data / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Bench")
            user = fake.add_user("writer")
            fake.add_member(guild, user)
            bot = LSTMBot(settings, sync_commands=True)
            async with running_bot(fake, bot):
                started = time.perf_counter()
                upload = fake.add_attachment(corpus.name, corpus.read_bytes(), "text/plain")
                ix = await fake.invoke(
                    guild, user, "train", {"file": upload, "name": name, "effort": effort}
                )
                await ix.wait_content(lambda c: bool(c) and "Queued" in c, timeout=60)
                print(ix.content)
                await fake.wait_for_message(
                    guild.default_channel,
                    lambda m: any("is trained" in (e.get("title") or "") for e in m.embeds),
                    timeout=3600,
                )
                wall = time.perf_counter() - started
                record = await bot.registry.get(guild.id, name)
                assert record is not None
                card = record.card
                (job,) = await bot.jobs.list_for_guild(guild.id, 1)
                events = await bot.jobs.events_after(job.id, 0, 1000)
                device = next((e.payload.get("device") for e in events if e.kind == "started"), "?")
                gen = await fake.invoke(
                    guild,
                    user,
                    "generate",
                    {"seed": seed, "temperature": 0.5, "model": name, "length": 300, "rng_seed": 1},
                )
                await gen.wait_content(lambda c: bool(c) and "300 characters" in c, timeout=60)
        training = card["training"]
        print(
            f"corpus: {corpus.name}, {card['corpus']['chars']:,} characters, "
            f"{card['corpus']['new_chars']} characters new to the base model"
        )
        print(
            f"effort {effort}: {training['epochs_run']} epochs, {training.get('steps_run')} steps "
            f"of {training['batch_size']} x {training['seq_len']} characters "
            f"({training.get('passes')} passes; {training['stopped']}), "
            f"{card['training_seconds']:.0f} s of training"
        )
        print(f"wall time from upload to the result message: {wall:.1f} s")
        print(
            f"held-out loss (last 10%): {card['base_heldout_loss_nats']:.3f} nats/char before "
            f"-> {card['heldout_loss_nats']:.3f} after (uniform guess "
            f"{card.get('uniform_loss_nats', float('nan')):.3f})"
        )
        print(f"trained on: {device}")
        print("sample (/generate, temperature 0.5):")
        print(gen.content)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
        print("worker log (last lines):")
        print("\n".join((data / "worker.log").read_text(errors="replace").splitlines()[-8:]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--effort", default="normal")
    parser.add_argument("--name", default="casmurro")
    parser.add_argument("--seed", default="Capitu olhou para mim ")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.corpus, args.effort, args.name, args.seed))
