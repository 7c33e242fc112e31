"""Dashboard figures: first plot on screen, and a specialist change, against baselines.

- **First plot** (Chromium): milliseconds from navigation start to the first plot of
  each dashboard on screen, served by ``rapportkit serve`` cold (``--no-preheat``) and
  preheated. The first plot is the plain image a dashboard shows until its widgets are
  live (``img.rk-first-plot``, see ``rapportkit.ui.dashboards``) or the live plot widget
  (``img.rk-explorer-plot``), whichever is on screen first; the live widget's own time is
  in the notes. The baseline, served the same way from the same folder, is a do-nothing
  Voilà page (one cell, ``print("ok")``) until its output is on screen, *cold*: what any
  Voilà page costs a viewer without preheating. Target: preheated first plot ≤ 0.6× the
  do-nothing page. For reference, the least any Voilà page costs (the do-nothing page,
  preheated) and the least any widget page costs (one ``ipywidgets.Image`` of a 1×1
  PNG, preheated). The two servers run side by side and their loads are interleaved
  page by page, so the machine's background load falls on every figure alike.
- **Four views a second apart** (Chromium): four viewers open the same dashboard, one
  second after another, without waiting for each other; the figure is the slowest of
  the four first plots, against a cold do-nothing page loaded just before each burst.
  Measured on ``rapportkit serve`` as shipped (a pool of one kernel per dashboard) and
  on ``rapportkit serve --pool-size 4`` (a pool sized to the burst, refilled once the
  burst is over). Target: ≤ 1.0×. The resident memory of
  each pooled kernel is reported with it.
- **Specialist change** (in the kernel's shoes, no browser): the explorer's own
  ``last_draw_ms`` for a new specialist (new data for the marks, PNG, hand to the Image
  widget) against drawing the same panels with bare matplotlib calls from data already
  in arrays, at the same size and dpi, PNG included. Targets: ≤ 300 ms median and ≤ 1.5×.
- For information: the same change measured in Chromium (select → new image).

Each page's times are taken inside the page (an init script polls every 20 ms from the
first byte), so pages loading side by side are timed alike. Runs a few loads each and
reports medians; the machine's other load shows in the notes.
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

from rapportkit.serve import POOL_REFILL_S

from .common import ROOT, Figure

DASHBOARDS = ROOT / "workbooks" / "dashboards"
PAGES = ("specialist_progress", "team_overview", "calibration")
BASELINE = "do_nothing"
#: The least a widget page can cost: one ipywidgets.Image of a tiny PNG, nothing else.
WIDGET_FLOOR = "one_image_widget"
#: A 1×1 PNG.
TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
RUNS = int(os.environ.get("RK_BENCH_RUNS", "5"))
#: The live plot widgets, and the plain first-plot images shown until they are live.
PLOT = "img.rk-explorer-plot"
FIRST_PLOT = "img.rk-first-plot, img.rk-explorer-plot"
#: Viewers in a burst, and the seconds between them.
BURST, BURST_GAP_S = 4, 1.0
#: The pool sized to a burst (``rapportkit serve --pool-size``); such a pool replaces a
#: used kernel after ``POOL_REFILL_S``, so refills do not compete with the burst.
SIZED_POOL, SIZED_FILL_DELAY_S = BURST, POOL_REFILL_S
#: In every page, from its first byte: ``performance.now()`` when its first plot, its
#: live plot widget, and (do-nothing page) its "ok" are first on screen.
TIMES_JS = """(() => {
  const shown = (sel) => [...document.querySelectorAll(sel)].some(
    (i) => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().height > 0);
  const ok = () => {
    const cells = document.getElementById('rendered_cells');
    if (!cells || cells.getBoundingClientRect().height === 0) return false;
    const out = [...cells.querySelectorAll('.jp-OutputArea-output pre')].find((e) => e.textContent.trim() === 'ok');
    return !!out && out.getBoundingClientRect().height > 0;
  };
  const t = { first: null, live: null, ok: null };
  window.__rk_times = t;
  const timer = setInterval(() => {
    const now = performance.now();
    if (t.first === null && shown('%s')) t.first = now;
    if (t.live === null && shown('%s')) t.live = now;
    if (t.ok === null && ok()) t.ok = now;
    if ((t.first !== null && t.live !== null) || t.ok !== null || now > 300000) clearInterval(timer);
  }, 20);
})();""" % (FIRST_PLOT, PLOT)


def _helpers():
    sys.path.insert(0, str(ROOT / "tests"))
    import browser  # the shared browser-test helpers: servers, Chromium, recorders

    return browser


def _folder(tmp: Path, name: str = "dashboards", extras: bool = True) -> Path:
    """The three dashboards and (``extras``) the do-nothing and one-image pages, side by side."""
    folder = tmp / name
    folder.mkdir()
    for page in PAGES:
        shutil.copyfile(DASHBOARDS / f"{page}.ipynb", folder / f"{page}.ipynb")
    if not extras:
        return folder
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


def _refilled(b, server, name: str, taken: int) -> None:
    """Wait until the ``taken`` kernels taken from ``server``'s pool for ``name`` were all
    replaced (the pool logs once when it is first filled and once per replacement)."""
    if _pool_filled(server, name) > taken:
        return
    b.wait_until(lambda: _pool_filled(server, name) > taken, 300, f"the pool for {name}")
    time.sleep(2)  # its cell 1 starts right after the kernel does; then wait until idle


def _times(page) -> dict:
    return page.evaluate("() => window.__rk_times")


def _wait_shown(page, name: str) -> dict:
    """The page's times once its first plot (or "ok") is on screen."""
    what = "ok" if name == BASELINE else "first"
    page.wait_for_function(f"() => window.__rk_times && window.__rk_times.{what} !== null", polling=50,
                           timeout=180_000)
    return _times(page)


