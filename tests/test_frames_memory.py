"""The tidy frames stay small: categorical text, compact numbers, and a load that never holds
the whole result as Python objects (docs/frames.md, "Memory"). Each bound here is several
times below what the old frames (one Python string per text cell) took, so turning a column
back into per-row strings, or fetching every row as a tuple again, turns this red.
Timings belong in bench/ (``python -m bench frame frame_memory``), not here."""

from __future__ import annotations

import dataclasses
import sqlite3
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from rapportkit import frames
from rapportkit.demo import generate
from rapportkit.frames import (
    GOALS_COLUMNS, RATINGS_COLUMNS, REVIEWS_COLUMNS, TRAPS_COLUMNS, goals_frame, ratings_frame,
    reviews_frame, traps_frame,
)
from rapportkit.store import Store

NS = "datetime64[ns]"
CATEGORICAL = {
    "ratings": ["review_id", "session_id", "modality", "source", "specialist_id", "specialist_name",
                "supervisor_id", "supervisor_name", "practice_id", "practice_title", "role", "rater_id",
                "status"],
    "goals": ["review_id", "specialist_id", "specialist_name", "practice_id", "practice_title", "status"],
    "traps": ["review_id", "specialist_id", "specialist_name", "trap_id", "trap_title"],
    "reviews": ["review_id", "session_id", "specialist_id", "specialist_name", "supervisor_id",
                "supervisor_name", "status"],
}
#: rubric_id and rubric_version are text, but every row points at one shared string object.
SHARED_TEXT = ["rubric_id", "rubric_version"]

#: Bytes a rating row may take (pandas' deep count). The old frame took about 925 B a row
#: without the two shared-text columns (1,050 with them); this one takes about 60 (190).
#: One column back to a Python string per row adds 50 or more.
MAX_BYTES_PER_ROW = 80
MAX_BYTES_PER_ROW_ALL = 250
#: Memory traced while loading (numpy buffers and Python objects), per rating row: the
#: highest point and what is still held after. The old fetchall() of tuples of strings
#: peaked at about 1,340 B a row and kept about 990; this load peaks near 140 and keeps
#: about 100 (the frame itself and its categories).
MAX_PEAK_PER_ROW = 400
MAX_KEPT_PER_ROW = 150


@pytest.fixture(scope="module")
def team_store(tmp_path_factory):
    """A moderate synthetic team: 16 specialists, a year of 3-5 reviews a month (about
    20,000 rating rows, so the score rows come in more than one chunk)."""
    team = generate(specialists=16, months=12, reviews_per_month=(3, 5), seed=11)
    path = tmp_path_factory.mktemp("memory") / "team.db"
    with Store(path, actor="tester") as store:
        store.save_many(people=team.people, reviews=team.reviews, allow_identifiers=True)
    with Store(path, readonly=True) as store:
        yield store


@pytest.fixture(scope="module")
def ratings(team_store):
    return ratings_frame(team_store)


def assert_categorical_text(frame: pd.DataFrame, columns: list[str]) -> None:
    for col in columns:
        dtype = frame[col].dtype
        assert isinstance(dtype, pd.CategoricalDtype), (col, dtype)
        assert dtype.ordered, col
        categories = list(dtype.categories)
        assert all(isinstance(c, str) for c in categories), col
        assert categories == sorted(categories), col  # so sorting the column sorts the text
        assert frame[col].notna().all(), col


def test_ratings_dtypes(ratings):
    assert len(ratings) > 2 * frames.CHUNK_ROWS
    assert list(ratings.columns) == list(RATINGS_COLUMNS)
    assert_categorical_text(ratings, CATEGORICAL["ratings"])
    for col in SHARED_TEXT:
        assert pd.api.types.is_string_dtype(ratings[col]) and not isinstance(ratings[col].dtype, pd.CategoricalDtype)
    assert ratings["score"].dtype == "Int64"
    assert ratings["revision"].dtype == "int64" and ratings["practice_order"].dtype == "int64"
    assert ratings["review_date"].dtype == NS and ratings["session_date"].dtype == NS
    # the codes are as small as the categories allow
    assert ratings["role"].cat.codes.dtype == np.int8 and ratings["practice_id"].cat.codes.dtype == np.int8
    assert ratings["review_id"].cat.codes.dtype == np.int16


