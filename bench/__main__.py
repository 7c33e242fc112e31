"""``python -m bench [NAME ...]``: run the benchmarks and write bench/results.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import traceback

from .common import ROOT, Figure

MODULES = ["bench_store", "bench_team", "bench_analysis", "bench_ui", "bench_dashboards", "bench_notebooks"]


def _benches() -> dict:
    found = {}
    for name in MODULES:
        try:
            module = __import__(f"bench.{name}", fromlist=["BENCHES"])
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                continue
            raise
        found.update(module.BENCHES)
    return found


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    return f"{x:,.3g} {unit}".strip() if abs(x) < 100 else f"{x:,.0f} {unit}".strip()


def main(argv: list[str]) -> int:
    benches = _benches()
    chosen = argv or list(benches)
    figures: list[Figure] = []
    for name in chosen:
        print(f"bench {name} …", file=sys.stderr, flush=True)
        try:
            figures += benches[name]()
        except Exception:
            traceback.print_exc()
            figures.append(Figure(f"{name}: FAILED to run", float("nan"), "", notes=["see stderr"]))
    lines = [
        "# Benchmark results", "",
        f"- date: {dt.datetime.now():%Y-%m-%d %H:%M}",
        f"- machine: {_machine()}",
        "- every figure is a median of several runs; ratios compare with a baseline measured in the same run", "",
        "| figure | value | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        base = f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else "—"
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[f.ok]
        lines.append(f"| {f.name} | {_fmt(f.value, f.unit)} | {base} | {ratio} | {f.target or '—'} | {met} |")
    notes = [f"- {f.name}: {n}" for f in figures for n in f.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    text = "\n".join(lines) + "\n"
    if not argv:
        (ROOT / "bench" / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
