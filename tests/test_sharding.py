"""Shard settings and the agreement between bot processes on one database (real SQLite, and
real PostgreSQL for the bot's state on LSTM_BOT_DATABASE_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.db import bot_database
from bot.settings import SettingsError, load_settings
from bot.sharding import (
    STALE_SECONDS,
    ShardClaims,
    ShardConflict,
    identify_slot,
    parse_shard_ids,
    split_shards,
)
from jobs.records import shard_of
from worker.process import clean_env


def test_parse_and_split_shard_ids() -> None:
    assert parse_shard_ids("0,2,4-6") == (0, 2, 4, 5, 6)
    assert parse_shard_ids(" 3 ") == (3,)
    for bad in ("", "a", "1-0", "1,1", "-1"):
        with pytest.raises(ValueError):
            parse_shard_ids(bad)
    assert split_shards(4, 2) == [(0, 2), (1, 3)]
    assert split_shards(3, 3) == [(0,), (1,), (2,)]
    with pytest.raises(ValueError):
        split_shards(1, 2)
    assert shard_of(None, 4) == 0 and shard_of(5 << 22, 4) == 1


def test_shard_settings_are_checked(monkeypatch) -> None:
    assert load_settings(None).shard_id_list is None
    monkeypatch.setenv("LSTM_BOT_SHARD_COUNT", "4")
    monkeypatch.setenv("LSTM_BOT_SHARD_IDS", "1,3")
    settings = load_settings(None)
    assert settings.shard_id_list == (1, 3) and settings.shard_count == 4
    cases = {
        "LSTM_BOT_SHARD_IDS needs LSTM_BOT_SHARD_COUNT": {"LSTM_BOT_SHARD_IDS": "0"},
        "names shard 4, but LSTM_BOT_SHARD_COUNT is 4": {
            "LSTM_BOT_SHARD_COUNT": "4",
            "LSTM_BOT_SHARD_IDS": "0,4",
        },
        "LSTM_BOT_SHARD_IDS is malformed": {"LSTM_BOT_SHARD_COUNT": "2", "LSTM_BOT_SHARD_IDS": "x"},
        "LSTM_BOT_SHARD_COUNT must be at least 1": {"LSTM_BOT_SHARD_COUNT": "0"},
    }
    for said, env in cases.items():
        with monkeypatch.context() as patch:
            patch.delenv("LSTM_BOT_SHARD_COUNT")
            patch.delenv("LSTM_BOT_SHARD_IDS")
            for name, value in env.items():
                patch.setenv(name, value)
            with pytest.raises(SettingsError, match=said):
                load_settings(None)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def state(tmp_path: Path, url: str | None):
    return bot_database(tmp_path / "bot.sqlite3", url=url)


async def test_a_process_that_disagrees_with_a_running_one_is_refused(
    tmp_path: Path, state_url: str | None
) -> None:
    async with state(tmp_path, state_url) as db1, state(tmp_path, state_url) as db2:
        first = ShardClaims(db1, pid=os.getppid())  # a live process on this host
        await first.claim(2, (0,))
        with pytest.raises(ShardConflict, match=r"shard count \(4\) disagrees with .* 2 shards"):
            await ShardClaims(db2).claim(4, (1, 3))
        with pytest.raises(ShardConflict, match="shard 0 is already held by the bot process"):
            await ShardClaims(db2).claim(2, (0, 1))
        await ShardClaims(db2).claim(2, (1,))  # the other shard: fine
        rows = await db1.fetchall("SELECT shard_id, pid FROM bot_shards ORDER BY shard_id")
        assert [tuple(r) for r in rows] == [(0, os.getppid()), (1, os.getpid())]

        await first.release()
        with pytest.raises(ShardConflict):  # the process holding shard 1 still runs with 2
            await ShardClaims(db1, pid=os.getppid()).claim(4, (0, 2))
        await ShardClaims(db2).release()
        await ShardClaims(db1, pid=os.getppid()).claim(4, (0, 2))  # none runs: a new count


async def test_a_killed_process_not_yet_reaped_does_not_bind(tmp_path: Path, state_url) -> None:
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # ends; not waited for yet
    async with state(tmp_path, state_url) as db:
        await ShardClaims(db, pid=zombie.pid).claim(2, (1,))
        while Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.01)
        await ShardClaims(db).claim(2, (1,))  # its shard is free again
    zombie.wait()


async def test_dead_and_silent_processes_do_not_bind(tmp_path: Path, state_url) -> None:
    async with state(tmp_path, state_url) as db:
        await ShardClaims(db, pid=_dead_pid()).claim(2, (0, 1))  # killed -9: rows left
        await ShardClaims(db, pid=os.getppid()).claim(2, (0, 1))  # its pid is gone: taken over
        await db.execute("UPDATE bot_shards SET host = 'elsewhere'")
        with pytest.raises(ShardConflict, match="on elsewhere"):
            await ShardClaims(db).claim(3, (0, 1, 2))
        await db.execute("UPDATE bot_shards SET seen_at = ?", (time.time() - STALE_SECONDS - 1,))
        await ShardClaims(db).claim(3, (0, 1, 2))  # the other host went silent
        rows = await db.fetchall("SELECT DISTINCT shard_count FROM bot_shards")
        assert [r[0] for r in rows] == [3]


async def test_identify_slots_are_five_seconds_apart_per_bucket(tmp_path: Path, state_url) -> None:
    async with state(tmp_path, state_url) as db:
        assert await identify_slot(db, 0, 2) == 0
        assert await identify_slot(db, 1, 2) == 0  # another bucket
        assert 4 < await identify_slot(db, 2, 2) <= 5  # bucket 0 again
        assert 9 < await identify_slot(db, 0, 2) <= 10


def test_the_launchers_plan() -> None:
    from bot.launcher import plan
    from bot.settings import Settings

    assert plan(Settings(), 2, lambda: 1) == (2, [(0,), (1,)])  # at least one shard each
    assert plan(Settings(), 2, lambda: 5) == (5, [(0, 2, 4), (1, 3)])
    assert plan(Settings(shard_count=4), 3, lambda: 99) == (4, [(0, 3), (1,), (2,)])
    with pytest.raises(SettingsError, match="leave LSTM_BOT_SHARD_IDS empty"):
        plan(Settings(shard_count=2, shard_ids="0"), 2, lambda: 1)
    with pytest.raises(SettingsError, match="at least 1"):
        plan(Settings(), 0, lambda: 1)
    # A count set by hand is kept (the other machines' processes run with it): never raised.
    with pytest.raises(SettingsError, match=r"3 processes need at least 3 shards.*COUNT is 2"):
        plan(Settings(shard_count=2), 3, lambda: 1)


def test_run_with_processes_refuses_bad_shard_settings_in_one_line(tmp_path: Path) -> None:
    env = clean_env()
    env.update(DISCORD_TOKEN="t", LSTM_BOT_DATA_DIR=str(tmp_path))
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(root)

    def run(*args: str, **more: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "cli", "--env-file", "none", "run", *args]
        return subprocess.run(command, env=env | more, capture_output=True, text=True, cwd=tmp_path)

    done = run("--processes", "0")
    assert done.returncode == 1 and done.stderr.strip().endswith(
        "error: --processes must be at least 1"
    )
    done = run("--processes", "2", LSTM_BOT_SHARD_COUNT="2", LSTM_BOT_SHARD_IDS="0")
    assert done.returncode == 1 and "leave LSTM_BOT_SHARD_IDS empty" in done.stderr
    done = run(LSTM_BOT_SHARD_IDS="0")
    assert done.returncode == 1 and "LSTM_BOT_SHARD_IDS needs LSTM_BOT_SHARD_COUNT" in done.stderr
    assert "Traceback" not in done.stderr


async def test_claims_on_postgres_go_by_the_databases_clock(
    tmp_path: Path, pg_state_url, monkeypatch
) -> None:
    """Machines' clocks differ: a running process on another host is not taken for silent
    because this machine's clock is ahead, nor a silent one for running because it is behind."""
    import bot.sharding

    async with state(tmp_path, pg_state_url) as db:
        await ShardClaims(db, host="elsewhere", pid=1).claim(2, (0,))
        real = time.time
        with monkeypatch.context() as patch:
            patch.setattr(bot.sharding.time, "time", lambda: real() + STALE_SECONDS + 60)
            with pytest.raises(ShardConflict, match="on elsewhere"):
                await ShardClaims(db).claim(2, (0, 1))
            assert 0 <= await identify_slot(db, 0, 1) <= 1  # the database's clock too
        with monkeypatch.context() as patch:  # its clock behind: its refresh still counts
            patch.setattr(bot.sharding.time, "time", lambda: real() - STALE_SECONDS - 60)
            await ShardClaims(db, host="elsewhere", pid=1).refresh()
        with pytest.raises(ShardConflict, match="on elsewhere"):
            await ShardClaims(db).claim(2, (0, 1))
        await db.execute("UPDATE bot_shards SET seen_at = seen_at - ?", (STALE_SECONDS + 1,))
        await ShardClaims(db).claim(2, (0, 1))


