"""Alerts worth a conversation in supervision, each in one plain sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapportkit.analysis.calibration import gaps
from rapportkit.analysis.goals import _overdue
from rapportkit.analysis.trends import (
    _check_frame, _check_int, _check_today, _dates, _latest_revisions, _RATING_NEEDS,
)

__all__ = ["alerts", "ALERT_KINDS"]

#: Kinds of alert, in the order they are listed for each specialist.
ALERT_KINDS = ("dropped", "score_of_1", "trap", "overdue", "self_gap")

COLUMNS = ["specialist_id", "specialist_name", "kind", "practice_id", "practice_title", "review_id",
           "date", "message"]
_GOAL_NEEDS = ("goal_id", "review_id", "specialist_id", "specialist_name", "practice_id",
               "practice_title", "text", "follow_up", "status")
_TRAP_NEEDS = ("review_id", "review_date", "specialist_id", "specialist_name", "trap_id", "trap_title")


def alerts(ratings: pd.DataFrame, goals: pd.DataFrame, traps: pd.DataFrame, *, today=None,
           self_gap_reviews: int = 3, trap_months: int = 6) -> pd.DataFrame:
    """What deserves a conversation: drops, scores of 1, traps, overdue goals, and
    persistent over- or under-rating of oneself.

    Parameters
    ----------
    ratings, goals, traps : DataFrame
        :func:`rapportkit.frames.ratings_frame`, :func:`~rapportkit.frames.goals_frame`
        and :func:`~rapportkit.frames.traps_frame`.
    today : date, optional
        The date overdue follow-ups and recent traps are judged against (default: today).
    self_gap_reviews : int
        A ``self_gap`` needs self and supervisor at least one level apart, the same way,
        on each of this many latest reviews that paired them on a practice.
    trap_months : int
        Traps ticked within this many months up to `today` are listed (the latest
        occurrence of each trap per specialist).

    Returns
    -------
    DataFrame
        ``specialist_id, specialist_name, kind, practice_id, practice_title, review_id,
        date, message``, ordered by specialist name, then kind (in :data:`ALERT_KINDS`
        order), rubric order and date. ``dropped`` and ``score_of_1`` read the
        specialist's latest review with a consensus; ``practice_id``/``practice_title``
        are missing for ``trap``; ``date`` is the review date, or the follow-up date
        for ``overdue``. See docs/analysis.md.
    """
    _check_frame(ratings, "ratings", _RATING_NEEDS)
    _check_frame(goals, "goals", _GOAL_NEEDS)
    _check_frame(traps, "traps", _TRAP_NEEDS)
    today = _check_today(today)
    self_gap_reviews = _check_int(self_gap_reviews, "self_gap_reviews", 1)
    trap_months = _check_int(trap_months, "trap_months", 0)
    frame = _latest_revisions(ratings)
    consensus = frame[frame["role"].to_numpy() == "consensus"].assign(
        review_date=lambda f: _dates(f["review_date"]), score=lambda f: f["score"].astype("Int64"))
    pieces = [_latest_review(consensus), _traps(traps, today, trap_months),
              _late_goals(goals, today, consensus), _self_gaps(frame, self_gap_reviews)]
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else "str") for c in COLUMNS})
    out = pd.concat(pieces, ignore_index=True)
    out["_kind"] = out["kind"].map({k: i for i, k in enumerate(ALERT_KINDS)})
    out = out.sort_values(["specialist_name", "specialist_id", "_kind", "practice_order", "date", "review_id"],
                          kind="stable", na_position="last")
    out = out[COLUMNS].reset_index(drop=True)
    out["date"] = _dates(out["date"])
    return out.astype({c: "str" for c in COLUMNS if c != "date"})


def _day(column: pd.Series) -> pd.Series:
    return _dates(column).dt.strftime("%Y-%m-%d")


def _latest_review(consensus: pd.DataFrame) -> pd.DataFrame:
    """``dropped`` and ``score_of_1`` at each specialist's latest consensus review."""
    rows = consensus.sort_values(["specialist_id", "review_date", "review_id"], kind="stable").reset_index(drop=True)
    latest = rows["review_id"].eq(rows.groupby("specialist_id", observed=True)["review_id"].transform("last"))
    scored = rows[rows["score"].notna().to_numpy(dtype=bool)]
    earlier = scored.groupby(["specialist_id", "practice_id"], observed=True)[["score", "review_date"]].shift()
    now = latest[scored.index].to_numpy(dtype=bool)
    score, before = scored["score"], earlier["score"]
    fell = now & (before - score >= 1).fillna(False).to_numpy(dtype=bool)
    dropped = scored[fell].assign(
        kind="dropped",
        message=scored["practice_title"][fell].astype(str) + " dropped from " + before[fell].astype(str) + " to "
        + score[fell].astype(str) + " since the review on " + _day(earlier["review_date"][fell]) + ".")
    low = now & score.eq(1).fillna(False).to_numpy(dtype=bool)
    ones = scored[low].assign(
        kind="score_of_1",
        message=scored["practice_title"][low].astype(str) + " was rated 1 at the review on "
        + _day(scored["review_date"][low]) + ".")
    both = pd.concat([p for p in (dropped, ones) if len(p)] or [dropped])
    return both.rename(columns={"review_date": "date"})[COLUMNS[:2] + COLUMNS[3:6] + ["date", "kind", "message",
                                                                                      "practice_order"]]


