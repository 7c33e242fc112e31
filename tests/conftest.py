"""Shared fixtures for the model, store, frames and demo tests.

- ``rubric``: the packaged default rubric.
- ``store``: a fresh :class:`~rapportkit.store.Store` in ``tmp_path`` holding a small
  team (supervisors ``sv-1``, ``sv-2``; specialists ``sp-1``, ``sp-2`` under ``sv-1`` and
  ``sp-3`` under ``sv-2``).
- ``demo_store``: a Store holding :func:`rapportkit.demo.load_demo`'s team (built once
  per test run, copied into each test's ``tmp_path``).
- ``make_review``: a factory of valid reviews at any stage of the state machine, made
  through the model's own steps (see :func:`build_review`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from rapportkit import model
from rapportkit.model import (
    Goal, GoalUpdate, Person, PersonRole, Rating, RaterRole, Review, Session,
)
from rapportkit.rubric import Rubric, default_rubric
from rapportkit.store import Store

SUPERVISORS = (("sv-1", "Wren Hollowbrook"), ("sv-2", "Perrin Ashgrove"))
SPECIALISTS = (("sp-1", "Tansy Millwheel", "sv-1"), ("sp-2", "Corvin Bracken", "sv-1"),
               ("sp-3", "Odile Fernsby", "sv-2"))
SIGNED_AT = dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.timezone.utc)
STAGES = ("draft", "revealed", "agreed", "signed")

_counter = {"n": 0}


def team() -> list[Person]:
    """The small team of the ``store`` fixture, supervisors first."""
    people = [Person(i, n, PersonRole.SUPERVISOR) for i, n in SUPERVISORS]
    people += [Person(i, n, PersonRole.SPECIALIST, supervisor_id=s) for i, n, s in SPECIALISTS]
    return people


def all_scores(rubric: Rubric, value: int | None = 3, **overrides: int | None) -> dict[str, int | None]:
    """A complete score map: every practice ``value`` except the ``overrides``."""
    scores = {p: value for p in rubric.practice_ids}
    scores.update(overrides)
    return scores


def build_review(
    rubric: Rubric,
    *,
    stage: str = "signed",
    review_id: str | None = None,
    specialist: str = "sp-1",
    supervisor: str = "sv-1",
    review_date: dt.date | str = dt.date(2026, 3, 10),
    session_id: str | None = None,
    session_date: dt.date | str | None = None,
    self_scores: Mapping[str, int | None] | None = None,
    supervisor_scores: Mapping[str, int | None] | None = None,
    consensus_scores: Mapping[str, int | None] | None = None,
    self_notes: Mapping[str, str] | None = None,
    supervisor_notes: Mapping[str, str] | None = None,
    traps: Iterable[str] = (),
    goals: Iterable[Goal] = (),
    goal_updates: Iterable[GoalUpdate] = (),
    signed_at: dt.datetime = SIGNED_AT,
) -> Review:
    """A valid review at ``stage`` (draft, revealed, agreed or signed), made through the
    model's steps. Scores default to 3 for self and supervisor; the consensus defaults to
    the supervisor's scores, with a rationale wherever self and supervisor differ."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    _counter["n"] += 1
    n = _counter["n"]
    review_date = dt.date.fromisoformat(review_date) if isinstance(review_date, str) else review_date
    session = Session(
        id=session_id or f"se-{n:05d}", specialist_id=specialist,
        date=session_date or review_date - dt.timedelta(days=2),
        modality="in_person", duration_min=50, source="observed", code=f"S-{1000 + n % 9000}",
    )
    review = model.new_review(session, supervisor, rubric, review_date=review_date,
                              review_id=review_id or f"rv-{n:05d}")
    own = dict(self_scores) if self_scores is not None else all_scores(rubric)
    sup = dict(supervisor_scores) if supervisor_scores is not None else all_scores(rubric)
    review = model.with_rating(
        review, Rating(specialist, RaterRole.SELF, own, dict(self_notes or {}), rubric.id, rubric.version), rubric)
    review = model.with_rating(
        review, Rating(supervisor, RaterRole.SUPERVISOR, sup, dict(supervisor_notes or {}),
                       rubric.id, rubric.version), rubric)
    review = model.with_details(review, rubric, traps=traps, goals=goals, goal_updates=goal_updates)
    if stage == "draft":
        return review
    review = model.reveal(review, rubric)
    if stage == "revealed":
        return review
    cons = dict(consensus_scores) if consensus_scores is not None else dict(sup)
    bare = Rating(supervisor, RaterRole.CONSENSUS, cons, {}, rubric.id, rubric.version)
    rationale = {p: "Agreed after talking it through." for p in rubric.practice_ids
                 if model.needs_rationale(review, p, bare)}
    review = model.agree(
        review, Rating(supervisor, RaterRole.CONSENSUS, cons, rationale, rubric.id, rubric.version), rubric)
    if stage == "agreed":
        return review
    review = model.sign(review, PersonRole.SPECIALIST, at=signed_at)
    return model.sign(review, PersonRole.SUPERVISOR, at=signed_at + dt.timedelta(minutes=5))


def goal(goal_id: str, practice: str = "empathy", follow_up: dt.date | str = dt.date(2026, 4, 10),
         **kw) -> Goal:
    """A valid goal."""
    return Goal(goal_id, practice, kw.pop("text", f"Grow in {practice}"),
                kw.pop("actions", "Bring an example to supervision."), follow_up, **kw)


