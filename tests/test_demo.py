"""The demo team: deterministic, clearly fictional, and showing the patterns the
dashboards are meant to surface."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from rapportkit import demo
from rapportkit.frames import goals_frame, ratings_frame, reviews_frame, traps_frame
from rapportkit.model import PersonRole, ReviewStatus


@pytest.fixture(scope="module")
def team(rubric):
    return demo.generate(rubric=rubric)


@pytest.fixture(scope="module")
def gaps(demo_db, rubric):
    """Self minus supervisor score per (review, practice), with the review month."""
    from rapportkit.store import Store

    with Store(demo_db, readonly=True, rubric=rubric) as s:
        frame = ratings_frame(s)
    wide = frame.pivot_table(index=["review_id", "review_date", "specialist_id", "practice_id"],
                             columns="role", values="score", aggfunc="first").reset_index()
    wide = wide.dropna(subset=["self", "supervisor"])
    wide["gap"] = wide["self"].astype(float) - wide["supervisor"].astype(float)
    wide["month"] = wide["review_date"].dt.to_period("M")
    return wide


def test_demo_is_deterministic(team, rubric):
    again = demo.generate(rubric=rubric)
    assert again == team
    assert [r.to_dict() for r in again.reviews] == [r.to_dict() for r in team.reviews]
    assert demo.generate(rubric=rubric, seed=7) != team


def test_demo_team_is_eight_specialists_and_two_supervisors(team):
    supervisors = [p for p in team.people if p.role is PersonRole.SUPERVISOR]
    specialists = [p for p in team.people if p.role is PersonRole.SPECIALIST]
    assert len(supervisors) == 2 and len(specialists) == 8
    assert {p.supervisor_id for p in specialists} == {p.id for p in supervisors}
    assert len({p.id for p in team.people}) == 10
    assert {r.specialist_id for r in team.reviews} == {p.id for p in specialists}


def test_demo_names_come_from_the_invented_word_lists(team):
    supervisor_names = dict(demo._SUPERVISORS)
    for person in team.people:
        if person.role is PersonRole.SUPERVISOR:
            assert supervisor_names[person.id] == person.display_name
            continue
        first, last = person.display_name.split(" ")
        assert first in demo._FIRST and last in demo._LAST, person.display_name
    assert len({p.display_name for p in team.people}) == 10


def test_demo_covers_18_months_with_1_to_3_reviews_per_specialist_per_month(team):
    months = {(r.review_date.year, r.review_date.month) for r in team.reviews}
    assert len(months) == 18
    assert min(months) == (2025, 5) and max(months) == (2026, 10)
    assert max(r.review_date for r in team.reviews) <= demo.DEMO_END
    per = pd.Series([(r.specialist_id, r.review_date.year, r.review_date.month) for r in team.reviews]).value_counts()
    assert len(per) == 8 * 18  # every specialist, every month
    assert per.min() >= 1 and per.max() <= 3
    assert 8 * 18 * 1.5 <= len(team.reviews) <= 8 * 18 * 2.5


def test_demo_reviews_are_valid_and_mostly_signed(team, rubric):
    statuses = pd.Series([r.status for r in team.reviews]).value_counts()
    assert statuses[ReviewStatus.SIGNED] >= 0.95 * len(team.reviews)
    assert set(statuses.index) <= {ReviewStatus.SIGNED, ReviewStatus.REVEALED}
    for review in team.reviews:
        review.check(rubric)
        assert review.self_rating.missing(rubric) == [] and review.supervisor_rating.missing(rubric) == []
        if review.status is ReviewStatus.SIGNED:
            assert review.consensus.missing(rubric) == []
            assert review.specialist_signed_at and review.supervisor_signed_at
            differ = [p for p in rubric.practice_ids
                      if review.self_rating.scores[p] != review.supervisor_rating.scores[p]]
            assert all(review.consensus.notes.get(p) for p in differ), review.id


def test_load_demo_saves_everything_and_passes_check(demo_store, team):
    assert demo_store.check() == []
    counts = demo_store.counts()
    assert counts["people"] == 10 and counts["reviews"] == len(team.reviews)
    assert counts["sessions"] == len(team.reviews)
    sample = team.reviews[:: max(1, len(team.reviews) // 25)]
    for review in sample:
        assert demo_store.review(review.id) == review
    assert len(reviews_frame(demo_store)) == len(team.reviews)


def test_demo_has_overdue_goals_and_every_goal_status(demo_store):
    goals = goals_frame(demo_store)
    today = pd.Timestamp(dt.date.today())
    overdue = goals[(goals.status == "open") & (goals.follow_up < today)]
    assert len(overdue) >= 1
    still_open = goals[goals.status.isin(["open", "carried"]) & (goals.follow_up < today)]
    assert len(still_open) >= 3
    assert {"open", "met", "carried", "dropped"} <= set(goals.status)
    assert (goals.status == "met").sum() > (goals.status == "dropped").sum()


def test_demo_has_some_traps(demo_store, rubric):
    traps = traps_frame(demo_store)
    assert 10 <= len(traps) <= 0.25 * len(reviews_frame(demo_store))
    assert set(traps.trap_id) <= set(rubric.trap_ids)
    assert traps.trap_id.nunique() >= 3


def test_self_ratings_calibrate_over_time(gaps):
    months = sorted(gaps["month"].unique())
    assert len(months) == 18
    others = gaps[gaps.specialist_id != "sp-04"]  # sp-04 keeps rating themself lower
    first = others[others.month.isin(months[:6])]["gap"].mean()
    last = others[others.month.isin(months[-6:])]["gap"].mean()
    assert first > 0.3, first            # early on, self-ratings run well above the supervisor's
    assert abs(last) < 0.2, last        # by the end they largely agree
    assert first - last > 0.25
    # the same holds for the team as a whole
    team_first = gaps[gaps.month.isin(months[:6])]["gap"].mean()
    team_last = gaps[gaps.month.isin(months[-6:])]["gap"].mean()
    assert team_first > team_last + 0.2


def test_one_specialist_keeps_under_rating(gaps):
    by_specialist = gaps.groupby("specialist_id")["gap"].mean()
    assert by_specialist["sp-04"] < -0.3
    assert by_specialist.idxmin() == "sp-04"


def test_demo_scores_grow_over_time(demo_store):
    frame = ratings_frame(demo_store, statuses=["signed"])
    consensus = frame[frame.role == "consensus"].copy()
    consensus["month"] = consensus["review_date"].dt.to_period("M")
    months = sorted(consensus["month"].unique())
    early = consensus[consensus.month.isin(months[:3])]["score"].mean()
    late = consensus[consensus.month.isin(months[-3:])]["score"].mean()
    assert late > early + 0.3
