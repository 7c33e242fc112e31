"""Explorers: pick a specialist, practices and dates, and look at the plots.

Each explorer owns one :class:`matplotlib.figure.Figure` for its whole life. A change
of any control draws that figure again from frames already in memory and swaps the PNG
bytes of one :class:`ipywidgets.Image`. The image element stays on the page with a fixed
pixel size, so the plot never blinks or makes the page jump; no ipympl is needed, and it
works the same in JupyterLab and Voilà.

A change of specialist keeps the figure's Axes, titles and legend and only gives the
marks their new data (``set_data``), which costs a fraction of building the panels again;
any other change (practices, window, an empty choice) draws the figure from scratch with
:mod:`rapportkit.plots`. Both ways give the same picture, pixel for pixel
(``tests/test_explorer_redraws.py``).

Frames are read from the store once (:func:`team_data`, cached per store) and
filtered in memory; so are the team's agreement statistics (:func:`team_calibration`). Widget values are untrusted (a Voilà viewer can set any of them);
every name or id shown in the status area is escaped.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import ipywidgets as W
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import frames, plots
from ..analysis import calibration, gaps, goal_counts, goal_progress, trend_points
from ..errors import ValidationError
from ..plots._common import (
    OKABE_ITO, PLAIN, SCALE, floats, pick_practices, practice_catalog, show_message, specialist_label,
)
from .common import PlotImage, StatusArea, css

__all__ = ["TeamData", "team_data", "team_calibration", "TrendExplorer", "CalibrationExplorer",
           "GoalsExplorer"]


@dataclass(frozen=True)
class TeamData:
    """Everything the explorers read, loaded once per store."""

    ratings: pd.DataFrame
    goals: pd.DataFrame
    #: ``(label, specialist_id)`` in name order, for a dropdown.
    specialists: tuple[tuple[str, str], ...]
    #: ``(practice_title, practice_id)`` in rubric order.
    practices: tuple[tuple[str, str], ...]
    #: Reviews in progress (not counted until signed) by specialist id.
    in_progress: Mapping[str, int] = field(default_factory=dict)
    #: What is worked out from these frames once, on first use (see :func:`team_calibration`).
    derived: dict = field(default_factory=dict, compare=False, repr=False)


_CACHE: "weakref.WeakKeyDictionary[object, TeamData]" = weakref.WeakKeyDictionary()


def team_data(store, *, refresh: bool = False) -> TeamData:
    """The ratings and goals frames of ``store``, read once and kept while it lives.

    The ratings are of the reviews that count (``frames.COUNTED_STATUSES``: signed);
    ``in_progress`` says how many more each specialist has under way. Pass
    ``refresh=True`` after new reviews were saved.
    """
    if refresh or store not in _CACHE:
        people = frames.people_frame(store)
        people = people[people["role"] == "specialist"].sort_values(["display_name", "id"], kind="stable")
        _CACHE[store] = TeamData(
            ratings=frames.ratings_frame(store, statuses=frames.COUNTED_STATUSES),
            goals=frames.goals_frame(store),
            specialists=tuple((f"{n} ({i})", i) for n, i in zip(people["display_name"], people["id"])),
            practices=tuple((p.title, p.id) for p in store.rubric.practices),
            in_progress=frames.in_progress_counts(store),
        )
    return _CACHE[store]


def _rows_of(data: TeamData, specialist: str) -> np.ndarray:
    """Positions of ``specialist``'s rows in ``data.ratings`` (the team's, found once)."""
    if "rows" not in data.derived:
        data.derived["rows"] = data.ratings.groupby("specialist_id", sort=False).indices
    return data.derived["rows"].get(specialist, np.empty(0, dtype=np.intp))


def _pairs_of(data: TeamData, specialist: str) -> pd.DataFrame:
    """:func:`rapportkit.analysis.gaps` of all ``specialist``'s ratings, worked out once."""
    cache = data.derived.setdefault("pairs", {})
    if specialist not in cache:
        cache[specialist] = gaps(data.ratings.take(_rows_of(data, specialist)))
    return cache[specialist]


def team_calibration(data: TeamData) -> pd.DataFrame:
    """:func:`rapportkit.analysis.calibration` of the whole team, one row per specialist,
    worked out once per :class:`TeamData` (the explorers' status lines, the calibration
    dashboard's and the team overview's tables all read it)."""
    if "calibration" not in data.derived:
        data.derived["calibration"] = calibration(data.ratings)
    return data.derived["calibration"]


def in_progress_note(data: TeamData, specialist: str) -> str:
    """A sentence on ``specialist``'s reviews in progress, which no plot or table counts
    until signed (``model.COUNTED``); empty when there are none."""
    n = data.in_progress.get(specialist, 0)
    if not n:
        return ""
    return (f"{n} review{'s' if n != 1 else ''} in progress {'are' if n != 1 else 'is'} not counted here "
            "until signed.")


