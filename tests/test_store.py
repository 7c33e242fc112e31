"""The SQLite store: round trips, all-or-nothing saves, signed-is-final, the audit chain,
read-only for real, migrations, network filesystems, drafts, concurrency and backups.

Every test uses a real SQLite file in ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import pg_fingerprint, all_scores, build_review, goal, raw_connect, row_counts, save_batch, team
from rapportkit import audit, db, migrations, model
from rapportkit.errors import (
    NetworkFilesystemError, ReadOnlyError, ReviewStateError, SchemaVersionError, StoreError,
    ValidationError,
)
from rapportkit.frames import ratings_frame, reviews_frame
from rapportkit.model import GoalUpdate, Person, RaterRole, Rating, Review, ReviewStatus, Session
from rapportkit.rubric import default_rubric
from rapportkit.store import Store

RUBRIC = default_rubric()
REVIEW_TABLES = ("reviews", "ratings", "scores", "goals", "goal_updates", "traps")


def sha256(path: Path | str) -> str:
    """The database's bytes (SQLite), or every row of every table (PostgreSQL, read as the
    installer): equal before and after means nothing was written."""
    if isinstance(path, str) and path.startswith("postgresql://"):
        return pg_fingerprint(path)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def audit_count(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM audit").fetchone()[0]


# ============================================================================ round trip

_PLAIN = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",),
                           blacklist_characters="".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32), 127]))),
    max_size=120,
)
_NASTY = st.sampled_from([
    '<script>alert("x")</script>', "Robert'); DROP TABLE reviews;--", 'She said "fine" — ok?',
    "Ünïcödé ✓ 😀 日本語 עברית", "line one\nline two\ttabbed", "&amp; &lt;b&gt; {{ curly }} %s %(x)s",
    "back\\slash", "   padded   ",
])
NOTE = st.one_of(_PLAIN, _NASTY)
SCORE = st.sampled_from([1, 2, 3, 4, None])
PRACTICES = RUBRIC.practice_ids
EARLIER_GOALS = ("prev-a", "prev-b", "prev-c")


def scores_strategy():
    return st.fixed_dictionaries({p: SCORE for p in PRACTICES})


def notes_strategy():
    return st.dictionaries(st.sampled_from(PRACTICES), NOTE, max_size=4)


@st.composite
def reviews(draw, counter=[0]):  # noqa: B006 - a per-run counter for unique ids
    counter[0] += 1
    n = counter[0]
    review_date = draw(st.dates(dt.date(2001, 1, 1), dt.date(2099, 12, 31)))
    session = Session(
        id=f"se-h{n}", specialist_id="sp-1", date=draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31))),
        modality=draw(st.sampled_from(list(model.Modality))), duration_min=draw(st.integers(5, 480)),
        source=draw(st.sampled_from(list(model.Source))),
        code=draw(st.one_of(st.none(), st.from_regex(r"S-[0-9]{1,6}", fullmatch=True))),
    )
    own, sup = draw(scores_strategy()), draw(scores_strategy())
    cons = draw(scores_strategy())
    stage = draw(st.sampled_from(["draft", "revealed", "agreed", "signed"]))
    if stage == "draft":  # a draft may be half-entered
        own = {p: s for p, s in own.items() if draw(st.booleans())}
    self_notes, sup_notes = draw(notes_strategy()), draw(notes_strategy())
    cons_notes = draw(notes_strategy())
    for p in PRACTICES:  # a rationale wherever someone moved
        if not (own.get(p) == sup.get(p) == cons.get(p)) and not cons_notes.get(p, "").strip():
            cons_notes[p] = draw(_NASTY)
    suffixes = draw(st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,8}", fullmatch=True),
                             max_size=3, unique=True))
    goals = [
        model.Goal(f"g{n}-{s}", draw(st.sampled_from(PRACTICES)),
                   draw(st.one_of(_NASTY, st.text(alphabet="abc xyz✓", min_size=1, max_size=40)
                                  .filter(lambda t: t.strip()))),
                   draw(NOTE), review_date + dt.timedelta(days=draw(st.integers(1, 365))),
                   draw(st.integers(1, 4)))
        for s in suffixes
    ]
    updates = [GoalUpdate(g, draw(st.sampled_from(list(model.GoalStatus))), draw(NOTE))
               for g in draw(st.lists(st.sampled_from(EARLIER_GOALS), unique=True, max_size=3))]
    review = Review(
        id=f"rv-h{n}", revision=1, session=session, supervisor_id=draw(st.sampled_from(["sv-1", "sv-2"])),
        review_date=review_date, rubric_id=RUBRIC.id, rubric_version=RUBRIC.version,
        goals=tuple(goals), goal_updates=tuple(updates), traps=draw(st.frozensets(st.sampled_from(RUBRIC.trap_ids))),
    )
    rate = lambda rater, role, sc, no: Rating(rater, role, sc, no, RUBRIC.id, RUBRIC.version)  # noqa: E731
    review = model.with_rating(review, rate("sp-1", RaterRole.SELF, own, self_notes), RUBRIC)
    review = model.with_rating(review, rate(review.supervisor_id, RaterRole.SUPERVISOR, sup, sup_notes), RUBRIC)
    if stage == "draft":
        return review
    review = model.reveal(review, RUBRIC)
    if stage == "revealed":
        return review
    review = model.agree(review, rate(review.supervisor_id, RaterRole.CONSENSUS, cons, cons_notes), RUBRIC)
    if stage == "agreed":
        return review
    at = draw(st.datetimes(dt.datetime(2000, 1, 2), dt.datetime(2100, 12, 30),
                           timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5))])))
    review = model.sign(review, "specialist", at=at)
    return model.sign(review, "supervisor", at=at + dt.timedelta(seconds=draw(st.integers(0, 10_000))))


@pytest.fixture(scope="module")
def roundtrip_store(tmp_path_factory):
    """One store for the property test (each example uses fresh ids), with an earlier
    review whose goals the generated reviews may give a verdict on."""
    s = Store(tmp_path_factory.mktemp("roundtrip") / "rk.db", actor="tester", rubric=RUBRIC)
    s.save_many(people=team())
    s.save_review(build_review(RUBRIC, review_id="rv-earlier", review_date="2000-06-01",
                               goals=[goal(g) for g in EARLIER_GOALS]))
    yield s
    s.close()


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(review=reviews())
def test_a_full_review_round_trips_through_the_store(roundtrip_store, review):
    store = roundtrip_store
    # generated text may look like an identifier: the screening has its own tests
    assert store.save_review(review, allow_identifiers=True) is True
    assert store.review(review.id) == review
    assert store.review(review.id, 1) == review
    # a second save of the same value is a no-op, and the audit still agrees with the record
    assert store.save_review(review) is False
    assert store.check() == []


def test_round_trip_keeps_goal_order_and_reopened_store_reads_the_same(store, make_review, tmp_path):
    review = make_review(goals=[goal("g-zz", "empathy"), goal("g-aa", "boundaries"), goal("g-mm")])
    store.save_review(review)
    assert [g.id for g in store.review(review.id).goals] == ["g-zz", "g-aa", "g-mm"]
    store.close()
    with Store(store.url or store.path, rubric=store.rubric) as again:
        assert again.review(review.id) == review
        assert again.check() == []


def test_people_and_sessions_round_trip(store):
    assert [p.id for p in store.people("supervisor")] == ["sv-2", "sv-1"]  # by display name
    assert {p.id: p for p in store.people()} == {p.id: p for p in team()}
    s = Session("se-x", "sp-2", dt.date(2026, 1, 5), "video", 30, "self_report", None)
    assert store.save_session(s) is True and store.save_session(s) is False
    assert store.session("se-x") == s
    with pytest.raises(ValidationError, match="not a specialist"):
        store.save_session(dataclasses.replace(s, id="se-y", specialist_id="sv-1"))
    with pytest.raises(ValidationError, match="no person"):
        store.person("nobody")


def test_review_naming_someone_outside_the_team_is_refused(store, make_review):
    with pytest.raises(ValidationError, match="not a supervisor"):
        store.save_review(make_review(supervisor="sp-2"))
    with pytest.raises(ValidationError, match="not a specialist"):
        store.save_review(make_review(specialist="sp-99"))
    assert store.counts()["reviews"] == 0


def test_goal_update_must_name_an_earlier_goal_of_the_same_specialist(store, make_review):
    store.save_review(make_review(specialist="sp-2", goals=[goal("g-of-sp2")]))
    with pytest.raises(ValidationError, match="'g-of-sp2' is not an earlier goal of sp-1"):
        store.save_review(make_review(specialist="sp-1", goal_updates=[GoalUpdate("g-of-sp2", "met")]))
    with pytest.raises(ValidationError, match="'g-nowhere'"):
        store.save_review(make_review(specialist="sp-2", goal_updates=[GoalUpdate("g-nowhere", "met")]))


# ============================================================================ all or nothing


def test_a_fault_in_the_middle_of_a_save_leaves_no_partial_review(store, make_review, monkeypatch):
    store.save_review(make_review(review_id="rv-before"))
    audit_before = audit_count(store)
    review = make_review(review_id="rv-faulty", traps={"judgement"},
                         goals=[goal("g-1")], self_scores=all_scores(store.rubric, 4))
    real_append = audit.append
    seen = {}

    def failing_append(conn, **entry):
        if entry["entity"] == "review":
            # the review's rows are in (inside the open transaction) when the fault hits
            seen["rows"] = conn.execute("SELECT count(*) FROM scores WHERE review_id = 'rv-faulty'").fetchone()[0]
            raise RuntimeError("power cut while writing the audit entry")
        return real_append(conn, **entry)

    monkeypatch.setattr("rapportkit.store.audit.append", failing_append)
    with pytest.raises(RuntimeError, match="power cut"):
        store.save_review(review)
    monkeypatch.setattr("rapportkit.store.audit.append", real_append)

    assert seen["rows"] == 27  # 9 practices × 3 roles were written before the fault
    assert row_counts(store.url or store.path, "rv-faulty") == {t: 0 for t in REVIEW_TABLES}
    assert store.conn.execute("SELECT count(*) FROM sessions WHERE id = ?", (review.session.id,)).fetchone()[0] == 0
    assert audit_count(store) == audit_before
    assert not store.conn.in_transaction
    # the store is still usable and intact
    assert store.save_review(review) is True
    assert store.review("rv-faulty") == review
    assert store.check() == []


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_a_real_sqlite_failure_mid_save_leaves_nothing(store, make_review):
    conn = raw_connect(store.path)
    conn.execute("CREATE TRIGGER goals_fail BEFORE INSERT ON goals"
                 " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    conn.close()
    audit_before = audit_count(store)
    review = make_review(review_id="rv-fire", goals=[goal("g-1"), goal("g-2", "boundaries")],
                         traps={"dominating"})
    with pytest.raises(sqlite3.DatabaseError, match="disk on fire"):
        store.save_review(review)
    assert row_counts(store.url or store.path, "rv-fire") == {t: 0 for t in REVIEW_TABLES}
    assert audit_count(store) == audit_before
    assert not store.conn.in_transaction
    # a review without goals still saves afterwards
    ok = make_review(review_id="rv-ok")
    assert store.save_review(ok) is True and store.review("rv-ok") == ok


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_a_failure_that_rolls_back_by_itself_still_reports_the_original_error(store, make_review):
    conn = raw_connect(store.path)
    conn.execute("CREATE TRIGGER traps_fail BEFORE INSERT ON traps"
                 " BEGIN SELECT RAISE(ROLLBACK, 'trap table unavailable'); END")
    conn.close()
    with pytest.raises(sqlite3.IntegrityError, match="trap table unavailable"):
        store.save_review(make_review(review_id="rv-rb", traps={"judgement"}))
    assert row_counts(store.url or store.path, "rv-rb") == {t: 0 for t in REVIEW_TABLES}
    assert store.save_review(make_review(review_id="rv-after")) is True


def test_save_many_is_all_or_nothing(store, make_review):
    good = make_review(review_id="rv-good")
    bad = make_review(review_id="rv-bad", supervisor="sv-404")
    newcomer = Person("sp-new", "Lark Dimmock", "specialist", supervisor_id="sv-1")
    with pytest.raises(ValidationError):
        store.save_many(people=[newcomer], reviews=[good, bad])
    assert store.counts()["reviews"] == 0
    assert "sp-new" not in {p.id for p in store.people()}


# ============================================================================ signed is final


def test_signed_review_cannot_be_edited(store, make_review):
    signed = make_review(review_id="rv-s", traps={"dominating"})
    store.save_review(signed)
    audit_before, rows_before = audit_count(store), row_counts(store.url or store.path, "rv-s")
    changed = [
        dataclasses.replace(signed, traps=frozenset()),
        dataclasses.replace(signed, consensus=signed.consensus.with_score("empathy", 1, "changed")),
        dataclasses.replace(signed, status=ReviewStatus.AGREED, supervisor_signed_at=None),
        dataclasses.replace(signed, review_date=dt.date(2026, 3, 11)),
    ]
    for copy in changed:
        with pytest.raises(ReviewStateError, match="signed and cannot be changed"):
            store.save_review(copy)
    assert store.review("rv-s") == signed
    assert row_counts(store.url or store.path, "rv-s") == rows_before
    assert audit_count(store) == audit_before


def test_session_of_a_signed_review_cannot_be_changed(store, make_review):
    signed = make_review(review_id="rv-s")
    store.save_review(signed)
    with pytest.raises(ValidationError, match="belongs to a review"):
        store.save_session(dataclasses.replace(signed.session, duration_min=90))
    assert store.session(signed.session.id) == signed.session


def test_session_of_an_unsigned_review_can_be_corrected(store, make_review):
    draft = make_review("draft", review_id="rv-fix")
    store.save_review(draft)
    corrected = dataclasses.replace(draft, session=dataclasses.replace(draft.session, duration_min=90,
                                                                       modality="video"))
    assert store.save_review(corrected) is True
    assert store.review("rv-fix") == corrected
    assert store.session(draft.session.id).duration_min == 90
    assert [e.action for e in store.audit_log("session", draft.session.id)] == ["create", "update"]
    assert store.check() == []
    # ...but not through another review, nor on its own
    with pytest.raises(ValidationError, match="belongs to a review"):
        store.save_session(dataclasses.replace(corrected.session, duration_min=60))


def test_unsigned_review_can_be_saved_as_it_progresses(store, make_review, rubric):
    draft = make_review("draft", review_id="rv-p")
    assert store.save_review(draft) is True
    revealed = model.reveal(draft, rubric)
    assert store.save_review(revealed) is True
    assert store.review("rv-p").status is ReviewStatus.REVEALED
    actions = [e.action for e in store.audit_log("review", "rv-p#1")]
    assert actions == ["create", "update"]


def test_amendment_keeps_history(store, make_review, rubric):
    signed = make_review(review_id="rv-a")
    store.save_review(signed)
    amended = model.amend(signed, "Consensus for empathy was entered as 3; we agreed 2.")
    store.save_review(amended)
    fixed = model.agree(amended, signed.consensus.with_score("empathy", 2, "Re-watched the recording."), rubric)
    resigned = model.sign(model.sign(fixed, "specialist"), "supervisor")
    store.save_review(resigned)

    history = store.history("rv-a")
    assert [r.revision for r in history] == [1, 2]
    assert history[0] == signed
    assert history[1] == resigned
    assert store.review("rv-a") == resigned
    assert store.review("rv-a", 1).consensus.scores["empathy"] == 3
    amend_entries = [e for e in store.audit_log("review") if e.action == "amend"]
    assert len(amend_entries) == 1
    assert amend_entries[0].entity_id == "rv-a#2"
    assert amend_entries[0].reason == "Consensus for empathy was entered as 3; we agreed 2."
    assert [e.action for e in store.audit_log("review", "rv-a#2")] == ["amend", "sign"]
    assert store.check() == []
    # frames show only the latest revision by default
    assert set(reviews_frame(store)["revision"]) == {2}


def test_saving_an_old_revision_after_a_newer_exists_is_refused(store, make_review):
    signed = make_review(review_id="rv-o")
    store.save_review(signed)
    amended = model.amend(signed, "Wrong date.")
    store.save_review(amended)
    stale = dataclasses.replace(signed, traps=frozenset({"judgement"}))
    with pytest.raises(ReviewStateError):
        store.save_review(stale)
    assert store.history("rv-o") == [signed, amended]


def test_a_revision_must_follow_a_signed_one_and_carry_a_reason(store, make_review):
    agreed = make_review("agreed", review_id="rv-n")
    store.save_review(agreed)
    with pytest.raises(ReviewStateError, match="must follow a signed revision 1"):
        store.save_review(dataclasses.replace(agreed, revision=2, status="amended", amend_reason="x"))
    with pytest.raises(ReviewStateError, match="must follow a signed revision 2"):
        store.save_review(dataclasses.replace(agreed, revision=3, status="amended", amend_reason="x"))
    signed = make_review(review_id="rv-m")
    store.save_review(signed)
    with pytest.raises(ReviewStateError, match="needs a reason"):
        store.save_review(dataclasses.replace(signed, revision=2, status="amended",
                                              specialist_signed_at=None, supervisor_signed_at=None))
    assert [r.revision for r in store.history("rv-n")] == [1]
    assert [r.revision for r in store.history("rv-m")] == [1]


def test_saving_the_same_review_twice_writes_one_audit_entry(store, make_review):
    review = make_review(review_id="rv-dc", goals=[goal("g-1")])
    before = audit_count(store)
    assert store.save_review(review) is True
    assert store.save_review(review) is False
    assert store.save_review(Review.from_dict(review.to_dict())) is False
    # one for the new session, one for the review
    assert audit_count(store) == before + 2
    assert [e.action for e in store.audit_log("review", "rv-dc#1")] == ["create"]


def test_audit_entry_records_who_what_and_the_record(store, make_review):
    review = make_review(review_id="rv-au")
    store.save_review(review)
    (entry,) = store.audit_log("review", "rv-au#1")
    assert entry.actor == store.actor and entry.action == "create" and entry.before is None
    if store.dialect == "sqlite":
        assert Review.from_dict(json.loads(entry.after)) == review
    else:  # a team database logs the content's hash (the saver may not see all of it), as the database computed it
        assert json.loads(entry.after) == {"content_sha256": model.content_digest(review), "status": "signed"}


# ============================================================================ the audit chain


@pytest.fixture
def audited(store, make_review):
    for i in range(3):
        store.save_review(make_review(review_id=f"rv-{i}", specialist=f"sp-{i + 1}",
                                      supervisor="sv-2" if i == 2 else "sv-1"))
    assert store.check() == []
    assert audit_count(store) >= 8
    return store


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_triggers_refuse_update_and_delete_on_the_audit_log(audited):
    conn = raw_connect(audited.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            audited.conn.execute("DELETE FROM audit")
    finally:
        conn.close()
    assert audited.check() == []


@pytest.mark.parametrize("column, value", [
    ("actor", "'mallory'"), ("at", "'2020-01-01T00:00:00+00:00'"), ("action", "'update'"),
    ("reason", "'no reason'"), ("before", "'{}'"), ("entity_id", "'rv-9#1'"),
])
@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_changing_an_audit_row_is_reported_by_check(audited, column, value):
    conn = raw_connect(audited.path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute(f"UPDATE audit SET {column} = {value} WHERE seq = 3")
    conn.close()
    problems = audited.check()
    assert any(p.startswith("audit entry 3 (") and "altered after it was written" in p for p in problems), problems


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_rewriting_an_audit_row_and_its_hash_breaks_the_chain(audited):
    from rapportkit.audit import AuditEntry

    conn = raw_connect(audited.path)
    conn.execute("DROP TRIGGER audit_no_update")
    row = conn.execute("SELECT * FROM audit WHERE seq = 3").fetchone()
    forged = AuditEntry(*row[:2], "mallory", *row[3:10], "")
    conn.execute("UPDATE audit SET actor = 'mallory', hash = ? WHERE seq = 3", (forged.digest(),))
    conn.close()
    problems = audited.check()
    assert not any(p.startswith("audit entry 3 (") for p in problems)  # its own hash is consistent...
    assert any("audit entry 4 does not follow" in p for p in problems), problems  # ...but the chain is not


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_deleting_a_middle_audit_entry_is_reported_by_check(audited):
    last = audit_count(audited)
    conn = raw_connect(audited.path)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq = 4")
    conn.close()
    assert audit_count(audited) == last - 1
    problems = audited.check()
    assert "audit entries 4–4 are missing (deleted?)" in problems
    assert any("audit entry 5 does not follow" in p for p in problems), problems


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_editing_a_review_row_directly_is_reported_by_check(audited):
    conn = raw_connect(audited.path)
    edit = "UPDATE scores SET note = 'Edited later' WHERE review_id = 'rv-1' AND role = 'self' AND practice_id = 'empathy'"
    with pytest.raises(sqlite3.IntegrityError, match="a signed revision never changes"):
        conn.execute(edit)
    conn.execute("DROP TRIGGER scores_signed_no_update")  # what the trigger cannot stop, check still finds
    conn.execute(edit)
    conn.close()
    assert audited.review("rv-1").self_rating.notes["empathy"] == "Edited later"
    problems = audited.check()
    assert problems == ["review rv-1#1 differs from its last audit entry (changed outside rapportkit?)"]


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_rows_written_outside_rapportkit_are_reported_by_check(audited):
    conn = raw_connect(audited.path)
    conn.execute("INSERT INTO people (id, display_name, role) VALUES ('sp-ghost', 'Ghost', 'specialist')")
    conn.execute("UPDATE people SET display_name = 'Renamed' WHERE id = 'sp-2'")
    conn.close()
    problems = audited.check()
    assert "person sp-ghost has no audit entry (written outside rapportkit?)" in problems
    assert "person sp-2 differs from its last audit entry (changed outside rapportkit?)" in problems


# ============================================================================ read-only


@pytest.fixture
def ro_setup(store, make_review):
    store.save_review(make_review(review_id="rv-ro", goals=[goal("g-ro")]))
    store.save_draft("draft-1", {"typed": "so far"})
    path = store.url or store.path
    store.close()
    return path


WRITES = [
    "INSERT INTO drafts (key, payload, updated_at, updated_by) VALUES ('k', '{}', 'now', 'x')",
    "UPDATE people SET display_name = 'X'",
    "DELETE FROM drafts",
    "REPLACE INTO drafts (key, payload, updated_at, updated_by) VALUES ('draft-1', '{}', 'now', 'x')",
    "INSERT INTO audit SELECT seq + 100, at, actor, action, entity, entity_id, before, after, reason,"
    " prev_hash, hash FROM audit",
    "CREATE TABLE evil (a)",
    "CREATE INDEX evil_idx ON people (display_name)",
    "CREATE VIEW evil_view AS SELECT 1",
    "CREATE TRIGGER evil_tr AFTER INSERT ON people BEGIN SELECT 1; END",
    "CREATE TEMP TABLE scratch (a)",
    "CREATE TEMP VIEW scratch_v AS SELECT 1",
    "DROP TABLE drafts",
    "DROP TRIGGER audit_no_update",
    "ALTER TABLE people ADD COLUMN evil TEXT",
    "PRAGMA user_version = 9",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA query_only = 0",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "DETACH DATABASE main",
]


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_read_only_mode_refuses_every_kind_of_write_at_the_database_level(ro_setup, tmp_path):
    path = ro_setup
    digest = sha256(path)
    ro = Store(path, readonly=True)
    try:
        for sql in WRITES:
            with pytest.raises(sqlite3.DatabaseError):
                ro.conn.execute(sql)
        for target in ("attached.db", "vacuumed.db"):
            sql = (f"ATTACH DATABASE '{tmp_path / target}' AS other" if target == "attached.db"
                   else f"VACUUM INTO '{tmp_path / target}'")
            with pytest.raises(sqlite3.DatabaseError):
                ro.conn.execute(sql)
            assert not (tmp_path / target).exists()
        with pytest.raises(sqlite3.DatabaseError):
            ro.conn.execute("BEGIN IMMEDIATE")
        # the connection still reads after all that
        assert ro.conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
        assert ro.load_draft("draft-1") == {"typed": "so far"}
        assert ro.check() == []
    finally:
        ro.close()
    assert sha256(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("attached", "vacuumed"))) == []


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_read_only_layers_each_refuse_writes_on_their_own(ro_setup, tmp_path):
    """mode=ro, query_only and the attach limit hold even with the authorizer removed."""
    digest = sha256(ro_setup)
    conn = db.connect(ro_setup, readonly=True)
    try:
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) == 0
        conn.set_authorizer(None)
        assert conn.execute("PRAGMA query_only").fetchone()[0] == 1
        with pytest.raises(sqlite3.DatabaseError, match="too many attached"):
            conn.execute(f"ATTACH DATABASE '{tmp_path / 'side.db'}' AS side")
        with pytest.raises(sqlite3.DatabaseError, match="readonly|read-only"):
            conn.execute("DELETE FROM drafts")
        conn.execute("PRAGMA query_only = 0")
        with pytest.raises(sqlite3.DatabaseError, match="readonly|read-only"):
            conn.execute("DELETE FROM drafts")  # mode=ro still refuses
    finally:
        conn.close()
    assert not (tmp_path / "side.db").exists()
    assert sha256(ro_setup) == digest


def test_read_only_store_methods_raise_read_only_error(ro_setup, make_review):
    path = ro_setup
    digest = sha256(path)
    with Store(path, readonly=True) as ro:
        writes = [
            lambda: ro.save_review(make_review(review_id="rv-new")),
            lambda: ro.save_draft("draft-2", {"a": 1}),
            lambda: ro.delete_draft("draft-1"),
            lambda: ro.save_person(Person("sp-9", "Fenna Quickthorn", "specialist")),
            lambda: ro.save_session(Session("se-9", "sp-1", dt.date(2026, 1, 1), "phone", 30, "observed")),
            lambda: ro.save_many(people=team()),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyError, match="read-only"):
                write()
        assert ro.load_draft("draft-1") == {"typed": "so far"}
        assert ro.counts()["reviews"] == 1
    assert sha256(path) == digest
    assert issubclass(ReadOnlyError, PermissionError) and issubclass(ReadOnlyError, StoreError)


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_read_only_transaction_helper_maps_sqlite_refusal_to_read_only_error(ro_setup):
    conn = db.connect(ro_setup, readonly=True)
    try:
        with pytest.raises(ReadOnlyError, match="read-only"):
            with db.transaction(conn):
                pass
    finally:
        conn.close()


def test_reading_works_read_only(ro_setup):
    with Store(ro_setup) as rw:
        expected_ratings, expected_reviews = ratings_frame(rw), reviews_frame(rw)
        expected_review = rw.review("rv-ro")
    with Store(ro_setup, readonly=True) as ro:
        assert ro.review("rv-ro") == expected_review
        assert ratings_frame(ro).equals(expected_ratings)
        assert reviews_frame(ro).equals(expected_reviews)
        assert len(ratings_frame(ro)) == 27


def test_read_only_opens_a_path_with_characters_special_in_uris(tmp_path):
    path = tmp_path / "team data #1 ?mode=rw&x=%20" / "rk.db"
    with Store(path) as s:
        s.save_many(people=team())
    with Store(path, readonly=True) as ro:
        assert ro.counts()["people"] == 5
        assert ro.conn.execute("PRAGMA database_list").fetchone()[2] == str(path)
        with pytest.raises(sqlite3.DatabaseError):
            ro.conn.execute("DELETE FROM people")


def test_opening_a_missing_database_read_only_creates_nothing(tmp_path):
    missing = tmp_path / "no" / "such" / "rk.db"
    with pytest.raises(StoreError, match="there is no database at"):
        Store(missing, readonly=True)
    assert not missing.exists()
    assert not (tmp_path / "no").exists()
    with pytest.raises(StoreError):
        Store(tmp_path / "rk.db", readonly=True)
    assert list(tmp_path.iterdir()) == []


def test_read_only_refuses_a_database_that_needs_migrating(tmp_path):
    path = tmp_path / "v1.db"
    conn = db.connect(path)
    migrations.migrate(conn, path, upto=1)
    conn.close()
    digest = sha256(path)
    with pytest.raises(StoreError, match="needs migrating"):
        Store(path, readonly=True)
    assert sha256(path) == digest


# ============================================================================ schema versions


def make_v1_database(path: Path) -> None:
    """A version-1 database (goals have no target) holding one signed review."""
    conn = db.connect(path)
    assert migrations.migrate(conn, path, upto=1) is None  # new file: no backup needed
    assert migrations.schema_version(conn) == 1
    conn.executescript(textwrap.dedent("""
        BEGIN;
        INSERT INTO people VALUES ('sv-1', 'Wren Hollowbrook', 'supervisor', NULL, 1);
        INSERT INTO people VALUES ('sp-1', 'Tansy Millwheel', 'specialist', 'sv-1', 1);
        INSERT INTO sessions VALUES ('se-1', 'sp-1', '2024-02-01', 'phone', 45, 'observed', 'S-0001');
        INSERT INTO reviews VALUES ('rv-old', 1, 'se-1', 'sv-1', '2024-02-03', 'signed', 'peer-rapport', '1.0',
            '2024-02-03T16:00:00+00:00', '2024-02-03T16:05:00+00:00', NULL, '2024-02-03T16:05:00+00:00', 'legacy');
        INSERT INTO ratings VALUES ('rv-old', 1, 'self', 'sp-1', 'peer-rapport', '1.0');
        INSERT INTO ratings VALUES ('rv-old', 1, 'supervisor', 'sv-1', 'peer-rapport', '1.0');
        INSERT INTO ratings VALUES ('rv-old', 1, 'consensus', 'sv-1', 'peer-rapport', '1.0');
        INSERT INTO scores VALUES ('rv-old', 1, 'self', 'empathy', 1, 3, '');
        INSERT INTO scores VALUES ('rv-old', 1, 'self', 'boundaries', 1, NULL, '');
        INSERT INTO scores VALUES ('rv-old', 1, 'supervisor', 'empathy', 1, 2, '');
        INSERT INTO scores VALUES ('rv-old', 1, 'supervisor', 'boundaries', 1, NULL, '');
        INSERT INTO scores VALUES ('rv-old', 1, 'consensus', 'empathy', 1, 2, 'Old note');
        INSERT INTO scores VALUES ('rv-old', 1, 'consensus', 'boundaries', 1, NULL, '');
        INSERT INTO goals VALUES ('rv-old', 1, 'g-old', 'empathy', 'Name the feeling', 'Practise', '2024-03-01');
        COMMIT;
    """))
    conn.close()


def test_an_older_schema_migrates_with_a_backup(tmp_path):
    path = tmp_path / "rk.db"
    make_v1_database(path)
    with Store(path, rubric=RUBRIC) as s:
        assert migrations.schema_version(s.conn) == migrations.SCHEMA_VERSION == 6
        review = s.review("rv-old")
        assert review.status is ReviewStatus.SIGNED
        assert dict(review.consensus.scores) == {"boundaries": None, "empathy": 2}
        assert review.consensus.notes == {"empathy": "Old note"}
        assert review.goals[0].target == 3 and review.goals[0].text == "Name the feeling"
        assert review.specialist_signed_at == dt.datetime(2024, 2, 3, 16, 0, tzinfo=dt.timezone.utc)
        backup = s.migration_backup
        # the migrated schema has the append-only triggers
        triggers = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"audit_no_update", "audit_no_delete", "rubrics_no_update", "reviews_signed_no_update",
                "scores_signed_no_delete"} <= triggers
        assert s.version("rv-old").number == 1  # every stored revision starts at version 1
    assert backup is not None and backup.parent == path.parent
    assert backup.name.startswith("rk.db.v1-") and backup.suffix == ".bak"
    assert list(tmp_path.glob("*.bak")) == [backup]
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "target" not in [r[1] for r in conn.execute("PRAGMA table_info(goals)")]
        assert conn.execute("SELECT review_id FROM reviews").fetchall() == [("rv-old",)]
    finally:
        conn.close()
    # opening again migrates nothing and takes no second backup
    with Store(path, rubric=RUBRIC) as again:
        assert again.migration_backup is None
    assert len(list(tmp_path.glob("*.bak"))) == 1


def test_a_new_database_gets_the_current_schema_without_a_backup(tmp_path):
    with Store(tmp_path / "deep" / "rk.db") as s:
        assert migrations.schema_version(s.conn) == migrations.SCHEMA_VERSION == 6
        assert s.migration_backup is None
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert list((tmp_path / "deep").glob("*.bak")) == []
    assert (tmp_path / "deep" / "rk.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_a_newer_schema_is_refused_and_left_unchanged(store):
    path = store.path
    store.close()
    conn = raw_connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    digest = sha256(path)
    with pytest.raises(SchemaVersionError) as err:
        Store(path)
    assert "schema version 99" in str(err.value)
    assert "Upgrade rapportkit" in str(err.value) and "nothing was changed" in str(err.value)
    with pytest.raises(SchemaVersionError, match="Upgrade"):
        Store(path, readonly=True)
    assert sha256(path) == digest
    assert list(path.parent.glob("*.bak")) == []


def test_a_failure_mid_migration_leaves_the_old_schema(tmp_path, monkeypatch):
    path = tmp_path / "rk.db"
    make_v1_database(path)
    real_v2 = migrations.MIGRATIONS[1]

    def half_v2(conn):
        conn.execute("ALTER TABLE goals ADD COLUMN target INTEGER NOT NULL DEFAULT 3")
        conn.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
                     " BEGIN SELECT RAISE(ABORT, 'x'); END")
        raise RuntimeError("killed half-way through v2")

    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.MIGRATIONS[0], half_v2, *migrations.MIGRATIONS[2:]))
    with pytest.raises(RuntimeError, match="killed half-way"):
        Store(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "target" not in [r[1] for r in conn.execute("PRAGMA table_info(goals)")]
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 1
    finally:
        conn.close()
    # with the real migration back, the next open completes it
    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.MIGRATIONS[0], real_v2, *migrations.MIGRATIONS[2:]))
    with Store(path, rubric=RUBRIC) as s:
        assert migrations.schema_version(s.conn) == migrations.SCHEMA_VERSION
        assert s.review("rv-old").goals[0].target == 3


def test_a_process_killed_mid_migration_leaves_the_old_schema(tmp_path):
    path = tmp_path / "rk.db"
    make_v1_database(path)
    script = textwrap.dedent(f"""
        import os, sys
        from rapportkit import migrations
        from rapportkit.store import Store

        def dying_v2(conn):
            conn.execute("ALTER TABLE goals ADD COLUMN target INTEGER NOT NULL DEFAULT 3")
            conn.execute("UPDATE goals SET text = 'half-migrated'")
            os._exit(9)  # no rollback, no close: as if the kernel were killed

        migrations.MIGRATIONS = (migrations.MIGRATIONS[0], dying_v2)
        Store({str(path)!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert done.returncode == 9, done.stderr.decode()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "target" not in [r[1] for r in conn.execute("PRAGMA table_info(goals)")]
        assert conn.execute("SELECT text FROM goals").fetchall() == [("Name the feeling",)]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


# ============================================================================ network filesystems


def mounts(tmp_path: Path, fstype: str, *, root: str = "ext4") -> str:
    where = os.path.realpath(tmp_path)
    table = tmp_path / f"mounts-{fstype}"
    table.write_text(
        f"/dev/sda1 / {root} rw,relatime 0 0\n"
        "proc /proc proc rw,nosuid 0 0\n"
        f"fileserver:/export/home {where} {fstype} rw,relatime,vers=4.2 0 0\n"
    )
    return str(table)


@pytest.mark.parametrize("fstype", ["nfs4", "nfs", "cifs", "fuse.sshfs"])
def test_network_filesystem_is_refused_for_writing(tmp_path, fstype):
    path = tmp_path / "rk.db"
    with pytest.raises(NetworkFilesystemError) as err:
        Store(path, mounts_file=mounts(tmp_path, fstype))
    assert "network filesystem" in str(err.value) and fstype in str(err.value)
    assert "local disk" in str(err.value)
    assert not path.exists()


@pytest.mark.parametrize("fstype", ["ext4", "overlay", "xfs", "tmpfs"])
def test_local_filesystem_is_accepted(tmp_path, fstype):
    with Store(tmp_path / "rk.db", mounts_file=mounts(tmp_path, fstype, root="nfs4")) as s:
        s.save_many(people=team())
        assert s.counts()["people"] == 5


def test_read_only_on_a_network_filesystem_is_allowed(tmp_path):
    path = tmp_path / "rk.db"
    with Store(path, mounts_file=mounts(tmp_path, "ext4")) as s:
        s.save_many(people=team())
    with Store(path, readonly=True, mounts_file=mounts(tmp_path, "nfs4")) as ro:
        assert ro.counts()["people"] == 5


def test_deepest_mount_decides(tmp_path):
    table = mounts(tmp_path, "nfs4")
    assert db.network_filesystem(tmp_path / "rk.db", table) == "nfs4"
    assert db.network_filesystem("/somewhere/else/rk.db", table) is None
    assert db.network_filesystem(tmp_path / "rk.db", str(tmp_path / "no-such-mounts")) is None


# ============================================================================ drafts


def test_drafts_round_trip_and_survive_a_restarted_kernel(store):
    payload = {"review_id": "rv-1", "scores": {"empathy": 3, "boundaries": None},
               "notes": {"empathy": 'Said "ok" <b>✓</b>'}, "step": 2}
    audit_before = audit_count(store)
    store.save_draft("sp-1/rv-1", payload)
    assert store.load_draft("sp-1/rv-1") == payload
    assert audit_count(store) == audit_before  # drafts are not audited
    restarted = Store(store.url or store.path, actor="tester")
    try:
        assert restarted.load_draft("sp-1/rv-1") == payload
        restarted.save_draft("sp-1/rv-1", {**payload, "step": 3})
    finally:
        restarted.close()
    assert store.load_draft("sp-1/rv-1")["step"] == 3
    assert store.load_draft("nope") is None
    store.delete_draft("sp-1/rv-1")
    assert store.load_draft("sp-1/rv-1") is None


def test_draft_keys_are_checked(store):
    for key in ("", "k" * 201, None):
        with pytest.raises(ValidationError, match="draft key"):
            store.save_draft(key, {})


# ============================================================================ concurrency


def test_concurrent_writers_lose_nothing(store):
    path = str(store.url or store.path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=save_batch, args=(path, w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert store.counts()["reviews"] == 100
    assert len(store.reviews()) == 100
    # SQLite records the actor each process names; PostgreSQL the role each connected as
    workers = {f"worker-{w}" for w in range(4)} if store.dialect == "sqlite" else {store.actor}
    assert {e.actor for e in store.audit_log("review")} == workers
    assert store.check() == []


# ============================================================================ backup


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_backup_makes_a_copy_that_opens_and_passes_check(store, make_review, tmp_path):
    store.save_review(make_review(review_id="rv-b", goals=[goal("g-1")]))
    dest = store.backup(tmp_path / "backups" / "copy.db")
    assert dest == tmp_path / "backups" / "copy.db" and dest.is_file()
    with Store(dest, readonly=True) as copy:
        assert copy.check() == []
        assert copy.counts() == store.counts()
        assert copy.review("rv-b") == store.review("rv-b")


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_backup_refuses_to_overwrite(store, tmp_path):
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"precious")
    with pytest.raises(StoreError, match="exists already"):
        store.backup(dest)
    assert dest.read_bytes() == b"precious"


# ============================================================================ open goals


def test_open_goals_can_leave_out_the_review_in_progress(store, make_review):
    """A meeting in progress that sets goals and gives verdicts must still be asked about
    the earlier goals, and must not be asked about its own new goals."""
    store.save_review(make_review(review_id="rv-old", goals=[goal("g-old")]))
    in_progress = make_review(
        "agreed", review_id="rv-now", review_date=dt.date(2026, 4, 20),
        goals=[goal("g-new", follow_up=dt.date(2026, 5, 20))], goal_updates=[GoalUpdate("g-old", "met")],
    )
    store.save_review(in_progress)
    assert [g.id for g, _ in store.open_goals("sp-1")] == ["g-new"]
    assert [(g.id, rid) for g, rid in store.open_goals("sp-1", exclude_review="rv-now")] == [("g-old", "rv-old")]


def test_a_carried_goal_stays_open_until_a_final_verdict(store, make_review):
    store.save_review(make_review(review_id="rv-1", review_date=dt.date(2026, 3, 10), goals=[goal("g-1")]))
    store.save_review(make_review(review_id="rv-2", review_date=dt.date(2026, 4, 10),
                                  goal_updates=[GoalUpdate("g-1", "carried", "Not yet: try again.")]))
    assert [g.id for g, _ in store.open_goals("sp-1")] == ["g-1"]
    store.save_review(make_review(review_id="rv-3", review_date=dt.date(2026, 5, 10),
                                  goal_updates=[GoalUpdate("g-1", "dropped")]))
    assert store.open_goals("sp-1") == []
