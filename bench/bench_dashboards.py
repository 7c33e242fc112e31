"""Dashboard figures: first plot on screen, and a specialist change, against baselines.

- **First plot** (Chromium): milliseconds from navigation start to the first explorer
  image on screen, for each dashboard, served by ``rapportkit serve`` cold
  (``--no-preheat``) and preheated. The baseline, served the same way from the same
  folder, is a do-nothing Voilà page (one cell, ``print("ok")``) until its output is on
  screen, *cold*: what any Voilà page costs a viewer without preheating.
  Target: preheated first plot ≤ 0.6× the do-nothing page. For reference, the least any
  widget page costs: one ``ipywidgets.Image`` of a 1×1 PNG, preheated. The two servers
  run side by side and their loads are interleaved page by page, so the machine's
  background load falls on every figure alike.
- **Specialist change** (in the kernel's shoes, no browser): the explorer's own
  ``last_draw_ms`` for a new specialist (clear, draw, PNG, hand to the Image widget)
  against drawing the same panels with bare matplotlib calls from data already in
  arrays, at the same size and dpi, PNG included. Targets: ≤ 300 ms median and ≤ 1.5×.
- For information: the same change measured in Chromium (select → new image).

Runs a few loads each and reports medians; the machine's other load shows in the notes.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .common import ROOT, Figure

DASHBOARDS = ROOT / "workbooks" / "dashboards"
PAGES = ("specialist_progress", "team_overview", "calibration")
BASELINE = "do_nothing"
#: The least a widget page can cost: one ipywidgets.Image of a tiny PNG, nothing else.
WIDGET_FLOOR = "one_image_widget"
#: A 1×1 PNG.
TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
RUNS = int(os.environ.get("RK_BENCH_RUNS", "5"))
PLOT = "img.rk-explorer-plot"
OK_SHOWN_JS = """() => {
  const cells = document.getElementById('rendered_cells');
  if (!cells || cells.getBoundingClientRect().height === 0) return null;
  const out = [...cells.querySelectorAll('.jp-OutputArea-output pre')].find((e) => e.textContent.trim() === 'ok');
  return out && out.getBoundingClientRect().height > 0 ? performance.now() : null;
}"""


def _helpers():
    sys.path.insert(0, str(ROOT / "tests"))
    import browser  # the shared browser-test helpers: servers, Chromium, recorders

    return browser


def _folder(tmp: Path) -> Path:
    """The three dashboards and the do-nothing page, side by side."""
    folder = tmp / "dashboards"
    folder.mkdir()
    for name in PAGES:
        shutil.copyfile(DASHBOARDS / f"{name}.ipynb", folder / f"{name}.ipynb")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell('print("ok")')]
    nbformat.write(nb, folder / f"{BASELINE}.ipynb")
    nb.cells = [nbformat.v4.new_code_cell(
        f'import base64, ipywidgets as W\nW.Image(value=base64.b64decode("{TINY_PNG}"), format="png", '
        'width="100", height="100").add_class("rk-explorer-plot")')]
    nbformat.write(nb, folder / f"{WIDGET_FLOOR}.ipynb")
    return folder


def _pool_filled(server, name: str) -> int:
    return server.log_text().count(f"Kernel pool of {name}.ipynb is filled")


def _settle(b, servers) -> None:
    """Wait until no kernel of any server is busy (a preheated pool has run its cell 1)."""
    for server in servers:
        server.wait_kernels_idle(quiet=1.0, timeout=180)


def _load(b, context, server, name: str, preheat: bool, used: dict[str, int], servers) -> float:
    """One page view; ms from navigation start to its first plot (or "ok") on screen."""
    if preheat:  # wait until the pool has a kernel for this page, then until it ran cell 1
        b.wait_until(lambda: _pool_filled(server, name) > used.get(name, 0), 180, f"the pool for {name}")
        time.sleep(2)  # its cell 1 starts right after the kernel does
    _settle(b, servers)
    page = context.new_page()
    try:
        page.goto(server.page(f"voila/render/{name}.ipynb"), wait_until="commit")
        if name == BASELINE:
            ms = float(page.wait_for_function(OK_SHOWN_JS, polling=50, timeout=180_000).json_value())
        else:
            ms = b.wait_for_images(page, PLOT, 1, timeout=180_000)
    finally:
        page.close()
    used[name] = used.get(name, 0) + 1
    return ms


def _first_plots(db: Path, folder: Path, log_dir: Path) -> tuple[dict, dict, list[float], list[float]]:
    """Cold and preheated servers side by side; their loads interleaved page by page, so
    the machine's background load falls on both alike."""
    b = _helpers()
    pages = (BASELINE, WIDGET_FLOOR, *PAGES)
    cold: dict[str, list[float]] = {n: [] for n in pages}
    warm: dict[str, list[float]] = {n: [] for n in pages}
    change: list[float] = []
    loads: list[float] = []
    with b.rapportkit_serve(db, dashboards=folder, preheat=False, log_dir=log_dir / "cold") as cold_server, \
            b.rapportkit_serve(db, dashboards=folder, preheat=True, log_dir=log_dir / "warm") as warm_server, \
            b.chromium() as browser, b.recorded_context(browser) as (context, rec):
        servers = (cold_server, warm_server)
        used: dict[str, int] = {}
        for server, preheat in ((cold_server, False), (warm_server, True)):  # warm the browser cache
            _load(b, context, server, BASELINE, preheat, used if preheat else {}, servers)
        for _ in range(RUNS):
            for name in pages:
                cold[name].append(_load(b, context, cold_server, name, False, {}, servers))
                warm[name].append(_load(b, context, warm_server, name, True, used, servers))
                loads.append(os.getloadavg()[0])
        # a person changing specialist, measured in the page
        page = context.new_page()
        page.goto(warm_server.page("voila/render/specialist_progress.ipynb"), wait_until="commit")
        b.wait_for_images(page, PLOT, 3, timeout=180_000)
        labels = [o.replace("\u00a0", " ") for o in page.locator(
            ".rk-dashboard-specialist select option").all_inner_texts()]
        for label in [*labels[1:], labels[0]] * 2:
            _settle(b, servers)
            change.append(b.choose_and_time(page, ".rk-dashboard-specialist select", label, PLOT))
        page.close()
        foreign, errors = rec.foreign(), rec.errors()
    if foreign or errors:
        raise RuntimeError(f"pages were not clean: {foreign} {errors}")
    return cold, warm, change, loads


