"""Shared helpers for the benchmarks: timing, fresh processes, the large demo database."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

#: The large team for scale figures: 200 specialists x 60 months, 3-5 reviews a month,
#: about 48,000 reviews and 1.3 million rating rows.
LARGE = {"specialists": 200, "months": 60, "reviews_per_month": (3, 5), "seed": 7}


@dataclass
class Figure:
    """One line of bench/results.md."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    ok: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def median_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh_process_time(code: str, repeat: int = 9) -> float:
    """Median wall time of ``python -c code`` in a new process (interpreter start included)."""
    times = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)  # warm the disk cache
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def large_db() -> Path:
    """The large demo database, built once and kept in bench/out/ (about 1.3 M rating rows)."""
    from rapportkit.demo import load_demo
    from rapportkit.store import Store

    OUT.mkdir(parents=True, exist_ok=True)
    key = "-".join(str(v if not isinstance(v, tuple) else f"{v[0]}to{v[1]}") for v in LARGE.values())
    path = OUT / f"large-{key}.db"
    if not path.exists():
        tmp = path.with_suffix(".building")
        for f in OUT.glob(tmp.name + "*"):
            f.unlink()
        start = time.perf_counter()
        store = Store(tmp, actor="bench")
        load_demo(store, **LARGE)
        # fold the WAL into the file before moving it; never delete a WAL by hand
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        if Path(str(tmp) + "-wal").exists() and Path(str(tmp) + "-wal").stat().st_size:
            raise RuntimeError(f"{tmp} still has an unmerged WAL; not moving it")
        os.replace(tmp, path)
        print(f"built {path.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def peak_rss_mb(code: str) -> float:
    """Peak resident memory (MB) of ``python -c code`` in a fresh process."""
    wrapper = code + "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    out = subprocess.run([sys.executable, "-c", wrapper], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024
