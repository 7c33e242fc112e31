"""Read-only dashboards for Voilà: specialist progress, team overview, calibration.

A dashboard is a class that owns its widgets, like the forms and explorers; a dashboard
notebook builds one in its first cell and shows ``.widget`` in its second. The split
is deliberate: ``rapportkit serve`` preheats kernels, so everything slow (imports,
reading the store, the first drawing) happens in cell 1 before anyone asks, and only
cell 2 (:func:`query_string` and :meth:`SpecialistDashboard.apply_query`) waits for the
viewer's request.

A Voilà page shows nothing of its widgets until its scripts have loaded, connected to the
kernel and fetched every widget model, which takes longer than the page itself. So in
Voilà cell 2 also shows the first plot as a plain image (``show_first_plot``, a data URI:
nothing is fetched) that the page can draw at once; the live widget takes its place as
soon as it is on screen (a CSS rule: no script).

Dashboards only read. They refuse a store that was not opened read-only, none of their
callbacks calls a store method that writes, and ``rapportkit serve`` forces every
store read-only at the database level on top. Everything that comes from the browser
(widget values, the link's query string) is untrusted: an unknown or malformed
``?specialist=`` becomes an escaped sentence in the status area, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import parse_qs

import ipywidgets as W
import pandas as pd
from ipywidgets.widgets.widget_string import HTMLStyle
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import frames, plots
from ..analysis import alerts, calibration, goal_counts, team_summary
from ..aggregates import MIN_REVIEWS, reads_aggregates_only, team_aggregates
from ..errors import StoreError, ValidationError
from ..model import PersonRole, check_id
from ..plots._common import show_message
from .common import PlotImage, StatusArea, css, esc
from .explorers import CalibrationExplorer, GoalsExplorer, TeamData, TrendExplorer, team_calibration, team_data

__all__ = [
    "query_string", "requested_specialist", "in_voila", "first_plot_html", "FigureView",
    "SpecialistDashboard", "SpecialistProgress", "TeamOverview", "CalibrationDashboard",
]

#: What an alert's ``kind`` is called on a dashboard.
ALERT_KINDS = {
    "dropped": "Dropped a level", "score_of_1": "Scored 1", "trap": "Trap ticked",
    "overdue": "Follow-up overdue", "self_gap": "Self-rating keeps differing",
}

#: Looks of the dashboards' tables and lists (one <style> per dashboard).
STYLE = """<style>
.rk-table { border-collapse: collapse; font-size: 0.92em; margin: 4px 0 12px 0; }
.rk-table th, .rk-table td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left;
  vertical-align: top; }
