"""goal_progress and goal_counts: overdue follow-ups, the score reached at follow-up,
counts per specialist, degenerate input, and the demo team."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis_helpers import demo_frames, empty_ratings, goals, ratings, series  # noqa: F401
from rapportkit.analysis import goal_counts, goal_progress
from rapportkit.demo import DEMO_END
from rapportkit.frames import GOALS_COLUMNS

pytestmark = pytest.mark.filterwarnings("error")

TODAY = "2026-04-01"
ADDED = ["overdue", "days_overdue", "score_at_follow_up", "reached_target"]


@pytest.fixture
def goal_frame():
    return goals([
        {"goal_id": "g-late", "set_on": "2026-01-05", "follow_up": "2026-03-20"},
        {"goal_id": "g-carried", "set_on": "2026-01-05", "follow_up": "2026-03-31", "status": "carried",
         "practice": "boundaries"},
        {"goal_id": "g-met", "set_on": "2026-01-05", "follow_up": "2026-02-01", "status": "met",
         "status_date": "2026-02-02"},
        {"goal_id": "g-future", "set_on": "2026-03-02", "follow_up": "2026-04-15"},
        {"goal_id": "g-other", "set_on": "2026-01-19", "follow_up": "2026-01-01", "specialist": "sp-2",
         "status": "dropped", "status_date": "2026-01-19"},
    ])


@pytest.fixture
def rating_frame():
    # empathy consensus: 2 on 01-05, 2 on 01-19, 3 on 02-02, 3 on 02-16, 4 on 03-02
    return ratings(series([2, 2, 3, 3, 4]) + series([1, None], practice="boundaries", start="2026-03-25"))


def test_goal_past_follow_up_without_update_is_overdue(goal_frame, rating_frame):
    out = goal_progress(goal_frame, rating_frame, today=TODAY).set_index("goal_id")
    assert list(out.reset_index().columns) == list(GOALS_COLUMNS) + ADDED
    assert out["overdue"].to_dict() == {"g-late": True, "g-carried": True, "g-met": False,
                                        "g-future": False, "g-other": False}
    assert out.loc["g-late", "days_overdue"] == 12 and out.loc["g-carried", "days_overdue"] == 1
    assert out["days_overdue"].isna().sum() == 3 and out["days_overdue"].dtype == "Int64"
    due_today = goal_progress(goal_frame, rating_frame, today="2026-03-20").set_index("goal_id")
    assert not due_today.loc["g-late", "overdue"]  # due today is not yet late


def test_score_at_follow_up_is_the_first_consensus_on_or_after_it(goal_frame, rating_frame):
    out = goal_progress(goal_frame, rating_frame, today=TODAY).set_index("goal_id")
    assert out.loc["g-met", "score_at_follow_up"] == 3  # 02-02 review, on the follow-up day + 1
    assert bool(out.loc["g-met", "reached_target"]) is True
    assert out.loc["g-late", "score_at_follow_up"] is pd.NA  # no empathy review since 03-20
    assert out.loc["g-late", "reached_target"] is pd.NA
    assert out.loc["g-carried", "score_at_follow_up"] is pd.NA  # boundaries at 04-08 was not observed
    assert out.loc["g-other", "score_at_follow_up"] is pd.NA  # sp-2 has no ratings
    assert out["reached_target"].dtype == "boolean" and out["score_at_follow_up"].dtype == "Int64"
    low = goal_progress(goals([{"goal_id": "g", "set_on": "2026-01-01", "follow_up": "2026-01-10",
                                "target": 4}]), rating_frame, today=TODAY)
    assert low["score_at_follow_up"].tolist() == [2] and low["reached_target"].tolist() == [False]


def test_progress_rows_follow_name_then_rubric_order(goal_frame, rating_frame):
    out = goal_progress(goal_frame, rating_frame, today=TODAY)
    # Corvin Bracken (sp-2) first; then sp-1's empathy goals by date, boundaries last.
    assert out["goal_id"].tolist() == ["g-other", "g-late", "g-met", "g-future", "g-carried"]


def test_goal_counts_per_specialist(goal_frame):
    out = goal_counts(goal_frame, today=TODAY)
    assert list(out.columns) == ["specialist_id", "specialist_name", "open", "overdue", "met", "carried",
                                 "dropped"]
    assert out.values.tolist() == [["sp-2", "Corvin Bracken", 0, 0, 0, 0, 1],
                                   ["sp-1", "Tansy Millwheel", 2, 2, 1, 1, 0]]
    assert (out.dtypes.iloc[2:] == np.int64).all()
    later = goal_counts(goal_frame, today="2026-05-01")
    assert later.set_index("specialist_id").loc["sp-1", "overdue"] == 3


@pytest.mark.parametrize("call, message", [
    (lambda g, r: goal_progress(g, r, today="soon"), "`today` must be a date such as 2026-10-31, not 'soon'"),
    (lambda g, r: goal_counts(g, today=[2026]), "`today` must be a date"),
    (lambda g, r: goal_progress(g.drop(columns="follow_up"), r), "`goals` lacks the column(s) follow_up"),
    (lambda g, r: goal_progress(g, r.drop(columns="role")), "`ratings` lacks the column(s) role"),
])
def test_bad_parameters_are_named(goal_frame, rating_frame, call, message):
    with pytest.raises(ValueError) as info:
        call(goal_frame, rating_frame)
    assert message in str(info.value)


def test_no_goals_and_no_ratings_give_empty_frames():
    none = goals([])
    out = goal_progress(none, empty_ratings(), today=TODAY)
    assert list(out.columns) == list(GOALS_COLUMNS) + ADDED and out.empty
    assert goal_counts(none, today=TODAY).empty
    one = goals([{"goal_id": "g", "set_on": "2026-01-01", "follow_up": "2026-02-01"}])
    out = goal_progress(one, empty_ratings(), today=TODAY)
    assert out["overdue"].tolist() == [True] and out["score_at_follow_up"].isna().all()


def test_demo_team_has_overdue_goals_and_complete_counts(demo_frames):  # noqa: F811
    progress = goal_progress(demo_frames["goals"], demo_frames["ratings"], today=DEMO_END)
    assert progress["overdue"].sum() >= 1
    assert (progress.loc[progress["overdue"], "status"].isin(["open", "carried"])).all()
    assert progress["reached_target"].notna().sum() > 50
    counts = goal_counts(demo_frames["goals"], today=DEMO_END)
    assert len(counts) == 8
    assert counts[["open", "met", "carried", "dropped"]].to_numpy().sum() == len(demo_frames["goals"])
    assert counts["overdue"].sum() == progress["overdue"].sum()
