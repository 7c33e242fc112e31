"""Calibration: how a specialist's self-ratings compare with their supervisor's.

The statistics themselves live in :mod:`rapportkit.stats`; this module pairs the
ratings up, groups them, and turns the results into one tidy row per group.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from rapportkit import stats
from rapportkit.analysis.trends import (
    ROLES, _check_choice, _check_frame, _check_int, _dates, _latest_revisions, _RATING_NEEDS,
)

__all__ = ["gaps", "calibration", "CLOSE_GAP", "GROUPINGS"]

#: A mean gap smaller than this (either way) reads as ``close``.
CLOSE_GAP = 0.25
#: Columns :func:`calibration` can group by.
GROUPINGS = ("specialist_id", "practice_id")

_ORDER = ["specialist_name", "specialist_id", "practice_order", "practice_id", "review_date", "review_id"]
_GAP_COLUMNS = ["review_id", "review_date", "specialist_id", "specialist_name", "practice_id",
                "practice_title", "practice_order", "score_a", "score_b", "gap"]
_VALUES = ["exact", "exact_low", "exact_high", "within_one", "within_one_low", "within_one_high",
           "mean_gap", "mean_gap_low", "mean_gap_high", "kappa", "kappa_low", "kappa_high",
           "ac2", "ac2_low", "ac2_high", "icc", "icc_low", "icc_high"]
_RESULT = ["n"] + _VALUES[:12] + ["kappa_label"] + _VALUES[12:15] + ["ac2_label"] + _VALUES[15:] + [
    "icc_label", "tendency", "note"]


def gaps(ratings: pd.DataFrame, *, a: str = "self", b: str = "supervisor") -> pd.DataFrame:
    """Pair two roles' scores on every practice both scored.

    Parameters
    ----------
    ratings : DataFrame
        :func:`rapportkit.frames.ratings_frame`.
    a, b : {"self", "supervisor", "consensus"}
        The two roles to compare; the gap is ``a - b``.

    Returns
    -------
    DataFrame
        One row per (review, practice) where both scored, ordered by specialist name,
        rubric order, then date: ``review_id, review_date, specialist_id,
        specialist_name, practice_id, practice_title, practice_order, score_a, score_b``
        (Int64) and ``gap`` (int64, ``a - b``). See docs/analysis.md.
    """
    _check_frame(ratings, "ratings", _RATING_NEEDS)
    _check_choice(a, "a", ROLES)
    _check_choice(b, "b", ROLES)
    if a == b:
        raise ValueError(f"`a` and `b` must be two different roles, not both {a!r}")
    frame = _latest_revisions(ratings)
    role = frame["role"].to_numpy()
    scored = frame["score"].notna().to_numpy(dtype=bool)
    left = frame.loc[(role == a) & scored, _GAP_COLUMNS[:7] + ["score"]]
    right = frame.loc[(role == b) & scored, ["review_id", "practice_id", "score"]]
    pairs = left.merge(right, on=["review_id", "practice_id"], suffixes=("_a", "_b"))
    pairs = pairs.drop_duplicates(["review_id", "practice_id"]).assign(
        review_date=lambda f: _dates(f["review_date"]),
        practice_order=lambda f: f["practice_order"].astype(np.int64),
        score_a=lambda f: f["score_a"].astype("Int64"), score_b=lambda f: f["score_b"].astype("Int64"))
    pairs["gap"] = (pairs["score_a"] - pairs["score_b"]).astype(np.int64)
    return pairs.sort_values(_ORDER, kind="stable").reset_index(drop=True)[_GAP_COLUMNS]


def calibration(ratings: pd.DataFrame, *, a: str = "self", b: str = "supervisor",
                by: Iterable[str] | str = ("specialist_id",), min_n: int = 5) -> pd.DataFrame:
    """Agreement between two roles, per group, with intervals and labels in words.

    Parameters
    ----------
    ratings : DataFrame
        :func:`rapportkit.frames.ratings_frame`.
    a, b : {"self", "supervisor", "consensus"}
        The roles compared; gaps are ``a - b``.
    by : sequence of {"specialist_id", "practice_id"}
        Grouping: per specialist with all practices pooled (default), per specialist and
        practice, per practice across the team, or ``()`` for everyone pooled.
    min_n : int
        Fewest pairs for which anything is estimated.

    Returns
    -------
    DataFrame
        One row per group, ordered by specialist name then rubric order: the group
        columns (with ``specialist_name``; ``practice_title`` and ``practice_order``),
        then ``n`` and the statistics listed in docs/analysis.md. Intervals are 95 %.
        ``exact``/``within_one`` use Wilson intervals, ``mean_gap`` a t interval,
        ``kappa`` quadratic weights, ``ac2`` quadratic weights, ``icc`` is ICC(A,1);
        labels follow Landis & Koch (kappa, AC2) and Koo & Li (ICC). ``tendency`` is
        ``rates self higher``, ``rates self lower``, ``close`` or ``too few reviews``
        (for roles other than self vs supervisor: e.g. ``consensus higher than
        supervisor``). With fewer than `min_n` pairs every value is NaN; what
        :mod:`rapportkit.stats` cannot estimate (no variation) is NaN; ``note`` says why.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    for column in by:
        _check_choice(column, "by", GROUPINGS)
    if len(set(by)) != len(by):
        raise ValueError(f"`by` must not repeat a column, not {by!r}")
    min_n = _check_int(min_n, "min_n", 1)
    pairs = gaps(ratings, a=a, b=b)
    labels = {"specialist_id": ["specialist_name"], "practice_id": ["practice_title", "practice_order"]}
    keys = [c for column in GROUPINGS if column in by for c in [column, *labels[column]]]
    rows = []
    if by:
        for _, group in pairs.groupby(list(by), sort=False, observed=True):
            rows.append({**group.iloc[0][keys].to_dict(), **_agreement(group, a, b, min_n)})
    else:
        rows.append(_agreement(pairs, a, b, min_n))
    out = pd.DataFrame(rows, columns=keys + _RESULT)
    out = out.astype({"n": np.int64, **{c: float for c in _VALUES},
                      **{c: "str" for c in ("kappa_label", "ac2_label", "icc_label", "tendency", "note")}})
    if "practice_order" in out:
        out["practice_order"] = out["practice_order"].astype(np.int64)
    order = [c for c in _ORDER if c in out.columns]
    return out.sort_values(order, kind="stable").reset_index(drop=True) if order else out


