"""Agreement statistics for calibrating a specialist's self-ratings against a supervisor's.

Plain functions on arrays: :func:`icc`, :func:`weighted_kappa`, :func:`gwet_ac2`, the
calibration summaries :func:`exact_agreement`, :func:`within_one` and
:func:`mean_signed_gap`, and the labels :func:`label_icc` and :func:`label_kappa`.

Callers drop "not observed" ratings first. No result holds NaN and no warning escapes:
when a statistic cannot be estimated (fewer than :data:`MIN_N` pairs or targets, no
variation) its ``value`` and interval are ``None`` and ``note`` says why in plain
language. Bad input (mismatched lengths, values outside the categories, missing or
non-finite values) raises :class:`~rapportkit.errors.ValidationError`, a ``ValueError``.
scipy is imported only inside the functions that use it.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rapportkit.errors import ValidationError

__all__ = [
    "MIN_N", "IccResult", "KappaResult", "AC2Result", "ProportionResult", "MeanResult",
    "icc", "weighted_kappa", "gwet_ac2", "exact_agreement", "within_one",
    "mean_signed_gap", "label_icc", "label_kappa",
]

MIN_N = 3
"""Fewest pairs of ratings (for :func:`icc`, targets) from which anything is estimated."""

_ICC_FORMS = {  # canonical name -> (model, mean of the k raters?)
    "ICC(1,1)": ("1", False), "ICC(A,1)": ("A", False), "ICC(C,1)": ("C", False),
    "ICC(1,k)": ("1", True), "ICC(A,k)": ("A", True), "ICC(C,k)": ("C", True),
}
_ICC_ALIASES = {
    "ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)", "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)", "ICC(2,1)": "ICC(A,1)", "ICC(3,1)": "ICC(C,1)",
    "ICC(2,k)": "ICC(A,k)", "ICC(3,k)": "ICC(C,k)",
}


@dataclass(frozen=True)
class IccResult:
    """An intraclass correlation and the F test of ICC = 0 (``f``, ``df1``, ``df2``)."""

    kind: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    f: float | None
    df1: int | None
    df2: int | None
    p_value: float | None
    n: int
    k: int
    note: str = ""


@dataclass(frozen=True)
class KappaResult:
    """Cohen's (weighted) kappa with its large-sample standard error and interval."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    note: str = ""


@dataclass(frozen=True)
class AC2Result:
    """Gwet's AC2 (AC1 when unweighted) with its standard error and interval."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    note: str = ""


@dataclass(frozen=True)
class ProportionResult:
    """A proportion with a Wilson score interval."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    note: str = ""


