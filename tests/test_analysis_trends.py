"""trend_points and trend_summary: rolling means, slopes and directions on hand-made
frames with known answers, a cross-check against plain pandas, and the demo team."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis_helpers import big_ratings, demo_frames, empty_ratings, ratings, series  # noqa: F401
from rapportkit.analysis import trend_points, trend_summary
from rapportkit.analysis.trends import DAYS_PER_MONTH

pytestmark = pytest.mark.filterwarnings("error")

POINT_COLUMNS = ["specialist_id", "specialist_name", "practice_id", "practice_title", "practice_order",
                 "review_id", "review_date", "score", "rolling_mean"]
SUMMARY_COLUMNS = ["specialist_id", "specialist_name", "practice_id", "practice_title", "practice_order",
                   "n_reviews", "first_date", "last_date", "latest_score", "latest_rolling",
                   "slope_per_month", "direction"]


def one(frame: pd.DataFrame, **match) -> pd.Series:
    rows = frame
    for key, value in match.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_rising_consensus_gives_rolling_mean_positive_slope_and_improving():
    frame = ratings(series([2, 2, 3, 3, 4]))
    points = trend_points(frame)
    assert list(points.columns) == POINT_COLUMNS
    assert points["rolling_mean"].round(4).tolist() == [2.0, 2.0, 2.3333, 2.6667, 3.3333]
    row = one(trend_summary(frame), practice_id="empathy")
    assert row["n_reviews"] == 5 and row["latest_score"] == 4
    assert row["latest_rolling"] == pytest.approx(10 / 3)
    # Reviews 14 days apart: least squares gives 70 / 1960 levels per day.
    assert row["slope_per_month"] == pytest.approx(70 / 1960 * DAYS_PER_MONTH)
    assert row["direction"] == "improving"
    assert row["first_date"] == pd.Timestamp("2026-01-05") and row["last_date"] == pd.Timestamp("2026-03-02")


@pytest.mark.parametrize("values, direction", [([3, 3, 3, 3, 3], "steady"), ([4, 4, 3, 3, 2], "declining"),
                                               ([3, 3, 3, 3, 3, 3, 3, 3, 3, 3], "steady")])
def test_direction_follows_the_slope(values, direction):
    row = one(trend_summary(ratings(series(values))), practice_id="empathy")
    assert row["direction"] == direction
    if direction == "steady":
        assert abs(row["slope_per_month"]) < 0.05


def test_rolling_mean_skips_not_observed_and_is_nan_until_the_first_score():
    points = trend_points(ratings(series([None, 3, None, 1, 2, 4], practice="boundaries")))
    assert points["score"].isna().tolist() == [True, False, True, False, False, False]
    expected = [np.nan, 3.0, 3.0, 2.0, 2.0, 7 / 3]
    np.testing.assert_allclose(points["rolling_mean"].to_numpy(), expected)
    row = one(trend_summary(ratings(series([3, 3, 3, 3, None], practice="boundaries"))), practice_id="boundaries")
    assert row["latest_score"] == 3 and row["n_reviews"] == 4


def test_window_sets_how_many_scores_the_rolling_mean_takes():
    points = trend_points(ratings(series([1, 2, 3, 4])), window=2)
    assert points["rolling_mean"].tolist() == [1.0, 1.5, 2.5, 3.5]


def test_two_reviews_are_too_few_for_a_direction():
    row = one(trend_summary(ratings(series([2, 4]))), practice_id="empathy")
    assert row["direction"] == "too few reviews"
    assert np.isnan(row["slope_per_month"])
    assert row["latest_rolling"] == 3.0


def test_slope_reads_only_the_recent_months():
    old = series([1, 1, 1, 1], start="2024-01-01")
    recent = series([3, 3, 3, 3], start="2026-01-05")
    row = one(trend_summary(ratings(old + recent)), practice_id="empathy")
    assert row["direction"] == "steady" and row["n_reviews"] == 8
    row = one(trend_summary(ratings(old + recent[:3])), practice_id="empathy")
    assert row["direction"] == "too few reviews"
    row = one(trend_summary(ratings(old + recent[:3]), slope_months=36), practice_id="empathy")
    assert row["direction"] == "improving"


def test_role_chooses_whose_scores_are_followed():
    reviews = [{"date": f"2026-0{m}-10", "scores": {"empathy": (4, 5 - m, 5 - m)}} for m in range(1, 5)]
    assert trend_summary(ratings(reviews), role="self")["direction"].tolist() == ["steady"]
    assert trend_summary(ratings(reviews))["direction"].tolist() == ["declining"]


def test_rows_follow_name_then_rubric_order_then_date_not_score():
    reviews = (series([4, 4, 4], specialist="sp-1", practice="boundaries")
               + series([1, 1, 1], specialist="sp-1", practice="safe_environment")
               + series([2, 2, 2], specialist="sp-2", practice="empathy", start="2025-06-01"))
    frame = ratings(reviews)
    shuffled = frame.sample(frac=1, random_state=3)
    for data in (frame, shuffled):
        points = trend_points(data)
        # Corvin Bracken (sp-2) before Tansy Millwheel (sp-1); safe_environment before boundaries.
        assert points["specialist_id"].tolist() == ["sp-2"] * 3 + ["sp-1"] * 6
        assert points["practice_id"].tolist()[3:] == ["safe_environment"] * 3 + ["boundaries"] * 3
        assert points.groupby(["specialist_id", "practice_id"])["review_date"].is_monotonic_increasing.all()
        summary = trend_summary(data)
        assert list(summary.columns) == SUMMARY_COLUMNS
        assert summary["practice_id"].tolist() == ["empathy", "safe_environment", "boundaries"]


def test_superseded_revisions_are_left_out():
    first = {"date": "2026-02-01", "review_id": "rv-x", "revision": 1, "scores": {"empathy": (1, 1, 1)}}
    amended = {**first, "revision": 2, "scores": {"empathy": (3, 3, 3)}}
    points = trend_points(ratings([first, amended]))
    assert points["score"].tolist() == [3]


@pytest.mark.parametrize("call, message", [
    (lambda f: trend_points(f, role="consensuss"),
     "`role` must be one of self, supervisor, consensus, not 'consensuss'"),
    (lambda f: trend_points(f, window=0), "`window` must be a whole number of at least 1, not 0"),
    (lambda f: trend_summary(f, min_reviews=1), "`min_reviews` must be a whole number of at least 2, not 1"),
    (lambda f: trend_summary(f, slope_months=-1), "`slope_months` must be a positive number, not -1"),
    (lambda f: trend_summary(f.drop(columns="score")), "`ratings` lacks the column(s) score"),
    (lambda f: trend_summary([1, 2]), "`ratings` must be a pandas DataFrame"),
])
def test_bad_parameters_are_named_in_the_error(call, message):
    with pytest.raises(ValueError) as info:
        call(ratings(series([3, 3])))
    assert message in str(info.value)


@pytest.mark.parametrize("frame", [empty_ratings(), ratings(series([3])), ratings(series([2, 2, 2, 2, 2])),
                                   ratings(series([None, None, None, None]))],
                         ids=["empty", "one review", "no variation", "never observed"])
def test_degenerate_input_gives_words_not_warnings(frame):
    points, summary = trend_points(frame), trend_summary(frame)
    assert list(points.columns) == POINT_COLUMNS and list(summary.columns) == SUMMARY_COLUMNS
    assert summary["direction"].isin(["steady", "too few reviews"]).all()
    if len(summary) and summary["n_reviews"].iloc[0] == 0:
        assert summary["latest_score"].isna().all() and summary["first_date"].isna().all()
        assert summary["direction"].tolist() == ["too few reviews"]


def test_matches_a_plain_pandas_computation_on_a_synthetic_team():
    frame = big_ratings(specialists=6, months=10, per_month=3)
    points = trend_points(frame, window=3)
    cons = frame[frame["role"] == "consensus"].copy()
    cons["score_f"] = cons["score"].astype("Float64").astype(float)
    ref = {}
    for (sid, pid), g in cons.groupby(["specialist_id", "practice_id"]):
        rolled = g["score_f"].dropna().rolling(3, min_periods=1).mean().reindex(g.index).ffill()
        ref.update(rolled.to_dict())
    expected = pd.Series(ref).reindex(cons.index)
    merged = points.merge(cons.assign(expected=expected)[["review_id", "practice_id", "expected"]],
                          on=["review_id", "practice_id"])
    assert len(merged) == len(cons)
    np.testing.assert_allclose(merged["rolling_mean"], merged["expected"])

    summary = trend_summary(frame, slope_months=4, min_reviews=4)
    for _, row in summary.sample(8, random_state=1).iterrows():
        g = cons[(cons["specialist_id"] == row["specialist_id"]) & (cons["practice_id"] == row["practice_id"])]
        anchor = cons.loc[cons["specialist_id"] == row["specialist_id"], "review_date"].max()
        days = (g["review_date"] - anchor).dt.days.to_numpy()
        keep = g["score"].notna().to_numpy() & (days >= -4 * DAYS_PER_MONTH)
        fit = np.polyfit(days[keep], g["score_f"].to_numpy()[keep], 1)[0] * DAYS_PER_MONTH
        assert row["slope_per_month"] == pytest.approx(fit)
        assert row["n_reviews"] == g["score"].notna().sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=1, max_size=12), st.integers(1, 5))
def test_rolling_mean_is_the_mean_of_the_last_scores_seen(values, window):
    points = trend_points(ratings(series(values)), window=window)
    seen: list[int] = []
    for value, got in zip(values, points["rolling_mean"]):
        if value is not None:
            seen.append(value)
        if seen:
            assert got == pytest.approx(np.mean(seen[-window:]))
        else:
            assert np.isnan(got)


def test_demo_team_trends(demo_frames):  # noqa: F811
    summary = trend_summary(demo_frames["ratings"])
    assert len(summary) == 8 * 9
    assert summary["direction"].isin(["improving", "steady", "declining", "too few reviews"]).all()
    # The demo team grows over 18 months: more practices improve than decline.
    counts = summary["direction"].value_counts()
    assert counts.get("improving", 0) > counts.get("declining", 0)
    points = trend_points(demo_frames["ratings"])
    cons = demo_frames["ratings"]
    assert len(points) == (cons["role"] == "consensus").sum()