def first_plot() -> list[Figure]:
    """First plot of each dashboard, cold and preheated, against a do-nothing page."""
    from rapportkit.demo import load_demo
    from rapportkit.store import Store

    with tempfile.TemporaryDirectory(prefix="rk-bench-") as tmp:
        tmp = Path(tmp)
        db = tmp / "demo.db"
        with Store(db, actor="demo") as store:
            load_demo(store)
        cold, warm, change, loads = _first_plots(db, _folder(tmp), tmp)
    base = statistics.median(cold[BASELINE])
    floor = statistics.median(warm[BASELINE])
    figures = [Figure("do-nothing Voilà page (print(\"ok\")), preheated: output on screen", floor, "ms", base,
                      "the same page, cold")]
    widget_floor = statistics.median(warm[WIDGET_FLOOR])
    figures.append(Figure("page with one ipywidgets.Image (1×1 PNG), preheated: image on screen", widget_floor,
                          "ms", base, "do-nothing page, cold",
                          notes=[f"runs (ms): preheated {_ms(warm[WIDGET_FLOOR])}; cold {_ms(cold[WIDGET_FLOOR])}"]))
    for name in PAGES:
        f = Figure(f"first plot: {name}, preheated", statistics.median(warm[name]), "ms", base,
                   "do-nothing page, cold, same set-up, interleaved", "≤ 0.6×")
        f.ok = f.ratio <= 0.6
        f.notes.append(f"runs (ms): preheated {_ms(warm[name])}; cold {_ms(cold[name])}; "
                       f"{statistics.median(warm[name]) / floor:.2f}× the preheated do-nothing page, "
                       f"{statistics.median(warm[name]) / widget_floor:.2f}× the preheated one-image widget page")
        figures.append(f)
        figures.append(Figure(f"first plot: {name}, cold", statistics.median(cold[name]), "ms", base,
                              "do-nothing page, cold"))
    figures[0].notes.append(f"runs (ms): cold {_ms(cold[BASELINE])}; preheated {_ms(warm[BASELINE])}; "
                            f"load average during the loads {min(loads):.1f}–{max(loads):.1f} "
                            "(2 cores, shared with other sessions)")
    figures.append(Figure("specialist change in Chromium (select → new trend image), preheated server",
                          statistics.median(change), "ms", notes=[f"runs (ms): {_ms(sorted(change))}"]))
    return figures


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


# ============================================================================ specialist change


