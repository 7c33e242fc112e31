"""Tests for rapportkit.stats.

Reference numbers come only from publications (Shrout & Fleiss 1979; Gwet's irrCAC
documentation) or from independent implementations (pingouin, scikit-learn, scipy, and a
from-the-formula AC2 written out below). Every test runs with warnings as errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapportkit import stats as rs
from rapportkit.errors import ValidationError

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(autouse=True)
def _earlier_tests_garbage_collected():
    """Warnings are errors here to hold the statistics to "no warning on degenerate input";
    collect what earlier tests left behind first (a server test's unclosed socket warns
    when it is collected), so that warning is not raised inside a statistics test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()

ICC_KINDS = ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
TOO_FEW_2 = "too few reviews (2; at least 3 needed)"
DOCUMENTED_ICC_NOTES = ("too few targets", "no variation", "no differences between targets",
                        "is at or below -1/(k-1)")


@contextlib.contextmanager
def strict():
    """Turn every warning into an error (our code must not warn on degenerate input)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@contextlib.contextmanager
def quiet():
    """Third-party reference implementations may warn; only our code is held to no warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def pairs_from_table(table):
    """Expand a contingency table (rows: rater a, columns: rater b) into paired ratings."""
    a, b = [], []
    for i, row in enumerate(table, start=1):
        for j, count in enumerate(row, start=1):
            a += [i] * count
            b += [j] * count
    return np.array(a), np.array(b)


def correlated_pairs(rng, n, q=4, noise=1.0):
    truth = rng.integers(1, q + 1, n)
    a = np.clip(truth + np.round(rng.normal(0, noise, n)), 1, q).astype(int)
    b = np.clip(truth + np.round(rng.normal(0, noise, n)), 1, q).astype(int)
    return a, b


