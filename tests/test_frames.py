"""The tidy frames: columns and dtypes as documented in docs/frames.md, one row per
(review, practice, role), filters, latest revisions, goal statuses, traps and reviews."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from conftest import SIGNED_AT, all_scores, goal
from rapportkit import model
from rapportkit.frames import (
    GOALS_COLUMNS, RATINGS_COLUMNS, REVIEWS_COLUMNS, TRAPS_COLUMNS, goals_frame, ratings_frame,
    reviews_frame, traps_frame,
)
from rapportkit.model import GoalUpdate
from rapportkit.store import Store

STRING_COLUMNS = {
    "ratings": ["review_id", "session_id", "modality", "source", "specialist_id", "specialist_name",
                "supervisor_id", "supervisor_name", "practice_id", "practice_title", "role", "rater_id",
                "rubric_id", "rubric_version", "status"],
    "goals": ["goal_id", "review_id", "specialist_id", "specialist_name", "practice_id", "practice_title",
              "text", "actions", "status"],
    "traps": ["review_id", "specialist_id", "specialist_name", "trap_id", "trap_title"],
    "reviews": ["review_id", "session_id", "specialist_id", "specialist_name", "supervisor_id",
                "supervisor_name", "status"],
}
NS = "datetime64[ns]"


def assert_strings(frame: pd.DataFrame, columns: list[str]) -> None:
    for col in columns:
        assert pd.api.types.is_string_dtype(frame[col]), (col, frame[col].dtype)
        assert frame[col].map(lambda v: isinstance(v, str)).all(), col


@pytest.fixture
def filled(store, make_review, rubric):
    """Four reviews: sp-1 ×2 (signed; the second with a not-observed practice and a trap),
    sp-2 ×1 (signed), sp-3 ×1 (draft with a half-entered self rating)."""
    r1 = make_review(review_id="rv-a", review_date="2026-01-10", specialist="sp-1",
                     self_scores=all_scores(rubric, 4), supervisor_scores=all_scores(rubric, 2),
                     goals=[goal("g-1", "empathy", "2026-02-10"), goal("g-2", "boundaries", "2026-02-20")])
    r2 = make_review(review_id="rv-b", review_date="2026-02-14", specialist="sp-1",
                     self_scores=all_scores(rubric, 3, boundaries=None),
                     supervisor_scores=all_scores(rubric, 3, boundaries=None),
                     traps={"judgement", "dominating"},
                     goal_updates=[GoalUpdate("g-1", "carried")])
    r3 = make_review(review_id="rv-c", review_date="2026-03-01", specialist="sp-2",
                     self_scores=all_scores(rubric, 2), supervisor_scores=all_scores(rubric, 2, empathy=1))
    r4 = make_review("draft", review_id="rv-d", review_date="2026-03-20", specialist="sp-3", supervisor="sv-2",
                     self_scores={"empathy": 2, "active_listening": 3},
                     self_notes={"boundaries": "Noted before scoring it."})
    for r in (r1, r2, r3, r4):
        store.save_review(r)
    return store


# ----------------------------------------------------------------------------- ratings_frame


def test_ratings_frame_has_exactly_the_documented_columns_and_dtypes(filled):
    frame = ratings_frame(filled)
    assert list(frame.columns) == list(RATINGS_COLUMNS)
    assert frame["review_date"].dtype == NS and frame["session_date"].dtype == NS
    assert frame["score"].dtype == "Int64"
    assert frame["revision"].dtype == "int64" and frame["practice_order"].dtype == "int64"
    assert_strings(frame, STRING_COLUMNS["ratings"])
    assert (frame["review_date"] == frame["review_date"].dt.normalize()).all()  # midnight, no time
    assert frame["review_date"].dt.tz is None


def test_ratings_frame_columns_are_documented_once(filled):
    doc = (__import__("pathlib").Path(__file__).resolve().parents[1] / "docs" / "frames.md").read_text()
    for col in RATINGS_COLUMNS:
        assert f"| `{col}` |" in doc, col


def test_ratings_frame_has_one_row_per_review_practice_and_role(filled, rubric):
    frame = ratings_frame(filled)
    assert not frame.duplicated(["review_id", "practice_id", "role"]).any()
    per_review = frame.groupby("review_id").size().to_dict()
    assert per_review == {"rv-a": 27, "rv-b": 27, "rv-c": 27, "rv-d": 9 + 2}
    a = frame[frame.review_id == "rv-a"]
    assert list(a[a.role == "self"]["practice_id"]) == list(rubric.practice_ids)  # rubric order
    assert list(a["practice_order"].unique()) == list(range(9))
    assert set(a[a.role == "self"]["score"]) == {4}
    assert set(a[a.role == "supervisor"]["score"]) == {2}
    assert set(a[a.role == "consensus"]["rater_id"]) == {"sv-1"}
    assert set(a[a.role == "self"]["rater_id"]) == {"sp-1"}
    row = a[(a.role == "self") & (a.practice_id == "empathy")].iloc[0]
    assert row["practice_title"] == "Demonstrating empathy"
    assert row["specialist_name"] == "Tansy Millwheel" and row["supervisor_name"] == "Wren Hollowbrook"
    assert row["review_date"] == pd.Timestamp("2026-01-10")
    assert row["session_date"] == pd.Timestamp("2026-01-08")
    assert (row["modality"], row["source"], row["status"]) == ("in_person", "observed", "signed")
    assert (row["rubric_id"], row["rubric_version"]) == (rubric.id, rubric.version)
    # rows come in meeting order, then rubric order, then self/supervisor/consensus
    assert list(frame.drop_duplicates("review_id")["review_id"]) == ["rv-a", "rv-b", "rv-c", "rv-d"]
    assert list(a["role"][:3]) == ["self", "supervisor", "consensus"]


def test_not_observed_is_na_not_a_number(filled):
    frame = ratings_frame(filled)
    b = frame[(frame.review_id == "rv-b") & (frame.practice_id == "boundaries")]
    assert len(b) == 3
    assert b["score"].isna().all()
    assert frame[frame.review_id == "rv-b"]["score"].isna().sum() == 3
    assert frame["score"].dropna().between(1, 4).all()


def test_a_draft_has_only_what_was_rated(filled):
    d = ratings_frame(filled)
    d = d[d.review_id == "rv-d"]
    self_rows = d[d.role == "self"]
    # boundaries has a note but no score yet: not a row (it is not rated)
    assert dict(zip(self_rows.practice_id, self_rows.score)) == {"active_listening": 3, "empathy": 2}
    assert filled.review("rv-d").self_rating.notes == {"boundaries": "Noted before scoring it."}
    assert set(d.role) == {"self", "supervisor"}
    assert set(d.status) == {"draft"}


def test_latest_only_hides_older_revisions(filled, rubric):
    signed = filled.review("rv-c")
    amended = model.amend(signed, "Empathy consensus was wrong.")
    amended = model.agree(amended, signed.consensus.with_score("empathy", 3, "Checked the recording."), rubric)
    filled.save_review(amended)

    latest = ratings_frame(filled)
    c = latest[latest.review_id == "rv-c"]
    assert set(c.revision) == {2} and len(c) == 27
    assert set(c.status) == {"amended"}
    assert c[(c.role == "consensus") & (c.practice_id == "empathy")]["score"].tolist() == [3]
    assert not latest.duplicated(["review_id", "practice_id", "role"]).any()

    every = ratings_frame(filled, latest_only=False)
    c_all = every[every.review_id == "rv-c"]
    assert c_all.groupby("revision").size().to_dict() == {1: 27, 2: 27}
    assert c_all[(c_all.revision == 1) & (c_all.role == "consensus") & (c_all.practice_id == "empathy")][
        "score"].tolist() == [1]
    assert not every.duplicated(["review_id", "revision", "practice_id", "role"]).any()
    assert len(every) == len(latest) + 27


def test_specialist_filter(filled):
    only = ratings_frame(filled, specialist="sp-2")
    assert set(only.specialist_id) == {"sp-2"} and set(only.review_id) == {"rv-c"}
    several = ratings_frame(filled, specialist=["sp-1", "sp-3"])
    assert set(several.review_id) == {"rv-a", "rv-b", "rv-d"}
    none = ratings_frame(filled, specialist="sp-404")
    assert none.empty and list(none.columns) == list(RATINGS_COLUMNS)
    assert none["score"].dtype == "Int64" and none["review_date"].dtype == NS


def test_since_and_until_are_a_closed_range(filled):
    frame = ratings_frame(filled, since="2026-02-14", until=dt.date(2026, 3, 1))
    assert set(frame.review_id) == {"rv-b", "rv-c"}
    assert set(ratings_frame(filled, since=dt.date(2026, 3, 2)).review_id) == {"rv-d"}
    assert set(ratings_frame(filled, until="2026-01-10").review_id) == {"rv-a"}
    assert ratings_frame(filled, since="2026-04-01").empty


def test_statuses_filter(filled):
    assert set(ratings_frame(filled, statuses=["signed"]).review_id) == {"rv-a", "rv-b", "rv-c"}
    assert set(ratings_frame(filled, statuses=["draft"]).review_id) == {"rv-d"}
    combined = ratings_frame(filled, specialist="sp-1", statuses=["signed"], since="2026-02-01")
    assert set(combined.review_id) == {"rv-b"}


def test_ratings_frame_of_an_empty_store(store):
    frame = ratings_frame(store)
    assert frame.empty and list(frame.columns) == list(RATINGS_COLUMNS)
    assert frame["score"].dtype == "Int64" and frame["review_date"].dtype == NS


# ----------------------------------------------------------------------------- goals_frame


def test_goals_frame_columns_and_dtypes(filled):
    frame = goals_frame(filled)
    assert list(frame.columns) == list(GOALS_COLUMNS)
    for col in ("set_on", "follow_up", "status_date"):
        assert frame[col].dtype == NS, col
    assert frame["target"].dtype == "Int64"
    assert_strings(frame, STRING_COLUMNS["goals"])


def test_goals_frame_statuses_reflect_later_goal_updates(filled, make_review):
    frame = goals_frame(filled).set_index("goal_id")
    assert list(frame.index) == ["g-1", "g-2"]
    assert frame.loc["g-1", "status"] == "carried"
    assert frame.loc["g-1", "status_date"] == pd.Timestamp("2026-02-14")
    assert frame.loc["g-2", "status"] == "open" and pd.isna(frame.loc["g-2", "status_date"])
    assert frame.loc["g-1", "set_on"] == pd.Timestamp("2026-01-10")
    assert frame.loc["g-1", "follow_up"] == pd.Timestamp("2026-02-10")
    assert frame.loc["g-1", "practice_title"] == "Demonstrating empathy"
    assert frame.loc["g-1", "target"] == 3 and frame.loc["g-1", "review_id"] == "rv-a"
    assert frame.loc["g-1", "specialist_name"] == "Tansy Millwheel"

    filled.save_review(make_review(review_id="rv-e", review_date="2026-04-02", specialist="sp-1",
                                   goal_updates=[GoalUpdate("g-1", "met"), GoalUpdate("g-2", "dropped")]))
    later = goals_frame(filled).set_index("goal_id")
    assert later.loc["g-1", "status"] == "met" and later.loc["g-2", "status"] == "dropped"
    assert later.loc["g-1", "status_date"] == pd.Timestamp("2026-04-02")
    assert list(later.index) == ["g-1", "g-2"]  # updates add no rows
    assert filled.open_goals("sp-1") == []


def test_goals_frame_filters_by_specialist_and_keeps_target(filled, make_review):
    filled.save_review(make_review(review_id="rv-f", review_date="2026-03-05", specialist="sp-2",
                                   goals=[goal("g-9", "consistency", "2026-04-05", target=4)]))
    sp2 = goals_frame(filled, specialist="sp-2")
    assert sp2["goal_id"].tolist() == ["g-9"] and sp2["target"].tolist() == [4]
    assert sp2["status"].tolist() == ["open"]
    assert set(goals_frame(filled, specialist=["sp-1", "sp-2"]).goal_id) == {"g-1", "g-2", "g-9"}


# ----------------------------------------------------------------------------- traps_frame


def test_traps_frame_lists_each_trap_ticked(filled, rubric):
    frame = traps_frame(filled)
    assert list(frame.columns) == list(TRAPS_COLUMNS)
    assert frame["review_date"].dtype == NS
    assert_strings(frame, STRING_COLUMNS["traps"])
    assert frame[["review_id", "trap_id"]].values.tolist() == [["rv-b", "dominating"], ["rv-b", "judgement"]]
    assert frame["trap_title"].tolist() == [rubric.trap("dominating").title, rubric.trap("judgement").title]
    assert set(frame.specialist_id) == {"sp-1"}
    assert traps_frame(filled, specialist="sp-2").empty


# ----------------------------------------------------------------------------- reviews_frame


def test_reviews_frame_has_one_row_per_review(filled):
    frame = reviews_frame(filled)
    assert list(frame.columns) == list(REVIEWS_COLUMNS)
    for col in ("review_date", "session_date", "signed_at"):
        assert frame[col].dtype == NS, col
    assert frame["revision"].dtype == "int64"
    assert_strings(frame, STRING_COLUMNS["reviews"])
    assert frame["review_id"].tolist() == ["rv-a", "rv-b", "rv-c", "rv-d"]
    assert frame["status"].tolist() == ["signed", "signed", "signed", "draft"]
    assert frame["supervisor_id"].tolist() == ["sv-1", "sv-1", "sv-1", "sv-2"]
    # signed_at is the later signature (the supervisor's, five minutes after), naive UTC
    expected = pd.Timestamp(SIGNED_AT.replace(tzinfo=None) + dt.timedelta(minutes=5))
    assert frame["signed_at"].iloc[0] == expected
    assert pd.isna(frame["signed_at"].iloc[3])
    assert reviews_frame(filled, specialist="sp-3")["review_id"].tolist() == ["rv-d"]


def test_reviews_frame_shows_the_latest_revision(filled):
    signed = filled.review("rv-a")
    filled.save_review(model.amend(signed, "Wrong session date."))
    frame = reviews_frame(filled).set_index("review_id")
    assert frame.loc["rv-a", "revision"] == 2 and frame.loc["rv-a", "status"] == "amended"
    assert pd.isna(frame.loc["rv-a", "signed_at"])
    assert len(frame) == 4


def test_signed_at_is_the_later_signature_even_across_utc_offsets(store, make_review):
    agreed = make_review("agreed", review_id="rv-tz")
    plus_two = dt.timezone(dt.timedelta(hours=2))
    # the specialist signs at 15:00 UTC (17:00 local, +02:00), the supervisor later, at 16:00 UTC
    signed = model.sign(model.sign(agreed, "specialist", at=dt.datetime(2026, 3, 10, 17, 0, tzinfo=plus_two)),
                        "supervisor", at=dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.timezone.utc))
    store.save_review(signed)
    frame = reviews_frame(store)
    assert frame["signed_at"].tolist() == [pd.Timestamp("2026-03-10 16:00")]
    assert frame["signed_at"].dtype == NS


def test_every_frame_of_an_empty_store_is_empty_with_its_columns_and_dtypes(store):
    for make, columns, dates in (
        (goals_frame, GOALS_COLUMNS, ("set_on", "follow_up", "status_date")),
        (traps_frame, TRAPS_COLUMNS, ("review_date",)),
        (reviews_frame, REVIEWS_COLUMNS, ("review_date", "session_date", "signed_at")),
    ):
        frame = make(store)
        assert frame.empty and list(frame.columns) == list(columns), make.__name__
        for col in dates:
            assert frame[col].dtype == NS, (make.__name__, col)


def test_reviews_frame_with_only_unsigned_reviews(store, make_review):
    store.save_review(make_review("agreed", review_id="rv-u"))
    frame = reviews_frame(store)
    assert frame["signed_at"].dtype == NS and frame["signed_at"].isna().all()


def test_the_frames_are_the_same_on_both_backends(demo_db, pg_cluster, pg_templates):
    """The same team in SQLite and in PostgreSQL gives the same tidy tables, value for value
    and dtype for dtype: everything downstream (analysis, plots, reports) reads these."""
    import pandas as pd

    from conftest import new_pg_database
    from rapportkit import frames

    url = new_pg_database(pg_cluster, pg_templates["demo"])
    with Store(demo_db, readonly=True) as lite, Store(url, readonly=True) as pg:
        for name in ("ratings_frame", "reviews_frame", "goals_frame", "traps_frame", "people_frame"):
            a, b = getattr(frames, name)(lite), getattr(frames, name)(pg)
            assert len(a) > 0, name
            pd.testing.assert_frame_equal(a, b, obj=name)