def _load(b, context, server, name: str, preheat: bool, taken: dict[str, int], servers) -> dict:
    """One page view; its times (ms from navigation start) once its first plot is on screen,
    and (dashboards) once its live widget is."""
    if preheat:  # wait until the pool has a kernel for this page, then until it ran cell 1
        _refilled(b, server, name, taken.get(name, 0))
    _settle(b, servers)
    page = context.new_page()
    try:
        page.goto(server.page(f"voila/render/{name}.ipynb"), wait_until="commit")
        times = _wait_shown(page, name)
        if name != BASELINE:
            page.wait_for_function("() => window.__rk_times.live !== null", polling=50, timeout=180_000)
            times = _times(page)
    finally:
        page.close()
    if preheat:
        taken[name] = taken.get(name, 0) + 1
    return times


def _first_plots(db: Path, folder: Path, log_dir: Path) -> tuple[dict, dict, list[float], list[float]]:
    """Cold and preheated servers side by side; their loads interleaved page by page, so
    the machine's background load falls on both alike."""
    b = _helpers()
    pages = (BASELINE, WIDGET_FLOOR, *PAGES)
    cold: dict[str, list[dict]] = {n: [] for n in pages}
    warm: dict[str, list[dict]] = {n: [] for n in pages}
    change: list[float] = []
    loads: list[float] = []
    with b.rapportkit_serve(db, dashboards=folder, preheat=False, log_dir=log_dir / "cold") as cold_server, \
            b.rapportkit_serve(db, dashboards=folder, preheat=True, log_dir=log_dir / "warm") as warm_server, \
            b.chromium() as browser, b.recorded_context(browser) as (context, rec):
        context.add_init_script(TIMES_JS)
        servers = (cold_server, warm_server)
        taken: dict[str, int] = {}
        for server, preheat in ((cold_server, False), (warm_server, True)):  # warm the browser cache
            _load(b, context, server, BASELINE, preheat, taken, servers)
        for _ in range(RUNS):
            for name in pages:
                cold[name].append(_load(b, context, cold_server, name, False, {}, servers))
                warm[name].append(_load(b, context, warm_server, name, True, taken, servers))
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


