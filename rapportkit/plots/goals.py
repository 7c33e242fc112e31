"""Goals and their follow-ups on a time line."""

from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.goals import STILL_OPEN
from ._common import (
    NO_GOALS, OKABE_ITO, PLAIN, STATUS_STYLE, as_timestamp, date_axis, for_specialist, new_axes,
    shorten, show_message, specialist_label,
)

__all__ = ["goal_timeline", "overdue_mask"]


def overdue_mask(goals: pd.DataFrame, today: pd.Timestamp) -> np.ndarray:
    """Which goals are overdue: the ``overdue`` column of
    :func:`rapportkit.analysis.goals.goal_progress` output when present, else (a plain
    goals frame) still open or carried after the follow-up date."""
    if "overdue" in goals:
        return goals["overdue"].fillna(False).to_numpy(dtype=bool)
    return (goals["status"].isin(STILL_OPEN) & (goals["follow_up"] < today)).to_numpy(dtype=bool)


def goal_timeline(
    goals: pd.DataFrame,
    *,
    specialist: str,
    today: dt.date | str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Every goal of one specialist as a bar from the review that set it to its follow-up.

    Bars are coloured and hatched by status (open, carried, met, dropped). A goal still
    open or carried after its follow-up date is overdue: a cross marks the date it was
    due and a dotted line runs on to ``today``.

    Parameters
    ----------
    goals
        :func:`rapportkit.frames.goals_frame` output, or
        ``analysis.goals.goal_progress`` output (its ``overdue`` column is then used).
    specialist
        A ``specialist_id`` present in ``goals``.
    today
        The date overdue is judged against (default: today).
    ax
        Axes to draw into; a new Figure sized to the number of goals when None.

    Returns
    -------
    Axes
    """
    today = as_timestamp("today", today) or pd.Timestamp(dt.date.today())
    if goals.empty:
        return show_message(new_axes(ax, (10, 3)), NO_GOALS)
    mine = for_specialist(goals, specialist).sort_values(["set_on", "goal_id"], kind="stable")
    ax = new_axes(ax, (10, max(3.0, 0.3 * len(mine) + 1.6)))
    if mine.empty:
        return show_message(ax, NO_GOALS)
    y = np.arange(len(mine))
    start = mdates.date2num(mine["set_on"].to_numpy())
    end = mdates.date2num(mine["follow_up"].to_numpy())
    status = mine["status"].to_numpy()
    handles = []
    for name, style in STATUS_STYLE.items():
        pick = status == name
        if not pick.any():
            continue
        ax.barh(y[pick], end[pick] - start[pick], left=start[pick], height=0.6, color=style["color"],
                hatch=style["hatch"], edgecolor="#333333", lw=0.6, label=name, gid=f"status_{name}")
        handles.append(Patch(facecolor=style["color"], hatch=style["hatch"], edgecolor="#333333", label=name))
    late = overdue_mask(mine, today)
    if late.any():
        now = mdates.date2num(today)
        for row in y[late]:
            ax.plot([end[row], now], [row, row], color=OKABE_ITO["vermillion"], ls=":", lw=1.5, gid="overdue_span")
        ax.plot(end[late], y[late], ls="none", marker="X", ms=9, color=OKABE_ITO["vermillion"],
                markeredgecolor="white", gid="overdue")
        handles.append(Line2D([], [], ls=":", marker="X", color=OKABE_ITO["vermillion"],
                              label=f"overdue ({late.sum()})"))
    ax.axvline(mdates.date2num(today), color="#555555", ls="--", lw=1, gid="today")
    handles.append(Line2D([], [], color="#555555", ls="--", label=f"as of {today:%Y-%m-%d}"))
    labels = [shorten(f"{p}: {t}", 58) for p, t in zip(mine["practice_title"], mine["text"])]
    ax.set_yticks(y, labels=labels, fontsize=8, **PLAIN)
    ax.set_ylim(len(mine) - 0.5, -0.7)
    ax.xaxis_date()
    date_axis(ax.xaxis)
    ax.grid(axis="x", color="#e5e5e5", lw=0.8)
    ax.set_title(f"{specialist_label(mine, specialist)}: goals from the review that set them to follow-up",
                 fontsize=11, **PLAIN)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    return ax