def test_ratings_bytes_per_row(ratings):
    deep = ratings.memory_usage(deep=True, index=False)
    assert deep.drop(SHARED_TEXT).sum() / len(ratings) <= MAX_BYTES_PER_ROW, deep / len(ratings)
    assert deep.sum() / len(ratings) <= MAX_BYTES_PER_ROW_ALL, deep / len(ratings)
    for col in SHARED_TEXT:  # one Python object per distinct value, not one per row
        values = ratings[col].array
        assert len({id(v) for v in values}) == ratings[col].nunique(), col


def test_loading_never_holds_the_rows_as_python_objects(team_store, ratings):
    ratings_frame(team_store, specialist="nobody")  # lazy imports and caches, outside the count
    tracemalloc.start()
    try:
        frame = ratings_frame(team_store)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(frame) == len(ratings)
    assert peak / len(frame) <= MAX_PEAK_PER_ROW, peak / len(frame)
    assert kept / len(frame) <= MAX_KEPT_PER_ROW, kept / len(frame)


def test_not_observed_stays_distinguishable(team_store, ratings):
    conn = team_store.conn
    not_observed, scored = conn.execute(
        "SELECT sum(sc.score IS NULL), sum(sc.score IS NOT NULL) FROM scores sc"
        " JOIN (SELECT review_id, max(revision) AS latest FROM reviews GROUP BY review_id) lr"
        " ON sc.review_id = lr.review_id AND sc.revision = lr.latest WHERE sc.rated = 1").fetchone()
    assert not_observed > 0
    assert ratings["score"].isna().sum() == not_observed
    assert ratings["score"].notna().sum() == scored
    assert set(ratings["score"].dropna()) <= {1, 2, 3, 4}


def test_values_match_a_plain_fetch_of_the_same_join(team_store, rubric):
    """Every cell equals what a plain sqlite3 fetch of the join gives, row for row."""
    frame = ratings_frame(team_store, latest_only=False)
    conn = sqlite3.connect(f"file:{team_store.path}?mode=ro", uri=True)
    plain = pd.DataFrame(conn.execute(
        "SELECT r.review_id, r.revision, r.review_date, r.session_id, s.session_date, s.modality,"
        " s.source, s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name,"
        " sc.practice_id, sc.role, ra.rater_id, sc.score, ra.rubric_id, ra.rubric_version, r.status"
        " FROM reviews r JOIN sessions s ON s.id = r.session_id JOIN people sp ON sp.id = s.specialist_id"
        " JOIN people sv ON sv.id = r.supervisor_id"
        " JOIN ratings ra ON ra.review_id = r.review_id AND ra.revision = r.revision"
        " JOIN scores sc ON sc.review_id = ra.review_id AND sc.revision = ra.revision AND sc.role = ra.role"
        " WHERE sc.rated = 1").fetchall(),
        columns=[c for c in RATINGS_COLUMNS if c not in ("practice_title", "practice_order")], dtype=object)
    conn.close()
    order = {p: i for i, p in enumerate(rubric.practice_ids)}
    plain["practice_title"] = plain["practice_id"].map({p.id: p.title for p in rubric.practices})
    plain["practice_order"] = plain["practice_id"].map(order)
    plain["_role"] = plain["role"].map({"self": 0, "supervisor": 1, "consensus": 2})
    plain = plain.sort_values(["review_date", "review_id", "revision", "practice_order", "_role"])
    plain = plain[list(RATINGS_COLUMNS)].reset_index(drop=True)
    assert len(frame) == len(plain)
    for col in RATINGS_COLUMNS:
        ours = frame[col].astype(object).to_numpy()
        if col.endswith("_date"):
            ours = np.array([d.strftime("%Y-%m-%d") for d in ours], dtype=object)
        theirs = plain[col].to_numpy()
        same = np.array([pd.isna(b) if pd.isna(a) else (not pd.isna(b) and a == b) for a, b in zip(ours, theirs)])
        assert same.all(), (col, np.flatnonzero(~same)[:5])