# ------------------------------------------------------------------ ICC: published
# Shrout, P. E. & Fleiss, J. L. (1979). Psychological Bulletin 86(2), 420-428, Table 2
# (6 targets x 4 judges) and the ICCs they report for it.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
                          [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
SHROUT_FLEISS_PUBLISHED = {
    "ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91,
}


@pytest.mark.parametrize("kind, published", sorted(SHROUT_FLEISS_PUBLISHED.items()))
def test_icc_reproduces_shrout_fleiss_table_2(kind, published):
    result = rs.icc(SHROUT_FLEISS, kind)
    assert round(result.value, 2) == published
    assert (result.n, result.k, result.note) == (6, 4, "")


@pytest.mark.parametrize("alias, canonical", [
    ("ICC1", "ICC(1,1)"), ("ICC2", "ICC(A,1)"), ("ICC3", "ICC(C,1)"),
    ("ICC1k", "ICC(1,k)"), ("ICC2k", "ICC(A,k)"), ("ICC3k", "ICC(C,k)"),
    ("ICC(2,1)", "ICC(A,1)"), ("ICC(3,1)", "ICC(C,1)"), ("ICC(2,k)", "ICC(A,k)"),
    ("ICC(3,k)", "ICC(C,k)"),
])
def test_icc_aliases_name_the_same_form(alias, canonical):
    assert rs.icc(SHROUT_FLEISS, alias) == rs.icc(SHROUT_FLEISS, canonical)
    assert rs.icc(SHROUT_FLEISS, alias).kind == canonical


def test_icc_forms_differ_from_each_other():
    values = {rs.icc(SHROUT_FLEISS, kind).value for kind in ICC_KINDS}
    assert len(values) == len(ICC_KINDS)


# ------------------------------------------------------------------ ICC: pingouin
def _pingouin_icc(matrix):
    import pandas as pd
    import pingouin

    n, k = matrix.shape
    long = pd.DataFrame({"target": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
                         "score": matrix.ravel()})
    with quiet():
        return pingouin.intraclass_corr(long, "target", "rater", "score").set_index("Type")


@pytest.fixture
def unrounded_pingouin(monkeypatch):
    # pingouin rounds the CI95 column to 2 decimals by default (pingouin.options
    # "round.column.CI95" = 2); switch that off to compare intervals at full precision.
    import pingouin

    monkeypatch.setitem(pingouin.options, "round.column.CI95", None)


def test_icc_matches_pingouin_on_random_integer_data(unrounded_pingouin):
    compared = skipped = 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        n, k = int(rng.integers(3, 25)), int(rng.integers(2, 6))
        signal = rng.normal(0, rng.uniform(0, 1.5), (n, 1))
        matrix = np.clip(np.round(2.5 + signal + rng.normal(0, 1, (n, k))), 1, 4)
        reference = _pingouin_icc(matrix)
        for kind in ICC_KINDS:
            ours, ref = rs.icc(matrix, kind), reference.loc[kind]
            if ours.value is None:  # documented degenerate case; pingouin's number is an artefact
                assert any(reason in ours.note for reason in DOCUMENTED_ICC_NOTES), ours.note
                skipped += 1
                continue
            compared += 1
            assert ours.value == pytest.approx(ref["ICC"], abs=1e-6), (seed, kind)
            assert ours.f == pytest.approx(ref["F"], rel=1e-6)
            assert (ours.df1, ours.df2) == (ref["df1"], ref["df2"])
            assert ours.p_value == pytest.approx(ref["pval"], rel=1e-6, abs=1e-12)
            if not np.isfinite(ref["CI95"]).all():  # pingouin: NaN when there is no error
                assert (ours.ci_low, ours.ci_high) == (1.0, 1.0) and "collapses" in ours.note
                continue
            assert ours.ci_high == pytest.approx(ref["CI95"][1], abs=1e-6), (seed, kind)
            if ours.ci_low != -math.inf:  # pingouin gives an inverted interval there
                assert ours.ci_low == pytest.approx(ref["CI95"][0], abs=1e-6), (seed, kind)
    assert compared >= 0.95 * (compared + skipped)


def test_icc_interval_matches_pingouins_rounded_output():
    reference = _pingouin_icc(SHROUT_FLEISS.astype(float))
    for kind in ICC_KINDS:
        ours = rs.icc(SHROUT_FLEISS, kind)
        assert ours.ci_low == pytest.approx(reference.loc[kind, "CI95"][0], abs=0.005 + 1e-9)
        assert ours.ci_high == pytest.approx(reference.loc[kind, "CI95"][1], abs=0.005 + 1e-9)


def test_icc_interval_narrows_with_lower_confidence():
    wide, narrow = rs.icc(SHROUT_FLEISS, confidence=0.99), rs.icc(SHROUT_FLEISS, confidence=0.80)
    assert wide.ci_low < narrow.ci_low < wide.value < narrow.ci_high < wide.ci_high


# ------------------------------------------------------------------ ICC: degenerate
def test_icc_too_few_targets():
    with strict():
        result = rs.icc([[3, 4], [2, 2]])
    assert result.value is result.ci_low is result.ci_high is result.f is result.p_value is None
    assert result.note == "too few targets (2; at least 3 needed)"
    assert (result.n, result.k) == (2, 2)


@pytest.mark.parametrize("kind", ICC_KINDS)
def test_icc_no_variation(kind):
    with strict():
        result = rs.icc(np.full((5, 2), 3), kind)
    assert result.value is None and result.ci_low is None and result.ci_high is None
    assert result.note == "no variation: every rating was 3, so reliability cannot be estimated"


@pytest.mark.parametrize("kind", ICC_KINDS)
def test_icc_perfect_agreement_with_variation(kind):
    with strict():
        result = rs.icc([[1, 1], [2, 2], [4, 4], [3, 3]], kind)
    assert (result.value, result.ci_low, result.ci_high) == (1.0, 1.0, 1.0)
    assert result.f == math.inf and result.p_value == 0.0
    assert "collapses to 1" in result.note


def test_icc_constant_offset_is_consistent_but_not_absolute_agreement():
    offset = [[1, 2], [2, 3], [3, 4], [1, 2], [2, 3]]
    with strict():
        consistency, absolute = rs.icc(offset, "ICC(C,1)"), rs.icc(offset, "ICC(A,1)")
    assert consistency.value == 1.0 and consistency.ci_low == 1.0
    assert 0 < absolute.value < 1
    assert absolute.ci_low < absolute.value <= absolute.ci_high < 1
    assert math.isfinite(absolute.ci_low) and absolute.note == ""


@pytest.mark.parametrize("kind", ICC_KINDS)
def test_icc_no_differences_between_targets(kind):
    with strict():  # every row averages 3: raters disagree, targets do not differ
        result = rs.icc([[3, 3], [2, 4], [4, 2]], kind)
    assert result.value is None
    assert result.note.startswith(
        "no differences between targets: every target's ratings averaged 3")


def test_icc_average_form_undefined_when_single_rater_icc_at_floor():
    data = [[1, 3, 2], [1, 3, 4], [4, 1, 4], [4, 2, 1]]
    with strict():
        single, average = rs.icc(data, "ICC(A,1)"), rs.icc(data, "ICC(A,k)")
    assert single.value <= -1 / (3 - 1)
    assert average.value is None and average.ci_low is None
    assert "average of 3 raters is undefined" in average.note


def test_icc_average_form_unbounded_lower_limit():
    data = [[4, 4, 1], [1, 4, 4], [1, 2, 4], [2, 2, 4]]
    with strict():
        single, average = rs.icc(data, "ICC(A,1)"), rs.icc(data, "ICC(A,k)")
    assert single.ci_low <= -1 / (3 - 1) < single.value
    assert average.ci_low == -math.inf and math.isfinite(average.ci_high)
    assert average.note == "the lower confidence limit is unbounded"


@pytest.mark.parametrize("ratings, message", [
    ([1, 2, 3], "`ratings` must be 2-D, n_targets × k_raters (got shape (3,))"),
    ([[1], [2], [3]], "`ratings` needs at least 2 raters (columns) (got 1)"),
    ([[1, 2], [2, float("nan")], [3, 3]], "`ratings` must not contain missing or non-finite"),
    ([[1, 2], [2, math.inf], [3, 3]], "`ratings` must not contain missing or non-finite"),
    ([[1, 2], [2, "x"], [3, 3]], "`ratings` must contain only numbers"),
])
def test_icc_rejects_bad_ratings(ratings, message):
    with pytest.raises(ValueError, match=None) as info:
        rs.icc(ratings)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValidationError)