.rk-table th { border-bottom: 2px solid #999; }
.rk-table td:not(:first-child):not(:last-child) { white-space: nowrap; }
.rk-dashboard p { max-width: 62em; }
.rk-alerts { margin: 4px 0 12px 0; }
</style>"""


def query_string() -> str:
    """The query string of the Voilà request showing this notebook ("" outside Voilà).

    In a preheated Voilà kernel this waits until a viewer arrives (:func:`_wait_for_viewer`).
    Anywhere else it reads ``QUERY_STRING`` from the environment, which is what Voilà's
    ``voila.utils.get_query_string`` does outside preheating. In JupyterLab or nbval it
    returns "".
    """
    if os.environ.get("VOILA_PREHEAT") == "True":
        loaded = sys.modules.get("voila.utils")
        if loaded is not None:  # Voilà's own helper, when something has loaded it already
            return loaded.get_query_string() or ""
        _wait_for_viewer()
    return os.environ.get("QUERY_STRING") or ""


def _wait_for_viewer() -> None:
    """Wait, in a preheated kernel, until Voilà hands it a viewer's request; put what
    it sends (``QUERY_STRING`` and the like) into the environment.

    This is ``voila.utils.wait_for_request`` of Voilà 0.5 (the same address, the same
    ``websockets`` call, the same thread), without ``import voila.utils``: that import
    loads Voilà's server modules (1.3 s of CPU on an idle machine, several seconds on a
    busy one) in every kernel, which delayed any viewer who took a kernel the pool had
    only just started (``bench_dashboards``: a second viewer a second after the first).
    """
    protocol = os.environ.get("VOILA_WS_PROTOCOL", "ws")
    host = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_WS_BASE_URL", os.environ.get("VOILA_SERVER_URL", "/"))
    url = f"{protocol}://{host}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID')}"
    received: list[str] = []

    def listen() -> None:
        import websockets

        async def receive() -> None:
            try:
                async with websockets.connect(url, open_timeout=5) as socket:
                    received.append(await socket.recv())
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
                # as Voilà's: no viewer's details, the page still renders (and an error in
                # this thread would print a traceback into the page)
                warnings.warn(f"Failed to connect to {url}", stacklevel=1)

        asyncio.run(receive())

    thread = threading.Thread(target=listen, name="rapportkit-wait-for-viewer")
    thread.start()
    thread.join()
    if received:
        for key, value in json.loads(received[0]).items():
            if isinstance(key, str) and isinstance(value, str):
                os.environ[key] = value


def in_voila() -> bool:
    """Whether this kernel serves a Voilà page (Voilà sets these for every kernel it starts)."""
    return "VOILA_PREHEAT" in os.environ or "VOILA_BASE_URL" in os.environ


#: Hides a first-plot image once a live plot widget of the same output area is on screen.
FIRST_PLOT_STYLE = ("<style>.jp-OutputArea:has(img.rk-explorer-plot[src^='blob:']) > "
                    ".jp-OutputArea-child:has(.rk-first-plot) { display: none; }</style>")


def first_plot_html(title: str, image: W.Image) -> str:
    """The picture of ``image`` (a PNG widget) as plain HTML: a heading and an ``<img>``
    with a data URI, shown until the live widget is on screen (see the module docstring)."""
    png = base64.b64encode(bytes(image.value)).decode("ascii")
    return (f"{FIRST_PLOT_STYLE}<div class='rk-first-plot-box'>{_h(title)}"
            f"<img class='rk-first-plot' alt='{esc(title)}' width='{esc(image.width)}' "
            f"height='{esc(image.height)}' style='max-width:100%;height:auto' "
            f"src='data:image/png;base64,{png}'></div>")


def _show_html(html: str) -> None:
    from IPython.display import HTML, display

    display(HTML(html))


def _shown(value: str, most: int = 40) -> str:
    """``value`` cut short for a message (the caller escapes it)."""
    value = "".join(ch if ch.isprintable() else "?" for ch in value)
    return value if len(value) <= most else value[: most - 1] + "…"


def requested_specialist(query: str | None) -> str | None:
    """The ``specialist`` a link asks for, or None when it asks for nobody (no
    ``specialist`` or a blank one). Only the first ``specialist=`` counts.

    Parameters
    ----------
    query
        A URL query string such as ``"specialist=sp-03"`` (a leading ``?`` is fine).

    Raises
    ------
    ValidationError
        The value is not shaped like a specialist id (1–64 letters, digits, ``.``,
        ``_`` or ``-``); the message quotes it, shortened, for an escaped status area.
    """
    values = parse_qs((query or "").lstrip("?"), keep_blank_values=True).get("specialist")
    wanted = values[0].strip() if values else ""
    if not wanted:  # absent or blank: nobody in particular
        return None
    try:
        return check_id(wanted, "specialist")
    except ValidationError:
        raise ValidationError(
            f"The link asks for the specialist “{_shown(wanted)}”, which is not a specialist id "
            "(ids are letters, digits, '.', '_' or '-', such as sp-03). Pick someone from the list."
        ) from None


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], cls: str) -> str:
    """An HTML table; every cell is escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table class='rk-table {cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _h(title: str) -> str:
    """A section heading (escaped), as HTML: level 2, under the notebook's title."""
    return f"<h2 class='rk-heading' style='margin:10px 0 6px 0;font-size:1.25em'>{esc(title)}</h2>"


class _Text:
    """Makes HTML widgets that share one Layout and one style: every widget is a model the
    browser must build before the first plot shows, so a page keeps their number low."""

    def __init__(self) -> None:
        self.layout, self.style = W.Layout(), HTMLStyle()

    def __call__(self, value: str = "", *classes: str) -> W.HTML:
        return css(W.HTML(value, layout=self.layout, style=self.style), *classes)