def _traps(traps: pd.DataFrame, today: pd.Timestamp, months: int) -> pd.DataFrame:
    """The latest recent occurrence of each trap, per specialist."""
    when = _dates(traps["review_date"])
    recent = (when <= today) & (when >= today - pd.DateOffset(months=months))
    rows = (traps.assign(date=when)[recent.to_numpy(dtype=bool)]
            .sort_values(["date", "review_id"], kind="stable")
            .drop_duplicates(["specialist_id", "trap_id"], keep="last"))
    return rows.assign(
        kind="trap", practice_id=None, practice_title=None, practice_order=np.nan,
        message="The trap '" + rows["trap_title"].astype(str) + "' was ticked at the review on " + _day(rows["date"]) + ".",
    )[COLUMNS + ["practice_order"]]


def _late_goals(goals: pd.DataFrame, today: pd.Timestamp, consensus: pd.DataFrame) -> pd.DataFrame:
    late, days = _overdue(goals, today)
    rows = goals[late].assign(date=lambda f: _dates(f["follow_up"]), kind="overdue")
    days = pd.Series(np.where(days[late] == 1, "1 day", [f"{d} days" for d in days[late]]), index=rows.index)
    order = consensus.drop_duplicates("practice_id").set_index("practice_id")["practice_order"]
    return rows.assign(
        practice_order=rows["practice_id"].map(order).astype(float),
        message="The goal '" + rows["text"] + "' (" + rows["practice_title"].astype(str) + ") was due for follow-up on "
        + _day(rows["date"]) + " and is " + days + " overdue (" + rows["status"].astype(str) + ").",
    )[COLUMNS + ["practice_order"]]


def _self_gaps(frame: pd.DataFrame, reviews: int) -> pd.DataFrame:
    """Self and supervisor apart the same way on each of the last `reviews` pairings."""
    pairs = gaps(frame, a="self", b="supervisor")
    last = pairs.groupby(["specialist_id", "practice_id"], sort=False, observed=True).tail(reviews)
    keys = ["specialist_id", "specialist_name", "practice_id", "practice_title", "practice_order"]
    summary = last.groupby(keys, sort=False, observed=True).agg(
        n=("gap", "size"), low=("gap", "min"), high=("gap", "max"), mean=("gap", "mean"),
        review_id=("review_id", "last"), date=("review_date", "last")).reset_index()
    apart = (summary["n"] >= reviews) & ((summary["low"] >= 1) | (summary["high"] <= -1))
    rows = summary[apart.to_numpy(dtype=bool)]
    way = np.where(rows["mean"] > 0, "higher", "lower")
    return rows.assign(
        kind="self_gap",
        message="Rated themself " + way + " than the supervisor on " + rows["practice_title"].astype(str)
        + f" in each of the last {reviews} reviews (by " + rows["mean"].abs().map("{:.1f}".format)
        + " levels on average).",
    )[COLUMNS + ["practice_order"]]