def test_icc_rejects_unknown_kind_and_bad_confidence():
    with pytest.raises(ValueError, match=r"`kind` must be one of ICC\(1,1\), .* \(got 'ICC4'\)"):
        rs.icc(SHROUT_FLEISS, "ICC4")
    with pytest.raises(ValueError, match=r"`confidence` must be between 0 and 1 \(got 95\)"):
        rs.icc(SHROUT_FLEISS, confidence=95)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 7).flatmap(lambda n: st.integers(2, 4).flatmap(
    lambda k: st.lists(st.lists(st.integers(1, 4), min_size=k, max_size=k),
                       min_size=n, max_size=n).map(lambda rows: (rows, k)))),
       st.sampled_from(ICC_KINDS))
def test_icc_never_nan_never_warns(data, kind):
    rows, k = data
    with strict():
        result = rs.icc(np.array(rows, dtype=float).reshape(len(rows), k), kind)
    numbers = [result.value, result.ci_low, result.ci_high, result.f, result.p_value]
    assert not any(isinstance(v, float) and math.isnan(v) for v in numbers)
    if result.value is None:
        assert result.ci_low is None and result.ci_high is None and result.note
    elif result.ci_low is not None:
        assert result.ci_low <= result.ci_high <= 1.0
        if not kind.startswith("ICC(A"):  # the exact F interval always contains the estimate
            assert result.ci_low - 1e-12 <= result.value <= result.ci_high + 1e-12