def _pct(value: float, low: float | None = None, high: float | None = None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if low is None or math.isnan(low):
        return f"{value:.0%}"
    return f"{value:.0%} ({low:.0%}–{high:.0%})"


def _gap(value: float, low: float, high: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:+.2f} ({low:+.2f} to {high:+.2f})"


def _coefficient(label: str, value: float) -> str:
    return "—" if math.isnan(value) else f"{label} ({value:.2f})"


class FigureView:
    """One matplotlib Figure, redrawn in place and shown as PNG in an ``ipywidgets.Image``.

    Parameters
    ----------
    figsize, dpi
        Size of the figure (inches) and of the PNG (``figsize × dpi`` pixels).
    margins
        Fixed ``subplots_adjust`` margins (cheap redraws); None uses the constrained
        layout engine instead (for a figure drawn once).
    classes
        Extra CSS classes of the image, for styling and browser tests.
    described
        What the plot shows, in words: the image's text alternative for screen readers.
    """

    def __init__(self, figsize: tuple[float, float], *, dpi: int = 80, margins: dict | None = None,
                 classes: Sequence[str] = (), described: str = "Plot") -> None:
        self.figure = Figure(figsize=figsize, dpi=dpi, layout=None if margins else "constrained")
        FigureCanvasAgg(self.figure)
        self.dpi, self.margins = dpi, margins
        width, height = (round(v * dpi) for v in figsize)
        self.image = css(PlotImage(format="png", width=str(width), height=str(height), tooltip=described,
                                 layout=W.Layout(max_width="100%", height="auto")),
                         "rk-explorer-plot", "rk-dashboard-plot", *classes)
        self.last_draw_ms: float | None = None

    def draw(self, paint: Callable[[Figure], object]) -> str:
        """Clear the figure, let ``paint`` draw into it, show it; "" or why nothing shows."""
        started = time.perf_counter()
        self.figure.clear()
        if self.margins:
            self.figure.subplots_adjust(**self.margins)
        problem = ""
        try:
            paint(self.figure)
        except ValidationError as exc:
            problem = str(exc)
            self.figure.clear()
            show_message(self.figure.add_subplot(), "Nothing to show for this choice")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()
        self.last_draw_ms = (time.perf_counter() - started) * 1000
        return problem


def _readonly(store) -> None:
    if not getattr(store, "readonly", False):
        raise StoreError("dashboards only read: open the store with open_store(readonly=True)")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class SpecialistDashboard:
    """What the per-specialist dashboards share: one specialist picker, the status area,
    and the deep link ``?specialist=ID``.

    When a viewer picks someone, the first plot is redrawn at once and the other panels
    one by one just after, each from the kernel's event loop, so the first new picture
    reaches the browser without waiting for the rest. (Outside a kernel, and when the
    notebook itself chooses, every panel is redrawn before returning.)

    Parameters
    ----------
    store
        A :class:`~rapportkit.store.Store` opened read-only.
    specialist
        Whom to show first (default: the first specialist by name); an unknown id is
        reported in the status area.
    today
        The date follow-ups are judged against (default: today).

    Attributes
    ----------
    widget
        The box to display.
    picker
        The specialist dropdown; every panel follows it.
    status
        The dashboard's :class:`~rapportkit.ui.common.StatusArea`.
    first_change_ms, last_change_ms
        How long the latest change of specialist took to redraw the first plot, and
        every panel.
    """

    #: Pause between the panels of a viewer's change, for the kernel to send what is done.
    PANEL_GAP_S = 0.02
    #: What the page is called in a sentence.
    TITLE = "This page"

    def __init__(self, store, *, specialist: str | None = None, today: dt.date | str | None = None) -> None:
        _readonly(store)
        self.store = store
        self.today = pd.Timestamp(today or dt.date.today()).normalize()
        self.status = StatusArea()
        css(self.status.widget, "rk-dashboard-status")
        #: False for a programme lead on a team database: their role reads no per-person record
        self.available = not reads_aggregates_only(store)
        if not self.available:
            self.data = TeamData(pd.DataFrame(), pd.DataFrame(), (), ())
            self.picker = W.Dropdown(options=[], layout=W.Layout(display="none"))
            self.status.show("info", f"{self.TITLE} is not available to your role: as a programme lead you "
                             "read the team's aggregates, never one person's reviews. Open the team overview.")
            self.widget = css(W.VBox([W.HTML(STYLE), self.status.widget]),
                              "rk-dashboard", "rk-dashboard-not-available")
            return
        self.data = team_data(store)
        self.picker = css(W.Dropdown(options=self.data.specialists, description="Specialist",
                                     layout=W.Layout(width="24em")), "rk-dashboard-specialist")
        self.first_change_ms: float | None = None
        self.last_change_ms: float | None = None
        self.text = _Text()
        self._generation = 0
        self._by_notebook = True  # choices made by code, not by a viewer: redraw everything now
        if specialist is not None:
            self.select(specialist)
        self._panels()
        self.widget = css(W.VBox([self.text(STYLE), self.picker, self.status.widget, *self._sections()]),
                          "rk-dashboard", f"rk-dashboard-{type(self).__name__.lower()}")
        self.picker.observe(self._picked, names="value")
        if self.picker.value is not None:
            self._show(self.picker.value)
        self._by_notebook = False

    # -------------------------------------------------------------- subclasses
    def _panels(self) -> None:
        """Build the panels (for the picker's specialist, before any drawing here)."""

    def _sections(self) -> list[W.Widget]:
        """The widgets under the picker and the status area."""
        return []

    def _steps(self, specialist: str) -> list[Callable[[], object]]:
        """What redraws the panels for ``specialist`` (a known id), first plot first."""
        return []

    # ------------------------------------------------------------------ public
    @property
    def ids(self) -> list[str]:
        return [i for _, i in self.data.specialists]

    def select(self, specialist: str) -> bool:
        """Show ``specialist``; an unknown id leaves the choice as it is and says so."""
        if not self.available:
            return False  # the page already says why
        if specialist in self.ids:
            by_notebook, self._by_notebook = self._by_notebook, True
            try:
                self.picker.value = specialist
            finally:
                self._by_notebook = by_notebook
            return True
        if not self.ids:
            self.status.show("warning", "There are no specialists in this database yet.")
            return False
        self.status.show(
            "warning",
            f"There is no specialist with the id “{_shown(str(specialist))}” in this database. "
            f"Showing {self.picker.label} instead; pick someone from the list.",
        )
        return False

    def show_first_plot(self) -> None:
        """In Voilà, show the first plot as a plain image until the widgets are live."""
        if in_voila() and self.picker.value is not None:
            _show_html(self.first_plot_html())

    def first_plot_html(self) -> str:
        """The first plot of this dashboard as plain HTML (:func:`first_plot_html`)."""
        return first_plot_html(*self._first_plot())

    def _first_plot(self) -> tuple[str, W.Image]:
        """The heading and the image widget of the first plot."""
        raise NotImplementedError

    def apply_query(self, query: str | None) -> None:
        """Follow a link's ``?specialist=ID`` (see :func:`requested_specialist`)."""
        try:
            wanted = requested_specialist(query)
        except ValidationError as exc:
            self.status.show("warning", str(exc))
            return
        if wanted is not None:
            self.select(wanted)

    # ----------------------------------------------------------------- helpers
    def _picked(self, change) -> None:
        self.status.html.value = ""  # an earlier "no such specialist" no longer applies
        self.status.kind = self.status.message = ""
        self._show(change["new"])

    def _show(self, specialist: str | None) -> None:
        if specialist is None:
            return
        self._generation += 1
        generation, started = self._generation, time.perf_counter()
        first, *rest = self._steps(specialist) or [lambda: None]
        first()
        self.first_change_ms = (time.perf_counter() - started) * 1000
        loop = None if self._by_notebook else _running_loop()
        if loop is None:
            for step in rest:
                step()
            self.last_change_ms = (time.perf_counter() - started) * 1000
            return

        def next_panel(steps: list[Callable[[], object]]) -> None:
            if generation != self._generation:
                return  # the viewer has picked someone else meanwhile
            steps[0]()
            if steps[1:]:
                loop.call_later(self.PANEL_GAP_S, next_panel, steps[1:])
            else:
                self.last_change_ms = (time.perf_counter() - started) * 1000

        if rest:
            loop.call_later(self.PANEL_GAP_S, next_panel, rest)
        else:
            self.last_change_ms = self.first_change_ms

    @staticmethod
    def _point(explorer, specialist: str) -> None:
        """Turn ``explorer`` to ``specialist`` (it redraws itself if that is a change)."""
        if explorer.specialist.value != specialist:
            explorer.specialist.value = specialist

    def _follow(self, explorer) -> None:
        """Let the picker drive ``explorer``: hide its own specialist dropdown."""
        explorer.specialist.layout.display = "none"

    def _name(self) -> str:
        return self.picker.label or ""


class SpecialistProgress(SpecialistDashboard):
    """One specialist's progress: the trend grid, the latest profile, alerts and goals.

    Parameters and attributes as for :class:`SpecialistDashboard`; also ``trends``
    (a :class:`~rapportkit.ui.explorers.TrendExplorer`), ``goals`` (a
    :class:`~rapportkit.ui.explorers.GoalsExplorer`), ``profile`` (a
    :class:`FigureView`) and ``alerts`` (the HTML list of alerts).
    """

    TITLE = "Specialist progress"

    def _panels(self) -> None:
        first = self.picker.value
        self.trends = TrendExplorer(self.store, specialist=first)
        self.goals = GoalsExplorer(self.store, specialist=first, today=self.today)
        self._follow(self.trends)
        self._follow(self.goals)
        for control in (self.goals.practices, self.goals.since, self.goals.until):
            control.layout.display = "none"
        self.profile = FigureView((11, 5.2), margins={"left": 0.3, "right": 0.76, "top": 0.92, "bottom": 0.1},
                                  classes=["rk-profile-plot"], described="Plot of the latest review's consensus "
                                  "score in each practice against the review before")
        self.alerts = self.text("", "rk-dashboard-alerts")
        d = self.data
        self._alerts = alerts(d.ratings, d.goals, frames.traps_frame(self.store), today=self.today)

    def _first_plot(self) -> tuple[str, W.Image]:
        return "Practice by practice, over time", self.trends.image

    def _sections(self) -> list[W.Widget]:
        return [
            self.text(_h("Practice by practice, over time")), self.trends.widget, self.alerts,
            self.text(_h("The latest review against the one before")), self.profile.image,
            self.text(_h("Goals and their follow-ups")), self.goals.widget,
        ]

    def _steps(self, specialist: str) -> list[Callable[[], object]]:
        return [lambda: self._point(self.trends, specialist), lambda: self._draw_alerts(specialist),
                lambda: self._draw_profile(specialist), lambda: self._point(self.goals, specialist)]

    def _draw_profile(self, specialist: str) -> None:
        ratings = self.data.ratings
        mine = ratings[ratings["specialist_id"] == specialist]
        problem = self.profile.draw(
            lambda fig: show_message(fig.add_subplot(), "No reviews yet") if mine.empty
            else plots.profile(mine, specialist=specialist, ax=fig.add_subplot()))
        if problem:
            self.status.show("warning", problem)

    def _draw_alerts(self, specialist: str) -> None:
        mine = self._alerts[self._alerts["specialist_id"] == specialist]
        title = _h("Worth a conversation")
        if mine.empty:
            nothing = f"Nothing stands out for {esc(self._name())} right now."
            self.alerts.value = f"{title}<p class='rk-alerts-none'>{nothing}</p>"
            return
        items = "".join(
            f"<li><b>{esc(ALERT_KINDS.get(row.kind, row.kind))}</b>: {esc(row.message)}</li>"
            for row in mine.itertuples())
        self.alerts.value = f"{title}<ul class='rk-alerts'>{items}</ul>"


class CalibrationDashboard(SpecialistDashboard):
    """How self-ratings compare with the supervisor's: per specialist over time, as a
    table of counts and per practice, and the whole team in name order.

    Parameters and attributes as for :class:`SpecialistDashboard`; also ``explorer``
    (a :class:`~rapportkit.ui.explorers.CalibrationExplorer`), ``practices`` (HTML
    table for the chosen specialist) and ``team`` (HTML table for everyone).
    """

    TITLE = "Calibration per specialist"
    HEADER = ("Paired ratings", "Same score", "Within one level", "Self minus supervisor (95% range)",
              "Which way", "Agreement beyond chance", "Note")

    def _panels(self) -> None:
        self.explorer = CalibrationExplorer(self.store, specialist=self.picker.value)
        self._follow(self.explorer)
        ratings = self.data.ratings
        self._per_practice = calibration(ratings, by=("specialist_id", "practice_id"))
        self._per_person = team_calibration(self.data)
        self.practices = self.text("", "rk-calibration-practices")
        self.team = self.text(self._team_table(), "rk-calibration-team")

    def _first_plot(self) -> tuple[str, W.Image]:
        return "Self-rating against the supervisor's, over time", self.explorer.image

    def _sections(self) -> list[W.Widget]:
        return [self.text(_h("Self-rating against the supervisor's, over time")), self.explorer.widget,
                self.practices, self.team]

    def _steps(self, specialist: str) -> list[Callable[[], object]]:
        return [lambda: self._point(self.explorer, specialist), lambda: self._practice_table(specialist)]

    def _practice_table(self, specialist: str) -> None:
        rows = self._per_practice[self._per_practice["specialist_id"] == specialist]
        self.practices.value = _h(f"Practice by practice: {self._name()}") + _table(
            ("Practice", *self.HEADER), (self._row(r, r["practice_title"]) for _, r in rows.iterrows()),
            "rk-calibration-practice-table")

    def _team_table(self) -> str:
        rows = self._per_person.sort_values(["specialist_name", "specialist_id"], kind="stable")
        guide = (
            "<p>A gap is where a conversation starts, not a verdict: neither score is “the right "
            "one”. <b>Same score</b> and <b>within one level</b> are shares of paired ratings; "
            "<b>self minus supervisor</b> is positive when the specialist rated themself higher; "
            "<b>agreement beyond chance</b> is the weighted kappa in words (slight, fair, moderate, "
            "substantial, almost perfect). Ranges are 95% intervals.</p>")
        return _h("Everyone, in name order") + guide + _table(("Specialist", *self.HEADER),
                      (self._row(r, f"{r['specialist_name']} ({r['specialist_id']})") for _, r in rows.iterrows()),
                      "rk-calibration-team-table")

    @staticmethod
    def _row(r: pd.Series, who: str) -> tuple:
        return (who, int(r["n"]), _pct(r["exact"], r["exact_low"], r["exact_high"]),
                _pct(r["within_one"], r["within_one_low"], r["within_one_high"]),
                _gap(r["mean_gap"], r["mean_gap_low"], r["mean_gap_high"]), r["tendency"],
                _coefficient(r["kappa_label"], r["kappa"]), r["note"] if isinstance(r["note"], str) else "")


class TeamOverview:
    """The team at a glance for programme leads: where each specialist is now, follow-ups,
    and calibration. People appear in name order; nothing is ranked; heatmap cells with
    too few reviews are left grey instead of showing a number.

    Parameters
    ----------
    store
        A :class:`~rapportkit.store.Store` opened read-only.
    today
        The date follow-ups are judged against (default: today).
    min_reviews
        Fewer scored consensus reviews than this leaves a heatmap cell blank.

    Attributes
    ----------
    widget
        The box to display.
    heatmap
        The :class:`FigureView` of the practices × specialists heatmap.
    follow_ups, calibration
        HTML tables.
    """

    def __init__(self, store, *, today: dt.date | str | None = None, min_reviews: int = 3) -> None:
        _readonly(store)
        self.store = store
        #: True for a programme lead on a team database: the page reads the database's
        #: aggregate views (:mod:`rapportkit.aggregates`), which is all their role may read.
        self.aggregates_only = reads_aggregates_only(store)
        if self.aggregates_only:
            self.today = pd.Timestamp(dt.date.today()).normalize()  # the views judge by the database's date
            views = team_aggregates(store)
            min_reviews = MIN_REVIEWS
            summary, self._counts, self._team_calibration = views.summary, views.followups, views.calibration
            roster = sorted((p.display_name, p.id) for p in store.people(PersonRole.SPECIALIST))
            self.specialists = tuple((f"{n} ({i})", i) for n, i in roster)
        else:
            self.today = pd.Timestamp(today or dt.date.today()).normalize()
            self.data = team_data(store)
            summary = team_summary(self.data.ratings, min_reviews=min_reviews)
            self._counts = goal_counts(self.data.goals, today=self.today)
            self.specialists = self.data.specialists
        people = max(1, len(self.specialists))
        self.heatmap = FigureView((11, 0.45 * people + 3.2), classes=["rk-heatmap-plot"],
                                  described="Heatmap of each specialist's latest average score in each practice")
        self.heatmap.draw(lambda fig: plots.team_heatmap(summary, min_reviews=min_reviews, ax=fig.add_subplot()))
        text = _Text()
        signed = " Only signed reviews count; reviews in progress are left out until signed."
        intro = text(STYLE + _h("Where each specialist is now") + (
            "<p>Each cell is the average of a specialist's latest consensus scores in a practice "
            f"(1–4). Grey cells marked n&lt;{min_reviews} have too few reviews to say.{signed}</p>"))
        self.follow_ups = text(_h(f"Follow-ups (as of {self.today:%Y-%m-%d})") + self._follow_up_table(),
                               "rk-team-follow-ups")
        if self.aggregates_only:
            calibration = _h("Calibration: self-ratings against the supervisor's, the whole team per practice") + (
                "<p>As a programme lead you see the team's pairs of ratings together, per practice; a "
                f"practice with fewer than {MIN_REVIEWS} pairs shows no value.</p>") + self._practice_calibration()
        else:
            calibration = _h("Calibration: self-ratings against the supervisor's") + self._calibration_table()
        self.calibration = text(calibration, "rk-team-calibration")
        self.widget = css(W.VBox([intro, self.heatmap.image, self.follow_ups, self.calibration]),
                          "rk-dashboard", "rk-dashboard-teamoverview")

    def show_first_plot(self) -> None:
        """In Voilà, show the heatmap as a plain image until the widgets are live."""
        if in_voila():
            _show_html(self.first_plot_html())

    def first_plot_html(self) -> str:
        """The heatmap as plain HTML (:func:`first_plot_html`)."""
        return first_plot_html("Where each specialist is now", self.heatmap.image)

    def _people(self) -> pd.DataFrame:
        return pd.DataFrame([(label, i) for label, i in self.specialists], columns=["label", "specialist_id"])

    def _follow_up_table(self) -> str:
        table = self._people().merge(self._counts, on="specialist_id", how="left")
        columns = ("open", "carried", "overdue", "met", "dropped")
        table[list(columns)] = table[list(columns)].fillna(0).astype(int)
        return _table(("Specialist", "Open", "Carried", "Overdue (open or carried)", "Met", "Dropped"),
                      (tuple(r) for r in table[["label", *columns]].itertuples(index=False)),
                      "rk-follow-up-table")

    def _calibration_table(self) -> str:
        table = self._people().merge(team_calibration(self.data), on="specialist_id", how="left")
        rows = []
        for _, r in table.iterrows():
            if pd.isna(r["n"]):
                rows.append((r["label"], 0, "—", "—", "no paired ratings yet"))
                continue
            note = r["note"] if isinstance(r["note"], str) and r["note"] else ""
            rows.append((r["label"], int(r["n"]), _pct(r["exact"]), _gap(r["mean_gap"], r["mean_gap_low"],
                         r["mean_gap_high"]), note or r["tendency"]))
        return _table(("Specialist", "Paired ratings", "Same score", "Self minus supervisor (95% range)",
                       "Which way"), rows, "rk-team-calibration-table")

    def _practice_calibration(self) -> str:
        rows = []
        for r in self._team_calibration.itertuples():
            if r.suppressed:
                rows.append((r.practice_title, r.pairs, "—", "—", f"fewer than {MIN_REVIEWS} pairs"))
            else:
                rows.append((r.practice_title, r.pairs, _pct(r.exact), _pct(r.within_one), f"{r.mean_gap:+.2f}"))
        return _table(("Practice", "Paired ratings", "Same score", "Within one level", "Self minus supervisor"),
                      rows, "rk-team-calibration-table")
