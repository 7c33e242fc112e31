"""nbval over every workbook and dashboard notebook, as `make test` runs it."""

from __future__ import annotations

import subprocess
import sys
import time

from .common import ROOT, Figure


def nbval_all() -> list[Figure]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "workbooks"],
        cwd=ROOT, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    last = (proc.stdout.strip().splitlines() or ["?"])[-1]
    f = Figure("nbval over all workbooks", seconds, "s", target="≤ 60 s", ok=proc.returncode == 0 and seconds <= 60)
    f.notes.append(f"pytest said: {last}")
    return [f]


BENCHES = {"nbval": nbval_all}