# ------------------------------------------------------------------ kappa
@pytest.mark.parametrize("weights", ["quadratic", "linear", None])
def test_weighted_kappa_matches_sklearn(weights):
    from sklearn.metrics import cohen_kappa_score

    checked = 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        a, b = correlated_pairs(rng, int(rng.integers(3, 60)), noise=rng.uniform(0.3, 2))
        if len(set(a)) == 1 or len(set(b)) == 1:
            continue
        with quiet():
            expected = cohen_kappa_score(a, b, labels=[1, 2, 3, 4], weights=weights)
        ours = rs.weighted_kappa(a, b, weights=weights)
        assert ours.value == pytest.approx(expected, abs=1e-6), seed
        assert ours.ci_low <= ours.value <= ours.ci_high
        checked += 1
    assert checked > 120


# Gwet's irrCAC package (Gwet 2019: README "Computing agreement coefficients from
# contingency tables" and the "weighting" vignette): cont3x3abstractors, 100 pregnancies
# classified by two abstractors, from Gwet (2014) Handbook of Inter-Rater Reliability.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


@pytest.mark.parametrize("weights, value, se", [
    (None, 0.7964094, 0.05891072),
    ("quadratic", 0.8921569, 0.03535151),
])
def test_weighted_kappa_matches_published_irrcac_example(weights, value, se):
    a, b = pairs_from_table(ABSTRACTORS)
    result = rs.weighted_kappa(a, b, weights=weights, categories=(1, 2, 3))
    assert result.value == pytest.approx(value, abs=5e-8)
    assert result.se == pytest.approx(se, abs=5e-9)
    z = 1.959963984540054  # normal quantile: our documented interval, not irrCAC's t interval
    assert result.ci_low == pytest.approx(value - z * result.se)
    assert result.ci_high == pytest.approx(value + z * result.se)


def test_kappa_weights_depend_on_category_positions_not_only_those_used():
    a, b = [1, 2, 4, 4, 2, 1], [1, 4, 4, 2, 2, 1]
    on_full_scale = rs.weighted_kappa(a, b, categories=(1, 2, 3, 4)).value
    on_used_only = rs.weighted_kappa(a, b, categories=(1, 2, 4)).value
    assert on_full_scale != pytest.approx(on_used_only)


def test_kappa_too_few_reviews():
    with strict():
        result = rs.weighted_kappa([3, 4], [3, 4])
    assert result == rs.KappaResult(None, None, None, None, 2, TOO_FEW_2)


@pytest.mark.parametrize("weights", ["quadratic", "linear", None])
def test_kappa_single_category_used_by_both(weights):
    with strict():
        result = rs.weighted_kappa([3] * 6, [3] * 6, weights=weights)
    assert result.value is None and result.ci_low is None and result.se is None
    assert result.note == ("no variation: every rating was 3, so agreement beyond chance "
                           "cannot be estimated")


def test_kappa_one_rater_single_category_is_zero_by_construction():
    with strict():
        result = rs.weighted_kappa([3, 3, 3, 3, 3], [3, 3, 2, 3, 4])
    assert result.value == 0.0 and result.ci_low is None and result.se is None
    assert result.note.startswith("`a` gave every rating as 3, so kappa is 0 by construction")


def test_kappa_other_rater_single_category_is_zero_by_construction_too():
    with strict():
        result = rs.weighted_kappa([3, 3, 2, 3, 4], [3, 3, 3, 3, 3])
    assert result.value == 0.0 and result.ci_low is None and result.se is None
    assert result.note.startswith("`b` gave every rating as 3, so kappa is 0 by construction")


