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
from statistics import NormalDist

import numpy as np

from rapportkit.errors import ValidationError

__all__ = [
    "MIN_N", "IccResult", "KappaResult", "AC2Result", "ProportionResult", "MeanResult",
    "icc", "weighted_kappa", "gwet_ac2", "exact_agreement", "within_one",
    "mean_signed_gap", "label_icc", "label_kappa",
]

MIN_N = 3
"""Fewest paired ratings (or, for :func:`icc`, targets) for which anything is estimated."""

_ICC_FORMS = {  # canonical name -> (model, average of k raters?)
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
    """An intraclass correlation; ``f``/``df1``/``df2``/``p_value`` are its F test."""

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


# ----------------------------------------------------------------------------- checks
def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _vector(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            f"`{name}` must contain only numbers; drop 'not observed' ratings before "
            f"calling (got {reprlib.repr(x)})") from None
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


def _confidence(confidence: float) -> float:
    try:
        level = float(confidence)
    except (TypeError, ValueError):
        level = math.nan
    if not 0 < level < 1:
        raise ValidationError(f"`confidence` must be between 0 and 1 (got {confidence!r})")
    return level


def _too_few(n: int, what: str = "reviews") -> str | None:
    return f"too few {what} ({n}; at least {MIN_N} needed)" if n < MIN_N else None


def _no_variation(x: np.ndarray, y: np.ndarray) -> str | None:
    if np.all(x == x[0]) and np.all(y == x[0]):
        return (f"no variation: every rating was {_num(x[0])}, so agreement beyond chance "
                "cannot be estimated")
    return None


def _weight_matrix(q: int, weights: str | None) -> np.ndarray:
    d = np.abs(np.subtract.outer(np.arange(q), np.arange(q))) / (q - 1)
    if weights is None:
        return (d == 0).astype(float)
    if weights == "linear":
        return 1.0 - d
    if weights == "quadratic":
        return 1.0 - d**2
    raise ValidationError(f'`weights` must be "quadratic", "linear" or None (got {weights!r})')


def _table(x: np.ndarray, y: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Joint proportions: rows are `a`'s categories, columns `b`'s."""
    order = np.argsort(cats)
    i = order[np.searchsorted(cats[order], x)]
    j = order[np.searchsorted(cats[order], y)]
    table = np.zeros((cats.size, cats.size))
    np.add.at(table, (i, j), 1.0)
    return table / x.size


def _clip(v: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return float(min(max(v, lo), hi))


# ------------------------------------------------------------------------------- ICC
def _spearman_brown(r: float, k: int) -> float | None:
    """Step a single-rater coefficient up to the mean of ``k`` raters (None if undefined)."""
    denom = 1.0 + (k - 1) * r
    return k * r / denom if denom > 1e-12 else None


def _absolute_interval(msr, msc, mse, n, k, rho, q):
    """McGraw & Wong (1996) interval for ICC(A,1), Satterthwaite df for the denominator."""
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
    """Intraclass correlation of ``k`` raters scoring the same ``n`` targets.

    Parameters
    ----------
    ratings : array_like, shape (n_targets, k_raters)
        Complete ratings (no missing values), e.g. one column per rater.
    kind : str
        McGraw & Wong (1996) form: ``"ICC(1,1)"`` (one-way), ``"ICC(A,1)"`` (two-way,
        absolute agreement; Shrout & Fleiss ICC(2,1)), ``"ICC(C,1)"`` (two-way,
        consistency; Shrout & Fleiss ICC(3,1)), or the mean-of-k-raters forms
        ``"ICC(1,k)"``, ``"ICC(A,k)"``, ``"ICC(C,k)"``. pingouin's names ``"ICC1"`` …
        ``"ICC3k"`` and Shrout & Fleiss's ``"ICC(2,1)"`` … ``"ICC(3,k)"`` are accepted.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    IccResult
        ``kind`` is the canonical name. The interval is the exact F interval of McGraw &
        Wong (1996) (Satterthwaite-approximate for the absolute-agreement forms), as in
        pingouin and R's ``psych::ICC``; ``f``, ``df1``, ``df2`` and ``p_value`` test
        ICC = 0. Values and intervals are not clipped: in small samples they can fall
        below -1, the k-rater forms especially.

    Degenerate inputs
    -----------------
    * fewer than 3 targets: ``value`` and interval ``None``, note "too few targets (2; at
      least 3 needed)";
    * every rating identical, or every target with the same mean rating: ``None`` and a
      note (reliability between targets cannot be estimated);
    * no error variance (perfect agreement, or for the consistency form a constant offset
      between raters): ``value`` 1.0, interval ``[1.0, 1.0]``, ``f`` ``math.inf`` and
      ``p_value`` 0.0, with a note; ICC(A,·) with a pure rater offset keeps a finite
      interval;
    * a k-rater form whose single-rater value is at or below ``-1/(k-1)``: ``None`` with a
      note; if only the lower limit is, ``ci_low`` is ``-math.inf``;
    * ``ratings`` not 2-D, fewer than 2 raters, non-numeric or non-finite values, an
      unknown ``kind`` or a ``confidence`` outside (0, 1): ``ValidationError``.
    """
    name = _ICC_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if name not in _ICC_FORMS:
        raise ValidationError(f"`kind` must be one of {', '.join(_ICC_FORMS)} (got {kind!r})")
    model, average = _ICC_FORMS[name]
    q = 0.5 + _confidence(confidence) / 2
    try:
        x = np.asarray(ratings, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(f"`ratings` must contain only numbers (got {reprlib.repr(ratings)})") from None
    if x.ndim != 2:
        raise ValidationError(f"`ratings` must be 2-D, n_targets × k_raters (got shape {x.shape})")
    if not np.isfinite(x).all():
        raise ValidationError("`ratings` must not contain missing or non-finite values; "
                              "drop targets with a 'not observed' rating before calling")
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
    ss_total = float((d**2).sum())
    ss = np.array([k * (rows**2).sum(), n * (cols**2).sum(),
                   ((d - rows - cols) ** 2).sum(), ((d - rows) ** 2).sum()])
    ss[ss < 1e-12 * ss_total] = 0.0
    msr, msc = ss[0] / (n - 1), ss[1] / (k - 1)
    mse, msw = ss[2] / ((n - 1) * (k - 1)), ss[3] / (n * (k - 1))
    if msr == 0.0:
        return empty(f"no differences between targets: every target's ratings averaged "
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
        single, rho = rho, _spearman_brown(rho, k)
        if rho is None:
            return empty(f"the single-rater ICC ({single:.2f}) is at or below "
                         f"-1/(k-1), so the average of {k} raters is undefined")
        if interval is not None:
            lo, hi = (_spearman_brown(v, k) for v in interval)
            interval = None if hi is None else (-math.inf if lo is None else lo, hi)
            if lo is None and hi is not None:
                notes.append("the lower confidence limit is unbounded")
    if interval is None:
        notes.append("the confidence interval cannot be computed for these data")
        interval = (None, None)
    lo, hi = (None if v is None else float(v) for v in interval)
    result = IccResult(name, float(rho), lo, hi, float(f_stat), df1, df2, p_value, n, k,
                       "; ".join(notes))
    if not all(math.isfinite(v) or v == -math.inf for v in (result.value, result.ci_low,
               result.ci_high) if v is not None):  # pragma: no cover - safety net
        return empty("could not be estimated from these data")
    return result


# ----------------------------------------------------------------- kappa, AC1 / AC2
def weighted_kappa(a, b, weights: str | None = "quadratic", categories: Sequence[float] = (1, 2, 3, 4),
                   confidence: float = 0.95) -> KappaResult:
    """Cohen's kappa between two raters, weighted for ordinal categories.

    Parameters
    ----------
    a, b : array_like
        Paired ratings (e.g. self and supervisor), same length, values in `categories`.
    weights : {"quadratic", "linear", None}
        Agreement weights ``1 - (|i-j|/(q-1))**p`` with p = 2 or 1 on the categories'
        positions (categories count as equally spaced, in the order given); ``None`` is
        unweighted kappa.
    categories : sequence of float
        All categories of the scale, whether used or not.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    KappaResult
        ``se`` is the large-sample (non-null) standard error of Fleiss, Cohen & Everitt
        (1969); the interval is ``value ± z * se`` with a normal quantile, clipped to
        [-1, 1].

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value``/interval/``se`` ``None``, note "too few reviews (2; at
      least 3 needed)";
    * both raters gave the same single category throughout: ``None``, note "no variation:
      every rating was 3, so agreement beyond chance cannot be estimated";
    * one rater used a single category: ``value`` 0.0 (kappa is 0 by construction), no
      interval or ``se``, and a note pointing to :func:`gwet_ac2`;
    * perfect agreement with variation: ``value`` 1.0, ``se`` 0.0 and interval
      ``[1.0, 1.0]`` (the large-sample SE vanishes; a note says so);
    * mismatched lengths, values outside `categories`, non-numeric or non-finite values,
      unknown `weights` or a `confidence` outside (0, 1): ``ValidationError``.
    """
    cats = _categories(categories)
    x, y = _pair(a, b, cats)
    w = _weight_matrix(cats.size, weights)
    z = NormalDist().inv_cdf(0.5 + _confidence(confidence) / 2)
    n = x.size
    if (note := _too_few(n) or _no_variation(x, y)) is not None:
        return KappaResult(None, None, None, None, n, note)
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
    var = ((p * (w - spread) ** 2).sum() - (kappa - pe * (1.0 - kappa)) ** 2) / (n * (1.0 - pe) ** 2)
    se = math.sqrt(max(float(var), 0.0))
    note = "perfect agreement: the large-sample standard error is 0" if po >= 1.0 - 1e-12 else ""
    return KappaResult(float(kappa), _clip(kappa - z * se), _clip(kappa + z * se), se, n, note)


def gwet_ac2(a, b, categories: Sequence[float] = (1, 2, 3, 4), weights: str | None = "quadratic",
             confidence: float = 0.95) -> AC2Result:
    """Gwet's AC2 agreement coefficient for two raters (AC1 when unweighted).

    Parameters
    ----------
    a, b : array_like
        Paired ratings, same length, values in `categories`.
    categories : sequence of float
        All categories of the scale, whether used or not (the chance term depends on
        their number).
    weights : {"quadratic", "linear", None}
        Agreement weights as in :func:`weighted_kappa`; ``None`` gives AC1.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    AC2Result
        Chance agreement is ``pe = T_w / (q(q-1)) * sum_k pi_k (1 - pi_k)``, with ``T_w``
        the sum of the weights and ``pi_k`` the raters' mean share of category k. ``se``
        is Gwet's (2008) variance for two raters with an infinite population (sampling
        fraction 0); the interval is ``value ± t(n-1) * se``, as in Gwet's irrCAC,
        clipped to [-1, 1].

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value``/interval/``se`` ``None``, note "too few reviews (2; at
      least 3 needed)";
    * both raters gave the same single category throughout: AC2 stays defined (chance
      agreement is 0), so ``value`` 1.0, ``se`` 0.0, interval ``[1.0, 1.0]``, with a note
      that the ratings had no variation;
    * perfect agreement with variation: ``value`` 1.0 and Gwet's interval (``se`` is 0);
    * mismatched lengths, values outside `categories`, non-numeric or non-finite values,
      unknown `weights` or a `confidence` outside (0, 1): ``ValidationError``.
    """
    cats = _categories(categories)
    x, y = _pair(a, b, cats)
    w = _weight_matrix(cats.size, weights)
    level = _confidence(confidence)
    n, q = x.size, cats.size
    if (note := _too_few(n)) is not None:
        return AC2Result(None, None, None, None, n, note)
    from scipy import stats

    p = _table(x, y, cats)
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2.0
    scale = 1 / (q - 1)
    pa, pe = float((w * p).sum()), float(scale * (pi * (1.0 - pi)).sum())
    ac = (pa - pe) / (1.0 - pe)
    dev = w - 2.0 * (1.0 - ac) * scale * (1.0 - np.add.outer(pi, pi) / 2.0)
    var = ((p * dev**2).sum() - (pa - 2.0 * (1.0 - ac) * pe) ** 2) / (n * (1.0 - pe) ** 2)
    se = math.sqrt(max(float(var), 0.0))
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    note = _no_variation(x, y) or ""
    if note:
        note = note.replace("agreement beyond chance cannot be estimated",
                            "AC2 counts it as perfect agreement; it says little about calibration")
    return AC2Result(float(ac), _clip(ac - t * se), _clip(ac + t * se), se, n, note)


# ---------------------------------------------------------------- simple summaries
def _wilson(hits: int, n: int, confidence: float, what: str) -> ProportionResult:
    if (note := _too_few(n)) is not None:
        return ProportionResult(None, None, None, n, note)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return ProportionResult(p, _clip(centre - half, 0.0), _clip(centre + half, 0.0), n,
                            f"{hits} of {n} pairs {what}")


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
    * fewer than 3 pairs: ``value`` and interval ``None`` with a "too few reviews" note;
    * all or none matching: 1.0 or 0.0 with a proper (non-degenerate) Wilson interval;
    * mismatched lengths, non-numeric or non-finite values, or a `confidence` outside
      (0, 1): ``ValidationError``.
    """
    x, y = _pair(a, b)
    return _wilson(int((x == y).sum()), x.size, _confidence(confidence), "matched exactly")


