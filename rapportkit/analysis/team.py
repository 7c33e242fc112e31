"""The team at a glance for programme leads: practices × specialists, never a ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapportkit.analysis.trends import _check_int, _ends, _role_groups, _rolling

__all__ = ["team_summary"]

_KEYS = ["specialist_id", "specialist_name", "practice_id", "practice_title", "practice_order"]


def team_summary(ratings: pd.DataFrame, *, window: int = 3, min_reviews: int = 3) -> pd.DataFrame:
    """Each specialist's recent consensus level on every practice, for a heatmap.

    Parameters
    ----------
    ratings : DataFrame
        :func:`rapportkit.frames.ratings_frame`; only consensus rows are read.
    window : int
        How many of the latest scored consensus reviews ``latest_rolling`` averages.
    min_reviews : int
        Fewer scored consensus reviews than this and the cell is suppressed: too little
        to show without over-reading it.

    Returns
    -------
    DataFrame
        One row per (specialist, practice) with consensus rows, ordered by specialist
        name then rubric order (never by score): ``specialist_id, specialist_name,
        practice_id, practice_title, practice_order, n_reviews`` (int, scored consensus
        reviews), ``latest_rolling`` (float, mean of the last `window` scores; NaN when
        suppressed) and ``suppressed`` (bool). See docs/analysis.md.

    Notes
    -----
    Vectorised: one pass of integer grouping and cumulative sums, no loop over groups,
    so it stays quick on a programme's whole history (over a million rating rows).
    """
    window = _check_int(window, "window", 1)
    min_reviews = _check_int(min_reviews, "min_reviews", 1)
    groups = _role_groups(ratings, "consensus")
    out = groups.keys[_KEYS].astype({"practice_order": np.int64})
    if not len(groups.pos):
        return out.assign(n_reviews=pd.Series(dtype=np.int64), latest_rolling=pd.Series(dtype=float),
                          suppressed=pd.Series(dtype=bool))
    values = groups.scores()
    n = np.bincount(groups.group, weights=~np.isnan(values), minlength=len(groups.starts)).astype(np.int64)
    latest = _rolling(values, groups.group, groups.starts, window, at=_ends(groups))
    suppressed = n < min_reviews
    out["n_reviews"] = n
    out["latest_rolling"] = np.where(suppressed, np.nan, latest)
    out["suppressed"] = suppressed
    return out