@pytest.mark.parametrize("weights", ["quadratic", "linear", None])
def test_kappa_perfect_agreement_with_variation(weights):
    with strict():
        result = rs.weighted_kappa([1, 2, 3, 4, 2], [1, 2, 3, 4, 2], weights=weights)
    assert (result.value, result.ci_low, result.ci_high, result.se) == (1.0, 1.0, 1.0, 0.0)
    assert "perfect agreement" in result.note


def test_kappa_interval_is_clipped_to_minus_one_one():
    a, b = [1, 2, 3, 4, 4, 3], [1, 2, 3, 4, 3, 4]
    result = rs.weighted_kappa(a, b, confidence=0.999)
    assert result.ci_high == 1.0 and result.value < 1.0
    low = rs.weighted_kappa([1, 2, 1, 2, 1], [2, 1, 2, 1, 2], weights=None, confidence=0.999)
    assert low.value - 3 * low.se < -1.0 == low.ci_low < low.value


def test_ac2_below_minus_one_keeps_the_estimate_inside_its_interval():
    with strict():  # quadratic AC2 can fall below -1 when the raters sit at opposite ends
        result = rs.gwet_ac2([1, 1, 1, 1], [3, 4, 4, 4])
    assert result.value < -1.0
    assert result.ci_low == result.value < result.ci_high


# ------------------------------------------------------------------ Gwet AC1 / AC2
def ac2_from_the_formula(a, b, q, weights, confidence=0.95):
    """Gwet's AC2 for two raters written out subject by subject.

    Chance agreement pe = T_w / (q(q-1)) * sum_k pi_k (1 - pi_k) (Gwet 2008, 2014).
    Variance by Gwet's linearisation: each subject i gets
    g_i = (pa_i - pe)/(1 - pe) - 2 (1 - AC2) (pe_i - pe)/(1 - pe) with pa_i its weighted
    agreement and pe_i = T_w/(q(q-1)) * sum_k (r_ik / 2)(1 - pi_k); var = sum (g_i - AC2)^2 / n^2
    (the contingency-table form; sampling fraction 0). Interval: AC2 +/- t(n-1) se.
    """
    from scipy import stats

    def w(k, l):
        if weights is None:
            return 1.0 if k == l else 0.0
        d = abs(k - l) / (q - 1)
        return 1 - d if weights == "linear" else 1 - d * d

    n = len(a)
    t_w = sum(w(k, l) for k in range(1, q + 1) for l in range(1, q + 1))
    pi = {k: (list(a).count(k) + list(b).count(k)) / (2 * n) for k in range(1, q + 1)}
    pe = t_w / (q * (q - 1)) * sum(p * (1 - p) for p in pi.values())
    pa_i = [w(x, y) for x, y in zip(a, b)]
    pa = sum(pa_i) / n
    ac2 = (pa - pe) / (1 - pe)
    pe_i = [t_w / (q * (q - 1)) * ((1 - pi[x]) / 2 + (1 - pi[y]) / 2) for x, y in zip(a, b)]
    g = [(p - pe) / (1 - pe) - 2 * (1 - ac2) * (e - pe) / (1 - pe) for p, e in zip(pa_i, pe_i)]
    se = math.sqrt(sum((gi - ac2) ** 2 for gi in g)) / n
    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    return ac2, se, max(-1.0, ac2 - t * se), min(1.0, ac2 + t * se)


