"""Store figures: saving one review, loading the tidy frame, importing the package."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from .common import Figure, fresh_process_time, large_db


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


#: The join the tidy frame is made of, fetched the plain way: the baseline of load_frame and frame_memory.
_RAW_SQL = (
    "SELECT r.review_id, r.revision, r.review_date, r.session_id, s.session_date, s.modality,"
    " s.source, s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name,"
    " sc.practice_id, sc.role, ra.rater_id, sc.score, ra.rubric_id, ra.rubric_version, r.status"
    " FROM reviews r JOIN sessions s ON s.id = r.session_id JOIN people sp ON sp.id = s.specialist_id"
    " JOIN people sv ON sv.id = r.supervisor_id"
    " JOIN ratings ra ON ra.review_id = r.review_id AND ra.revision = r.revision"
    " JOIN scores sc ON sc.review_id = ra.review_id AND sc.revision = ra.revision AND sc.role = ra.role"
    " WHERE sc.rated = 1"
)


def load_frame() -> list[Figure]:
    """ratings_frame on the large team vs a raw sqlite3 fetch of the same join into a DataFrame."""
    from rapportkit.frames import ratings_frame
    from rapportkit.store import Store

    path = large_db()
    store = Store(path, readonly=True)
    rows = len(ratings_frame(store))

    sql = _RAW_SQL

    def raw():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        pd.DataFrame.from_records(conn.execute(sql).fetchall())
        conn.close()

    # interleaved, so that a burst of load from other work on the machine hits both sides
    raw()
    ours, base = [], []
    for _ in range(5):
        for fn, times in ((lambda: ratings_frame(store), ours), (raw, base)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    value, baseline = statistics.median(ours), statistics.median(base)
    store.close()
    f = Figure(f"load tidy frame ({rows:,} rows)", value, "s", baseline,
               "raw sqlite3 fetch of the same join into a DataFrame", "≤ 1.5×")
    f.ok = f.ratio <= 1.5
    f.notes.append(f"runs, interleaved (s): ours {', '.join(f'{t:.2f}' for t in ours)}; "
                   f"raw {', '.join(f'{t:.2f}' for t in base)}; load average {os.getloadavg()[0]:.1f} (2 cores, shared)")
    return [f]


_MEMORY_PROBE = """
import gc, json, sqlite3, sys
import pandas as pd
from rapportkit.frames import ratings_frame
from rapportkit.store import Store

def status(key):  # VmRSS (now) or VmHWM (highest since the reset below), in MB
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":")) / 1024

path, what, sql = sys.argv[1], sys.argv[2], sys.argv[3]
store = Store(path, readonly=True)
ratings_frame(store, specialist="nobody")  # every lazy import and cache of the load, no rows
gc.collect()
base = status("VmRSS")
try:  # start the high-water mark from here (ru_maxrss cannot be reset, and a child inherits its parent's)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
if what == "frame":
    frame = ratings_frame(store)
else:  # the baseline: a raw sqlite3 fetch of the same join into a DataFrame
    conn = sqlite3.connect(f"file:{{path}}?mode=ro", uri=True)
    frame = pd.DataFrame.from_records(conn.execute(sql).fetchall())
    conn.close()
peak = status("VmHWM")
gc.collect()
print(json.dumps({{"rows": len(frame), "base": base, "peak": peak - base, "after": status("VmRSS") - base,
                  "deep": float(frame.memory_usage(deep=True).sum()) / 2**20}}))
"""


def frame_memory() -> list[Figure]:
    """Peak and resident memory of ratings_frame on the large team, each in a fresh process
    (its RSS high-water mark during the load, and its RSS after, minus its RSS after the
    imports), against the same figures for the raw sqlite3 fetch of the join that
    load_frame times. Not ru_maxrss: on Linux a child starts with its parent's, so a bench
    process that has held a big frame would report that frame in every child."""
    import json
    import subprocess
    import sys

    path = large_db()
    code = _MEMORY_PROBE.format()

    def probe(what: str) -> dict:
        out = subprocess.run([sys.executable, "-c", code, str(path), what, _RAW_SQL],
                             check=True, capture_output=True, text=True)
        return json.loads(out.stdout.splitlines()[-1])

    ours = [probe("frame") for _ in range(3)]
    raw = probe("raw")
    peak = statistics.median(r["peak"] for r in ours)
    after = statistics.median(r["after"] for r in ours)
    deep = ours[0]["deep"]
    rows = ours[0]["rows"]
    runs = ", ".join(f"{r['peak']:.0f}/{r['after']:.0f}" for r in ours)
    f_peak = Figure(f"peak memory: load tidy frame ({rows:,} rows), fresh process", peak, "MB", raw["peak"],
                    "raw sqlite3 fetch of the same join into a DataFrame, same measure", "≤ 300 MB",
                    peak <= 300, [f"VmHWM during the load minus VmRSS after imports; runs (peak/resident MB): {runs}; "
                                  f"process after imports {ours[0]['base']:.0f} MB"])
    f_res = Figure(f"resident: tidy frame ({rows:,} rows)", deep, "MB", raw["deep"],
                   "raw fetch DataFrame, same measure", "≤ 300 MB", deep <= 300 and after <= 300,
                   [f"value is frame.memory_usage(deep=True) (which counts a string shared by many rows once "
                    f"per row); RSS growth after the load {after:.0f} MB (raw fetch: {raw['after']:.0f} MB), "
                    f"{deep * 2**20 / rows:.0f} B/row deep"])
    return [f_peak, f_res]


def import_time() -> list[Figure]:
    value = fresh_process_time("import rapportkit, rapportkit.store, rapportkit.model")
    baseline = fresh_process_time("import pandas")
    f = Figure("import rapportkit (+ store, model)", value * 1000, "ms", baseline * 1000,
               "import pandas, fresh process", "≤ 1.2×")
    f.ok = f.ratio <= 1.2
    return [f]


BENCHES = {"save": save_one_review, "frame": load_frame, "frame_memory": frame_memory, "import": import_time}
