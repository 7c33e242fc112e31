"""Explorers: pick a specialist, practices and dates, and look at the plots.

Each explorer owns one :class:`matplotlib.figure.Figure` for its whole life. A change
of any control clears that figure, draws it again from frames already in memory, and
swaps the PNG bytes of one :class:`ipywidgets.Image`. The image element stays on the
page with a fixed pixel size, so the plot never blinks or makes the page jump; no
ipympl is needed, and it works the same in JupyterLab and Voilà.

Frames are read from the store once (:func:`team_data`, cached per store) and
filtered in memory. Widget values are untrusted (a Voilà viewer can set any of them);
every name or id shown in the status area is escaped.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import weakref
from dataclasses import dataclass

import ipywidgets as W
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import frames, plots
from ..analysis import calibration, gaps, goal_counts, goal_progress
from ..errors import ValidationError
from ..plots._common import show_message
from .common import StatusArea, css

__all__ = ["TeamData", "team_data", "TrendExplorer", "CalibrationExplorer", "GoalsExplorer"]


@dataclass(frozen=True)
class TeamData:
    """Everything the explorers read, loaded once per store."""

    ratings: pd.DataFrame
    goals: pd.DataFrame
    #: ``(label, specialist_id)`` in name order, for a dropdown.
    specialists: tuple[tuple[str, str], ...]
    #: ``(practice_title, practice_id)`` in rubric order.
    practices: tuple[tuple[str, str], ...]


_CACHE: "weakref.WeakKeyDictionary[object, TeamData]" = weakref.WeakKeyDictionary()


def team_data(store, *, refresh: bool = False) -> TeamData:
    """The ratings and goals frames of ``store``, read once and kept while it lives.

    Pass ``refresh=True`` after new reviews were saved.
    """
    if refresh or store not in _CACHE:
        people = frames.people_frame(store)
        people = people[people["role"] == "specialist"].sort_values(["display_name", "id"], kind="stable")
        _CACHE[store] = TeamData(
            ratings=frames.ratings_frame(store),
            goals=frames.goals_frame(store),
            specialists=tuple((f"{n} ({i})", i) for n, i in zip(people["display_name"], people["id"])),
            practices=tuple((p.title, p.id) for p in store.rubric.practices),
        )
    return _CACHE[store]


class _Explorer:
    """Shared controls (specialist, dates), the status area and the no-flicker image."""

    figsize: tuple[float, float] = (11, 8.5)
    dpi = 80
    margins = {"left": 0.07, "right": 0.98, "top": 0.9, "bottom": 0.1}

    def __init__(self, store, *, specialist: str | None = None) -> None:
        self.store = store
        self.data = team_data(store)
        # No layout engine: fixed margins keep every redraw cheap and the plot still.
        self.figure = Figure(figsize=self.figsize, dpi=self.dpi)
        FigureCanvasAgg(self.figure)
        self.last_draw_ms: float | None = None
        self.status = StatusArea()
        self._notice = ""
        self._holding = False
        width, height = (round(v * self.dpi) for v in self.figsize)
        self.image = css(W.Image(format="png", width=str(width), height=str(height),
                                 layout=W.Layout(max_width="100%", height="auto")), "rk-explorer-plot")
        self.specialist = css(W.Dropdown(options=self.data.specialists, description="Specialist",
                                         layout=W.Layout(width="22em")), "rk-explorer-specialist")
        self.since = css(W.DatePicker(description="From", layout=W.Layout(width="16em")), "rk-explorer-since")
        self.until = css(W.DatePicker(description="To", layout=W.Layout(width="16em")), "rk-explorer-until")
        self._preselect(specialist)
        controls = self._controls()
        bar = W.HBox(controls, layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.widget = css(W.VBox([bar, self.status.widget, self.image]), "rk-explorer")
        for control in controls:
            control.observe(self._changed, names="value")
        self.redraw()

    # -------------------------------------------------------------- subclasses
    def _controls(self) -> list[W.Widget]:
        return [self.specialist, self.since, self.until]

    def _draw(self, specialist: str) -> str:
        """Draw into the (cleared) figure; return the status message (plain text)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public
    def redraw(self) -> None:
        """Draw the figure for the current control values and show it."""
        started = time.perf_counter()
        self.figure.clear()
        self.figure.subplots_adjust(**self.margins)
        specialist = self.specialist.value
        kind = "info"
        try:
            if specialist is None:
                message = "There are no specialists in this database yet."
                show_message(self.figure.add_subplot(), "No reviews yet")
            else:
                self._check_dates()
                message = self._draw(specialist)
        except ValidationError as exc:
            kind, message = "warning", str(exc)
            self.figure.clear()
            show_message(self.figure.add_subplot(), "Nothing to show for these choices")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()
        self.last_draw_ms = (time.perf_counter() - started) * 1000
        if self._notice:
            kind, message = "warning", f"{self._notice} {message}"
        self.status.show(kind, message)

    def reload(self) -> None:
        """Read the store again (after new reviews were saved) and redraw."""
        self.data = team_data(self.store, refresh=True)
        current = self.specialist.value
        self._holding = True  # one redraw, not one per control that resets
        try:
            self.specialist.options = self.data.specialists
            if current in [i for _, i in self.data.specialists]:
                self.specialist.value = current
        finally:
            self._holding = False
        self.redraw()

    # ----------------------------------------------------------------- helpers
    def _preselect(self, specialist: str | None) -> None:
        ids = [i for _, i in self.data.specialists]
        if specialist is None:
            return
        if specialist in ids:
            self.specialist.value = specialist
        else:
            shown = self.specialist.label or "nobody"
            self._notice = f"There is no specialist with id {str(specialist)!r}; showing {shown} instead."

    def _changed(self, change) -> None:
        if change["owner"] is self.specialist:
            self._notice = ""
        if not self._holding:
            self.redraw()

    def _check_dates(self) -> None:
        if self.since.value and self.until.value and self.since.value > self.until.value:
            raise ValidationError(f"'From' ({self.since.value}) is after 'To' ({self.until.value}): "
                                  "pick an earlier 'From' date or a later 'To' date.")

    def _in_range(self, dates: pd.Series) -> pd.Series:
        keep = pd.Series(True, index=dates.index)
        if self.since.value:
            keep &= dates >= pd.Timestamp(self.since.value)
        if self.until.value:
            keep &= dates <= pd.Timestamp(self.until.value)
        return keep

    def _ratings(self, specialist: str) -> pd.DataFrame:
        r = self.data.ratings
        mine = r[r["specialist_id"] == specialist]
        return mine[self._in_range(mine["review_date"])]

    def _goal_rows(self) -> pd.DataFrame:
        return self.data.goals

    def _goals(self, specialist: str) -> pd.DataFrame:
        g = self._goal_rows()
        mine = g[g["specialist_id"] == specialist]
        overlap = pd.Series(True, index=mine.index)
        if self.since.value:
            overlap &= mine["follow_up"] >= pd.Timestamp(self.since.value)
        if self.until.value:
            overlap &= mine["set_on"] <= pd.Timestamp(self.until.value)
        return mine[overlap]

    def _practice_picker(self) -> W.SelectMultiple:
        return css(W.SelectMultiple(options=self.data.practices, value=[i for _, i in self.data.practices],
                                    rows=9, description="Practices", layout=W.Layout(width="30em")),
                   "rk-explorer-practices")

    def _name(self, specialist: str) -> str:
        return self.specialist.label or specialist

    def _span(self, dates: pd.Series) -> str:
        return f"from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"