@pytest.mark.parametrize("weights", ["quadratic", "linear", None])
def test_gwet_ac2_matches_formula_written_out(weights):
    for seed in range(100):
        rng = np.random.default_rng(seed)
        a, b = correlated_pairs(rng, int(rng.integers(3, 50)), noise=rng.uniform(0.3, 2))
        ours = rs.gwet_ac2(a, b, weights=weights)
        value, se, low, high = ac2_from_the_formula(a, b, 4, weights)
        assert ours.value == pytest.approx(value, abs=1e-12)
        assert ours.se == pytest.approx(se, abs=1e-12)
        assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize("weights, value, se, ci", [
    (None, 0.8493305, 0.04321747, (0.764, 0.935)),
    ("quadratic", 0.9402369, 0.01792019, (0.905, 0.976)),
])
def test_gwet_ac2_matches_published_irrcac_example(weights, value, se, ci):
    a, b = pairs_from_table(ABSTRACTORS)
    result = rs.gwet_ac2(a, b, categories=(1, 2, 3), weights=weights)
    assert result.value == pytest.approx(value, abs=5e-8)
    assert result.se == pytest.approx(se, abs=5e-9)
    assert (round(result.ci_low, 3), round(result.ci_high, 3)) == ci


def test_gwet_ac1_perfect_agreement_is_one():
    with strict():
        result = rs.gwet_ac2([1, 2, 3, 4, 2, 3], [1, 2, 3, 4, 2, 3], weights=None)
    assert (result.value, result.ci_low, result.ci_high, result.se) == (1.0, 1.0, 1.0, 0.0)
    assert result.note == ""


def test_gwet_ac1_resists_the_kappa_paradox():
    a, b = [3] * 9 + [2], [3] * 10
    assert rs.weighted_kappa(a, b, weights=None).value == 0.0
    assert rs.gwet_ac2(a, b, weights=None).value > 0.8


def test_gwet_ac2_too_few_reviews():
    with strict():
        result = rs.gwet_ac2([3, 4], [3, 3])
    assert result == rs.AC2Result(None, None, None, None, 2, TOO_FEW_2)


@pytest.mark.parametrize("weights", ["quadratic", "linear", None])
def test_gwet_ac2_single_category_used_by_both(weights):
    with strict():
        result = rs.gwet_ac2([3] * 5, [3] * 5, weights=weights)
    assert (result.value, result.ci_low, result.ci_high, result.se) == (1.0, 1.0, 1.0, 0.0)
    assert result.note.startswith("no variation: every rating was 3")


# ------------------------------------------- kappa and AC2: properties and bad input
pair_lists = st.integers(0, 30).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 4), min_size=n, max_size=n),
    st.lists(st.integers(1, 4), min_size=n, max_size=n)))


@settings(max_examples=300, deadline=None)
@given(pair_lists, st.sampled_from(["quadratic", "linear", None]))
def test_kappa_and_ac2_never_nan_never_warn_and_are_symmetric(pair, weights):
    a, b = pair
    with strict():
        results = [rs.weighted_kappa(a, b, weights=weights), rs.gwet_ac2(a, b, weights=weights)]
        swapped = [rs.weighted_kappa(b, a, weights=weights), rs.gwet_ac2(b, a, weights=weights)]
    single_category = len(set(a) | set(b)) == 1
    for result, mirror, may_be_undefined in zip(results, swapped, (single_category, False)):
        numbers = [result.value, result.ci_low, result.ci_high, result.se]
        assert all(v is None or math.isfinite(v) for v in numbers)
        assert (result.value is None) == (len(a) < 3 or may_be_undefined)
        if result.ci_low is not None:
            assert min(-1.0, result.value) <= result.ci_low <= result.value <= result.ci_high <= 1
        if result.value is not None:
            assert mirror.value == pytest.approx(result.value, abs=1e-12)


@pytest.mark.parametrize("func", [rs.weighted_kappa, rs.gwet_ac2, rs.exact_agreement,
                                  rs.within_one, rs.mean_signed_gap])
def test_mismatched_lengths_raise(func):
    with pytest.raises(ValueError) as info:
        func([1, 2, 3, 4, 4], [1, 2, 3, 4])
    assert str(info.value) == "`a` and `b` must have the same length (got 5 and 4)"


@pytest.mark.parametrize("func", [rs.weighted_kappa, rs.gwet_ac2])
def test_values_outside_the_categories_raise(func):
    with pytest.raises(ValueError) as info:
        func([1, 2, 3, 4], [1, 5, 0, 2.5])
    assert str(info.value) == "`b` has values outside the categories (1, 2, 3, 4): 0, 2.5, 5"