@dataclass(frozen=True)
class MeanResult:
    """A mean with a Student-t interval."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    note: str = ""


# --------------------------------------------------------------------------- helpers
def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _vector(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(f"`{name}` must contain only numbers; drop 'not observed' "
                              f"ratings before calling (got {reprlib.repr(x)})") from None
    if arr.ndim != 1:
        raise ValidationError(f"`{name}` must be one-dimensional (got shape {arr.shape})")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        found = np.asarray(x, dtype=object).ravel()[bad[0]]
        raise ValidationError(
            f"`{name}` must not contain missing or non-finite values (found {found} at "
            f"position {bad[0]}); drop 'not observed' ratings before calling")
    return arr


def _pair(a, b, cats: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    x, y = _vector(a, "a"), _vector(b, "b")
    if x.size != y.size:
        raise ValidationError(f"`a` and `b` must have the same length (got {x.size} and {y.size})")
    for name, arr in (("a", x), ("b", y)):
        if cats is not None and not np.isin(arr, cats).all():
            odd = ", ".join(_num(v) for v in np.unique(arr[~np.isin(arr, cats)])[:5])
            allowed = ", ".join(_num(c) for c in cats)
            raise ValidationError(f"`{name}` has values outside the categories ({allowed}): {odd}")
    return x, y


def _categories(categories: Sequence[float]) -> np.ndarray:
    cats = _vector(categories, "categories")
    if cats.size < 2 or np.unique(cats).size != cats.size:
        raise ValidationError(
            f"`categories` must list at least 2 distinct values (got {tuple(categories)!r})")
    return cats


def _quantile(confidence: float) -> float:
    """The upper tail probability ``(1 + confidence) / 2``, after checking `confidence`."""
    try:
        level = float(confidence)
    except (TypeError, ValueError):
        level = math.nan
    if not 0 < level < 1:
        raise ValidationError(f"`confidence` must be between 0 and 1 (got {confidence!r})")
    return 0.5 + level / 2


def _z(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)


def _too_few(n: int, what: str = "reviews") -> str | None:
    return f"too few {what} ({n}; at least {MIN_N} needed)" if n < MIN_N else None


def _single_category(x: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.all(x == x[0]) and np.all(y == x[0]))


def _weight_matrix(q: int, weights: str | None) -> np.ndarray:
    d = np.abs(np.subtract.outer(np.arange(q), np.arange(q))) / (q - 1)
    if weights is None:
        return (d == 0).astype(float)
    if weights in ("linear", "quadratic"):
        return 1.0 - (d if weights == "linear" else d**2)
    raise ValidationError(f'`weights` must be "quadratic", "linear" or None (got {weights!r})')


def _table(x: np.ndarray, y: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Joint proportions; rows are `a`'s categories and columns `b`'s, in `cats` order."""
    order = np.argsort(cats)
    i, j = (order[np.searchsorted(cats[order], v)] for v in (x, y))
    table = np.zeros((cats.size, cats.size))
    np.add.at(table, (i, j), 1.0)
    return table / x.size


def _interval(value: float, half: float) -> tuple[float, float]:
    """``value ± half`` clipped to [-1, 1], but never so far as to exclude ``value``."""
    return float(max(value - half, min(value, -1.0))), float(min(value + half, 1.0))


# ------------------------------------------------------------------------------- ICC
def _step_up(r: float, k: int) -> float | None:
    """Spearman-Brown: single-rater coefficient -> mean of ``k`` raters (None if undefined)."""
    denom = 1.0 + (k - 1) * r
    return k * r / denom if denom > 1e-12 else None


def _absolute_interval(msr, msc, mse, n, k, rho, q):
    """McGraw & Wong (1996) interval for ICC(A,1), with Satterthwaite's df ``v``."""
    from scipy import stats

    if rho >= 1.0:
        return 1.0, 1.0
    a = k * rho / (n * (1.0 - rho))
    b = 1.0 + k * rho * (n - 1) / (n * (1.0 - rho))
    den = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    v = (a * msc + b * mse) ** 2 / den if den > 0 else 0.0
    if not (v > 0 and math.isfinite(v)):
        return None
    f_low, f_up = stats.f.ppf(q, n - 1, v), stats.f.ppf(q, v, n - 1)
    c = k * msc + (k * n - k - n) * mse
    return (n * (msr - f_low * mse) / (f_low * c + n * msr),
            n * (f_up * msr - mse) / (c + n * f_up * msr))