class TrendExplorer(_Explorer):
    """Consensus scores over time for one specialist (:func:`rapportkit.plots.trend_grid`).

    Parameters
    ----------
    store
        An open :class:`~rapportkit.store.Store` (read-only is fine).
    specialist
        A ``specialist_id`` to show first; an unknown id is reported in the status area.

    Attributes
    ----------
    widget
        The box to display.
    figure
        The one Figure redrawn on every change.
    last_draw_ms
        How long the latest redraw took (draw and PNG), in milliseconds.
    """

    def _controls(self) -> list[W.Widget]:
        self.practices = self._practice_picker()
        self.window = W.IntSlider(value=3, min=1, max=8, description="Rolling over",
                                  layout=W.Layout(width="22em"))
        return [self.specialist, self.practices, self.window, self.since, self.until]

    def _draw(self, specialist: str) -> str:
        if not self.practices.value:
            raise ValidationError("Pick at least one practice to show.")
        ratings = self._ratings(specialist)
        name = self._name(specialist)
        if ratings.empty:
            show_message(self.figure.add_subplot(), "No reviews yet")
            return f"{name}: no reviews in this date range."
        plots.trend_grid(ratings, self._goals(specialist), specialist=specialist, window=self.window.value,
                         practices=self.practices.value, fig=self.figure)
        n = ratings["review_id"].nunique()
        return f"{name}: {n} reviews {self._span(ratings['review_date'])}."