@pytest.mark.parametrize("func", [rs.weighted_kappa, rs.gwet_ac2, rs.exact_agreement,
                                  rs.within_one, rs.mean_signed_gap])
@pytest.mark.parametrize("bad, message", [
    (float("nan"), "`a` must not contain missing or non-finite values (found nan at position 1)"),
    (math.inf, "`a` must not contain missing or non-finite values (found inf at position 1)"),
    (None, "`a` must not contain missing or non-finite values (found None at position 1)"),
    ("3", None),  # a numeric string converts to a number
])
def test_missing_and_non_finite_values_raise(func, bad, message):
    a, b = [1, bad, 3, 4], [1, 2, 3, 4]
    if message is None:
        assert func(a, b).value is not None
        return
    with pytest.raises(ValidationError) as info:
        func(a, b)
    assert str(info.value).startswith(message)


def test_pandas_nullable_scores_work_once_missing_values_are_dropped():
    import pandas as pd

    a = pd.Series([1, 2, None, 4, 3], dtype="Int64")
    b = pd.Series([1, 3, 2, 4, 3], dtype="Int64")
    with pytest.raises(ValidationError, match="`a` must"):
        rs.weighted_kappa(a, b)
    keep = a.notna() & b.notna()
    assert rs.weighted_kappa(a[keep], b[keep]) == rs.weighted_kappa([1, 2, 4, 3], [1, 3, 4, 3])


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "cubic"}, '`weights` must be "quadratic", "linear" or None (got \'cubic\')'),
    ({"categories": (1,)}, "`categories` must list at least 2 distinct values (got (1,))"),
    ({"categories": (1, 2, 2)},
     "`categories` must list at least 2 distinct values (got (1, 2, 2))"),
    ({"confidence": 1.0}, "`confidence` must be between 0 and 1 (got 1.0)"),
    ({"confidence": "high"}, "`confidence` must be between 0 and 1 (got 'high')"),
])
@pytest.mark.parametrize("func", [rs.weighted_kappa, rs.gwet_ac2])
def test_bad_options_raise(func, kwargs, message):
    with pytest.raises(ValidationError) as info:
        func([1, 2, 3], [1, 2, 3], **kwargs)
    assert str(info.value) == message


def test_two_dimensional_pairs_raise():
    with pytest.raises(ValidationError,
                       match=r"`a` must be one-dimensional \(got shape \(2, 2\)\)"):
        rs.weighted_kappa([[1, 2], [3, 4]], [1, 2])


# ------------------------------------------------------------------ simple summaries
def test_exact_agreement_and_within_one_use_wilson_interval():
    from scipy.stats import binomtest

    a, b = [1, 2, 3, 4, 3, 2, 2, 4, 1, 3], [1, 3, 3, 2, 3, 2, 1, 4, 4, 3]
    exact, near = rs.exact_agreement(a, b), rs.within_one(a, b, confidence=0.9)
    assert (exact.value, exact.n, exact.note) == (0.6, 10, "6 of 10 pairs matched exactly")
    assert (near.value, near.note) == (0.8, "8 of 10 pairs were within one point")
    for result, hits, level in ((exact, 6, 0.95), (near, 8, 0.9)):
        ci = binomtest(hits, 10).proportion_ci(confidence_level=level, method="wilson")
        assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize("n", range(3, 41))
def test_proportions_at_the_extremes_keep_a_real_interval(n):
    same, far = [1, 2, 3, 4] * 10, [4, 4, 1, 1] * 10
    with strict():
        everything = rs.within_one(same[:n], same[:n])
        nothing = rs.exact_agreement(same[:n], far[:n])
    assert everything.value == 1.0 and 0.3 < everything.ci_low < 1.0 and everything.ci_high == 1.0
    assert nothing.value == 0.0 and nothing.ci_low == 0.0 and 0.0 < nothing.ci_high < 0.6