async def test_machines_with_one_host_name_are_told_apart(tmp_path: Path, state_url) -> None:
    """Cloned machines (all named ``ubuntu``) or containers sharing the host's name: a pid
    that is not running here says nothing of a process there. A claim names this machine by
    its host name and what tells it from another of that name (the boot id and the pid
    namespace), the same for every process of this machine."""
    import socket

    from bot.sharding import this_machine

    here = this_machine()
    assert here.startswith(socket.gethostname() + "#") and len(here) > len(socket.gethostname())
    code = "from bot.sharding import this_machine; print(this_machine())"
    root = Path(__file__).resolve().parents[1]
    other = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env() | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == here  # another process of this machine
    twin = f"{socket.gethostname()}#0123456789ab"  # same name, another machine
    async with state(tmp_path, state_url) as db:
        await ShardClaims(db, host=twin, pid=_dead_pid()).claim(2, (0,))
        with pytest.raises(ShardConflict, match=f"on {socket.gethostname()} \\(machine 01234567"):
            await ShardClaims(db).claim(2, (0, 1))
        await ShardClaims(db, pid=_dead_pid()).claim(2, (1,))  # this machine's, pid gone
        await ShardClaims(db).claim(2, (1,))


async def test_a_silent_process_back_keeps_shards_no_one_took(tmp_path: Path, state_url) -> None:
    """Its rows, stale, are removed by any process that starts meanwhile; only a shard another
    process now holds is lost (the process then stops), the others are claimed again."""
    async with state(tmp_path, state_url) as db:
        silent = ShardClaims(db, host="elsewhere#1", pid=1)
        await silent.claim(3, (0, 2))
        await db.execute("UPDATE bot_shards SET seen_at = seen_at - ?", (STALE_SECONDS + 1,))
        await ShardClaims(db, host="other#2", pid=2).claim(3, (1,))  # removes the stale rows
        assert await silent.refresh() == ()  # back: no one took them
        rows = await db.fetchall("SELECT shard_id FROM bot_shards WHERE pid = 1")
        assert sorted(r[0] for r in rows) == [0, 2]
        await db.execute("UPDATE bot_shards SET seen_at = seen_at - ? WHERE pid = 1", (99,))
        await ShardClaims(db, host="other#3", pid=3).claim(3, (2,))
        assert await silent.refresh() == (2,)