class CalibrationExplorer(_Explorer):
    """Self-ratings against the supervisor's, over time and as a table of counts.

    Parameters and attributes as for :class:`TrendExplorer`.
    """

    figsize = (12, 4.8)
    margins = {"left": 0.06, "right": 0.98, "top": 0.9, "bottom": 0.12, "wspace": 0.22}

    def _controls(self) -> list[W.Widget]:
        self.practices = self._practice_picker()
        return [self.specialist, self.practices, self.since, self.until]

    def _draw(self, specialist: str) -> str:
        if not self.practices.value:
            raise ValidationError("Pick at least one practice to show.")
        ratings = self._ratings(specialist)
        ratings = ratings[ratings["practice_id"].isin(self.practices.value)]
        name = self._name(specialist)
        over_time, table = self.figure.subplots(1, 2, width_ratios=[2.2, 1])
        if ratings.empty:
            show_message(over_time, "No reviews yet")
            table.set_axis_off()
            return f"{name}: no reviews in this date range."
        plots.calibration_gap(ratings, specialist=specialist, ax=over_time)
        plots.agreement_matrix(ratings, specialist=specialist, ax=table)
        pairs = gaps(ratings)
        if pairs.empty:
            return f"{name}: no review in this range has both a self-rating and a supervisor rating."
        summary = calibration(ratings).iloc[0]
        mean = pairs["gap"].mean()
        words = f"self-ratings average {abs(mean):.2f} points {'higher' if mean > 0 else 'lower'} than the supervisor's"
        note = summary["note"] if isinstance(summary["note"], str) else ""
        words += f"; {note}" if note else f" (overall: {summary['tendency']})"
        return (f"{name}: {len(pairs)} paired ratings in {pairs['review_id'].nunique()} reviews "
                f"{self._span(pairs['review_date'])}; {words}.")


class GoalsExplorer(_Explorer):
    """Each goal from the review that set it to its follow-up, and what became of it.

    Parameters
    ----------
    store, specialist
        As for :class:`TrendExplorer`.
    today
        The date overdue is judged against (default: today).
    """

    figsize = (11, 7)
    margins = {"left": 0.36, "right": 0.84, "top": 0.94, "bottom": 0.07}

    def __init__(self, store, *, specialist: str | None = None, today: dt.date | str | None = None) -> None:
        self.today = pd.Timestamp(today or dt.date.today()).normalize()
        self._progress: pd.DataFrame | None = None
        super().__init__(store, specialist=specialist)

    def reload(self) -> None:
        self._progress = None
        super().reload()

    def _controls(self) -> list[W.Widget]:
        self.practices = self._practice_picker()
        return [self.specialist, self.practices, self.since, self.until]

    def _goal_rows(self) -> pd.DataFrame:
        if self._progress is None:  # the team's goals with their follow-up state, worked out once
            self._progress = goal_progress(self.data.goals, self.data.ratings, today=self.today)
        return self._progress

    def _draw(self, specialist: str) -> str:
        if not self.practices.value:
            raise ValidationError("Pick at least one practice to show.")
        goals = self._goals(specialist)
        goals = goals[goals["practice_id"].isin(self.practices.value)]
        name = self._name(specialist)
        if goals.empty:
            show_message(self.figure.add_subplot(), "No goals yet")
            return f"{name}: no goals in this date range."
        plots.goal_timeline(goals, specialist=specialist, today=self.today, ax=self.figure.add_subplot())
        counts = goal_counts(goals, today=self.today).iloc[0]
        parts = [f"{counts[s]} {s}" for s in ("open", "carried", "met", "dropped")]
        return (f"{name}: {len(goals)} goals ({', '.join(parts)}); "
                f"{counts['overdue']} overdue on {self.today:%Y-%m-%d}.")
