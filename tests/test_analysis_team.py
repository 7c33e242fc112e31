"""team_summary: suppression of thin data, the rolling level, order by name and rubric
(never by score), a large synthetic team, and the demo team."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis_helpers import PRACTICES, big_ratings, demo_frames, empty_ratings, ratings, series  # noqa: F401
from rapportkit.analysis import team_summary

pytestmark = pytest.mark.filterwarnings("error")

COLUMNS = ["specialist_id", "specialist_name", "practice_id", "practice_title", "practice_order",
           "n_reviews", "latest_rolling", "suppressed"]


def test_a_specialist_with_two_reviews_is_suppressed():
    frame = ratings(series([2, 4], specialist="sp-2") + series([1, 2, 3, 4], specialist="sp-1"))
    out = team_summary(frame).set_index("specialist_id")
    assert list(team_summary(frame).columns) == COLUMNS
    assert bool(out.loc["sp-2", "suppressed"]) and np.isnan(out.loc["sp-2", "latest_rolling"])
    assert out.loc["sp-2", "n_reviews"] == 2
    assert not out.loc["sp-1", "suppressed"] and out.loc["sp-1", "latest_rolling"] == 3.0
    assert not team_summary(frame, min_reviews=2).set_index("specialist_id").loc["sp-2", "suppressed"]


def test_only_scored_consensus_counts():
    reviews = [{"date": f"2026-0{m}-10", "scores": {"empathy": (4, 4, c)}}
               for m, c in zip(range(1, 6), (2, None, 2, 3, None))]
    row = team_summary(ratings(reviews)).iloc[0]
    assert row["n_reviews"] == 3 and row["latest_rolling"] == pytest.approx(7 / 3)
    assert team_summary(ratings(reviews), window=1).iloc[0]["latest_rolling"] == 3.0


def test_rows_are_ordered_by_name_then_rubric_order_never_by_score():
    reviews = (series([4, 4, 4], specialist="sp-1", practice="boundaries")
               + series([1, 1, 1], specialist="sp-1", practice="safe_environment")
               + series([2, 2, 2], specialist="sp-3", practice="empathy")
               + series([3, 3, 3], specialist="sp-2", practice="empathy"))
    out = team_summary(ratings(reviews).sample(frac=1, random_state=5))
    # Corvin Bracken (sp-2), Odile Fernsby (sp-3), Tansy Millwheel (sp-1)
    assert out["specialist_id"].tolist() == ["sp-2", "sp-3", "sp-1", "sp-1"]
    assert out["practice_id"].tolist()[2:] == ["safe_environment", "boundaries"]
    assert out["latest_rolling"].tolist() == [3.0, 2.0, 1.0, 4.0]


@pytest.mark.parametrize("frame", [empty_ratings(), ratings(series([3])), ratings(series([2, 2, 2])),
                                   ratings(series([None, None, None]))],
                         ids=["empty", "one review", "no variation", "never observed"])
def test_degenerate_input_gives_no_warnings(frame):
    out = team_summary(frame)
    assert list(out.columns) == COLUMNS
    assert out["suppressed"].dtype == bool and out["n_reviews"].dtype == np.int64
    assert (out["latest_rolling"].isna() == out["suppressed"]).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"window": 0}, "`window` must be a whole number of at least 1, not 0"),
    ({"min_reviews": "3"}, "`min_reviews` must be a whole number of at least 1, not '3'"),
])
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError) as info:
        team_summary(ratings(series([3])), **kwargs)
    assert message in str(info.value)


def test_large_synthetic_team_matches_a_plain_groupby():
    frame = big_ratings(specialists=60, months=48, per_month=4)  # about 310k rows
    assert len(frame) > 250_000
    out = team_summary(frame)
    assert len(out) == 60 * 9
    cons = frame[(frame["role"] == "consensus") & frame["score"].notna()]
    grouped = cons.groupby(["specialist_id", "practice_id"])
    expected = pd.DataFrame({
        "n_reviews": grouped.size(),
        "latest_rolling": grouped["score"].apply(lambda s: s.tail(3).astype(float).mean()),
    })
    got = out.set_index(["specialist_id", "practice_id"]).loc[expected.index]
    assert (got["n_reviews"] == expected["n_reviews"]).all()
    np.testing.assert_allclose(got["latest_rolling"], expected["latest_rolling"])
    assert out["practice_id"].tolist()[:9] == list(PRACTICES)


def test_demo_team_has_every_specialist_and_practice_in_order(demo_frames):  # noqa: F811
    out = team_summary(demo_frames["ratings"])
    assert len(out) == 8 * 9
    assert out["practice_order"].tolist() == list(range(9)) * 8
    names = out["specialist_name"].tolist()[::9]
    assert names == sorted(names) and len(set(names)) == 8
    assert not out["suppressed"].any()
    assert out["latest_rolling"].between(1, 4).all()
