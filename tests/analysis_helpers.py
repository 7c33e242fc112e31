"""Hand-made frames for the analysis tests, shaped like :mod:`rapportkit.frames` output.

- :func:`ratings` builds a ratings frame from a few reviews written out by hand.
- :func:`goals` and :func:`traps` do the same for goals and traps.
- :func:`big_ratings` makes a large synthetic ratings frame with numpy (no database) for
  the "still works on a big team" checks.
- ``demo_frames``: a fixture with the demo team's frames, read from the session-wide demo
  database that ``tests/conftest.py`` builds with :func:`rapportkit.demo.load_demo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from rapportkit.frames import GOALS_COLUMNS, RATINGS_COLUMNS, TRAPS_COLUMNS

PRACTICES = ("safe_environment", "active_listening", "empathy", "non_judgment", "authenticity",
             "collaborative_goals", "individuality_culture", "consistency", "boundaries")
NAMES = {"sp-1": "Tansy Millwheel", "sp-2": "Corvin Bracken", "sp-3": "Odile Fernsby"}
ROLES = ("self", "supervisor", "consensus")


def title(practice: str) -> str:
    return practice.replace("_", " ").capitalize()


def ratings(reviews: Sequence[Mapping]) -> pd.DataFrame:
    """A ratings frame from reviews given as dicts.

    Each review: ``date`` (ISO string), ``scores`` ({practice: (self, supervisor,
    consensus)}, None = not observed, a role left out when the tuple is shorter or the
    value is ``...``), optional ``specialist`` (default ``sp-1``), ``review_id``,
    ``revision`` and ``status``.
    """
    rows = []
    for n, review in enumerate(reviews, start=1):
        spec = review.get("specialist", "sp-1")
        rid = review.get("review_id", f"rv-{spec}-{n:03d}")
        date = pd.Timestamp(review["date"])
        for practice, triple in review["scores"].items():
            for role, score in zip(ROLES, triple):
                if score is ...:
                    continue
                rows.append({
                    "review_id": rid, "revision": review.get("revision", 1), "review_date": date,
                    "session_id": f"se-{rid}", "session_date": date, "modality": "in_person",
                    "source": "observed", "specialist_id": spec,
                    "specialist_name": NAMES.get(spec, f"Name of {spec}"), "supervisor_id": "sv-1",
                    "supervisor_name": "Wren Hollowbrook", "practice_id": practice,
                    "practice_title": title(practice), "practice_order": PRACTICES.index(practice),
                    "role": role, "rater_id": spec if role == "self" else "sv-1", "score": score,
                    "rubric_id": "peer_rapport", "rubric_version": "1", "status": review.get("status", "signed"),
                })
    return typed_ratings(pd.DataFrame(rows, columns=list(RATINGS_COLUMNS)))


def typed_ratings(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"revision": "int64", "practice_order": "int64", "score": "Int64"})
    for col in ("review_date", "session_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame.sort_values(["review_date", "review_id"], kind="stable").reset_index(drop=True)


def series(values: Sequence[int | None], *, practice: str = "empathy", role_scores: str = "consensus",
           specialist: str = "sp-1", start: str = "2026-01-05", step_days: int = 14) -> list[dict]:
    """Reviews every `step_days` days with these scores for one practice in one role
    (the other two roles copy it)."""
    first = dt.date.fromisoformat(start)
    out = []
    for i, v in enumerate(values):
        out.append({"date": str(first + dt.timedelta(days=step_days * i)), "specialist": specialist,
                    "scores": {practice: (v, v, v)}})
    return out


def goals(rows: Sequence[Mapping]) -> pd.DataFrame:
    """A goals frame; each row needs ``goal_id``, ``set_on``, ``follow_up``, and may give
    ``specialist``, ``practice``, ``status``, ``status_date``, ``target``, ``review_id``."""
    out = []
    for row in rows:
        spec, practice = row.get("specialist", "sp-1"), row.get("practice", "empathy")
        out.append({
            "goal_id": row["goal_id"], "review_id": row.get("review_id", f"rv-{row['goal_id']}"),
            "set_on": row["set_on"], "specialist_id": spec, "specialist_name": NAMES.get(spec, f"Name of {spec}"),
            "practice_id": practice, "practice_title": title(practice), "text": f"Grow in {practice}",
            "actions": "Bring an example.", "follow_up": row["follow_up"], "status": row.get("status", "open"),
            "status_date": row.get("status_date"), "target": row.get("target", 3),
        })
    frame = pd.DataFrame(out, columns=list(GOALS_COLUMNS))
    for col in ("set_on", "follow_up", "status_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame["target"] = frame["target"].astype("Int64")
    return frame


def traps(rows: Sequence[Mapping]) -> pd.DataFrame:
    """A traps frame; each row: ``review_id``, ``date``, ``trap_id``, optional ``specialist``."""
    out = [{"review_id": r["review_id"], "review_date": r["date"], "specialist_id": r.get("specialist", "sp-1"),
            "specialist_name": NAMES.get(r.get("specialist", "sp-1"), "?"), "trap_id": r["trap_id"],
            "trap_title": r["trap_id"].replace("_", " ").capitalize()} for r in rows]
    frame = pd.DataFrame(out, columns=list(TRAPS_COLUMNS))
    frame["review_date"] = pd.to_datetime(frame["review_date"]).astype("datetime64[ns]")
    return frame


def empty_ratings() -> pd.DataFrame:
    return typed_ratings(pd.DataFrame(columns=list(RATINGS_COLUMNS)))


def big_ratings(specialists: int = 60, months: int = 48, per_month: int = 4, seed: int = 7) -> pd.DataFrame:
    """A synthetic team: ``specialists × months × per_month`` reviews, 9 practices, 3 roles
    (about 300k rows with the defaults), ordered like ``ratings_frame``."""
    rng = np.random.default_rng(seed)
    n_rev = specialists * months * per_month
    spec = np.repeat(np.arange(specialists), months * per_month)
    day = np.tile(np.sort(rng.integers(0, months * 30, months * per_month)), specialists)
    dates = np.datetime64("2022-01-01") + day.astype("timedelta64[D]")
    rid = np.array([f"rv-{i:07d}" for i in range(n_rev)], dtype=object)
    k = len(PRACTICES) * len(ROLES)
    score = rng.integers(1, 5, n_rev * k).astype(float)
    score[rng.random(n_rev * k) < 0.03] = np.nan
    sid = np.array([f"sp-{i:04d}" for i in range(specialists)], dtype=object)
    frame = pd.DataFrame({
        "review_id": np.repeat(rid, k), "revision": 1, "review_date": np.repeat(dates, k),
        "session_id": np.repeat(rid, k), "session_date": np.repeat(dates, k), "modality": "video",
        "source": "observed", "specialist_id": np.repeat(sid[spec], k),
        "specialist_name": np.repeat(np.array([f"Person {i:04d}" for i in range(specialists)], dtype=object)[spec], k),
        "supervisor_id": "sv-1", "supervisor_name": "Wren Hollowbrook",
        "practice_id": np.tile(np.repeat(PRACTICES, len(ROLES)), n_rev),
        "practice_title": np.tile(np.repeat([title(p) for p in PRACTICES], len(ROLES)), n_rev),
        "practice_order": np.tile(np.repeat(np.arange(len(PRACTICES)), len(ROLES)), n_rev),
        "role": np.tile(ROLES, n_rev * len(PRACTICES)), "rater_id": "sv-1",
        "score": pd.array(score, dtype="Float64").astype("Int64"), "rubric_id": "peer_rapport",
        "rubric_version": "1", "status": "signed",
    })
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("str")
    return typed_ratings(frame)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_frames(request, demo_db):
    """The demo team's ratings, goals, traps and reviews frames (read-only), read from the
    SQLite demo database and from the same team in PostgreSQL: every analysis test runs on
    both."""
    from rapportkit import frames
    from rapportkit.store import Store

    where = demo_db
    if request.param == "postgresql":
        from conftest import new_pg_database

        where = new_pg_database(request.getfixturevalue("pg_cluster"), request.getfixturevalue("pg_templates")["demo"])
    with Store(where, readonly=True) as store:
        return {"ratings": frames.ratings_frame(store), "goals": frames.goals_frame(store),
                "traps": frames.traps_frame(store), "reviews": frames.reviews_frame(store)}
