"""gaps and calibration: pairing, grouping, known agreement values (peers: scikit-learn,
pingouin), small samples in words, and the demo team's calibration over time."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis_helpers import demo_frames, empty_ratings, ratings  # noqa: F401
from rapportkit.analysis import calibration, gaps

pytestmark = pytest.mark.filterwarnings("error")

GAP_COLUMNS = ["review_id", "review_date", "specialist_id", "specialist_name", "practice_id",
               "practice_title", "practice_order", "score_a", "score_b", "gap"]
STAT_COLUMNS = ["n", "exact", "exact_low", "exact_high", "within_one", "within_one_low",
                "within_one_high", "mean_gap", "mean_gap_low", "mean_gap_high", "kappa", "kappa_low",
                "kappa_high", "kappa_label", "ac2", "ac2_low", "ac2_high", "ac2_label", "icc", "icc_low",
                "icc_high", "icc_label", "tendency", "note"]
VALUES = [c for c in STAT_COLUMNS if c not in ("n", "kappa_label", "ac2_label", "icc_label", "tendency", "note")]


def paired(self_scores, supervisor_scores, *, specialist="sp-1", practice="empathy", start="2026-01-05"):
    """One review per pair, 14 days apart."""
    dates = pd.date_range(start, periods=len(self_scores), freq="14D")
    return [{"date": str(d.date()), "specialist": specialist, "scores": {practice: (a, b, b)}}
            for d, a, b in zip(dates, self_scores, supervisor_scores)]


def test_gaps_pair_self_and_supervisor_where_both_scored():
    frame = ratings([
        {"date": "2026-01-05", "scores": {"empathy": (4, 2, 3), "boundaries": (None, 3, 3)}},
        {"date": "2026-01-19", "scores": {"empathy": (2, 3, 3), "safe_environment": (3, 3, 3)}},
    ])
    out = gaps(frame)
    assert list(out.columns) == GAP_COLUMNS
    assert out["practice_id"].tolist() == ["safe_environment", "empathy", "empathy"]
    assert out["gap"].tolist() == [0, 2, -1]
    assert out["gap"].dtype == np.int64 and out["score_a"].dtype == "Int64"
    assert gaps(frame, a="consensus", b="supervisor")["gap"].tolist() == [0, 1, 0, 0]


@pytest.mark.parametrize("kwargs, message", [
    ({"a": "me"}, "`a` must be one of self, supervisor, consensus, not 'me'"),
    ({"b": "Supervisor"}, "`b` must be one of self, supervisor, consensus, not 'Supervisor'"),
    ({"a": "self", "b": "self"}, "`a` and `b` must be two different roles"),
])
def test_gaps_reject_unknown_or_equal_roles(kwargs, message):
    with pytest.raises(ValueError) as info:
        gaps(ratings(paired([3], [3])), **kwargs)
    assert message in str(info.value)


def test_perfect_agreement_gives_ones():
    out = calibration(ratings(paired([1, 2, 3, 4, 2, 3], [1, 2, 3, 4, 2, 3])))
    row = out.iloc[0]
    assert row["n"] == 6
    for col in ("exact", "within_one", "kappa", "ac2", "icc"):
        assert row[col] == 1.0, col
    assert row["mean_gap"] == 0.0
    assert row["kappa_label"] == row["ac2_label"] == "almost perfect" and row["icc_label"] == "excellent"
    assert row["tendency"] == "close"


def test_values_match_peer_implementations():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    pingouin = pytest.importorskip("pingouin")
    a = [3, 4, 2, 3, 3, 4, 3, 1, 3, 4, 2, 3]
    b = [2, 3, 2, 3, 2, 4, 3, 1, 2, 3, 2, 2]
    row = calibration(ratings(paired(a, b))).iloc[0]
    assert row["exact"] == pytest.approx(np.mean(np.equal(a, b)))
    assert row["within_one"] == pytest.approx(np.mean(np.abs(np.subtract(a, b)) <= 1))
    assert row["mean_gap"] == pytest.approx(np.mean(np.subtract(a, b)))
    assert row["kappa"] == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b, weights="quadratic"))
    long = pd.DataFrame({"target": list(range(12)) * 2, "rater": ["a"] * 12 + ["b"] * 12, "score": a + b})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only our code is held to no warnings
        ref = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    ref = ref.assign(Type=ref["Type"].replace({"ICC2": "ICC(A,1)"})).set_index("Type")  # older pingouin
    assert row["icc"] == pytest.approx(ref.loc["ICC(A,1)", "ICC"])
    assert row["exact_low"] < row["exact"] < row["exact_high"]
    assert row["tendency"] == "rates self higher" and row["note"] == ""


def test_tendency_reads_the_mean_gap_and_its_interval():
    lower = calibration(ratings(paired([1, 2, 2, 1, 3, 2], [2, 3, 3, 2, 4, 4]))).iloc[0]
    assert lower["mean_gap"] < 0 and lower["tendency"] == "rates self lower"
    mixed = calibration(ratings(paired([3, 2, 4, 2, 3, 2], [2, 3, 3, 3, 3, 2]))).iloc[0]
    assert mixed["tendency"] == "close"
    # a mean gap of 5/12 whose interval still includes 0 reads as close, too
    unsure = calibration(ratings(paired([3, 4, 2, 3, 3, 4, 2, 1, 3, 4, 2, 3],
                                        [2, 3, 2, 3, 2, 4, 3, 1, 2, 3, 2, 2]))).iloc[0]
    assert unsure["mean_gap"] == pytest.approx(5 / 12) and unsure["mean_gap_low"] < 0
    assert unsure["tendency"] == "close"
    other = calibration(ratings(paired([3, 3, 3, 4, 4, 4], [1, 2, 2, 3, 3, 3])), a="self", b="consensus").iloc[0]
    assert other["tendency"] == "self higher than consensus"


def test_too_few_pairs_are_said_in_words_not_numbers():
    row = calibration(ratings(paired([3, 4, 2, 3], [2, 4, 2, 3]))).iloc[0]
    assert row["n"] == 4
    assert all(np.isnan(row[c]) for c in VALUES)
    assert row["tendency"] == "too few reviews"
    assert row["note"] == "too few reviews (4 paired ratings; at least 5 needed)"
    assert row["kappa_label"] == row["ac2_label"] == row["icc_label"] == "not estimable"
    assert calibration(ratings(paired([3, 4, 2, 3], [2, 4, 2, 3])), min_n=3).iloc[0]["n"] == 4
    assert not np.isnan(calibration(ratings(paired([3, 4, 2, 3], [2, 4, 2, 3])), min_n=3).iloc[0]["exact"])


def test_no_variation_leaves_coefficients_unestimated_with_a_note():
    row = calibration(ratings(paired([3] * 6, [3] * 6))).iloc[0]
    assert row["exact"] == 1.0 and row["mean_gap"] == 0.0
    assert np.isnan(row["kappa"]) and np.isnan(row["icc"])
    assert row["kappa_label"] == "not estimable"
    assert "no variation" in row["note"]


def test_grouping_by_practice_and_pooled():
    frame = ratings(paired([3, 4, 2, 3, 3], [2, 4, 2, 3, 2])
                    + paired([2, 2, 3, 3, 4], [2, 2, 3, 3, 4], practice="safe_environment")
                    + paired([4, 4, 4, 4, 4], [3, 3, 3, 3, 3], specialist="sp-2"))
    per_person = calibration(frame)
    assert list(per_person.columns) == ["specialist_id", "specialist_name"] + STAT_COLUMNS
    assert per_person["specialist_id"].tolist() == ["sp-2", "sp-1"]  # by name, never by score
    assert per_person["n"].tolist() == [5, 10]
    per_practice = calibration(frame, by=("specialist_id", "practice_id"))
    assert list(per_practice.columns[:5]) == ["specialist_id", "specialist_name", "practice_id",
                                              "practice_title", "practice_order"]
    assert per_practice[["specialist_id", "practice_id"]].values.tolist() == [
        ["sp-2", "empathy"], ["sp-1", "safe_environment"], ["sp-1", "empathy"]]
    team = calibration(frame, by=())
    assert len(team) == 1 and team["n"].iloc[0] == 15
    assert calibration(frame, by="practice_id")["practice_id"].tolist() == ["safe_environment", "empathy"]


@pytest.mark.parametrize("kwargs, message", [
    ({"by": ("supervisor_id",)}, "`by` must be one of specialist_id, practice_id, not 'supervisor_id'"),
    ({"by": ("practice_id", "practice_id")}, "`by` must not repeat a column"),
    ({"min_n": 0}, "`min_n` must be a whole number of at least 1, not 0"),
    ({"a": "consensuss"}, "`a` must be one of self, supervisor, consensus, not 'consensuss'"),
])
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError) as info:
        calibration(ratings(paired([3], [3])), **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("frame", [empty_ratings(), ratings(paired([3], [2]))], ids=["empty", "one review"])
def test_degenerate_input_gives_rows_in_words(frame):
    out = gaps(frame)
    assert list(out.columns) == GAP_COLUMNS
    cal = calibration(frame)
    assert list(cal.columns) == ["specialist_id", "specialist_name"] + STAT_COLUMNS
    assert (cal["tendency"] == "too few reviews").all()
    pooled = calibration(frame, by=())
    assert len(pooled) == 1 and pooled["note"].iloc[0].startswith("too few reviews")


def test_demo_team_self_ratings_calibrate_over_time(demo_frames):  # noqa: F811
    pairs = gaps(demo_frames["ratings"])
    start, end = pairs["review_date"].min(), pairs["review_date"].max()
    early = pairs[pairs["review_date"] < start + pd.DateOffset(months=6)]
    late = pairs[pairs["review_date"] > end - pd.DateOffset(months=6)]
    assert early["gap"].mean() > late["gap"].mean() + 0.2
    out = calibration(demo_frames["ratings"])
    assert len(out) == 8 and out["specialist_name"].is_monotonic_increasing
    # sp-04 keeps rating themself lower than the supervisor does.
    assert out.set_index("specialist_id").loc["sp-04", "tendency"] == "rates self lower"
    assert out[VALUES].notna().all().all()