def _kernel_rss_mb(b, server) -> list[float]:
    import psutil

    out = []
    for pid in server.kernel_pids():
        try:
            out.append(psutil.Process(pid).memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            continue
    return sorted(out)


def _burst(b, context, server, name: str) -> list[dict]:
    """``BURST`` viewers of ``name``, ``BURST_GAP_S`` apart, none waiting for another."""
    pages = [context.new_page() for _ in range(BURST)]
    try:
        for i, page in enumerate(pages):
            if i:
                time.sleep(BURST_GAP_S)
            page.evaluate("(u) => { window.location.href = u; }", server.page(f"voila/render/{name}.ipynb"))
        out = []
        for i, page in enumerate(pages):
            try:
                page.wait_for_function("() => window.__rk_times && window.__rk_times.live !== null", polling=50,
                                       timeout=180_000)
            except Exception as exc:
                raise RuntimeError(f"view {i + 1} of {name} ({_times(page)}) never showed its live plot:\n"
                                   f"{server.tail()}") from exc
            out.append(_times(page))
        return out
    finally:
        for page in pages:
            page.close()


def _bursts(db: Path, log_dir: Path) -> tuple[dict, dict]:
    """Bursts of viewers on the shipped server (pool of one) and on a pool sized to the
    burst, each after a cold do-nothing load on a third server, interleaved."""
    b = _helpers()
    tmp = Path(tempfile.mkdtemp(prefix="rk-bursts-", dir=log_dir))
    base_folder, burst_folder = _folder(tmp, "baseline"), _folder(tmp, "bursts", extras=False)
    runs: dict[str, dict[str, list]] = {key: {n: [] for n in PAGES} for key in ("shipped", "sized")}
    with b.rapportkit_serve(db, dashboards=base_folder, preheat=False, log_dir=log_dir / "b-cold") as cold, \
            b.rapportkit_serve(db, dashboards=burst_folder, preheat=True, log_dir=log_dir / "b-shipped") as shipped, \
            b.rapportkit_serve(db, dashboards=burst_folder, preheat=True, pool_size=SIZED_POOL,
                               log_dir=log_dir / "b-sized") as sized, \
            b.chromium() as browser, b.recorded_context(browser) as (context, rec):
        context.add_init_script(TIMES_JS)
        servers = {"shipped": shipped, "sized": sized}
        everyone = (cold, shipped, sized)
        taken: dict[str, dict[str, int]] = {key: {} for key in servers}

        def ready() -> None:  # every pool full again and every kernel idle
            for key, server in servers.items():
                for page in PAGES:
                    _refilled(b, server, page, taken[key].get(page, 0))
            _settle(b, everyone)

        ready()
        memory = {key: _kernel_rss_mb(b, server) for key, server in servers.items()}
        _load(b, context, cold, BASELINE, False, {}, everyone)  # warm the browser cache
        for _ in range(RUNS):
            for name in PAGES:
                for key, server in servers.items():
                    ready()
                    base = _load(b, context, cold, BASELINE, False, {}, everyone)["ok"]
                    _settle(b, everyone)
                    views = _burst(b, context, server, name)
                    taken[key][name] = taken[key].get(name, 0) + BURST
                    runs[key][name].append((base, views, os.getloadavg()[0]))
        foreign, errors = rec.foreign(), rec.errors()
    if foreign or errors:
        raise RuntimeError(f"pages were not clean: {foreign} {errors}")
    return runs, memory


def first_plot() -> list[Figure]:
    """First plot of each dashboard, cold and preheated, against a do-nothing page; then
    bursts of four viewers a second apart."""
    from rapportkit.demo import load_demo
    from rapportkit.store import Store

    with tempfile.TemporaryDirectory(prefix="rk-bench-") as tmp:
        tmp = Path(tmp)
        db = tmp / "demo.db"
        with Store(db, actor="demo") as store:
            load_demo(store)
        cold, warm, change, loads = _first_plots(db, _folder(tmp), tmp)
        bursts, memory = _bursts(db, tmp)
    return _first_plot_figures(cold, warm, change, loads) + _burst_figures(bursts, memory)


def _first_plot_figures(cold, warm, change, loads) -> list[Figure]:
    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    base = med(cold[BASELINE], "ok")
    floor = med(warm[BASELINE], "ok")
    figures = [Figure("do-nothing Voilà page (print(\"ok\")), preheated: output on screen", floor, "ms", base,
                      "the same page, cold")]
    widget_floor = med(warm[WIDGET_FLOOR], "first")
    figures.append(Figure("page with one ipywidgets.Image (1×1 PNG), preheated: image on screen", widget_floor,
                          "ms", base, "do-nothing page, cold",
                          notes=[f"runs (ms): preheated {_ms(r['first'] for r in warm[WIDGET_FLOOR])}; "
                                 f"cold {_ms(r['first'] for r in cold[WIDGET_FLOOR])}"]))
    for name in PAGES:
        value = med(warm[name], "first")
        f = Figure(f"first plot: {name}, preheated", value, "ms", base,
                   "do-nothing page, cold, same set-up, interleaved", "≤ 0.6×")
        f.ok = f.ratio <= 0.6
        f.notes.append(f"runs (ms): preheated {_ms(r['first'] for r in warm[name])} (live widget "
                       f"{_ms(r['live'] for r in warm[name])}); cold {_ms(r['first'] for r in cold[name])}; "
                       f"do-nothing cold {_ms(r['ok'] for r in cold[BASELINE])}; "
                       f"{value / floor:.2f}× the preheated do-nothing page, "
                       f"{value / widget_floor:.2f}× the preheated one-image widget page")
        figures.append(f)
        figures.append(Figure(f"live widget: {name}, preheated", med(warm[name], "live"), "ms", base,
                              "do-nothing page, cold"))
        figures.append(Figure(f"first plot: {name}, cold", med(cold[name], "first"), "ms", base,
                              "do-nothing page, cold"))
    figures[0].notes.append(f"runs (ms): cold {_ms(r['ok'] for r in cold[BASELINE])}; preheated "
                            f"{_ms(r['ok'] for r in warm[BASELINE])}; load average during the loads "
                            f"{min(loads):.1f}–{max(loads):.1f} (2 cores, shared with other sessions)")
    figures.append(Figure("specialist change in Chromium (select → new trend image), preheated server",
                          statistics.median(change), "ms", notes=[f"runs (ms): {_ms(sorted(change))}"]))
    return figures


def _burst_figures(bursts, memory) -> list[Figure]:
    figures = []
    titles = {"shipped": "rapportkit serve as shipped (pool of one)",
              "sized": f"pool of {SIZED_POOL} per dashboard, refilled after {SIZED_FILL_DELAY_S} s"}
    for key, title in titles.items():
        for name in PAGES:
            runs = bursts[key][name]
            worst = [max(v["first"] for v in views) for _, views, _ in runs]
            base = statistics.median(b for b, _, _ in runs)
            f = Figure(f"four views a second apart: {name}, {title}: slowest first plot",
                       statistics.median(worst), "ms", base, "do-nothing page, cold, loaded before each burst",
                       "≤ 1.0×")
            f.ok = f.ratio <= 1.0
            f.notes.append("bursts (ms, first plots of views 1–4; live widgets): " + "; ".join(
                f"{_ms(v['first'] for v in views)} ({_ms(v['live'] for v in views)}) vs {b:.0f}, load {la:.1f}"
                for b, views, la in runs))
            figures.append(f)
        rss = memory[key]
        figures.append(Figure(f"memory per pooled dashboard kernel, {title}", statistics.median(rss), "MB",
                              notes=[f"{len(rss)} kernels (MB): {_ms(rss)}; {sum(rss):,.0f} MB in all"]))
    return figures


def _ms(values) -> str:
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


#: ``python -m bench dashboard_redraws`` runs the redraws alone (seconds, no browser);
#: ``dashboard_first_plot`` the browser figures (several minutes).
BENCHES = {"dashboard_redraws": specialist_change, "dashboard_first_plot": first_plot}