def within_one(a, b, *, confidence: float = 0.95) -> ProportionResult:
    """Share of pairs at most one scale point apart, with a Wilson score interval.

    Parameters and degenerate inputs are as for :func:`exact_agreement`.
    """
    x, y = _pair(a, b)
    hits = int((np.abs(x - y) <= 1.0 + 1e-9).sum())
    return _wilson(hits, x.size, _confidence(confidence), "were within one point")


def mean_signed_gap(a, b, *, confidence: float = 0.95) -> MeanResult:
    """Mean of ``a - b`` (e.g. self minus supervisor) with a Student-t interval.

    Parameters
    ----------
    a, b : array_like
        Paired ratings of the same length. A positive gap means `a` rates higher.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    MeanResult
        Interval ``mean ± t(n-1) * sd / sqrt(n)``.

    Degenerate inputs
    -----------------
    * fewer than 3 pairs: ``value`` and interval ``None`` with a "too few reviews" note;
    * every gap the same: that gap, an interval of zero width, and a note saying so;
    * mismatched lengths, non-numeric or non-finite values, or a `confidence` outside
      (0, 1): ``ValidationError``.
    """
    x, y = _pair(a, b)
    level = _confidence(confidence)
    gap = x - y
    n = gap.size
    if (note := _too_few(n)) is not None:
        return MeanResult(None, None, None, n, note)
    mean = float(gap.mean())
    if np.all(gap == gap[0]):
        return MeanResult(float(gap[0]), float(gap[0]), float(gap[0]), n,
                          f"every gap was {_num(gap[0])}, so the interval has zero width")
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(gap.std(ddof=1)) / math.sqrt(n)
    return MeanResult(mean, mean - half, mean + half, n)


