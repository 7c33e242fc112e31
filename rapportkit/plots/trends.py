"""One specialist over time: the 3×3 trend grid and the latest-against-earlier profile."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..analysis.trends import trend_points
from ._common import (
    NO_REVIEWS, OKABE_ITO, PLAIN, PROFICIENCY, ROLE_STYLE, as_timestamp, date_axis, floats,
    for_specialist, new_axes, pick_practices, practice_catalog, score_axis, show_message,
    specialist_label, wrap,
)
from ..errors import ValidationError

__all__ = ["trend_grid", "profile"]

_GOAL_Y = 4.3  # goal markers sit in the band above the top score


def trend_grid(
    ratings: pd.DataFrame,
    goals: pd.DataFrame | None = None,
    *,
    specialist: str,
    window: int = 3,
    practices: Iterable[str] | None = None,
    proficiency: int = PROFICIENCY,
    fig: Figure | None = None,
) -> Figure:
    """Consensus scores over time, one small panel per practice.

    Points and rolling means come from :func:`rapportkit.analysis.trends.trend_points`.

    Each panel shows the consensus score of every review (points), the rolling mean of
    the last ``window`` scores (solid line), the proficiency level (dashed line) and,
    when ``goals`` are given, each goal on its practice as a thin bar from the review
    that set it (triangle) to its follow-up date (hollow square).

    Parameters
    ----------
    ratings
        :func:`rapportkit.frames.ratings_frame` output (any number of specialists).
    goals
        :func:`rapportkit.frames.goals_frame` output, optional.
    specialist
        Whose trends to draw: a ``specialist_id`` present in ``ratings``.
    window
        How many scored reviews the rolling mean covers.
    practices
        Practice ids to show (default: all nine, a 3×3 grid); panels keep rubric order.
    proficiency
        Where to draw the proficiency line.
    fig
        A Figure to draw into (cleared first); a new one when None. A Figure without
        a layout engine gets fixed margins, which redraw much faster (explorers).

    Returns
    -------
    Figure
        One Axes per practice, titled with the practice title, sharing the date axis.
    """
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ValidationError(f"`window` must be a whole number of reviews, 1 or more, not {window!r}")
    if fig is None:
        fig = Figure(figsize=(11, 8.5), layout="constrained")
    else:
        fig.clear()
    if ratings.empty:
        show_message(fig.add_subplot(), NO_REVIEWS)
        return fig
    mine = for_specialist(ratings, specialist)
    chosen = pick_practices(practice_catalog(ratings), practices)
    points = trend_points(mine, role="consensus", window=window)
    goals = _goals_of(goals, specialist)

    ncols = min(3, len(chosen)) or 1
    nrows = max(1, math.ceil(len(chosen) / ncols))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in axes[len(chosen):]:
        ax.remove()
    for ax, (pid, title) in zip(axes, chosen):
        _trend_panel(ax, points[points["practice_id"] == pid], goals, pid, proficiency)
        ax.set_title(wrap(title, 34), fontsize=9.5, loc="left")
    for ax in axes[: len(chosen)]:
        score_axis(ax)
        date_axis(ax.xaxis)
    for ax in axes[: len(chosen) : ncols]:
        ax.set_ylabel("consensus score")

    fig.suptitle(f"{specialist_label(mine, specialist)}: consensus score by practice",
                 fontsize=12, **PLAIN)
    handles = [
        Line2D([], [], ls="none", marker="o", color=OKABE_ITO["black"], ms=4, label="consensus score"),
        Line2D([], [], color=OKABE_ITO["blue"], lw=2, label=f"rolling mean of {window}"),
        Line2D([], [], color=OKABE_ITO["vermillion"], ls="--", lw=1, label=f"proficient ({proficiency})"),
    ]
    if goals is not None and not goals.empty:
        handles += [
            Line2D([], [], ls="none", marker="^", color=OKABE_ITO["purple"], label="goal set"),
            Line2D([], [], ls="none", marker="s", mfc="white", color=OKABE_ITO["purple"],
                   label="goal follow-up"),
        ]
    if fig.get_layout_engine() is None:  # fixed margins: much faster to redraw than a layout engine
        fig.subplots_adjust(left=0.07, right=0.985, top=0.87, bottom=0.1, hspace=0.6, wspace=0.08)
        fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False)
    else:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    return fig


def _goals_of(goals: pd.DataFrame | None, specialist: str) -> pd.DataFrame | None:
    if goals is None or goals.empty:
        return goals
    return goals[goals["specialist_id"] == specialist]


def _trend_panel(ax: Axes, points: pd.DataFrame, goals: pd.DataFrame | None, practice: str,
                 proficiency: int) -> None:
    points = points.sort_values(["review_date", "review_id"], kind="stable")
    scored = points.dropna(subset=["score"])
    ax.plot(scored["review_date"], floats(scored["score"]), ls="none", marker="o", ms=4,
            color=OKABE_ITO["black"], alpha=0.75, gid="consensus")
    line = points.dropna(subset=["rolling_mean"])
    ax.plot(line["review_date"], line["rolling_mean"].to_numpy(dtype=float), color=OKABE_ITO["blue"],
            lw=2, gid="rolling_mean")
    ax.axhline(proficiency, color=OKABE_ITO["vermillion"], ls="--", lw=1, gid="proficiency")
    ax.grid(axis="y", color="#e5e5e5", lw=0.8)
    if goals is None or goals.empty:
        return
    mine = goals[goals["practice_id"] == practice]
    if mine.empty:
        return
    spans = np.full((len(mine), 3), np.datetime64("NaT"), dtype="datetime64[ns]")
    spans[:, 0], spans[:, 1] = mine["set_on"].to_numpy(), mine["follow_up"].to_numpy()
    levels = np.tile([_GOAL_Y, _GOAL_Y, np.nan], len(mine))
    ax.plot(spans.ravel(), levels, color=OKABE_ITO["purple"], lw=1, alpha=0.6, gid="goal_span")
    ax.plot(mine["set_on"], np.full(len(mine), _GOAL_Y), ls="none", marker="^", ms=6,
            color=OKABE_ITO["purple"], gid="goal_set")
    ax.plot(mine["follow_up"], np.full(len(mine), _GOAL_Y), ls="none", marker="s", ms=5,
            mfc="white", color=OKABE_ITO["purple"], gid="goal_follow_up")


def profile(
    ratings: pd.DataFrame,
    *,
    specialist: str,
    at: dt.date | str | None = None,
    earlier: dt.date | str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Self, supervisor and consensus scores of one review, against an earlier consensus.

    Practices run down the side in rubric order; each rater has its own marker. A grey
    line joins the earlier consensus (hollow diamond) to the current one, so growth
    and dips read left-to-right.

    Parameters
    ----------
    ratings
        :func:`rapportkit.frames.ratings_frame` output.
    specialist
        A ``specialist_id`` present in ``ratings``.
    at
        Show the latest review on or before this date (default: the latest review).
    earlier
        Compare with the latest review on or before this date (default: the review
        before the one shown). Must fall before the review shown.
    ax
        Axes to draw into; a new Figure when None.

    Returns
    -------
    Axes
    """
    ax = new_axes(ax, (8.5, 6))
    if ratings.empty:
        return show_message(ax, NO_REVIEWS)
    mine = for_specialist(ratings, specialist)
    reviews = (mine[["review_id", "review_date"]].drop_duplicates("review_id")
               .sort_values(["review_date", "review_id"], kind="stable"))
    current = _review_on_or_before(reviews, as_timestamp("at", at), "at")
    before = reviews[reviews["review_date"] < current["review_date"]]
    if earlier is None:
        previous = before.iloc[-1] if len(before) else None
    else:
        previous = _review_on_or_before(before, as_timestamp("earlier", earlier), "earlier")

    catalog = practice_catalog(ratings)
    ypos = {pid: i for i, (pid, _) in enumerate(catalog)}
    shown = mine[mine["review_id"] == current["review_id"]]
    day = f"{current['review_date']:%Y-%m-%d}"
    if previous is not None:
        past = mine[(mine["review_id"] == previous["review_id"]) & (mine["role"] == "consensus")]
        _profile_change(ax, past, shown[shown["role"] == "consensus"], ypos)
        _profile_points(ax, past, ypos, 0.0, label=f"consensus, {previous['review_date']:%Y-%m-%d}",
                        gid="earlier", ms=8, marker="D", color=OKABE_ITO["grey"], mfc="white", mew=1.5)
    for role, offset in (("self", -0.22), ("supervisor", 0.22), ("consensus", 0.0)):
        style = ROLE_STYLE[role]
        _profile_points(ax, shown[shown["role"] == role], ypos, offset, label=f"{role}, {day}",
                        gid=role, ms=8 if role == "consensus" else 7, marker=style["marker"],
                        color=style["color"])
    ax.axvline(PROFICIENCY, color=OKABE_ITO["vermillion"], ls="--", lw=1, gid="proficiency")
    score_axis(ax, "x", label="score")
    ax.set_yticks(range(len(catalog)), labels=[wrap(t, 32) for _, t in catalog], fontsize=9)
    ax.set_ylim(len(catalog) - 0.5, -0.5)
    ax.grid(axis="x", color="#e5e5e5", lw=0.8)
    ax.set_title(f"{specialist_label(mine, specialist)}: review of {day}", fontsize=11, **PLAIN)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    return ax