class _Explorer:
    """Shared controls (specialist, dates), the status area and the no-flicker image."""

    #: Whether the plot reads reviews' ratings (which count once signed), not goals.
    reads_reviews = True

    figsize: tuple[float, float] = (11, 8.5)
    dpi = 80
    #: What the plot shows, for screen readers (the image's text alternative, followed
    #: by the status line of the latest redraw).
    described = "Plot"
    margins = {"left": 0.07, "right": 0.98, "top": 0.9, "bottom": 0.1}

    def __init__(self, store, *, specialist: str | None = None) -> None:
        self.store = store
        self.data = team_data(store)
        # No layout engine: fixed margins keep every redraw cheap and the plot still.
        self.figure = Figure(figsize=self.figsize, dpi=self.dpi)
        FigureCanvasAgg(self.figure)
        self.last_draw_ms: float | None = None
        #: What the figure shows now when it can take new data in place (see ``_update``).
        self._drawn = None
        self.status = StatusArea()
        self._notice = ""
        self._holding = False
        width, height = (round(v * self.dpi) for v in self.figsize)
        self.image = css(PlotImage(format="png", width=str(width), height=str(height), tooltip=self.described,
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

    def _update(self, specialist: str) -> str | None:
        """Give the figure's marks ``specialist``'s data in place and return the status
        message, or return None (touching nothing) when the figure has to be drawn anew."""
        return None

    # ------------------------------------------------------------------ public
    def redraw(self) -> None:
        """Draw the figure for the current control values and show it."""
        started = time.perf_counter()
        specialist = self.specialist.value
        kind = "info"
        try:
            message = None
            if specialist is not None:
                self._check_dates()
                message = self._update(specialist) if self._drawn is not None else None
            if message is None:
                self._drawn = None
                self.figure.clear()
                self.figure.subplots_adjust(**self.margins)
                if specialist is None:
                    message = "There are no specialists in this database yet."
                    show_message(self.figure.add_subplot(), "No reviews yet")
                else:
                    message = self._draw(specialist)
        except ValidationError as exc:
            kind, message = "warning", str(exc)
            self._drawn = None
            self.figure.clear()
            show_message(self.figure.add_subplot(), "Nothing to show for these choices")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()
        self.last_draw_ms = (time.perf_counter() - started) * 1000
        if self._notice:
            kind, message = "warning", f"{self._notice} {message}"
        if self.reads_reviews and specialist is not None:
            message = f"{message} {in_progress_note(self.data, specialist)}".strip()
        self.status.show(kind, message)
        self.image.tooltip = f"{self.described}. {message}"

    def reload(self) -> None:
        """Read the store again (after new reviews were saved) and redraw."""
        self.data = team_data(self.store, refresh=True)
        self._drawn = None
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
        mine = self.data.ratings.take(_rows_of(self.data, specialist))
        if self.since.value or self.until.value:
            mine = mine[self._in_range(mine["review_date"])]
        return mine

    def _all_of(self, specialist: str, ratings: pd.DataFrame) -> bool:
        """Whether ``ratings`` (chosen from ``specialist``'s) left none of theirs out."""
        return len(ratings) == len(_rows_of(self.data, specialist))

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

    described = "Plot of the consensus score of each chosen practice, review by review, one panel per practice"

    def _controls(self) -> list[W.Widget]:
        self.practices = self._practice_picker()
        # a number box, not a slider: ipywidgets' slider handle has no accessible name
        self.window = css(W.BoundedIntText(value=3, min=1, max=8, description="Rolling over (reviews)",
                                           style={"description_width": "initial"}, layout=W.Layout(width="16em")),
                          "rk-explorer-window")
        return [self.specialist, self.practices, self.window, self.since, self.until]

    def _draw(self, specialist: str) -> str:
        if not self.practices.value:
            raise ValidationError("Pick at least one practice to show.")
        ratings = self._ratings(specialist)
        name = self._name(specialist)
        if ratings.empty:
            show_message(self.figure.add_subplot(), "No reviews yet")
            return f"{name}: no reviews in this date range."
        goals = self._goals(specialist)
        plots.trend_grid(ratings, goals, specialist=specialist, window=self.window.value,
                         practices=self.practices.value, fig=self.figure)
        key = self._layout(ratings, goals)
        panels = []
        for ax, (pid, _) in zip(self.figure.axes, key[0]):
            marks = {line.get_gid(): line for line in ax.get_lines()}
            panels.append((ax, pid, marks))
        self._drawn = {"key": key, "panels": panels}
        return self._said(name, ratings)

    def _update(self, specialist: str) -> str | None:
        """A new specialist with the same practices, window and legend: new data for the
        points, rolling means and goal marks of every panel, and a new title."""
        if not self.practices.value:
            return None
        ratings = self._ratings(specialist)
        if ratings.empty:
            return None
        goals = self._goals(specialist)
        key = self._layout(ratings, goals)
        if key != self._drawn["key"]:
            return None
        points = trend_points(ratings, role="consensus", window=self.window.value)
        # every panel's rows in date order (as plots.trend_grid sorts them), as arrays
        order = np.lexsort((points["review_id"].to_numpy().astype(str), points["review_date"].to_numpy()))
        practice = points["practice_id"].to_numpy()[order]
        dates = points["review_date"].to_numpy()[order]
        scores = floats(points["score"])[order]
        rolling = points["rolling_mean"].to_numpy(dtype=float)[order]
        scored, rolled = ~np.isnan(scores), ~np.isnan(rolling)
        goal_practice = goals["practice_id"].to_numpy()
        for ax, pid, marks in self._drawn["panels"]:
            here = practice == pid
            marks["consensus"].set_data(dates[here & scored], scores[here & scored])
            marks["rolling_mean"].set_data(dates[here & rolled], rolling[here & rolled])
            _goal_marks(ax, marks, goals[goal_practice == pid])
            ax.relim()
        # the panels share their date axis: autoscaling one sets them all
        self._drawn["panels"][0][0].autoscale_view(scaley=False)
        self.figure.suptitle(f"{specialist_label(ratings, specialist)}: consensus score by practice",
                             fontsize=12, **PLAIN)
        return self._said(self._name(specialist), ratings)

    def _layout(self, ratings: pd.DataFrame, goals: pd.DataFrame) -> tuple | None:
        """What fixes the grid's panels, titles and legend (None: a choice trend_grid refuses)."""
        try:
            chosen = tuple(pick_practices(practice_catalog(ratings), self.practices.value))
        except ValidationError:
            return None
        return chosen, self.window.value, not goals.empty

    def _said(self, name: str, ratings: pd.DataFrame) -> str:
        n = ratings["review_id"].nunique()
        return f"{name}: {n} reviews {self._span(ratings['review_date'])}."


#: The goal marks of a trend panel, as :func:`rapportkit.plots.trend_grid` draws them.
_GOAL_Y = 4.3
_GOAL_STYLE = {
    "goal_span": {"color": OKABE_ITO["purple"], "lw": 1, "alpha": 0.6},
    "goal_set": {"ls": "none", "marker": "^", "ms": 6, "color": OKABE_ITO["purple"]},
    "goal_follow_up": {"ls": "none", "marker": "s", "ms": 5, "mfc": "white", "color": OKABE_ITO["purple"]},
}


def _goal_marks(ax, marks: dict, goals: pd.DataFrame) -> None:
    """Give a trend panel the goal marks of ``goals`` (one practice's), in place: new data
    for marks it has, new marks it lacks, none when there are no goals."""
    if goals.empty:
        for gid in _GOAL_STYLE:
            if gid in marks:
                marks.pop(gid).remove()
        return
    set_on, follow_up = goals["set_on"].to_numpy(), goals["follow_up"].to_numpy()
    spans = np.full((len(goals), 3), np.datetime64("NaT"), dtype="datetime64[ns]")
    spans[:, 0], spans[:, 1] = set_on, follow_up
    level = np.full(len(goals), _GOAL_Y)
    data = {"goal_span": (spans.ravel(), np.tile([_GOAL_Y, _GOAL_Y, np.nan], len(goals))),
            "goal_set": (set_on, level), "goal_follow_up": (follow_up, level)}
    for gid, (x, y) in data.items():
        if gid in marks:
            marks[gid].set_data(x, y)
        else:
            marks[gid], = ax.plot(x, y, gid=gid, **_GOAL_STYLE[gid])


class CalibrationExplorer(_Explorer):
    """Self-ratings against the supervisor's, over time and as a table of counts.

    Parameters and attributes as for :class:`TrendExplorer`.
    """

    figsize = (12, 4.8)
    described = ("Plot of the self-rating minus the supervisor's rating over time, and a table of how often "
                 "each self-rating met each supervisor rating")
    margins = {"left": 0.06, "right": 0.98, "top": 0.9, "bottom": 0.12, "wspace": 0.22}

    def _controls(self) -> list[W.Widget]:
        self.practices = self._practice_picker()
        return [self.specialist, self.practices, self.since, self.until]

    def _draw(self, specialist: str) -> str:
        if not self.practices.value:
            raise ValidationError("Pick at least one practice to show.")
        ratings = self._chosen(specialist)
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
        self._drawn = {
            "over_time": over_time, "table": table,
            "spread": next(c for c in over_time.collections if c.get_gid() == "spread"),
            "mean": next(line for line in over_time.get_lines() if line.get_gid() == "mean_gap"),
            "counts": table.get_images()[0], "cells": [t for t in table.texts if t.get_gid() == "count"],
        }
        return self._said(specialist, ratings, pairs)

    def _update(self, specialist: str) -> str | None:
        """Another specialist with paired ratings: new gaps, counts and titles in place."""
        if not self.practices.value:
            return None
        ratings = self._chosen(specialist)
        if ratings.empty:
            return None
        pairs = _pairs_of(self.data, specialist) if self._all_of(specialist, ratings) else gaps(ratings)
        if pairs.empty:
            return None
        d = self._drawn
        who = specialist_label(ratings, specialist)
        # the gap, review by review, as plots.calibration_gap draws it: the mean, smallest
        # and largest gap of each review in (date, review) order
        dates = pairs["review_date"].to_numpy()
        order = np.lexsort((pairs["review_id"].to_numpy().astype(str), dates))
        dates, reviews, gap = dates[order], pairs["review_id"].to_numpy()[order], pairs["gap"].to_numpy()[order]
        starts = np.flatnonzero(np.r_[True, (dates[1:] != dates[:-1]) | (reviews[1:] != reviews[:-1])])
        mean = np.add.reduceat(gap, starts) / np.diff(np.r_[starts, len(gap)])
        verts = np.empty((len(starts), 2, 2))
        verts[:, :, 0] = np.asarray(d["over_time"].xaxis.convert_units(dates[starts]), dtype=float)[:, None]
        verts[:, 0, 1], verts[:, 1, 1] = np.minimum.reduceat(gap, starts), np.maximum.reduceat(gap, starts)
        d["spread"].set_segments(np.ma.masked_invalid(verts))
        d["mean"].set_data(dates[starts], mean)
        d["over_time"].relim()
        d["over_time"].autoscale_view()
        d["over_time"].set_title(f"{who}: self-rating minus supervisor's rating", fontsize=11, **PLAIN)
        # how often each self-rating met each supervisor rating (as plots.agreement_matrix)
        own, theirs = (pairs[c].to_numpy(dtype=np.int64) for c in ("score_a", "score_b"))
        on_scale = np.isin(own, SCALE) & np.isin(theirs, SCALE)
        cell = (own[on_scale] - SCALE[0]) * len(SCALE) + theirs[on_scale] - SCALE[0]
        counts = np.bincount(cell, minlength=len(SCALE) ** 2).reshape(len(SCALE), len(SCALE))
        d["counts"].set_data(counts)
        d["counts"].set_clim(0, max(1, counts.max()))
        threshold = counts.max() * 0.55
        for text, count in zip(d["cells"], counts.ravel()):
            text.set_text(str(count))
            text.set_color("white" if count > threshold else "black")
        exact = np.trace(counts) / counts.sum()
        d["table"].set_title(f"{who}\n{counts.sum()} paired ratings, {exact:.0%} exact", fontsize=11, **PLAIN)
        return self._said(specialist, ratings, pairs)

    def _chosen(self, specialist: str) -> pd.DataFrame:
        ratings = self._ratings(specialist)
        return ratings[ratings["practice_id"].isin(self.practices.value)]

    def _said(self, specialist: str, ratings: pd.DataFrame, pairs: pd.DataFrame) -> str:
        summary = self._summary(specialist, ratings)
        mean = pairs["gap"].mean()
        words = f"self-ratings average {abs(mean):.2f} points {'higher' if mean > 0 else 'lower'} than the supervisor's"
        note = summary["note"] if isinstance(summary["note"], str) else ""
        words += f"; {note}" if note else f" (overall: {summary['tendency']})"
        return (f"{self._name(specialist)}: {len(pairs)} paired ratings in {pairs['review_id'].nunique()} reviews "
                f"{self._span(pairs['review_date'])}; {words}.")

    def _summary(self, specialist: str, ratings: pd.DataFrame) -> pd.Series:
        """The agreement statistics of ``ratings``: the team's row for ``specialist``
        (worked out once) when the dates and practices leave out none of their ratings."""
        if self._all_of(specialist, ratings):
            team = team_calibration(self.data)
            row = team[team["specialist_id"] == specialist]
            if len(row):
                return row.iloc[0]
        return calibration(ratings).iloc[0]


class GoalsExplorer(_Explorer):
    """Each goal from the review that set it to its follow-up, and what became of it.

    Parameters
    ----------
    store, specialist
        As for :class:`TrendExplorer`.
    today
        The date overdue is judged against (default: today).
    """

    reads_reviews = False

    figsize = (11, 7)
    described = "Plot of each goal as a bar from the review that set it to its follow-up, marked with what became of it"
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
