"""Scores over time: rolling means, recent slopes and a direction in words.

Also home to the small input checks the other analysis modules share (the ``_check_*``
helpers and :func:`_role_groups`, the sorting and grouping that ``trend_summary`` and
``team_summary`` build on without looping over groups).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["trend_points", "trend_summary", "ROLES", "STEADY_SLOPE", "DAYS_PER_MONTH"]

#: The three kinds of rating a review holds.
ROLES = ("self", "supervisor", "consensus")
#: A slope smaller than this (levels per month, either way) counts as steady.
STEADY_SLOPE = 0.05
#: Length of a month when dates become months (365.25 / 12 days).
DAYS_PER_MONTH = 365.25 / 12

_GROUP_KEYS = ["specialist_name", "specialist_id", "practice_order", "practice_id"]
_RATING_NEEDS = ("review_id", "review_date", "specialist_id", "specialist_name", "practice_id",
                 "practice_title", "practice_order", "role", "score")
_SUMMARY_TYPES = {"n_reviews": "int64", "first_date": "datetime64[ns]", "last_date": "datetime64[ns]",
                  "latest_score": "Int64", "latest_rolling": "float64", "slope_per_month": "float64",
                  "direction": "str"}
_POINT_COLUMNS = ["specialist_id", "specialist_name", "practice_id", "practice_title",
                  "practice_order", "review_id", "review_date", "score"]


# ------------------------------------------------------------------- shared checks
def _check_frame(frame: object, name: str, columns: Iterable[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"`{name}` must be a pandas DataFrame from rapportkit.frames, "
                         f"not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"`{name}` lacks the column(s) {', '.join(missing)}; build it with "
                         "rapportkit.frames (see docs/frames.md)")
    return frame


def _check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(choices)}, not {value!r}")
    return value


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be a whole number of at least {minimum}, not {value!r}")
    return int(value)


def _check_today(today: object) -> pd.Timestamp:
    if today is None:
        return pd.Timestamp(dt.date.today())
    try:
        stamp = pd.Timestamp(today)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise ValueError(f"`today` must be a date such as 2026-10-31, not {today!r}")
    return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()


# ------------------------------------------------------------------ shared columns
def _scores(column: pd.Series) -> np.ndarray:
    """Scores as floats with NaN for "not observed"."""
    return column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _dates(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column).astype("datetime64[ns]")


def _latest_revisions(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop superseded revisions when a frame holds several revisions of a review."""
    if "revision" not in frame.columns or frame.empty:
        return frame
    revision = frame["revision"]
    if revision.min() == revision.max():
        return frame
    return frame[revision.eq(revision.groupby(frame["review_id"], observed=True).transform("max")).to_numpy()]