def icc(ratings, kind: str = "ICC(A,1)", confidence: float = 0.95) -> IccResult:
    """Intraclass correlation of ``k`` raters who each rated the same ``n`` targets.

    Parameters
    ----------
    ratings : array_like, shape (n_targets, k_raters)
        Complete ratings, one column per rater.
    kind : str
        McGraw & Wong (1996) form: ``"ICC(1,1)"`` one-way; ``"ICC(A,1)"`` two-way
        absolute agreement (Shrout & Fleiss ICC(2,1)); ``"ICC(C,1)"`` two-way consistency
        (Shrout & Fleiss ICC(3,1)); ``"ICC(1,k)"``, ``"ICC(A,k)"``, ``"ICC(C,k)"`` for the
        mean of the k raters. Also accepted: pingouin's ``"ICC1"`` … ``"ICC3k"`` and
        ``"ICC(2,1)"`` … ``"ICC(3,k)"``.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    IccResult
        ``kind`` is the canonical name. The interval is McGraw & Wong's F interval (for
        ICC(A,·) with Satterthwaite's approximate df, so for a negative estimate it may
        not contain it), as in pingouin and R's ``psych::ICC``. Nothing is clipped: in
        small samples values can fall below -1, the mean-of-k forms especially.

    Degenerate inputs
    -----------------
    * fewer than 3 targets: ``value``, interval and F test ``None``, note "too few
      targets (2; at least 3 needed)";
    * every rating the same, or every target's ratings averaging the same: ``None`` and
      a note saying reliability cannot be estimated;
    * no error variance (perfect agreement; for ICC(C,·) also a constant offset between
      raters): ``value`` 1.0, interval ``[1.0, 1.0]``, ``f`` ``math.inf``, ``p_value``
      0.0 and a note; ICC(A,·) with a constant offset is below 1 with a finite interval;
    * a mean-of-k form whose single-rater ICC is at or below ``-1/(k-1)``: ``None`` and
      a note; when only the lower limit is, ``ci_low`` is ``-math.inf`` and a note says so;
    * not 2-D, fewer than 2 raters, non-numeric or non-finite values, an unknown `kind`
      or `confidence` outside (0, 1): ``ValidationError``.
    """
    name = _ICC_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if name not in _ICC_FORMS:
        raise ValidationError(f"`kind` must be one of {', '.join(_ICC_FORMS)} (got {kind!r})")
    model, average = _ICC_FORMS[name]
    q = _quantile(confidence)
    try:
        x = np.asarray(ratings, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            f"`ratings` must contain only numbers (got {reprlib.repr(ratings)})") from None
    if x.ndim != 2:
        raise ValidationError(f"`ratings` must be 2-D, n_targets × k_raters (got shape {x.shape})")
    if not np.isfinite(x).all():
        raise ValidationError("`ratings` must not contain missing or non-finite values; drop "
                              "targets with a 'not observed' rating before calling")
    n, k = x.shape
    if k < 2:
        raise ValidationError(f"`ratings` needs at least 2 raters (columns) (got {k})")

    def empty(note: str) -> IccResult:
        return IccResult(name, None, None, None, None, None, None, None, n, k, note)

    if (note := _too_few(n, "targets")) is not None:
        return empty(note)
    if np.all(x == x.flat[0]):
        return empty(f"no variation: every rating was {_num(x.flat[0])}, so reliability "
                     "cannot be estimated")
    # Two-way ANOVA sums of squares on centred data; round-off dust is set to zero.
    d = x - x.mean()
    rows, cols = d.mean(axis=1, keepdims=True), d.mean(axis=0, keepdims=True)
    ss = np.array([k * (rows**2).sum(), n * (cols**2).sum(),
                   ((d - rows - cols) ** 2).sum(), ((d - rows) ** 2).sum()])
    ss[ss < 1e-12 * (d**2).sum()] = 0.0
    msr, msc = ss[0] / (n - 1), ss[1] / (k - 1)
    mse, msw = ss[2] / ((n - 1) * (k - 1)), ss[3] / (n * (k - 1))
    if msr == 0.0:
        return empty("no differences between targets: every target's ratings averaged "
                     f"{_num(round(float(x.mean()), 4))}, so reliability cannot be estimated")

    from scipy import stats

    err, df2 = (msw, n * (k - 1)) if model == "1" else (mse, (n - 1) * (k - 1))
    df1, notes = n - 1, []
    f_stat = msr / err if err > 0 else math.inf
    p_value = float(stats.f.sf(f_stat, df1, df2)) if err > 0 else 0.0
    if model == "A":
        rho = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        interval = _absolute_interval(msr, msc, mse, n, k, rho, q)
    elif err == 0:
        rho, interval = 1.0, (1.0, 1.0)
    else:
        rho = (msr - err) / (msr + (k - 1) * err)
        f_low, f_up = f_stat / stats.f.ppf(q, df1, df2), f_stat * stats.f.ppf(q, df2, df1)
        interval = ((f_low - 1) / (f_low + k - 1), (f_up - 1) / (f_up + k - 1))
    if interval == (1.0, 1.0):
        notes.append("no disagreement left to estimate error from, so the interval "
                     "collapses to 1; treat it with caution when there are few targets")
    if average:
        single, rho = rho, _step_up(rho, k)
        if rho is None:
            return empty(f"the single-rater ICC ({single:.2f}) is at or below -1/(k-1), "
                         f"so the average of {k} raters is undefined")
        if interval is not None:
            lo, hi = (_step_up(v, k) for v in interval)
            interval = None if hi is None else (-math.inf if lo is None else lo, hi)
            if lo is None and hi is not None:
                notes.append("the lower confidence limit is unbounded")
    if interval is None:
        notes.append("the confidence interval cannot be computed for these data")
    lo, hi = (None, None) if interval is None else (float(v) for v in interval)
    return IccResult(name, float(rho), lo, hi, float(f_stat), df1, df2, p_value, n, k,
                     "; ".join(notes))


