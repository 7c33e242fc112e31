"""The team store: PostgreSQL against SQLite on the same data, in the same run.

A throwaway PostgreSQL cluster (``rapportkit.pgcluster``, fsync on, as a server keeps
records) and an SQLite file (synchronous=FULL) receive the same demo team; each figure is
PostgreSQL's median over SQLite's, interleaved so that load from elsewhere falls on both.
A last figure reads one supervisor's specialists as that supervisor's own database role
(row-level security on) against the installer reading the same rows (policies bypassed).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from .common import Figure

_TEAM = {"specialists": 20, "months": 24, "reviews_per_month": (2, 4), "seed": 11}


def _interleaved(fns: dict, rounds: int) -> dict:
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def team_store() -> list[Figure]:
    import dataclasses

    from rapportkit.analysis import team_summary
    from rapportkit.demo import generate
    from rapportkit.frames import ratings_frame
    from rapportkit.pgcluster import Cluster
    from rapportkit.store import Store

    team = generate(**_TEAM)
    cluster = Cluster(fsync=True).start()
    figures = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lite = Store(Path(tmp) / "bench.db", actor="bench")
            pg = Store(cluster.create_database("bench"))
            for store in (lite, pg):
                store.save_many(people=team.people)
            # save one review: the same reviews, alternately to each
            saves = {"lite": [], "pg": []}
            for review in team.reviews[:150]:
                for key, store in (("lite", lite), ("pg", pg)):
                    start = time.perf_counter()
                    store.save_review(review)
                    saves[key].append(time.perf_counter() - start)
            lite_ms, pg_ms = (statistics.median(saves[k]) * 1000 for k in ("lite", "pg"))
            f = Figure("team store: save one review, PostgreSQL (fsync on)", pg_ms, "ms", lite_ms,
                       "SQLite, synchronous=FULL, same reviews", "≤ 15 ms median", pg_ms <= 15)
            figures.append(f)
            for store in (lite, pg):
                store.save_many(reviews=team.reviews[150:])
            rows = len(ratings_frame(lite))
            frame = _interleaved({"lite": lambda: ratings_frame(lite), "pg": lambda: ratings_frame(pg)}, 5)
            figures.append(Figure(f"team store: load tidy frame ({rows:,} rows), PostgreSQL", frame["pg"], "s",
                                  frame["lite"], "SQLite, same data", "report"))
            summary = _interleaved({"lite": lambda: team_summary(ratings_frame(lite)),
                                    "pg": lambda: team_summary(ratings_frame(pg))}, 5)
            figures.append(Figure("team store: frame + team summary, PostgreSQL", summary["pg"], "s",
                                  summary["lite"], "SQLite, same data", "report"))
            # one supervisor's view through row-level security
            sup = next(p for p in team.people if p.role.value == "supervisor")
            pg.save_person(dataclasses.replace(sup, login="bench_sup"))
            mine = [p.id for p in team.people if p.supervisor_id == sup.id]
            as_role = Store(pg.url.replace("user=postgres", "user=bench_sup"))
            rls = _interleaved({"installer": lambda: ratings_frame(pg, specialist=mine),
                                "role": lambda: ratings_frame(as_role)}, 5)
            assert len(ratings_frame(as_role)) == len(ratings_frame(pg, specialist=mine))
            figures.append(Figure(f"team store: a supervisor's frame as their own role ({len(mine)} specialists)",
                                  rls["role"], "s", rls["installer"], "the installer reading the same rows",
                                  "report"))
            for store in (lite, pg, as_role):
                store.close()
    finally:
        cluster.stop()
    return figures


BENCHES = {"team_store": team_store}