class _Groups(NamedTuple):
    frame: pd.DataFrame  # the ratings, superseded revisions dropped
    pos: np.ndarray  # positions of one role's rows in `frame`, in output order
    group: np.ndarray  # each of those rows' group number (0, 1, ... in output order)
    starts: np.ndarray  # the first row of every group
    keys: pd.DataFrame  # one row per group: ids, names, titles, practice_order

    def column(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy()[self.pos]

    def scores(self) -> np.ndarray:
        return _scores(self.frame["score"])[self.pos]


def _role_groups(ratings: pd.DataFrame, role: str) -> _Groups:
    """One role's rows grouped by (specialist, practice) and ordered by specialist name,
    rubric order, then date, using integer codes and numpy (no loop over groups)."""
    _check_frame(ratings, "ratings", _RATING_NEEDS)
    _check_choice(role, "role", ROLES)
    frame = _latest_revisions(ratings)
    if frame["review_date"].dtype != "datetime64[ns]":
        frame = frame.assign(review_date=_dates(frame["review_date"]))
    pos = np.flatnonzero(frame["role"].to_numpy() == role)
    if len(pos):
        dates = frame["review_date"].to_numpy()[pos]
        if (np.diff(dates.view(np.int64)) < 0).any():
            pos = pos[np.lexsort((frame["review_id"].to_numpy()[pos].astype(str), dates))]
    spec, spec_ids = pd.factorize(frame["specialist_id"].to_numpy()[pos])
    prac, prac_ids = pd.factorize(frame["practice_id"].to_numpy()[pos])
    if (spec < 0).any() or (prac < 0).any():  # rows without a specialist or practice id
        keep = (spec >= 0) & (prac >= 0)
        pos, spec, prac = pos[keep], spec[keep], prac[keep]
    if not len(pos):
        keys = frame.iloc[pos][_GROUP_KEYS + ["practice_title"]].reset_index(drop=True)
        return _Groups(frame, pos, pos, pos, keys)
    raw = spec.astype(np.int64) * max(len(prac_ids), 1) + prac
    size = max(len(spec_ids), 1) * max(len(prac_ids), 1)
    counts = np.bincount(raw, minlength=size)
    present = np.flatnonzero(counts)
    sample = np.zeros(size, dtype=np.int64)
    sample[raw] = pos  # any row of a group serves to read its names and titles
    keys = frame.iloc[sample[present]][_GROUP_KEYS + ["practice_title"]].reset_index(drop=True)
    by_rank = keys.sort_values(_GROUP_KEYS, kind="stable").index.to_numpy()
    rank = np.zeros(size, dtype=np.uint16 if len(present) < 2**16 else np.int64)
    rank[present[by_rank]] = np.arange(len(present))
    group = rank[raw]
    order = np.argsort(group, kind="stable")  # a radix sort for 16-bit codes
    starts = np.r_[0, np.cumsum(counts[present[by_rank]])[:-1]].astype(np.int64)
    keys = keys.iloc[by_rank].reset_index(drop=True)
    return _Groups(frame, pos[order], group[order].astype(np.int64), starts, keys)


def _rolling(values: np.ndarray, group: np.ndarray, starts: np.ndarray, window: int,
             at: np.ndarray | None = None) -> np.ndarray:
    """Mean of the last `window` non-missing values up to each row (or the rows `at`)
    within its group; NaN before the group's first value."""
    valid = ~np.isnan(values)
    seen = np.r_[0, np.cumsum(valid)]  # values seen before each row (and after the last)
    prefix = np.r_[0.0, np.cumsum(values[valid])]
    rows = np.arange(len(values)) if at is None else at
    upto = seen[rows + 1]
    taken = np.minimum(upto - seen[starts][group[rows]], window)
    out = np.full(len(rows), np.nan)
    np.divide(prefix[upto] - prefix[upto - taken], taken, out=out, where=taken > 0)
    return out


def _ends(groups: _Groups) -> np.ndarray:
    return np.r_[groups.starts[1:], len(groups.pos)] - 1


# ------------------------------------------------------------------------ public
def trend_points(ratings: pd.DataFrame, *, role: str = "consensus", window: int = 3) -> pd.DataFrame:
    """Every score of one role over time, with its rolling mean.

    Parameters
    ----------
    ratings : DataFrame
        :func:`rapportkit.frames.ratings_frame` (or rows with the same columns).
    role : {"consensus", "self", "supervisor"}
        Whose scores to follow.
    window : int
        How many of the latest non-missing scores the rolling mean averages.

    Returns
    -------
    DataFrame
        One row per (specialist, practice, review), ordered by specialist name, rubric
        order, then date: ``specialist_id, specialist_name, practice_id, practice_title,
        practice_order, review_id, review_date, score`` (Int64, ``<NA>`` when not observed)
        and ``rolling_mean`` (float; NaN until the first score). See docs/analysis.md.
    """
    window = _check_int(window, "window", 1)
    groups = _role_groups(ratings, role)
    rows = groups.frame[_POINT_COLUMNS].take(groups.pos).reset_index(drop=True)
    rows["score"] = rows["score"].astype("Int64")
    rows["practice_order"] = rows["practice_order"].astype(np.int64)
    rows["rolling_mean"] = (_rolling(_scores(rows["score"]), groups.group, groups.starts, window)
                            if len(rows) else np.empty(0))
    return rows


def trend_summary(ratings: pd.DataFrame, *, role: str = "consensus", window: int = 3,
                  slope_months: float = 6, min_reviews: int = 4) -> pd.DataFrame:
    """Where each practice stands and which way it is heading, per specialist.

    Parameters
    ----------
    ratings : DataFrame
        :func:`rapportkit.frames.ratings_frame`.
    role : {"consensus", "self", "supervisor"}
        Whose scores to summarise.
    window : int
        Scores averaged by ``latest_rolling``.
    slope_months : float
        The slope is fitted to the scores of the last `slope_months` months (a month is
        :data:`DAYS_PER_MONTH` days) before the specialist's latest review in `role`.
    min_reviews : int
        Fewest scored reviews in that span for a slope; fewer gives ``too few reviews``.

    Returns
    -------
    DataFrame
        One row per (specialist, practice), ordered by specialist name then rubric order:
        ``specialist_id, specialist_name, practice_id, practice_title, practice_order,
        n_reviews`` (scored reviews), ``first_date, last_date`` (of scored reviews; NaT if
        none), ``latest_score`` (Int64, the latest non-missing score), ``latest_rolling``,
        ``slope_per_month`` (least squares; NaN with too few reviews, or all on one day)
        and ``direction``: ``improving``, ``steady`` (|slope| < :data:`STEADY_SLOPE`),
        ``declining`` or ``too few reviews``.
    """
    window = _check_int(window, "window", 1)
    min_reviews = _check_int(min_reviews, "min_reviews", 2)
    if isinstance(slope_months, bool) or not isinstance(slope_months, (int, float, np.number)) \
            or not 0 < slope_months < np.inf:
        raise ValueError(f"`slope_months` must be a positive number, not {slope_months!r}")
    groups = _role_groups(ratings, role)
    out = groups.keys[_POINT_COLUMNS[:5]].astype({"practice_order": np.int64})
    if not len(groups.pos):
        return out.assign(**{c: pd.Series(dtype=t) for c, t in _SUMMARY_TYPES.items()})
    group, starts, keys = groups.group, groups.starts, groups.keys
    values = groups.scores()
    valid = ~np.isnan(values)
    idx = np.arange(len(values))
    stamps = groups.column("review_date").view(np.int64)
    days = stamps // 86_400_000_000_000
    big = np.iinfo(np.int64)

    last_valid = np.maximum.reduceat(np.where(valid, idx, -1), starts)
    latest = np.where(last_valid >= 0, values[np.maximum(last_valid, 0)], 0.0)
    latest = pd.arrays.IntegerArray(latest.astype(np.int64), last_valid < 0)
    first_date = np.minimum.reduceat(np.where(valid, stamps, big.max), starts)
    last_date = np.maximum.reduceat(np.where(valid, stamps, big.min), starts)

    # Slope over the recent span, from exact integer sums (days relative to the anchor).
    anchor = pd.Series(np.maximum.reduceat(days, starts)).groupby(keys["specialist_id"].to_numpy())
    x = days - anchor.transform("max").to_numpy()[group]
    used = valid & (x >= -slope_months * DAYS_PER_MONTH)
    y = np.where(used, values, 0.0)
    n_groups = len(starts)
    s0, sx, sxx, sy, sxy = (np.bincount(group, weights=w, minlength=n_groups)
                            for w in (used * 1.0, used * x, used * x * x, y, x * y))
    den = s0 * sxx - sx * sx
    ok = (s0 >= min_reviews) & (den > 0)
    slope = np.full(n_groups, np.nan)
    np.divide((s0 * sxy - sx * sy) * DAYS_PER_MONTH, den, out=slope, where=ok)
    flat = np.abs(np.where(ok, slope, 0.0)) < STEADY_SLOPE
    direction = np.select([~ok, flat, slope > 0], ["too few reviews", "steady", "improving"], "declining")

    out["n_reviews"] = np.bincount(group, weights=valid, minlength=n_groups).astype(np.int64)
    out["first_date"] = np.where(first_date == big.max, big.min, first_date).view("datetime64[ns]")
    out["last_date"] = last_date.view("datetime64[ns]")
    out["latest_score"] = latest
    out["latest_rolling"] = _rolling(values, group, starts, window, at=_ends(groups))
    out["slope_per_month"] = slope
    out["direction"] = pd.array(direction, dtype="str")
    return out
