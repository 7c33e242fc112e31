"""The team's PostgreSQL store, used as its people use it: each connects as their own
database role (``user=LOGIN`` on the test cluster's socket, which is what peer
authentication gives each OS account), and the database decides what they see and do.

The raw-SQL access matrix (every role x every table x every verb) is in
``test_team_access.py``; these tests go through rapportkit's Store and command line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from conftest import all_scores, new_pg_database
from rapportkit import model, pg_schema
from rapportkit.errors import AccessError, RapportkitError, ConflictError, ReviewStateError, SchemaVersionError, StoreError
from rapportkit.model import Person, PersonRole, Rating, RaterRole, ReviewStatus, Session
from rapportkit.pg_schema import MEANING
from rapportkit.store import Store

ROOT = Path(__file__).resolve().parents[1]
TEAM = (
    Person("sv-a", "Wren Hollowbrook", "supervisor", login="pt_sva"),
    Person("sv-b", "Perrin Ashgrove", "supervisor", login="pt_svb"),
    Person("sp-a", "Tansy Millwheel", "specialist", "sv-a", login="pt_spa"),
    Person("sp-b", "Corvin Bracken", "specialist", "sv-b", login="pt_spb"),
    Person("ld-a", "Isolde Fernwhistle", "lead", login="pt_lead"),
    Person("ad-a", "Bram Quillfeather", "admin", login="pt_admin"),
)


@pytest.fixture
def team_db(pg_cluster, rubric):
    """A fresh team database with the TEAM (logins given their roles) set up by the installer."""
    url = new_pg_database(pg_cluster)
    with Store(url, rubric=rubric) as installer:
        installer.save_many(people=TEAM[:2])
        installer.save_many(people=TEAM[2:])
    return url


def as_login(url: str, login: str) -> str:
    return url.replace("user=postgres", f"user={login}")


def connect(url: str, login: str, rubric) -> Store:
    return Store(as_login(url, login), rubric=rubric)


def rated(review, rater, role, rubric, value=3, **over):
    return model.with_rating(review, Rating(rater, role, all_scores(rubric, value, **over), {}, rubric.id,
                                            rubric.version), rubric)


def new_session(specialist="sp-a", n=1):
    return Session(f"se-t{n}", specialist, dt.date(2026, 11, 30), "video", 40, "observed", f"S-{n}00")


def test_each_person_is_their_database_role(team_db, rubric):
    with connect(team_db, "pt_spa", rubric) as mine:
        assert mine.actor == "pt_spa"
        assert mine.me() == TEAM[2]
        # a specialist sees themselves and their supervisor, nobody else
        assert {p.id for p in mine.people()} == {"sp-a", "sv-a"}
    with connect(team_db, "pt_lead", rubric) as lead:
        assert lead.me().role is PersonRole.LEAD
    with Store(team_db, rubric=rubric) as installer:
        assert installer.me() is None  # the installer is nobody on the roster


def test_the_meeting_across_two_kernels_is_blind_until_reveal_and_signed_by_each(team_db, rubric):
    spec, sup = connect(team_db, "pt_spa", rubric), connect(team_db, "pt_sva", rubric)
    try:
        # the specialist self-rates before the meeting, in their own kernel
        draft = model.new_review(new_session(), "sv-a", rubric, review_date=dt.date(2026, 12, 1), review_id="rv-t1")
        spec.save_review(rated(draft, "sp-a", RaterRole.SELF, rubric, 4, empathy=2))
        # the supervisor's kernel loads the review: the self-rating is withheld by the database
        theirs = sup.review("rv-t1")
        assert theirs.self_rating is None
        sup.save_review(rated(theirs, "sv-a", RaterRole.SUPERVISOR, rubric, 3))
        assert spec.review("rv-t1").supervisor_rating is None  # blind the other way too
        # not even by hand: the rows are not there for them, to read or to delete
        assert sup.conn.execute("SELECT count(*) FROM scores WHERE role = 'self'").fetchone()[0] == 0
        sup.conn.execute("DELETE FROM scores WHERE role = 'self'")
        assert len(spec.review("rv-t1").self_rating.scores) == len(rubric.practice_ids)
        # reveal is the database's step, open to either party once both are complete
        revealed = spec.reveal("rv-t1")
        assert revealed.status is ReviewStatus.REVEALED
        both = sup.review("rv-t1")
        assert both.self_rating.scores["empathy"] == 2 and both.supervisor_rating.scores["empathy"] == 3
        consensus = Rating("sv-a", RaterRole.CONSENSUS, all_scores(rubric, 3),
                           {p: "Talked it through." for p in rubric.practice_ids}, rubric.id, rubric.version)
        # the supervisor records the meeting's length and kind: lines of the signed content
        sup.save_review(model.with_meeting(model.agree(both, consensus, rubric), minutes=55, kind="individual"))
        # each signs from their own login; nobody can sign for the other
        agreed = spec.review("rv-t1")
        with pytest.raises(AccessError, match="may sign"):
            spec.save_review(model.sign(agreed, PersonRole.SUPERVISOR))
        spec.save_review(model.sign(spec.review("rv-t1"), PersonRole.SPECIALIST))
        half = sup.review("rv-t1")
        assert half.status is ReviewStatus.AGREED and half.specialist_signed_at is not None
        sup.save_review(model.sign(half, PersonRole.SUPERVISOR))
        final = spec.review("rv-t1")
        assert final.status is ReviewStatus.SIGNED
        signatures = spec.signatures("rv-t1")
        assert [(s.role, s.printed_name, s.signer_login, s.kind, s.meaning) for s in signatures] == [
            (PersonRole.SPECIALIST, "Tansy Millwheel", "pt_spa", "signed", MEANING),
            (PersonRole.SUPERVISOR, "Wren Hollowbrook", "pt_sva", "signed", MEANING)]
        assert all(s.verified and s.content_sha256 == model.content_digest(final) for s in signatures)
        assert "meeting_minutes|55" in model.content_lines(final)  # the database's digest covered it too
        assert "signed in the team database by login pt_spa" in signatures[0].describe()
        # a signed record never changes, whoever asks; a correction is an amendment, by the supervisor
        with pytest.raises(ReviewStateError):
            sup.save_review(model.with_details(final, rubric, traps=[rubric.trap_ids[0]]))
        amended = model.amend(final, "The empathy consensus was entered as 3; we agreed 2.")
        forged = dataclasses.replace(amended, self_rating=amended.self_rating.with_score("empathy", 4))
        with pytest.raises(ReviewStateError, match="keeps the blind ratings"):
            sup.save_review(forged)  # the specialist's own rating is not the supervisor's to rewrite
        sup.save_review(amended)
        fixed = model.agree(sup.review("rv-t1"), consensus.with_score("empathy", 2, "Re-watched it."), rubric)
        sup.save_review(fixed)
        spec.save_review(model.sign(spec.review("rv-t1"), PersonRole.SPECIALIST))
        sup.save_review(model.sign(sup.review("rv-t1"), PersonRole.SUPERVISOR))
        assert [r.status for r in spec.history("rv-t1")] == [ReviewStatus.SIGNED, ReviewStatus.SIGNED]
    finally:
        spec.close()
        sup.close()
    with Store(team_db, rubric=rubric) as installer:
        assert installer.check() == []
        actors = {e.actor for e in installer.audit_log("review", "rv-t1#1") + installer.audit_log("review", "rv-t1#2")}
        assert actors == {"pt_spa", "pt_sva"}


def test_a_change_after_one_signature_voids_it(team_db, rubric):
    with Store(team_db, rubric=rubric) as installer:
        draft = model.new_review(new_session(n=2), "sv-a", rubric, review_date=dt.date(2026, 12, 1), review_id="rv-t2")
        both = rated(rated(draft, "sp-a", RaterRole.SELF, rubric), "sv-a", RaterRole.SUPERVISOR, rubric)
        installer.save_review(both)
    spec, sup = connect(team_db, "pt_spa", rubric), connect(team_db, "pt_sva", rubric)
    try:
        sup.reveal("rv-t2")
        r = sup.review("rv-t2")
        sup.save_review(model.agree(r, Rating("sv-a", RaterRole.CONSENSUS, all_scores(rubric, 3), {},
                                              rubric.id, rubric.version), rubric))
        spec.save_review(model.sign(spec.review("rv-t2"), PersonRole.SPECIALIST))
        assert len(sup.signatures("rv-t2")) == 1
        changed = model.with_details(sup.review("rv-t2"), rubric, traps=[rubric.trap_ids[0]])
        assert changed.specialist_signed_at is None  # the model clears it; the database voids its row
        sup.save_review(changed)
        assert sup.signatures("rv-t2") == [] and sup.review("rv-t2").specialist_signed_at is None
        with Store(team_db, rubric=rubric) as installer:
            voided = installer.conn.execute("SELECT count(*) FROM signatures WHERE voided_at IS NOT NULL").fetchone()
            assert voided[0] == 1 and installer.check() == []
    finally:
        spec.close()
        sup.close()


@pytest.mark.parametrize("change", ["review_date = '2026-12-03'", "amend_reason = 'typed by hand'"])
def test_a_change_of_the_review_row_after_one_signature_voids_it(team_db, rubric, change):
    """The review row's date and reason are signed content too (``model.content_lines``):
    changed by hand in the supervisor's own kernel, the specialist's signature is void."""
    with Store(team_db, rubric=rubric) as installer:
        draft = model.new_review(new_session(n=4), "sv-a", rubric, review_date=dt.date(2026, 12, 1), review_id="rv-t4")
        installer.save_review(rated(rated(draft, "sp-a", RaterRole.SELF, rubric), "sv-a", RaterRole.SUPERVISOR, rubric))
    spec, sup = connect(team_db, "pt_spa", rubric), connect(team_db, "pt_sva", rubric)
    try:
        sup.reveal("rv-t4")
        sup.save_review(model.agree(sup.review("rv-t4"), Rating("sv-a", RaterRole.CONSENSUS, all_scores(rubric, 3), {},
                                                                rubric.id, rubric.version), rubric))
        spec.save_review(model.sign(spec.review("rv-t4"), PersonRole.SPECIALIST))
        assert sup.review("rv-t4").specialist_signed_at is not None
        with psycopg.connect(as_login(team_db, "pt_sva"), autocommit=True) as raw:
            assert raw.execute(f"UPDATE reviews SET {change} WHERE review_id = 'rv-t4'").rowcount == 1
        assert sup.signatures("rv-t4") == [] and sup.review("rv-t4").specialist_signed_at is None
        with Store(team_db, rubric=rubric) as installer:
            # the hand edit is reported; no signature stays in force over content it did not sign
            assert installer.check() == ["review rv-t4#1 differs from its last audit entry (changed outside rapportkit?)"]
    finally:
        spec.close()
        sup.close()


def test_a_stale_signature_is_refused_by_the_database(team_db, rubric):
    with Store(team_db, rubric=rubric) as installer:
        draft = model.new_review(new_session(n=3), "sv-a", rubric, review_date=dt.date(2026, 12, 1), review_id="rv-t3")
        both = rated(rated(draft, "sp-a", RaterRole.SELF, rubric), "sv-a", RaterRole.SUPERVISOR, rubric)
        agreed = model.agree(model.reveal(both, rubric), Rating("sv-a", RaterRole.CONSENSUS, all_scores(rubric, 3), {},
                                                                rubric.id, rubric.version), rubric)
        installer.save_review(agreed)
    with connect(team_db, "pt_spa", rubric) as spec:
        opened = spec.review("rv-t3")
        with connect(team_db, "pt_sva", rubric) as sup:
            sup.save_review(model.with_details(sup.review("rv-t3"), rubric, traps=[rubric.trap_ids[1]]))
        # signing what was on screen, not what is saved: the store refuses the stale save
        with pytest.raises(ConflictError, match="changed by pt_sva"):
            spec.save_review(model.sign(opened, PersonRole.SPECIALIST))
        # and the database refuses a hash that is not the content's, whatever the client
        with pytest.raises(ConflictError, match="not the record saved"):
            spec.conn.execute("INSERT INTO signatures (review_id, revision, role, content_sha256) VALUES (?, ?, ?, ?)",
                              ("rv-t3", 1, "specialist", model.content_digest(opened)))
        assert spec.signatures("rv-t3") == []


def test_a_specialist_cannot_write_another_specialists_record(team_db, rubric):
    with connect(team_db, "pt_spa", rubric) as spec:
        other = model.new_review(new_session("sp-b", n=4), "sv-b", rubric, review_date=dt.date(2026, 12, 1),
                                 review_id="rv-t4")
        with pytest.raises(RapportkitError, match="not a (specialist|supervisor) in the team"):
            spec.save_review(rated(other, "sp-b", RaterRole.SELF, rubric))  # they cannot even see sp-b
        # by hand, the database refuses the row itself
        with pytest.raises(AccessError, match="not yours to make"):
            spec.conn.execute("INSERT INTO sessions (id, specialist_id, session_date, modality, duration_min, source)"
                              " VALUES ('se-x', 'sp-b', '2026-12-01', 'video', 30, 'observed')")
        assert spec.reviews() == []
    with Store(team_db, rubric=rubric) as installer:
        assert installer.counts()["sessions"] == 0


def test_the_self_rating_form_picks_the_connected_specialist(team_db, rubric):
    from rapportkit.ui import SelfRatingForm

    with connect(team_db, "pt_spa", rubric) as mine:
        assert SelfRatingForm(mine).picker.specialist.value == "sp-a"


def test_the_lead_reads_aggregates_only(team_db, rubric):
    from rapportkit.demo import load_demo

    with Store(team_db, rubric=rubric) as installer:
        load_demo(installer)
    with connect(team_db, "pt_lead", rubric) as lead:
        with pytest.raises(AccessError, match="may not do this"):
            lead.reviews()  # not theirs to read: refused by the grants, said in a sentence
        rows = lead.conn.execute("SELECT specialist_id, practice_id, reviews, recent_mean, suppressed"
                                 " FROM team_summary").fetchall()
        assert rows and all((n < 3) == suppressed and (mean is None) == suppressed for _, _, n, mean, suppressed in rows)
        with pytest.raises(AccessError):
            lead.conn.execute("SELECT note FROM scores")


def test_check_finds_changes_made_behind_the_triggers(team_db, rubric):
    from rapportkit.demo import load_demo

    with Store(team_db, rubric=rubric) as installer:
        load_demo(installer)
        assert installer.check() == []
        raw = installer.conn.raw
        raw.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        raw.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
        raw.execute("ALTER TABLE audit ENABLE TRIGGER USER")
        raw.execute("ALTER TABLE scores DISABLE TRIGGER USER")
        rid = raw.execute("SELECT review_id FROM reviews WHERE status = 'signed' LIMIT 1").fetchone()[0]
        raw.execute("UPDATE scores SET note = 'edited by hand' WHERE review_id = %s AND role = 'self'", (rid,))
        raw.execute("ALTER TABLE scores ENABLE TRIGGER USER")
        problems = installer.check()
    assert any("audit entry 3" in p and "altered" in p for p in problems), problems
    assert any(f"review {rid} revision 1" in p and "signature does not cover" in p for p in problems), problems
    assert any(f"review {rid}#1 differs from its last audit entry" in p for p in problems), problems


def test_check_finds_a_dropped_policy_or_security_turned_off(team_db, rubric):
    from rapportkit.pg_schema import expected_policies

    assert len(expected_policies()) > 30
    with Store(team_db, rubric=rubric) as installer:
        assert installer.check() == []
        installer.conn.execute("DROP POLICY scores_read ON scores")
        installer.conn.execute("ALTER TABLE reviews NO FORCE ROW LEVEL SECURITY")
        problems = installer.check()
    assert [p.split(";")[0] for p in problems] == [
        "table reviews is not held to row-level security (changed outside rapportkit?)",
        "policy scores_read on scores is missing (dropped outside rapportkit?)"]


def test_only_the_installer_may_check(team_db, rubric):
    with connect(team_db, "pt_admin", rubric) as admin:
        with pytest.raises(AccessError, match="only the installer"):
            admin.check()


def test_a_newer_schema_is_refused_and_nothing_changes(team_db, rubric):
    with psycopg.connect(team_db, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(SchemaVersionError, match="Upgrade rapportkit"):
        Store(team_db, rubric=rubric)


def test_backup_says_to_use_pg_dump(team_db, rubric, tmp_path):
    with Store(team_db, rubric=rubric) as installer:
        with pytest.raises(StoreError, match="pg_dump"):
            installer.backup(tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()


def test_an_unreachable_server_is_a_sentence(tmp_path, rubric):
    with pytest.raises(StoreError, match="could not connect to PostgreSQL"):
        Store(f"postgresql:///nothing?host={tmp_path}", rubric=rubric)


# ------------------------------------------------------------------ the command line


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rapportkit.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def _fingerprint(url: str) -> tuple:
    with psycopg.connect(url, autocommit=True) as conn:
        policies = conn.execute("SELECT tablename, policyname, qual, with_check FROM pg_policies ORDER BY 1, 2").fetchall()
        triggers = conn.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
                                " ORDER BY 1, 2").fetchall()
        grants = conn.execute("SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants"
                              " WHERE table_schema = 'public' ORDER BY 1, 2, 3").fetchall()
        version = conn.execute("SELECT version FROM schema_version").fetchall()
    return policies, triggers, grants, version


def test_team_init_is_idempotent_and_demo_and_check_work(pg_cluster):
    url = new_pg_database(pg_cluster)
    first = cli("team", "init", "--db", url)
    assert first.returncode == 0 and f"schema version {pg_schema.SCHEMA_VERSION}" in first.stdout, first.stderr
    before = _fingerprint(url)
    assert before[0] and before[1] and before[2]
    again = cli("team", "init", "--db", url)
    assert again.returncode == 0, again.stderr
    assert _fingerprint(url) == before
    demo = cli("demo", "--db", url)
    assert demo.returncode == 0 and "demo team written" in demo.stdout, demo.stderr
    check = cli("check", "--db", url)
    assert check.returncode == 0 and "ok" in check.stdout, check.stdout + check.stderr


def test_the_roster_from_the_command_line(backend, pg_cluster, tmp_path):  # on both backends
    db = new_pg_database(pg_cluster) if backend == "postgresql" else str(tmp_path / "rk.db")
    ok = [cli("init", "--db", db) if backend == "sqlite" else cli("team", "init", "--db", db),
          cli("people", "add", "--db", db, "sv-9", "--name", "Marlo Thistledown", "--role", "supervisor",
              "--login", "pt_marlo"),
          cli("people", "add", "--db", db, "sp-9", "--name", "Juniper Quayle", "--role", "specialist"),
          cli("people", "edit", "--db", db, "sp-9", "--login", "pt_juniper"),
          cli("assign", "--db", db, "sv-9", "sp-9")]
    assert [r.returncode for r in ok] == [0] * 5, [r.stderr for r in ok]
    listed = cli("people", "list", "--db", db)
    assert "sp-9  Juniper Quayle  specialist  login=pt_juniper  supervisor=sv-9 (Marlo Thistledown)" in listed.stdout
    refused = {
        "duplicate": cli("people", "add", "--db", db, "sp-9", "--name", "Someone Else", "--role", "specialist"),
        "login taken": cli("people", "add", "--db", db, "sp-8", "--name", "Fenna Quickthorn", "--role", "specialist",
                           "--login", "pt_juniper"),
        "unknown id": cli("assign", "--db", db, "sv-9", "sp-404"),
        "not a supervisor": cli("assign", "--db", db, "sp-9", "sp-9"),
        "bad login": cli("people", "add", "--db", db, "sp-7", "--name", "Ottilie Brack", "--role", "specialist",
                         "--login", "Robert'); DROP TABLE people;--"),
    }
    for what, result in refused.items():
        assert result.returncode == 2 and "Traceback" not in result.stderr, (what, result.stderr)
    assert "in the team already" in refused["duplicate"].stderr
    assert "login 'pt_juniper' is taken already" in refused["login taken"].stderr
    assert "'sp-404' is not a specialist" in refused["unknown id"].stderr
    assert "'login' must be" in refused["bad login"].stderr
    off = cli("people", "deactivate", "--db", db, "sp-9")
    assert off.returncode == 0 and "inactive" in off.stdout
    if backend == "postgresql":  # the logins are database roles of their groups
        with psycopg.connect(db, autocommit=True) as conn:
            member = conn.execute("SELECT pg_has_role('pt_juniper', 'rk_specialist', 'MEMBER'),"
                                  " pg_has_role('pt_marlo', 'rk_supervisor', 'MEMBER')").fetchone()
        assert member == (True, True)


def test_the_forms_across_two_kernels_meet_at_the_database(team_db, rubric):
    """The specialist self-rates in their kernel; the supervisor's meeting form never sees it
    before the reveal, reveals through the database, agrees; each signs from their own form."""
    from form_helpers import TODAY, fill_goal, rate, record_session
    from rapportkit.ui import MeetingForm, SelfRatingForm

    with connect(team_db, "pt_spa", rubric) as spec, connect(team_db, "pt_sva", rubric) as sup:
        own = SelfRatingForm(spec, today=TODAY)
        session = record_session(own, "sp-a")
        rate(own.panel, scores={"empathy": "1"})
        own.save_button.click()
        assert own.status.kind == "ok", own.status.message
        meeting = MeetingForm(sup, session=session.id, today=TODAY)
        meeting.load_saved.click()  # nothing of the specialist's can be loaded before the reveal
        assert meeting.self_panel.rating("sp-a").scores == {}
        rate(meeting.supervisor_panel, "3")
        meeting.reveal_button.click()
        assert meeting.status.kind == "ok" and "Revealed" in meeting.status.message, meeting.status.message
        assert meeting.self_panel.rows["empathy"].score.value == "1"  # the database's copy, after the reveal
        for row in meeting.consensus_panel.rows.values():
            row.score.value, row.note.value = "3", "Agreed together."
        meeting.agree_button.click()
        assert meeting.status.kind == "ok", meeting.status.message
        fill_goal(meeting, 1, "empathy", "Name the feeling behind the words", "Try it twice a session",
                  TODAY + dt.timedelta(days=28))
        meeting.details_button.click()
        assert meeting.status.kind == "ok", meeting.status.message
        assert meeting.sign_specialist.layout.display == "none" and meeting.sign_supervisor.layout.display != "none"
        meeting.sign_specialist.click()  # hidden, but a viewer can click anything: the database refuses
        assert meeting.status.kind == "error" and "may sign" in meeting.status.message, meeting.status.message
        [review] = spec.reviews(session_id=session.id)
        spec.save_review(model.sign(review, PersonRole.SPECIALIST))  # from the specialist's own kernel
        meeting.sign_supervisor.click()  # the form holds the version from before the specialist signed
        assert meeting.status.kind == "error" and "changed by pt_spa" in meeting.status.message
        meeting.reload_button.click()
        meeting.sign_supervisor.click()
        assert sup.review(review.id).status is ReviewStatus.SIGNED, meeting.status.message
        assert "signed in the team database by login pt_spa" in meeting.signatures.value


def test_a_specialist_cannot_choose_or_change_who_reviews_them(team_db, rubric):
    with connect(team_db, "pt_spa", rubric) as spec:
        spec.save_session(new_session(n=6))
        # by hand, naming a supervisor who is not theirs: refused by the database
        with pytest.raises(AccessError, match="with their own supervisor"):
            spec.conn.execute(
                "INSERT INTO reviews (review_id, revision, session_id, supervisor_id, review_date, status, rubric_id,"
                " rubric_version, saved_at, saved_by) VALUES ('rv-x', 1, 'se-t6', 'sv-b', '2026-12-01', 'draft', ?, ?,"
                " 'now', 'me')", (rubric.id, rubric.version))
        draft = model.new_review(new_session(n=6), "sv-a", rubric, review_date=dt.date(2026, 12, 1), review_id="rv-t6")
        spec.save_review(rated(draft, "sp-a", RaterRole.SELF, rubric))
        for change in ("review_date = '2020-01-01'", "supervisor_id = 'sv-b'", "status = 'agreed'"):
            with pytest.raises(AccessError):
                spec.conn.execute(f"UPDATE reviews SET {change} WHERE review_id = 'rv-t6'")
        assert spec.review("rv-t6").review_date == dt.date(2026, 12, 1)


def test_a_temporary_table_cannot_pose_as_the_roster(team_db, rubric):
    """The policies' functions read ``public`` only: a temporary table named like one of ours
    (which PostgreSQL would otherwise search first) changes nobody's identity."""
    with Store(team_db, rubric=rubric) as installer:
        draft = model.new_review(new_session("sp-b", n=7), "sv-b", rubric, review_date=dt.date(2026, 12, 1),
                                 review_id="rv-t7")
        installer.save_review(rated(draft, "sp-b", RaterRole.SELF, rubric))
    with connect(team_db, "pt_spa", rubric) as spec:
        raw = spec.conn
        raw.execute("CREATE TEMP TABLE people (id text, display_name text, role text, supervisor_id text,"
                    " active integer, login text)")
        raw.execute("INSERT INTO pg_temp.people VALUES ('sp-b', 'x', 'specialist', 'sv-b', 1, session_user)")
        assert raw.execute("SELECT rk_me()").fetchone()[0] == "sp-a"
        assert raw.execute("SELECT count(*) FROM public.reviews").fetchone()[0] == 0
        assert raw.execute("SELECT count(*) FROM public.scores").fetchone()[0] == 0
