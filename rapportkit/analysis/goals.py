"""Goal follow-up: what is due, what is overdue, and whether goals reached their target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapportkit.analysis.trends import _check_frame, _check_today, _dates, _latest_revisions, _RATING_NEEDS

__all__ = ["goal_progress", "goal_counts", "GOAL_STATUSES", "STILL_OPEN"]

#: Every status a goal can have.
GOAL_STATUSES = ("open", "met", "carried", "dropped")
#: Statuses that still expect a follow-up.
STILL_OPEN = ("open", "carried")

_GOAL_NEEDS = ("goal_id", "review_id", "set_on", "specialist_id", "specialist_name", "practice_id",
               "follow_up", "status", "target")


def _overdue(goals: pd.DataFrame, today: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Which goals are open or carried past their follow-up date, and by how many days."""
    follow_up = _dates(goals["follow_up"])
    late = goals["status"].isin(STILL_OPEN).to_numpy(dtype=bool) & (follow_up < today).to_numpy(dtype=bool)
    days = (today - follow_up).dt.days.to_numpy(dtype=float, na_value=np.nan)
    return late, np.where(late, days, 0).astype(np.int64)


def goal_progress(goals: pd.DataFrame, ratings: pd.DataFrame, *, today=None) -> pd.DataFrame:
    """Each goal with its follow-up state and the score it reached.

    Parameters
    ----------
    goals : DataFrame
        :func:`rapportkit.frames.goals_frame`.
    ratings : DataFrame
        :func:`rapportkit.frames.ratings_frame`; its consensus scores show whether a goal
        reached its target.
    today : date, optional
        The date to judge lateness against (default: today).

    Returns
    -------
    DataFrame
        The goals frame's columns plus ``overdue`` (bool: open or carried and the
        follow-up date has passed), ``days_overdue`` (Int64, ``<NA>`` unless overdue),
        ``score_at_follow_up`` (Int64: the consensus score on the goal's practice at the
        specialist's first review on or after the follow-up date that scored it; ``<NA>``
        if none yet) and ``reached_target`` (boolean, ``<NA>`` when unknown). Ordered by
        specialist name, rubric order, then the date the goal was set.
    """
    _check_frame(goals, "goals", _GOAL_NEEDS)
    _check_frame(ratings, "ratings", _RATING_NEEDS)
    today = _check_today(today)
    out = goals.reset_index(drop=True).assign(follow_up=lambda f: _dates(f["follow_up"]),
                                              set_on=lambda f: _dates(f["set_on"]))
    late, days = _overdue(out, today)
    out["overdue"] = late
    out["days_overdue"] = pd.arrays.IntegerArray(days, ~late)

    frame = _latest_revisions(ratings)
    scored = frame[(frame["role"].to_numpy() == "consensus") & frame["score"].notna().to_numpy(dtype=bool)]
    right = (scored[["specialist_id", "practice_id", "review_date", "score"]]
             .assign(review_date=lambda f: _dates(f["review_date"]),
                     score=lambda f: f["score"].astype("Int64"))
             .astype({"specialist_id": "str", "practice_id": "str"})
             .sort_values("review_date", kind="stable"))
    known = out["follow_up"].notna().to_numpy()
    left = (out.loc[known, ["specialist_id", "practice_id", "follow_up"]]
            .astype({"specialist_id": "str", "practice_id": "str"}).reset_index())
    found = pd.merge_asof(left.sort_values("follow_up", kind="stable"), right, left_on="follow_up",
                          right_on="review_date", by=["specialist_id", "practice_id"], direction="forward")
    score = found.set_index("index")["score"].reindex(out.index).astype("Int64")
    out["score_at_follow_up"] = score
    target = out["target"].astype("Int64")
    out["reached_target"] = (score >= target).astype("boolean")

    order = frame.drop_duplicates("practice_id").set_index("practice_id")["practice_order"]
    out["_order"] = out["practice_id"].map(order).astype(float)
    keys = ["specialist_name", "specialist_id", "_order", "set_on", "goal_id"]
    return out.sort_values(keys, kind="stable", na_position="last").drop(columns="_order").reset_index(drop=True)


def goal_counts(goals: pd.DataFrame, *, today=None) -> pd.DataFrame:
    """How many goals each specialist has in each state.

    Parameters
    ----------
    goals : DataFrame
        :func:`rapportkit.frames.goals_frame`.
    today : date, optional
        The date to judge lateness against (default: today).

    Returns
    -------
    DataFrame
        One row per specialist with goals, ordered by name: ``specialist_id,
        specialist_name, open, overdue, met, carried, dropped`` (int64). ``open``,
        ``met``, ``carried`` and ``dropped`` count statuses; ``overdue`` counts open or
        carried goals past their follow-up date, so it overlaps ``open`` and ``carried``.
    """
    _check_frame(goals, "goals", ("specialist_id", "specialist_name", "follow_up", "status"))
    today = _check_today(today)
    late, _ = _overdue(goals, today)
    status = goals["status"].to_numpy()
    counts = pd.DataFrame({"specialist_id": goals["specialist_id"].to_numpy(),
                           "specialist_name": goals["specialist_name"].to_numpy(),
                           "open": status == "open", "overdue": late, "met": status == "met",
                           "carried": status == "carried", "dropped": status == "dropped"})
    counts = counts.groupby(["specialist_id", "specialist_name"], sort=False, as_index=False).sum()
    counts = counts.astype({c: np.int64 for c in ("open", "overdue", "met", "carried", "dropped")})
    counts = counts.astype({"specialist_id": "str", "specialist_name": "str"})
    return counts.sort_values(["specialist_name", "specialist_id"], kind="stable").reset_index(drop=True)
