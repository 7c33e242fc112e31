"""Store figures: saving one review, loading the tidy frame, importing the package."""

from __future__ import annotations

import dataclasses
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from .common import Figure, fresh_process_time, large_db, median_time


def save_one_review() -> list[Figure]:
    """Median time to save one complete signed review (synchronous=FULL, fsync included)."""
    from rapportkit.demo import generate
    from rapportkit.store import Store

    team = generate(specialists=8, months=6)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "b.db", actor="bench")
        store.save_many(people=team.people)
        times = []
        for review in team.reviews[:120]:
            start = time.perf_counter()
            store.save_review(review)
            times.append(time.perf_counter() - start)
        # the baseline: one bare INSERT transaction on the same file with the same settings
        conn = store.conn
        conn.execute("CREATE TABLE bench_probe (x)")
        base = []
        for i in range(120):
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_probe VALUES (?)", (i,))
            conn.execute("COMMIT")
            base.append(time.perf_counter() - start)
        store.close()
    value, baseline = statistics.median(times) * 1000, statistics.median(base) * 1000
    return [Figure("save one review (synchronous=FULL)", value, "ms", baseline,
                   "one bare INSERT transaction, same file and settings", "≤ 15 ms median", value <= 15)]


def load_frame() -> list[Figure]:
    """ratings_frame on the large team vs a raw sqlite3 fetch of the same join into a DataFrame."""
    from rapportkit.frames import ratings_frame
    from rapportkit.store import Store

    path = large_db()
    store = Store(path, readonly=True)
    rows = len(ratings_frame(store))

    sql = (
        "SELECT r.review_id, r.revision, r.review_date, r.session_id, s.session_date, s.modality,"
        " s.source, s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name,"
        " sc.practice_id, sc.role, ra.rater_id, sc.score, ra.rubric_id, ra.rubric_version, r.status"
        " FROM reviews r JOIN sessions s ON s.id = r.session_id JOIN people sp ON sp.id = s.specialist_id"
        " JOIN people sv ON sv.id = r.supervisor_id"
        " JOIN ratings ra ON ra.review_id = r.review_id AND ra.revision = r.revision"
        " JOIN scores sc ON sc.review_id = ra.review_id AND sc.revision = ra.revision AND sc.role = ra.role"
        " WHERE sc.rated = 1"
    )

    def raw():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        pd.DataFrame.from_records(conn.execute(sql).fetchall())
        conn.close()

    value = median_time(lambda: ratings_frame(store), repeat=3)
    baseline = median_time(raw, repeat=3)
    store.close()
    f = Figure(f"load tidy frame ({rows:,} rows)", value, "s", baseline,
               "raw sqlite3 fetch of the same join into a DataFrame", "≤ 1.5×")
    f.ok = f.ratio <= 1.5
    return [f]


def import_time() -> list[Figure]:
    value = fresh_process_time("import rapportkit, rapportkit.store, rapportkit.model")
    baseline = fresh_process_time("import pandas")
    f = Figure("import rapportkit (+ store, model)", value * 1000, "ms", baseline * 1000,
               "import pandas, fresh process", "≤ 1.2×")
    f.ok = f.ratio <= 1.2
    return [f]


BENCHES = {"save": save_one_review, "frame": load_frame, "import": import_time}