def _bare_trend_grid(figure, panels: list[tuple[str, object, object, object, object]]) -> bytes:
    """The trend grid's marks drawn with plain matplotlib calls: 3×3 panels of points,
    a rolling-mean line and the proficiency line, titles, one PNG."""
    figure.clear()
    figure.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.1, hspace=0.6, wspace=0.25)
    axes = figure.subplots(3, 3, sharex=True, sharey=True)
    for ax, (title, x, y, line_x, line_y) in zip(axes.flat, panels):
        ax.plot(x, y, ls="none", marker="o", ms=4)
        ax.plot(line_x, line_y, lw=2)
        ax.axhline(3, ls="--", lw=1)
        ax.set_ylim(0.5, 4.5)
        ax.set_title(title, fontsize=9, loc="left")
    figure.suptitle("consensus score by practice")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def _bare_calibration(figure, gaps, counts) -> bytes:
    figure.clear()
    figure.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.12, wspace=0.22)
    left, right = figure.subplots(1, 2, width_ratios=[2.2, 1])
    dates, mean, low, high = gaps
    left.axhline(0, lw=1)
    left.vlines(dates, low, high, lw=4, alpha=0.5)
    left.plot(dates, mean, marker="o", ms=5)
    left.set_ylim(-3.5, 3.5)
    right.imshow(counts, origin="lower", cmap="Blues")
    for (i, j), v in __import__("numpy").ndenumerate(counts):
        right.text(j, i, str(v), ha="center", va="center")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def specialist_change() -> list[Figure]:
    """Explorer redraw on a specialist change against bare matplotlib, same process."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    from rapportkit.analysis import gaps, trend_points
    from rapportkit.demo import load_demo
    from rapportkit.store import Store
    from rapportkit.ui import CalibrationExplorer, SpecialistProgress, TrendExplorer

    figures = []
    with tempfile.TemporaryDirectory(prefix="rk-bench-") as tmp:
        db = Path(tmp) / "demo.db"
        with Store(db, actor="demo") as store:
            load_demo(store)
        with Store(db, readonly=True) as store:
            trend, calib, dash = TrendExplorer(store), CalibrationExplorer(store), SpecialistProgress(store)
            ids = [i for _, i in trend.data.specialists]
            ratings = trend.data.ratings
            # data for the bare drawings, prepared outside the timing
            points = trend_points(ratings, window=3)
            bare_trend = {}
            for sid in ids:
                panels = []
                for pid, rows in points[points["specialist_id"] == sid].groupby("practice_order", sort=True):
                    scored = rows.dropna(subset=["score"])
                    line = rows.dropna(subset=["rolling_mean"])
                    panels.append((rows["practice_title"].iloc[0], scored["review_date"].to_numpy(),
                                   scored["score"].astype(float).to_numpy(), line["review_date"].to_numpy(),
                                   line["rolling_mean"].to_numpy(dtype=float)))
                bare_trend[sid] = panels
            bare_calib = {}
            for sid in ids:
                g = gaps(ratings[ratings["specialist_id"] == sid])
                per = g.groupby("review_date")["gap"].agg(["mean", "min", "max"]).reset_index()
                counts = (pd.crosstab(g["score_a"], g["score_b"]).reindex(index=[1, 2, 3, 4], columns=[1, 2, 3, 4],
                                                                           fill_value=0).to_numpy())
                bare_calib[sid] = ((per["review_date"].to_numpy(), per["mean"].to_numpy(), per["min"].to_numpy(),
                                    per["max"].to_numpy()), np.asarray(counts))

            order = [*ids[1:], ids[0]] * 3  # every change is to a different specialist
            ours_t, ours_c, ours_d, base_t, base_c = [], [], [], [], []
            fig_t = MplFigure(figsize=trend.figsize, dpi=trend.dpi)
            fig_c = MplFigure(figsize=calib.figsize, dpi=calib.dpi)
            FigureCanvasAgg(fig_t)
            FigureCanvasAgg(fig_c)
            for sid in order:
                trend.specialist.value = sid
                ours_t.append(trend.last_draw_ms)
                base_t.append(_timed(lambda: _bare_trend_grid(fig_t, bare_trend[sid])))
                calib.specialist.value = sid
                ours_c.append(calib.last_draw_ms)
                base_c.append(_timed(lambda: _bare_calibration(fig_c, *bare_calib[sid])))
                dash.picker.value = sid
                ours_d.append(dash.last_change_ms)
    for name, ours, base in (("trend grid (specialist progress)", ours_t, base_t),
                             ("calibration gap + counts (calibration)", ours_c, base_c)):
        f = Figure(f"specialist change → new plot: {name}", statistics.median(ours), "ms", statistics.median(base),
                   "bare matplotlib drawing of the same panels + PNG, same process", "≤ 300 ms and ≤ 1.5×")
        f.ok = f.value <= 300 and f.ratio <= 1.5
        f.notes.append(f"{len(ours)} changes; ours {_ms(sorted(ours))}; bare {_ms(sorted(base))}")
        figures.append(f)
    figures.append(Figure("specialist change, every panel of specialist progress (trends, alerts, profile, goals)",
                          statistics.median(ours_d), "ms",
                          notes=[f"load average {os.getloadavg()[0]:.1f}"]))
    return figures


BENCHES = {"dashboards": lambda: specialist_change() + first_plot()}