def _review_on_or_before(reviews: pd.DataFrame, when: pd.Timestamp | None, name: str) -> pd.Series:
    if when is None:
        return reviews.iloc[-1]
    upto = reviews[reviews["review_date"] <= when]
    if upto.empty:
        first = f"{reviews['review_date'].min():%Y-%m-%d}" if len(reviews) else "none"
        raise ValidationError(
            f"`{name}` must be on or after the first eligible review ({first}), not '{when:%Y-%m-%d}'")
    return upto.iloc[-1]


def _profile_points(ax: Axes, rows: pd.DataFrame, ypos: dict[str, int], offset: float, *,
                    label: str, gid: str, **style) -> None:
    rows = rows.dropna(subset=["score"])
    y = np.array([ypos[p] for p in rows["practice_id"]], dtype=float) + offset
    ax.plot(floats(rows["score"]), y, ls="none", label=label, gid=gid, **style)


def _profile_change(ax: Axes, past: pd.DataFrame, now: pd.DataFrame, ypos: dict[str, int]) -> None:
    both = past.merge(now, on="practice_id", suffixes=("_then", "_now")).dropna(
        subset=["score_then", "score_now"])
    xs, ys = [], []
    for _, row in both.iterrows():
        xs += [float(row["score_then"]), float(row["score_now"]), np.nan]
        ys += [ypos[row["practice_id"]]] * 2 + [np.nan]
    ax.plot(xs, ys, color=OKABE_ITO["grey"], lw=2, alpha=0.6, gid="change")