# ------------------------------------------------------------------ kappa, AC1 / AC2
def weighted_kappa(a, b, weights: str | None = "quadratic",
                   categories: Sequence[float] = (1, 2, 3, 4),
                   confidence: float = 0.95) -> KappaResult:
    """Cohen's kappa between two raters, weighted for ordinal categories.

    Parameters
    ----------
    a, b : array_like
        Paired ratings (e.g. self and supervisor), values in `categories`.
    weights : {"quadratic", "linear", None}
        Agreement weights ``1 - (|i - j| / (q - 1))**p``, p = 2 or 1, on the categories'
        positions (equally spaced, in the order given); ``None`` for unweighted kappa.
    categories : sequence of float
        Every category of the scale, used or not.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    KappaResult
        ``se`` is the large-sample (non-null) standard error of Fleiss, Cohen & Everitt
        (1969); the interval is ``value ± z * se`` (normal quantile), clipped to [-1, 1]
        (a weighted kappa below -1 keeps its own value as the lower limit).

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value``, interval and ``se`` ``None``, note "too few reviews
      (2; at least 3 needed)";
    * both raters used one and the same category throughout: ``None``, note "no
      variation: every rating was 3, so agreement beyond chance cannot be estimated";
    * one rater used a single category: ``value`` 0.0 (kappa is 0 by construction), no
      interval or ``se``, and a note pointing to AC2;
    * perfect agreement with variation: ``value`` 1.0, ``se`` 0.0, interval
      ``[1.0, 1.0]``, with a note;
    * mismatched lengths, values outside `categories`, non-numeric or non-finite values,
      unknown `weights` or `confidence` outside (0, 1): ``ValidationError``.
    """
    cats = _categories(categories)
    x, y = _pair(a, b, cats)
    w = _weight_matrix(cats.size, weights)
    z = _z(_quantile(confidence))
    n = x.size
    if (note := _too_few(n)) is not None:
        return KappaResult(None, None, None, None, n, note)
    if _single_category(x, y):
        return KappaResult(None, None, None, None, n, (
            f"no variation: every rating was {_num(x[0])}, so agreement beyond chance "
            "cannot be estimated"))
    for name, arr in (("a", x), ("b", y)):
        if np.all(arr == arr[0]):
            return KappaResult(0.0, None, None, None, n, (
                f"`{name}` gave every rating as {_num(arr[0])}, so kappa is 0 by construction "
                "and its uncertainty cannot be estimated; Gwet's AC2 is not affected"))
    p = _table(x, y, cats)
    row, col = p.sum(axis=1), p.sum(axis=0)
    po, pe = float((w * p).sum()), float((w * np.outer(row, col)).sum())
    kappa = (po - pe) / (1.0 - pe)
    spread = np.add.outer(w @ col, row @ w) * (1.0 - kappa)
    var = ((p * (w - spread) ** 2).sum() - (kappa - pe * (1.0 - kappa)) ** 2) / (
        n * (1.0 - pe) ** 2)
    se = math.sqrt(max(float(var), 0.0))
    note = "perfect agreement: the large-sample standard error is 0" if po >= 1 - 1e-12 else ""
    return KappaResult(float(kappa), *_interval(kappa, z * se), se, n, note)


