"""Child-process bodies for the fault and load tests (importable for multiprocessing)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from rapportkit.demo import generate
from rapportkit.store import Store


def team_reviews(specialists: int, months: int, seed: int, prefix: str):
    """A generated team whose review/session/goal ids carry ``prefix`` (unique per writer)."""
    import dataclasses

    team = generate(specialists=specialists, months=months, seed=seed)
    out = []
    for r in team.reviews:
        session = dataclasses.replace(r.session, id=f"{prefix}{r.session.id}")
        goals = tuple(dataclasses.replace(g, id=f"{prefix}{g.id}") for g in r.goals)
        updates = tuple(dataclasses.replace(u, goal_id=f"{prefix}{u.goal_id}") for u in r.goal_updates)
        out.append(dataclasses.replace(r, id=f"{prefix}{r.id}", session=session, goals=goals,
                                       goal_updates=updates))
    return team.people, out


def write_reviews(db: str, prefix: str, count: int, seed: int) -> int:
    """Save ``count`` reviews one transaction each; returns how many saves reported success."""
    people, reviews = team_reviews(8, 60, seed, prefix)
    store = Store(db, actor=f"writer-{prefix}")
    done = 0
    for review in reviews[:count]:
        store.save_review(review)
        done += 1
    store.close()
    return done


def write_until_killed(db: str, prefix: str, ack_path: str) -> None:
    """Save reviews forever, appending each id to ``ack_path`` only after save returned."""
    people, reviews = team_reviews(8, 60, 11, prefix)
    store = Store(db, actor="killable")
    Path(ack_path + ".ready").touch()  # started: from here on it is saving
    with open(ack_path, "a", buffering=1) as ack:
        for review in reviews:
            store.save_review(review)
            ack.write(review.id + "\n")
            ack.flush()
            os.fsync(ack.fileno())


def slow_migration(db: str) -> None:
    """Migrate a v1 database to the newest schema with a pause between statements."""
    import sqlite3

    from rapportkit import migrations
    from rapportkit.db import connect

    real_execute = sqlite3.Connection.execute

    class Slow(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.lstrip().upper().startswith(("ALTER", "CREATE")):
                time.sleep(0.02)
            return real_execute(self, sql, *args)

    conn = connect(db)
    slow = sqlite3.connect(db, factory=Slow, isolation_level=None, timeout=30)
    conn.close()
    migrations.migrate(slow, Path(db))


if __name__ == "__main__":  # python tests/fault_workers.py FUNCTION ARGS...
    getattr(sys.modules[__name__], sys.argv[1])(*sys.argv[2:])
