"""Fault and load tests on a real SQLite file: concurrent writers, SIGKILL mid-save and
mid-migration, online backups during writes. The quick versions run in ``make test``;
the full counts (8 × 500 writers, 100 kills) are marked ``slow`` and run in ``make stress``.
Each test prints its figures (attempted / present, kills / corrupt / lost)."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rapportkit.demo import generate
from rapportkit.migrations import SCHEMA_VERSION, migrate, schema_version
from rapportkit.store import Store

import fault_workers

ROOT = Path(__file__).resolve().parents[1]
WORKERS = Path(fault_workers.__file__)


def _seed_people(db: Path | str) -> None:
    with Store(db, actor="setup") as store:
        store.save_many(people=generate(specialists=8, months=1).people)


def _database(backend: str, request, tmp_path: Path, name: str) -> Path | str:
    """A new empty database on ``backend``: an SQLite file, or a database in the test cluster."""
    if backend == "postgresql":
        from conftest import new_pg_database

        return new_pg_database(request.getfixturevalue("pg_cluster"))
    return tmp_path / name


def _concurrent_writers(db: Path | str, writers: int, each: int) -> None:
    _seed_people(db)
    ctx = mp.get_context("spawn")
    with ctx.Pool(writers) as pool:
        results = pool.starmap(fault_workers.write_reviews,
                               [(str(db), f"w{i}-", each, 100 + i) for i in range(writers)])
    with Store(db, readonly=True) as store:
        present = store.counts()["reviews"]
        problems = store.check()
    print(f"\nconcurrent writers: {writers} x {each}: attempted {writers * each}, "
          f"acknowledged {sum(results)}, present {present}, check problems {len(problems)}")
    assert sum(results) == writers * each
    assert present == writers * each
    assert problems == []


def test_concurrent_writers_lose_nothing_quick(backend, request, tmp_path):
    _concurrent_writers(_database(backend, request, tmp_path, "load.db"), writers=4, each=40)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_8x500(backend, request, tmp_path):
    _concurrent_writers(_database(backend, request, tmp_path, "load.db"), writers=8, each=500)


def _expected_reviews(prefix: str) -> dict:
    _, reviews = fault_workers.team_reviews(8, 60, 11, prefix)
    return {r.id: r for r in reviews}


def _kill_rounds(tmp_path: Path, db: Path | str, rounds: int) -> None:
    rng = random.Random(2024)
    _seed_people(db)
    expected = _expected_reviews("k-")
    ack = tmp_path / "acks.txt"
    corrupt = lost = partial = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ready = Path(str(ack) + ".ready")
    for _ in range(rounds):
        ready.unlink(missing_ok=True)
        child = subprocess.Popen(
            [sys.executable, str(WORKERS), "write_until_killed", str(db), "k-", str(ack)],
            cwd=ROOT, env=env,
        )
        deadline = time.monotonic() + 60  # start-up takes ~0.5 s, longer on a busy machine
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 0.8))  # then it is mid-save
        child.send_signal(signal.SIGKILL)
        child.wait()
        if isinstance(db, Path):
            con = sqlite3.connect(db)
            if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                corrupt += 1
            con.close()
        else:  # the server outlives its client: within seconds a killed writer holds no transaction open
            with Store(db, readonly=True) as after:
                for _ in range(50):
                    open_ = after.conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'").fetchone()[0]
                    if not open_:
                        break
                    time.sleep(0.1)
            corrupt += open_ > 0
    acked = set(ack.read_text().split()) if ack.exists() else set()
    with Store(db) as store:
        present = {r.id: r for r in store.reviews() if r.id.startswith("k-")}
        problems = store.check()
    lost = len(acked - set(present))
    partial = sum(1 for rid, r in present.items() if r != expected[rid])
    print(f"\nSIGKILL: kills {rounds}, corrupt {corrupt}, acknowledged {len(acked)}, "
          f"present {len(present)}, lost {lost}, partial {partial}, check problems {len(problems)}")
    assert len(acked) > 0, "the writer never got going; the test proves nothing"
    assert (corrupt, lost, partial) == (0, 0, 0)
    assert problems == []


def test_sigkill_mid_save_loses_nothing_acknowledged_quick(backend, request, tmp_path):
    _kill_rounds(tmp_path, _database(backend, request, tmp_path, "kill.db"), rounds=6)


@pytest.mark.slow
def test_sigkill_mid_save_100_times(backend, request, tmp_path):
    _kill_rounds(tmp_path, _database(backend, request, tmp_path, "kill.db"), rounds=100)


def _columns(db: Path, table: str) -> list[str]:
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    con.close()
    return cols


@pytest.mark.parametrize("round_", range(3))
def test_sigkill_during_migration_leaves_schema_wholly_old_or_new(tmp_path, round_):
    db = tmp_path / "mig.db"
    from rapportkit.db import connect

    conn = connect(db)
    migrate(conn, db, upto=1)
    conn.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, str(WORKERS), "slow_migration", str(db)],
                             cwd=ROOT, env=env)
    time.sleep(0.45 + 0.05 * round_)
    child.send_signal(signal.SIGKILL)
    child.wait()
    con = sqlite3.connect(db)
    version = schema_version(con)
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    con.close()
    has_target = "target" in _columns(db, "goals")
    print(f"\nkilled migration round {round_}: schema version {version}, target column {has_target}")
    if version == 1:
        assert not has_target and not triggers
    else:
        assert version == SCHEMA_VERSION and has_target and {"audit_no_update", "audit_no_delete"} <= triggers


def test_online_backups_during_writes_verify_and_restore(tmp_path):
    db = tmp_path / "busy.db"
    _seed_people(db)
    ctx = mp.get_context("spawn")
    writer = ctx.Process(target=fault_workers.write_reviews, args=(str(db), "b-", 2000, 5))
    writer.start()
    backups, good = 0, 0
    try:
        with Store(db, readonly=True) as store:
            while store.counts()["reviews"] == 0:  # wait until the writer is writing
                time.sleep(0.05)
            while writer.is_alive() and backups < 6:
                time.sleep(0.1)
                dest = store.backup(tmp_path / f"copy-{backups}.db")
                backups += 1
                with Store(dest, readonly=True) as copy:
                    if not copy.check():
                        good += 1
                        copy.reviews()  # restorable: every review loads
    finally:
        writer.terminate()
        writer.join(60)
    print(f"\nbackups during writes: taken {backups}, verified {good}")
    assert backups >= 2 and good == backups