@pytest.mark.parametrize("func, result_type", [(rs.exact_agreement, rs.ProportionResult),
                                               (rs.within_one, rs.ProportionResult),
                                               (rs.mean_signed_gap, rs.MeanResult)])
def test_summaries_with_too_few_reviews(func, result_type):
    with strict():
        assert func([3, 4], [3, 2]) == result_type(None, None, None, 2, TOO_FEW_2)
        assert func([], []).note == "too few reviews (0; at least 3 needed)"


def test_mean_signed_gap_uses_a_t_interval():
    from scipy import stats

    a, b = [3, 4, 2, 3, 4, 4, 2], [2, 3, 3, 3, 2, 4, 1]
    gap = np.subtract(a, b)
    low, high = stats.t.interval(0.9, len(gap) - 1, loc=gap.mean(), scale=stats.sem(gap))
    result = rs.mean_signed_gap(a, b, confidence=0.9)
    assert result.value == pytest.approx(gap.mean())
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-12)
    assert result.note == ""


def test_mean_signed_gap_with_identical_gaps():
    with strict():
        result = rs.mean_signed_gap([3, 4, 2, 3], [2, 3, 1, 2])
    assert (result.value, result.ci_low, result.ci_high) == (1.0, 1.0, 1.0)
    assert result.note == "every gap was 1, so the interval has zero width"


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize("value, label", [
    (-0.4, "poor"), (0.0, "poor"), (0.4999, "poor"), (0.5, "moderate"), (0.7499, "moderate"),
    (0.75, "good"), (0.9, "good"), (0.9001, "excellent"), (1.0, "excellent"),
    (-math.inf, "poor"), (None, "not estimable"),
])
def test_label_icc_koo_li_bands(value, label):
    assert rs.label_icc(value) == label


@pytest.mark.parametrize("value, label", [
    (-0.01, "poor"), (0.0, "slight"), (0.2, "slight"), (0.2001, "fair"), (0.21, "fair"),
    (0.4, "fair"), (0.41, "moderate"), (0.6, "moderate"), (0.61, "substantial"),
    (0.8, "substantial"), (0.81, "almost perfect"), (1.0, "almost perfect"),
    (None, "not estimable"),
])
def test_label_kappa_landis_koch_bands(value, label):
    assert rs.label_kappa(value) == label


@pytest.mark.parametrize("label", [rs.label_icc, rs.label_kappa])
@pytest.mark.parametrize("value", [float("nan"), 1.5])
def test_labels_reject_impossible_values(label, value):
    with pytest.raises(ValidationError, match="`value` must be an agreement coefficient"):
        label(value)


def test_labels_accept_results_directly():
    a, b = pairs_from_table(ABSTRACTORS)
    assert rs.label_kappa(rs.gwet_ac2(a, b, categories=(1, 2, 3)).value) == "almost perfect"
    assert rs.label_icc(rs.icc(SHROUT_FLEISS, "ICC(C,k)").value) == "excellent"


# ------------------------------------------------------------------ module surface
def test_results_are_frozen_and_all_is_complete():
    result = rs.icc(SHROUT_FLEISS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 0.0  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(rs.IccResult)] == [
        "kind", "value", "ci_low", "ci_high", "f", "df1", "df2", "p_value", "n", "k", "note"]
    assert [f.name for f in dataclasses.fields(rs.KappaResult)] == [
        "value", "ci_low", "ci_high", "se", "n", "note"]
    assert all(hasattr(rs, name) for name in rs.__all__)


def test_importing_the_module_does_not_import_scipy():
    root = Path(rs.__file__).resolve().parents[1]
    code = ("import sys, rapportkit.stats; "
            "print(sorted(m for m in ('scipy', 'pandas', 'sklearn') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "[]"