def _agreement(pairs: pd.DataFrame, a: str, b: str, min_n: int) -> dict:
    """The statistics of one group of pairs."""
    n = len(pairs)
    row: dict = {"n": n, **dict.fromkeys(_VALUES, np.nan), "kappa_label": "not estimable",
                 "ac2_label": "not estimable", "icc_label": "not estimable"}
    if n < min_n or n < stats.MIN_N:
        need = max(min_n, stats.MIN_N)
        return {**row, "tendency": "too few reviews",
                "note": f"too few reviews ({n} paired ratings; at least {need} needed)"}
    x = pairs["score_a"].to_numpy(dtype=float)
    y = pairs["score_b"].to_numpy(dtype=float)
    results = {
        "exact": stats.exact_agreement(x, y), "within_one": stats.within_one(x, y),
        "mean_gap": stats.mean_signed_gap(x, y), "kappa": stats.weighted_kappa(x, y),
        "ac2": stats.gwet_ac2(x, y), "icc": stats.icc(np.column_stack([x, y]), "ICC(A,1)"),
    }
    notes = []
    for name, result in results.items():
        for suffix, value in (("", result.value), ("_low", result.ci_low), ("_high", result.ci_high)):
            row[name + suffix] = np.nan if value is None else float(value)
        if result.note and name not in ("exact", "within_one"):
            notes.append(f"{name.replace('_', ' ')}: {result.note}")
    row["kappa_label"] = stats.label_kappa(results["kappa"].value)
    row["ac2_label"] = stats.label_kappa(results["ac2"].value)
    row["icc_label"] = stats.label_icc(results["icc"].value)
    row["tendency"] = _tendency(row["mean_gap"], row["mean_gap_low"], row["mean_gap_high"], a, b)
    row["note"] = "; ".join(notes)
    return row


def _tendency(mean: float, low: float, high: float, a: str, b: str) -> str:
    if np.isnan(mean):
        return "too few reviews"
    if abs(mean) < CLOSE_GAP or (low <= 0 <= high):
        return "close"
    if (a, b) == ("self", "supervisor"):
        return "rates self higher" if mean > 0 else "rates self lower"
    return f"{a} {'higher' if mean > 0 else 'lower'} than {b}"
