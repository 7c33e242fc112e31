"""alerts: each kind from a hand-made frame with a known answer, ordering, degenerate
input, bad parameters, and the demo team."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis_helpers import demo_frames, empty_ratings, goals, ratings, series, traps  # noqa: F401
from rapportkit.analysis import alerts
from rapportkit.demo import DEMO_END

pytestmark = pytest.mark.filterwarnings("error")

COLUMNS = ["specialist_id", "specialist_name", "kind", "practice_id", "practice_title", "review_id", "date",
           "message"]
TODAY = "2026-04-01"
NO_GOALS, NO_TRAPS = goals([]), traps([])


def run(reviews=(), goal_rows=(), trap_rows=(), **kwargs):
    frame = ratings(list(reviews)) if reviews else empty_ratings()
    return alerts(frame, goals(list(goal_rows)), traps(list(trap_rows)), **{"today": TODAY, **kwargs})


def kinds(out):
    return out["kind"].tolist()


def test_a_drop_of_one_level_since_the_previous_review_is_flagged():
    out = run(series([3, 3, 2], practice="active_listening"))
    assert list(out.columns) == COLUMNS
    assert kinds(out) == ["dropped"]
    row = out.iloc[0]
    assert row["practice_id"] == "active_listening" and row["date"] == pd.Timestamp("2026-02-02")
    assert row["message"] == "Active listening dropped from 3 to 2 since the review on 2026-01-19."


def test_only_the_latest_review_counts_for_drops_and_scores_of_1():
    assert run(series([3, 2, 2])).empty  # the drop was a review ago
    assert run(series([3, 3, 4])).empty
    # not observed at the last review: compare the latest scored review with the one before
    assert kinds(run(series([3, None, 2]))) == ["dropped"]


def test_a_score_of_1_at_the_latest_review_is_flagged():
    out = run(series([1, 2, 1], practice="boundaries"))
    assert kinds(out) == ["dropped", "score_of_1"]
    assert out.iloc[1]["message"] == "Boundaries was rated 1 at the review on 2026-02-02."


def test_recent_traps_are_listed_once_each():
    rows = [{"review_id": "rv-a", "date": "2026-01-10", "trap_id": "dominating"},
            {"review_id": "rv-b", "date": "2026-03-10", "trap_id": "dominating"},
            {"review_id": "rv-c", "date": "2025-06-01", "trap_id": "judgement"}]
    out = run(trap_rows=rows)
    assert kinds(out) == ["trap"]
    assert out.iloc[0]["review_id"] == "rv-b" and pd.isna(out.iloc[0]["practice_id"])
    assert out.iloc[0]["message"] == "The trap 'Dominating' was ticked at the review on 2026-03-10."
    assert len(run(trap_rows=rows, trap_months=12)) == 2
    assert run(trap_rows=rows, trap_months=1, today="2026-04-15").empty


def test_goal_past_follow_up_with_no_update_is_overdue():
    out = run(goal_rows=[{"goal_id": "g-1", "set_on": "2026-01-05", "follow_up": "2026-03-20"},
                         {"goal_id": "g-2", "set_on": "2026-01-05", "follow_up": "2026-03-20", "status": "met"},
                         {"goal_id": "g-3", "set_on": "2026-01-05", "follow_up": "2026-04-20"},
                         {"goal_id": "g-4", "set_on": "2026-01-05", "follow_up": "2026-03-31",
                          "status": "carried"}])
    assert kinds(out) == ["overdue", "overdue"]
    assert out["review_id"].tolist() == ["rv-g-1", "rv-g-4"]
    assert out.iloc[0]["message"] == ("The goal 'Grow in empathy' (Empathy) was due for follow-up on "
                                      "2026-03-20 and is 12 days overdue (open).")
    assert out.iloc[1]["message"].endswith("is 1 day overdue (carried).")


def test_self_rating_two_levels_above_the_supervisor_three_times_is_a_self_gap():
    reviews = [{"date": d, "scores": {"empathy": (4, 2, 3)}} for d in ("2026-01-05", "2026-02-05", "2026-03-05")]
    out = run(reviews)
    assert kinds(out) == ["self_gap"]
    assert out.iloc[0]["message"] == ("Rated themself higher than the supervisor on Empathy in each of the "
                                      "last 3 reviews (by 2.0 levels on average).")
    assert out.iloc[0]["date"] == pd.Timestamp("2026-03-05")
    assert run(reviews[:2]).empty  # only two reviews
    assert kinds(run(reviews[:2], self_gap_reviews=2)) == ["self_gap"]


def test_self_gap_needs_the_same_direction_on_each_of_the_last_reviews():
    scores = [(4, 2), (3, 3), (4, 3), (4, 3)]  # the 2nd review, without a gap, is among the last 3
    reviews = [{"date": f"2026-0{i + 1}-05", "scores": {"empathy": (a, b, b)}} for i, (a, b) in enumerate(scores)]
    assert run(reviews).empty
    lower = [{"date": f"2026-0{i + 1}-05", "scores": {"empathy": (2, 3, 3)}} for i in range(3)]
    assert "lower than the supervisor" in run(lower).iloc[0]["message"]
    mixed = [{"date": f"2026-0{i + 1}-05", "scores": {"empathy": (a, 3, 3)}} for i, a in enumerate((2, 4, 2))]
    assert run(mixed).empty


def test_alerts_are_ordered_by_name_then_kind_never_by_score():
    reviews = series([3, 2], specialist="sp-1") + [
        {"date": "2026-01-05", "specialist": "sp-2", "scores": {"boundaries": (4, 4, 4), "safe_environment": (2, 2, 2)}},
        {"date": "2026-01-19", "specialist": "sp-2", "scores": {"boundaries": (1, 1, 1), "safe_environment": (1, 1, 1)}},
    ]
    out = run(reviews, goal_rows=[{"goal_id": "g", "set_on": "2026-01-01", "follow_up": "2026-02-01",
                                   "specialist": "sp-2"}])
    assert out["specialist_id"].tolist() == ["sp-2"] * 5 + ["sp-1"]  # Corvin Bracken before Tansy Millwheel
    assert kinds(out)[:5] == ["dropped", "dropped", "score_of_1", "score_of_1", "overdue"]
    assert out["practice_id"].tolist()[:4] == ["safe_environment", "boundaries"] * 2


@pytest.mark.parametrize("reviews", [[], series([3]), series([3, 3, 3, 3])], ids=["empty", "one review", "flat"])
def test_degenerate_input_gives_an_empty_frame_with_the_columns(reviews):
    out = run(reviews)
    assert list(out.columns) == COLUMNS and out.empty
    assert out["date"].dtype == "datetime64[ns]"


@pytest.mark.parametrize("kwargs, message", [
    ({"today": "yesterday-ish"}, "`today` must be a date such as 2026-10-31, not 'yesterday-ish'"),
    ({"self_gap_reviews": 0}, "`self_gap_reviews` must be a whole number of at least 1, not 0"),
    ({"trap_months": 1.5}, "`trap_months` must be a whole number of at least 0, not 1.5"),
])
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError) as info:
        run(series([3]), **kwargs)
    assert message in str(info.value)


def test_frames_passed_in_the_wrong_order_are_reported():
    with pytest.raises(ValueError, match="`goals` lacks the column"):
        alerts(ratings(series([3])), traps([]), goals([]), today=TODAY)


def test_demo_team_has_overdue_goals_and_traps(demo_frames):  # noqa: F811
    out = alerts(demo_frames["ratings"], demo_frames["goals"], demo_frames["traps"], today=DEMO_END)
    counts = out["kind"].value_counts()
    assert counts.get("overdue", 0) >= 1 and counts.get("trap", 0) >= 1
    assert set(out["kind"]) <= {"dropped", "score_of_1", "trap", "overdue", "self_gap"}
    assert out["message"].str.endswith(".").all() and out["message"].notna().all()
    assert out["specialist_name"].is_monotonic_increasing
    # sp-04 keeps rating themself lower: their self-gap alerts point that way.
    own = out[(out["specialist_id"] == "sp-04") & (out["kind"] == "self_gap")]
    assert len(own) >= 1 and own["message"].str.contains("lower").all()