def gwet_ac2(a, b, categories: Sequence[float] = (1, 2, 3, 4),
             weights: str | None = "quadratic", confidence: float = 0.95) -> AC2Result:
    """Gwet's AC2 agreement coefficient for two raters (AC1 when unweighted).

    Parameters
    ----------
    a, b : array_like
        Paired ratings, values in `categories`.
    categories : sequence of float
        Every category of the scale, used or not (chance agreement depends on how many).
    weights : {"quadratic", "linear", None}
        Agreement weights as in :func:`weighted_kappa`; ``None`` gives AC1.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    AC2Result
        Chance agreement ``pe = T_w / (q(q-1)) * sum_k pi_k (1 - pi_k)``, ``T_w`` the sum
        of the weights and ``pi_k`` the two raters' mean share of category k. ``se`` is
        Gwet's (2008) two-rater variance for an infinite population; the interval is
        ``value ± t(n-1) * se`` as in Gwet's irrCAC, clipped to [-1, 1] (an AC2 below
        -1, possible with weights, keeps its own value as the lower limit).

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value``, interval and ``se`` ``None``, note "too few reviews
      (2; at least 3 needed)";
    * both raters used one and the same category throughout: AC2 stays defined (chance
      agreement is 0): ``value`` 1.0, ``se`` 0.0, interval ``[1.0, 1.0]`` and a note
      that the ratings had no variation;
    * perfect agreement with variation: ``value`` 1.0, ``se`` 0.0, interval ``[1.0, 1.0]``;
    * mismatched lengths, values outside `categories`, non-numeric or non-finite values,
      unknown `weights` or `confidence` outside (0, 1): ``ValidationError``.
    """
    cats = _categories(categories)
    x, y = _pair(a, b, cats)
    w = _weight_matrix(cats.size, weights)
    q_tail, n, q = _quantile(confidence), x.size, cats.size
    if (note := _too_few(n)) is not None:
        return AC2Result(None, None, None, None, n, note)
    from scipy import stats

    p = _table(x, y, cats)
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2.0
    scale = w.sum() / (q * (q - 1))
    pa, pe = float((w * p).sum()), float(scale * (pi * (1.0 - pi)).sum())
    ac = (pa - pe) / (1.0 - pe)
    dev = w - 2.0 * (1.0 - ac) * scale * (1.0 - np.add.outer(pi, pi) / 2.0)
    var = ((p * dev**2).sum() - (pa - 2.0 * (1.0 - ac) * pe) ** 2) / (n * (1.0 - pe) ** 2)
    se = math.sqrt(max(float(var), 0.0))
    t = float(stats.t.ppf(q_tail, n - 1))
    note = (f"no variation: every rating was {_num(x[0])}; AC2 counts that as perfect "
            "agreement, but it says little about calibration" if _single_category(x, y) else "")
    return AC2Result(float(ac), *_interval(ac, t * se), se, n, note)


# ------------------------------------------------------------------ simple summaries
def _wilson(hits: int, n: int, q: float, what: str) -> ProportionResult:
    if (note := _too_few(n)) is not None:
        return ProportionResult(None, None, None, n, note)
    z, p = _z(q), hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # min/max with p keep round-off from pushing a limit past 0 of n or n of n
    return ProportionResult(p, min(max(centre - half, 0.0), p), max(min(centre + half, 1.0), p),
                            n, f"{hits} of {n} pairs {what}")


def exact_agreement(a, b, *, confidence: float = 0.95) -> ProportionResult:
    """Share of pairs rated identically, with a Wilson score interval.

    Parameters
    ----------
    a, b : array_like
        Paired ratings of the same length.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    ProportionResult
        ``note`` reads e.g. "7 of 9 pairs matched exactly".

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value`` and interval ``None``, note "too few reviews (2; at
      least 3 needed)";
    * all or no pairs matching: 1.0 or 0.0 with a proper (non-zero-width) Wilson interval;
    * mismatched lengths, non-numeric or non-finite values, or `confidence` outside
      (0, 1): ``ValidationError``.
    """
    x, y = _pair(a, b)
    return _wilson(int((x == y).sum()), x.size, _quantile(confidence), "matched exactly")