def test_chunk_boundaries_change_nothing(team_store, ratings, monkeypatch):
    expected = {f: getattr(frames, f)(team_store) for f in ("goals_frame", "traps_frame", "reviews_frame")}
    monkeypatch.setattr(frames, "CHUNK_ROWS", 997)
    pd.testing.assert_frame_equal(ratings_frame(team_store), ratings)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(getattr(frames, name)(team_store), frame)


def test_other_frames_follow_the_same_conventions(team_store):
    goals, traps, reviews = goals_frame(team_store), traps_frame(team_store), reviews_frame(team_store)
    assert len(goals) and len(traps) and len(reviews)
    assert list(goals.columns) == list(GOALS_COLUMNS)
    assert list(traps.columns) == list(TRAPS_COLUMNS)
    assert list(reviews.columns) == list(REVIEWS_COLUMNS)
    assert_categorical_text(goals, CATEGORICAL["goals"])
    assert_categorical_text(traps, CATEGORICAL["traps"])
    assert_categorical_text(reviews, CATEGORICAL["reviews"])
    for col in ("goal_id", "text", "actions"):  # free text: one value per row, nothing to share
        assert pd.api.types.is_string_dtype(goals[col]) and not isinstance(goals[col].dtype, pd.CategoricalDtype)
    assert goals["target"].dtype == "Int64" and reviews["revision"].dtype == "int64"
    for frame, columns in ((goals, ("set_on", "follow_up", "status_date")), (traps, ("review_date",)),
                           (reviews, ("review_date", "session_date", "signed_at"))):
        for col in columns:
            assert frame[col].dtype == NS, col
    for frame in (goals, traps, reviews):
        assert frame.memory_usage(deep=True).sum() / len(frame) < 1_000


def test_people_columns_share_one_category_set(team_store, ratings):
    """Every person column of every frame has the same categories (all the people), so
    merges and comparisons across them keep working on the codes."""
    people = ratings["specialist_id"].dtype
    for frame in (ratings, goals_frame(team_store), traps_frame(team_store), reviews_frame(team_store)):
        for col in ("specialist_id", "supervisor_id", "rater_id"):
            if col in frame:
                assert frame[col].dtype == people, col
    assert (ratings["rater_id"] == ratings["specialist_id"]).groupby(ratings["role"], observed=True).all().to_dict() \
        == {"consensus": False, "self": True, "supervisor": False}
    # an ordered categorical compares with a value it holds as the text would
    rid = ratings["review_id"].iloc[len(ratings) // 2]
    assert ((ratings["review_id"] < rid).to_numpy() == (ratings["review_id"].astype(str) < rid).to_numpy()).all()


def test_a_practice_the_rubric_lacks_still_loads(team_store, ratings, rubric, monkeypatch):
    """Scores made with another rubric: the practice keeps its id as its title and sorts last."""
    missing = rubric.practices[3]
    monkeypatch.setattr(team_store, "_rubric", dataclasses.replace(
        rubric, practices=tuple(p for p in rubric.practices if p.id != missing.id)))
    frame = ratings_frame(team_store)
    assert len(frame) == len(ratings)
    rows = frame[frame["practice_id"] == missing.id]
    assert len(rows) == (ratings["practice_id"] == missing.id).sum() > 0
    assert set(rows["practice_title"]) == {missing.id}
    assert set(rows["practice_order"]) == {len(rubric.practices) - 1}
    assert frame.groupby("review_id", observed=True)["practice_order"].apply(
        lambda s: s.is_monotonic_increasing).all()