# -------------------------------------------------------------------------- labels
def _checked_label_value(value: float | None) -> float | None:
    if value is None:
        return None
    v = float(value)
    if math.isnan(v) or v > 1.0 + 1e-9:
        raise ValidationError(f"`value` must be an agreement coefficient of at most 1 (got {value!r})")
    return v


def label_icc(value: float | None) -> str:
    """Koo & Li (2016) label for an ICC.

    ``value < 0.5`` "poor", ``0.5 <= value < 0.75`` "moderate", ``0.75 <= value <= 0.9``
    "good", ``value > 0.9`` "excellent"; ``None`` gives "not estimable". NaN or a value
    above 1 raises ``ValidationError``.
    """
    v = _checked_label_value(value)
    if v is None:
        return "not estimable"
    return "poor" if v < 0.5 else "moderate" if v < 0.75 else "good" if v <= 0.9 else "excellent"


def label_kappa(value: float | None) -> str:
    """Landis & Koch (1977) label for kappa (also used for AC1/AC2).

    ``< 0`` "poor", ``0–0.20`` "slight", ``0.21–0.40`` "fair", ``0.41–0.60`` "moderate",
    ``0.61–0.80`` "substantial", above "almost perfect". Bands are closed above (0.20 is
    "slight", 0.2001 "fair"). ``None`` gives "not estimable"; NaN or a value above 1
    raises ``ValidationError``.
    """
    v = _checked_label_value(value)
    if v is None:
        return "not estimable"
    if v < 0:
        return "poor"
    for top, label in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if v <= top:
            return label
    return "almost perfect"