def within_one(a, b, *, confidence: float = 0.95) -> ProportionResult:
    """Share of pairs at most one scale point apart, with a Wilson score interval.

    Parameters
    ----------
    a, b : array_like
        Paired ratings of the same length.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    ProportionResult
        ``note`` reads e.g. "8 of 9 pairs were within one point".

    Degenerate inputs
    -----------------
    As for :func:`exact_agreement`.
    """
    x, y = _pair(a, b)
    hits = int((np.abs(x - y) <= 1.0 + 1e-9).sum())
    return _wilson(hits, x.size, _quantile(confidence), "were within one point")


def mean_signed_gap(a, b, *, confidence: float = 0.95) -> MeanResult:
    """Mean of ``a - b`` (e.g. self minus supervisor) with a Student-t interval.

    Parameters
    ----------
    a, b : array_like
        Paired ratings of the same length; a positive gap means `a` rates higher.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    MeanResult
        Interval ``mean ± t(n-1) * sd / sqrt(n)``.

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value`` and interval ``None``, note "too few reviews (2; at
      least 3 needed)";
    * every gap the same: that gap, an interval of zero width and a note saying so;
    * mismatched lengths, non-numeric or non-finite values, or `confidence` outside
      (0, 1): ``ValidationError``.
    """
    x, y = _pair(a, b)
    q = _quantile(confidence)
    gap, n = x - y, x.size
    if (note := _too_few(n)) is not None:
        return MeanResult(None, None, None, n, note)
    if np.all(gap == gap[0]):
        g = float(gap[0])
        return MeanResult(g, g, g, n, f"every gap was {_num(g)}, so the interval has zero width")
    from scipy import stats

    mean = float(gap.mean())
    half = float(stats.t.ppf(q, n - 1)) * float(gap.std(ddof=1)) / math.sqrt(n)
    return MeanResult(mean, mean - half, mean + half, n)


# ---------------------------------------------------------------------------- labels
def _label_input(value: float | None) -> float | None:
    if value is not None and (math.isnan(float(value)) or float(value) > 1.0 + 1e-9):
        raise ValidationError(
            f"`value` must be an agreement coefficient of at most 1 (got {value!r})")
    return None if value is None else float(value)


def label_icc(value: float | None) -> str:
    """Koo & Li (2016) label for an ICC.

    Parameters
    ----------
    value : float or None
        An ICC, e.g. ``IccResult.value``.

    Returns
    -------
    str
        "poor" below 0.5, "moderate" from 0.5 to below 0.75, "good" from 0.75 to 0.9
        inclusive, "excellent" above 0.9; "not estimable" for ``None``.

    Degenerate inputs
    -----------------
    NaN or a value above 1 raises ``ValidationError``.
    """
    v = _label_input(value)
    if v is None:
        return "not estimable"
    return "poor" if v < 0.5 else "moderate" if v < 0.75 else "good" if v <= 0.9 else "excellent"


def label_kappa(value: float | None) -> str:
    """Landis & Koch (1977) label for kappa, also used for AC1/AC2.

    Parameters
    ----------
    value : float or None
        A kappa or AC2, e.g. ``KappaResult.value``.

    Returns
    -------
    str
        "poor" below 0, then "slight" (0–0.20), "fair" (0.21–0.40), "moderate"
        (0.41–0.60), "substantial" (0.61–0.80), "almost perfect" (0.81–1). Bands are
        closed above: 0.20 is "slight" and 0.2001 "fair". "not estimable" for ``None``.

    Degenerate inputs
    -----------------
    NaN or a value above 1 raises ``ValidationError``.
    """
    v = _label_input(value)
    if v is None:
        return "not estimable"
    if v < 0:
        return "poor"
    for top, label in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if v <= top:
            return label
    return "almost perfect"
