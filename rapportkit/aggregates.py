"""What a programme lead reads on a team database: the team aggregates, never a review.

On a team's PostgreSQL store a programme lead's database role reads three views and no
table (``rapportkit/pg_schema.py``): ``team_summary`` (recent consensus per specialist and
practice), ``team_followups`` (goal counts per specialist) and ``team_calibration`` (self
against supervisor, per practice, for the whole team). The views count signed reviews
only, hold no free text and no single review, and suppress any cell of fewer than three
reviews (the database decides that, whatever code the lead runs). This module reads them
into DataFrames shaped like the analysis functions' results, so the dashboards draw them
with the same plots and tables.

On one computer (SQLite) there is no lead role: everyone who opens the file reads it all,
and the dashboards compute the same aggregates from the frames.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .model import PersonRole

__all__ = ["MIN_REVIEWS", "Aggregates", "reads_aggregates_only", "team_aggregates"]

#: Fewer reviews (or pairs) than this and the database shows no value (the views' rule).
MIN_REVIEWS = 3

_VIEWS = {"summary": "team_summary", "followups": "team_followups", "calibration": "team_calibration"}


class Aggregates(NamedTuple):
    """The lead's three tables.

    ``summary`` has the columns of :func:`rapportkit.analysis.team_summary`
    (``latest_rolling`` is the mean of the latest three signed consensus scores);
    ``followups`` those of :func:`rapportkit.analysis.goal_counts` (overdue as of the
    database's date); ``calibration`` one row per practice in rubric order:
    ``practice_id, practice_title, pairs, exact, within_one, mean_gap, suppressed``
    (shares from 0 to 1; NaN where suppressed).
    """

    summary: pd.DataFrame
    followups: pd.DataFrame
    calibration: pd.DataFrame


def reads_aggregates_only(store) -> bool:
    """True when the connected person is a programme lead on a team database: their role
    reads the aggregate views, and no review, rating, note or per-person page."""
    if not store.team:
        return False
    me = store.me()
    return me is not None and me.role is PersonRole.LEAD


def _view(store, name: str) -> pd.DataFrame:
    cur = store.conn.execute(f"SELECT * FROM {_VIEWS[name]}")
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def team_aggregates(store) -> Aggregates:
    """Read the team aggregates from a team database's views (a lead's role reads these).

    Raises
    ------
    AccessError
        When the connected role may not read them (only a programme lead's may).
    """
    practices = pd.DataFrame(
        [(p.id, p.title, i) for i, p in enumerate(store.rubric.practices)],
        columns=["practice_id", "practice_title", "practice_order"])

    summary = _view(store, "summary").merge(practices, on="practice_id", how="inner")
    summary = pd.DataFrame({
        "specialist_id": summary["specialist_id"].astype(str),
        "specialist_name": summary["specialist_name"].astype(str),
        "practice_id": summary["practice_id"].astype(str),
        "practice_title": summary["practice_title"].astype(str),
        "practice_order": summary["practice_order"].astype(np.int64),
        "n_reviews": summary["reviews"].astype(np.int64),
        "latest_rolling": pd.to_numeric(summary["recent_mean"], errors="coerce").astype(float),
        "suppressed": summary["suppressed"].astype(bool),
    }).sort_values(["specialist_name", "specialist_id", "practice_order"], kind="stable").reset_index(drop=True)

    follow = _view(store, "followups")
    counts = ("open", "overdue", "met", "carried", "dropped")
    followups = pd.DataFrame({"specialist_id": follow["specialist_id"].astype(str),
                              "specialist_name": follow["specialist_name"].astype(str),
                              **{c: follow[c].astype(np.int64) for c in counts}})
    # the view's ``open`` counts goals still to do (open or carried); goal_counts' counts the status
    followups["open"] -= followups["carried"]
    followups = followups.sort_values(["specialist_name", "specialist_id"], kind="stable").reset_index(drop=True)

    cal = practices.merge(_view(store, "calibration"), on="practice_id", how="left")
    calibration = pd.DataFrame({
        "practice_id": cal["practice_id"], "practice_title": cal["practice_title"],
        "pairs": cal["pairs"].fillna(0).astype(np.int64),
        "exact": pd.to_numeric(cal["exact_pct"], errors="coerce").astype(float) / 100,
        "within_one": pd.to_numeric(cal["within_one_pct"], errors="coerce").astype(float) / 100,
        "mean_gap": pd.to_numeric(cal["mean_signed_gap"], errors="coerce").astype(float),
        "suppressed": cal["suppressed"].fillna(True).astype(bool),
    })
    return Aggregates(summary, followups, calibration)