def row_counts(path: Path | str, review_id: str) -> dict[str, int]:
    """Rows per review table for ``review_id``, read through a separate raw connection
    (an SQLite file, or a PostgreSQL URL read as the installer)."""
    assert path is not None
    if str(path).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(path), autocommit=True) as pconn:
            return {t: pconn.execute(f"SELECT count(*) FROM {t} WHERE review_id = %s", (review_id,)).fetchone()[0]
                    for t in ("reviews", "ratings", "scores", "goals", "goal_updates", "traps")}
    conn = sqlite3.connect(str(path))
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE review_id = ?", (review_id,)).fetchone()[0]
                for t in ("reviews", "ratings", "scores", "goals", "goal_updates", "traps")}
    finally:
        conn.close()


def raw_connect(path: Path | str) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode (bypassing rapportkit)."""
    assert path is not None, "raw_connect is for SQLite files; this store is not one (mark the test sqlite_only)"
    return sqlite3.connect(str(path), isolation_level=None)


def save_batch(path: str, worker: int, count: int) -> None:
    """Save ``count`` signed reviews from one process (the concurrency test's worker; it
    lives here so a spawned process imports nothing heavy)."""
    rubric = default_rubric()
    with Store(path, actor=f"worker-{worker}", rubric=rubric) as s:
        for i in range(count):
            s.save_review(build_review(
                rubric, review_id=f"rv-w{worker}-{i:02d}", session_id=f"se-w{worker}-{i:02d}",
                specialist=f"sp-{worker % 3 + 1}", supervisor="sv-2" if worker % 3 == 2 else "sv-1",
                goals=[goal(f"g-{worker}-{i}")] if i % 5 == 0 else ()))


@pytest.fixture(scope="session")
def rubric() -> Rubric:
    return default_rubric()


# ------------------------------------------------------------------ the two backends
#
# A test that takes ``store`` or ``demo_store`` (or ``backend``) runs once on SQLite and
# once on PostgreSQL: ``test_x[sqlite]`` and ``test_x[postgresql]``. A test about SQLite
# itself (its file, its pragmas, raw sqlite3) says so with ``@pytest.mark.sqlite_only``.
# The PostgreSQL cluster is started once per run, on first use, and stopped at the end.


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ["sqlite"] if only else ["sqlite", "postgresql"], scope="function")


@pytest.fixture(scope="session")
def pg_cluster():
    from rapportkit.pgcluster import Cluster

    cluster = Cluster().start()
    yield cluster
    cluster.stop()


_databases = {"n": 0}


def new_pg_database(cluster, template: str | None = None) -> str:
    """A fresh database in the test cluster (from ``template``); returns the installer's URL."""
    _databases["n"] += 1
    name = f"rk_{os.getpid()}_{_databases['n']}"
    return cluster.create_database(name, template)


@pytest.fixture(scope="session")
def pg_templates(pg_cluster, rubric):
    """Two template databases: the small team of ``store``, and the demo team."""
    from rapportkit.demo import load_demo

    small = pg_cluster.create_database("rk_template_small")
    with Store(small, rubric=rubric) as s:
        s.save_many(people=team())
    demo = pg_cluster.create_database("rk_template_demo")
    with Store(demo, rubric=rubric) as s:
        load_demo(s)
    return {"small": "rk_template_small", "demo": "rk_template_demo"}


def open_backend(backend: str, request, tmp_path, rubric, which: str = "small", actor: str = "tester") -> Store:
    """A writable Store on ``backend`` holding the small team or the demo team."""
    if backend == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        templates = request.getfixturevalue("pg_templates")
        return Store(new_pg_database(cluster, templates[which]), rubric=rubric)
    if which == "demo":
        path = tmp_path / "demo.db"
        shutil.copyfile(request.getfixturevalue("demo_db"), path)
        return Store(path, actor=actor, rubric=rubric)
    s = Store(tmp_path / "rk.db", actor=actor, rubric=rubric)
    s.save_many(people=team())
    return s


def pg_fingerprint(url: str) -> str:
    """SHA-256 over every row of every rapportkit table, read as the installer (RLS bypassed)."""
    import hashlib

    import psycopg

    from rapportkit.pg_schema import _ALL_TABLES

    digest = hashlib.sha256()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in sorted(_ALL_TABLES):
            for row in conn.execute(f"SELECT t::text FROM {table} t ORDER BY 1"):
                digest.update(row[0].encode())
    return digest.hexdigest()


def reopen(store: Store, **kwargs) -> Store:
    """A second Store on the same database as ``store`` (another kernel, in effect)."""
    kwargs.setdefault("rubric", store.rubric)
    return Store(store.url or store.path, **kwargs)


@pytest.fixture
def store(backend, request, tmp_path, rubric):
    s = open_backend(backend, request, tmp_path, rubric)
    yield s
    s.close()


@pytest.fixture
def make_review(rubric):
    """``make_review(stage="signed", **options)``: see :func:`build_review`."""

    def make(stage: str = "signed", **options) -> Review:
        return build_review(rubric, stage=stage, **options)

    return make


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, rubric) -> Path:
    """A database file holding the demo team, built once per test run (do not open for
    writing: use ``demo_store``)."""
    from rapportkit.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with Store(path, actor="demo", rubric=rubric) as s:
        load_demo(s)
    return path


@pytest.fixture
def demo_store(backend, request, tmp_path, rubric):
    """A private, writable copy of the demo database (on each backend)."""
    s = open_backend(backend, request, tmp_path, rubric, "demo")
    yield s
    s.close()

