"""The supervision log for certification, and the meeting length and kind it reads.

- the review records the meeting's length and kind, validated, signed with it (a line in
  the signed content only when recorded, the same in Python and in PostgreSQL), stored on
  both backends, never changed on a signed revision, carried by the CSV/JSON exports;
- a database made before (SQLite v5, PostgreSQL v1) migrates and its signatures verify;
- ``rapportkit report --log`` writes the log as CSV and PDF with the total hours;
- the meeting form records them at sign-off.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import sqlite3
import stat

import psycopg
import pytest
from pypdf import PdfReader

from conftest import SIGNED_AT, build_review, new_pg_database, open_backend, raw_connect, team
from form_helpers import TODAY
from rapportkit import migrations, model, pg_schema
from rapportkit.cli import main
from rapportkit.errors import AccessError, ImportRejected, ReviewStateError, ValidationError
from rapportkit.model import MeetingKind, Person, ReviewStatus
from rapportkit.store import Store
from rapportkit.supervision_log import NOT_RECORDED, supervision_log, write_log
from rapportkit.transfer import export_csv, export_json, import_file


def meeting_review(rubric, minutes, kind, *, stage="signed", **options) -> model.Review:
    """A review at ``stage`` whose meeting took ``minutes`` (None: not recorded), of ``kind``."""
    review = build_review(rubric, stage="agreed" if stage == "signed" else stage, **options)
    review = model.with_meeting(review, minutes=minutes, kind=kind)
    if stage != "signed":
        return review
    review = model.sign(review, "specialist", at=SIGNED_AT)
    return model.sign(review, "supervisor", at=SIGNED_AT + dt.timedelta(minutes=5))


@pytest.fixture(autouse=True)
def _keep_environment(monkeypatch):
    monkeypatch.delenv("RAPPORTKIT_DB", raising=False)  # main() sets it; put it back after


# ============================================================================ the model


def test_the_meeting_enters_the_signed_content_only_when_recorded(rubric):
    bare = build_review(rubric, stage="agreed", review_id="rv-m1")
    assert not [line for line in model.content_lines(bare) if line.startswith("meeting")]
    assert "meeting_minutes" not in bare.to_dict() and "meeting_kind" not in bare.to_dict()
    timed = model.with_meeting(bare, minutes=50, kind=None)
    assert "meeting_minutes|50" in model.content_lines(timed)
    assert not [line for line in model.content_lines(timed) if line.startswith("meeting_kind")]
    both = model.with_meeting(bare, minutes=50, kind="group")
    assert {"meeting_minutes|50", "meeting_kind|group"} <= set(model.content_lines(both))
    digests = {model.content_digest(r) for r in (bare, timed, both, model.with_meeting(bare, minutes=55, kind="group"))}
    assert len(digests) == 4  # each value is covered by the signatures
    assert model.with_meeting(both, minutes=None, kind=None) == bare  # cleared: the content signed before
    assert model.Review.from_dict(both.to_dict()) == both


@pytest.mark.parametrize("minutes", [4, 481, 50.0, True, "50", -1])
def test_a_meeting_length_must_be_whole_minutes_from_5_to_480(rubric, minutes):
    review = build_review(rubric, stage="draft")
    with pytest.raises(ValidationError, match=r"'meeting_minutes' must be whole minutes from 5 to 480.*\(got "):
        model.with_meeting(review, minutes=minutes, kind=None)


def test_a_meeting_kind_is_individual_or_group(rubric):
    review = build_review(rubric, stage="draft")
    with pytest.raises(ValidationError, match=r"'meeting_kind' must be one of individual, group \(got 'solo'\)"):
        model.with_meeting(review, minutes=60, kind="solo")
    assert model.with_meeting(review, minutes=5, kind="individual").meeting_kind is MeetingKind.INDIVIDUAL


def test_recording_the_meeting_voids_a_signature_and_a_signed_review_refuses_it(rubric):
    agreed = build_review(rubric, stage="agreed")
    half = model.sign(agreed, "specialist", at=SIGNED_AT)
    assert model.with_meeting(half, minutes=None, kind=None) is half  # nothing changed: the signature stays
    changed = model.with_meeting(half, minutes=45, kind="individual")
    assert changed.specialist_signed_at is None and changed.status is ReviewStatus.AGREED
    signed = model.sign(model.sign(changed, "specialist", at=SIGNED_AT), "supervisor", at=SIGNED_AT)
    with pytest.raises(ReviewStateError, match="is signed and cannot be changed"):
        model.with_meeting(signed, minutes=60, kind="individual")
    corrected = model.with_meeting(model.amend(signed, "The meeting ran to an hour."), minutes=60, kind="individual")
    assert (corrected.revision, corrected.meeting_minutes) == (2, 60)


# ============================================================================ the store


def test_the_meeting_round_trips_through_the_store(store, rubric):
    recorded = meeting_review(rubric, 75, "group", review_id="rv-rec")
    unrecorded = meeting_review(rubric, None, None, review_id="rv-none")
    for review in (recorded, unrecorded):
        store.save_review(review)
        assert store.review(review.id) == review
    assert store.review("rv-rec").meeting_kind is MeetingKind.GROUP
    assert store.check() == []


def test_a_signed_revisions_meeting_length_never_changes(store, rubric):
    signed = meeting_review(rubric, 60, "individual", review_id="rv-fixed")
    store.save_review(signed)
    with pytest.raises(ReviewStateError, match="signed and cannot be changed"):
        store.save_review(dataclasses.replace(signed, meeting_minutes=90))
    # not even by hand, past rapportkit: the database itself refuses
    sql = "UPDATE reviews SET meeting_minutes = 90 WHERE review_id = 'rv-fixed'"
    if store.dialect == "sqlite":
        with pytest.raises(sqlite3.IntegrityError, match="a signed revision never changes"):
            raw_connect(store.path).execute(sql)
    else:
        with psycopg.connect(store.url, autocommit=True) as conn, pytest.raises(psycopg.Error) as caught:
            conn.execute(sql)  # as the installer, a superuser
        assert caught.value.sqlstate == "RK001"
    assert store.review("rv-fixed").meeting_minutes == 60


def test_a_meeting_recorded_after_one_signature_voids_it(store, rubric):
    half = model.sign(build_review(rubric, stage="agreed", review_id="rv-half"), "specialist", at=SIGNED_AT)
    store.save_review(half)
    assert [s.role.value for s in store.signatures("rv-half")] == ["specialist"]
    store.save_review(model.with_meeting(store.review("rv-half"), minutes=50, kind="individual"))
    assert store.signatures("rv-half") == [] and store.review("rv-half").specialist_signed_at is None
    assert store.check() == []  # on PostgreSQL: no signature left in force over other content


@pytest.mark.parametrize(("minutes", "kind"), [(None, None), (50, None), (None, "group"), (120, "group")])
def test_the_databases_digest_is_the_models(request, tmp_path, rubric, minutes, kind):
    """rk_content_digest (PostgreSQL) and model.content_digest agree, recorded or not."""
    with open_backend("postgresql", request, tmp_path, rubric) as store:
        agreed = meeting_review(rubric, minutes, kind, stage="agreed", review_id="rv-dig")
        store.save_review(agreed)
        (digest,) = store.conn.execute("SELECT rk_content_digest(?, ?)", ("rv-dig", 1)).fetchone()
        assert digest == model.content_digest(agreed)
        signed = model.sign(model.sign(agreed, "specialist", at=SIGNED_AT), "supervisor", at=SIGNED_AT)
        store.save_review(signed)  # the database checks each signature's hash against its own
        assert store.review("rv-dig").status is ReviewStatus.SIGNED and store.check() == []


def test_only_the_supervisor_records_the_meeting_on_a_team_database(pg_cluster, rubric):
    url = new_pg_database(pg_cluster)
    people = [Person("sv-l", "Wren Hollowbrook", "supervisor", login="sl_sv"),
              Person("sp-l", "Tansy Millwheel", "specialist", "sv-l", login="sl_sp")]
    with Store(url, rubric=rubric) as installer:
        installer.save_many(people=people)
        installer.save_review(build_review(rubric, stage="agreed", review_id="rv-team", specialist="sp-l",
                                           supervisor="sv-l"))
    with Store(url.replace("user=postgres", "user=sl_sp"), rubric=rubric) as specialist:
        mine = specialist.review("rv-team")
        with pytest.raises(AccessError, match="the supervisor records the length and kind"):
            specialist.save_review(model.with_meeting(mine, minutes=300, kind="group"))
    with Store(url.replace("user=postgres", "user=sl_sv"), rubric=rubric) as supervisor:
        supervisor.save_review(model.with_meeting(supervisor.review("rv-team"), minutes=55, kind="individual"))
        assert supervisor.review("rv-team").meeting_minutes == 55


# ============================================================================ older databases


def _as_sqlite_v5(path) -> None:
    """Take a database back to schema 5, as rapportkit before meeting lengths left it."""
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE reviews DROP COLUMN meeting_minutes")
    conn.execute("ALTER TABLE reviews DROP COLUMN meeting_kind")
    conn.execute("PRAGMA user_version = 5")
    conn.commit()
    conn.close()


def test_a_v5_database_migrates_and_check_passes(tmp_path, rubric, capsys):
    path = tmp_path / "old.db"
    with Store(path, rubric=rubric) as s:
        s.save_many(people=team())
        signed = build_review(rubric, review_id="rv-old")
        s.save_review(signed)
        s.save_review(build_review(rubric, stage="revealed", review_id="rv-open"))
    _as_sqlite_v5(path)
    assert "meeting_minutes" not in [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(reviews)")]
    assert main(["check", "--db", str(path)]) == 0, capsys.readouterr()
    assert "ok" in capsys.readouterr().out
    assert [b.name.split(".")[2][:2] for b in tmp_path.glob("*.bak")] == ["v5"]  # the backup of the old schema
    with Store(path, rubric=rubric) as s:
        assert migrations.schema_version(s.conn) == migrations.SCHEMA_VERSION
        assert s.review("rv-old") == signed and s.review("rv-old").meeting_minutes is None
        # the migrated file takes meeting lengths, and refuses a bad one at the database too
        s.save_review(model.with_meeting(s.review("rv-open"), minutes=40, kind="group"))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw_connect(path).execute("UPDATE reviews SET meeting_minutes = 2 WHERE review_id = 'rv-open'")
        assert s.check() == []


def test_a_v1_team_database_migrates_and_its_signatures_verify(request, tmp_path, rubric):
    with open_backend("postgresql", request, tmp_path, rubric) as store:
        url = store.url
        store.save_review(build_review(rubric, review_id="rv-old"))
        old_digest = store.signatures("rv-old")[0].content_sha256
    # back to schema 1: no columns, no trigger, v1's digest function
    functions = pg_schema._FUNCTIONS
    start = functions.index("CREATE FUNCTION rk_content_digest(")
    end = functions.index("$$;", functions.index(") lines", start)) + 3
    v1 = "CREATE OR REPLACE" + functions[start + len("CREATE"):end]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER reviews_meeting_insert ON reviews; DROP TRIGGER reviews_meeting_change ON reviews;"
                     " DROP FUNCTION rk_meeting_row(); DROP TRIGGER reviews_content_change ON reviews;"
                     " DROP FUNCTION rk_review_content_row(); ALTER TABLE reviews DROP COLUMN meeting_minutes,"
                     " DROP COLUMN meeting_kind; UPDATE schema_version SET version = 1")
        conn.execute(v1)
    with Store(url, rubric=rubric) as store:  # the installer migrates
        assert pg_schema.schema_version(store.conn) == pg_schema.SCHEMA_VERSION
        assert store.check() == []  # every signature in force covers the content as stored
        assert store.conn.execute("SELECT rk_content_digest(?, ?)", ("rv-old", 1)).fetchone()[0] == old_digest


# ============================================================================ exports


def _fresh(backend, request, tmp_path, rubric):
    where = tmp_path / "into"
    where.mkdir()
    return open_backend(backend, request, where, rubric)


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_the_exports_carry_the_meeting_and_older_files_still_import(store, request, tmp_path, rubric, backend,
                                                                    suffix):
    reviews = [meeting_review(rubric, 90, "group", review_id="rv-x1"),
               meeting_review(rubric, None, None, review_id="rv-x2"),
               meeting_review(rubric, 30, "individual", stage="revealed", review_id="rv-x3")]
    for review in reviews:
        store.save_review(review)
    out = tmp_path / f"all{suffix}"
    (export_csv if suffix == ".csv" else export_json)(store, out)
    text = out.read_text()
    assert ("meeting_minutes" in text) and ("group" in text)
    with _fresh(backend, request, tmp_path, rubric) as other:
        import_file(other, out)
        assert [other.review(r.id) for r in reviews] == reviews
    # a file exported before the meeting was recorded has no such column or field
    if suffix == ".csv":
        rows = list(csv.DictReader(out.open(newline="")))
        old = tmp_path / "old.csv"
        with old.open("w", newline="") as fh:
            names = [c for c in rows[0] if not c.startswith("meeting_")]
            writer = csv.DictWriter(fh, names, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    else:
        import json

        doc = json.loads(text)
        for r in doc["reviews"]:
            r.pop("meeting_minutes", None), r.pop("meeting_kind", None)
        old = tmp_path / "old.json"
        old.write_text(json.dumps(doc))
    with _fresh(backend, request, tmp_path / "into", rubric) as older:
        import_file(older, old)
        assert all(older.review(r.id).meeting_minutes is None for r in reviews)


def test_an_import_names_a_bad_meeting_length_by_line_and_column(store, tmp_path, rubric):
    store.save_review(meeting_review(rubric, 60, "individual", review_id="rv-bad"))
    out = tmp_path / "all.csv"
    export_csv(store, out)
    out.write_text(out.read_text().replace(",60,individual", ",600,solo"))
    with pytest.raises(ImportRejected) as caught:
        import_file(store, out)
    text = str(caught.value)
    assert "line 2, column 'meeting_minutes': '600' is not valid ('meeting_minutes' must be whole minutes" in text
    assert "column 'meeting_kind': 'solo' is not valid" in text


# ============================================================================ the log


@pytest.fixture
def logged(store, rubric):
    """sp-1's meetings: signed 60 individual, signed 90 group, signed without a length,
    agreed (not signed) 45 individual, and one signed before the period; sp-2's, apart."""
    for rid, day, minutes, kind, stage, who in [
        ("rv-a", "2026-02-03", 60, "individual", "signed", "sp-1"),
        ("rv-b", "2026-03-04", 90, "group", "signed", "sp-1"),
        ("rv-c", "2026-04-05", None, None, "signed", "sp-1"),
        ("rv-d", "2026-05-06", 45, "individual", "agreed", "sp-1"),
        ("rv-e", "2025-06-07", 120, "group", "signed", "sp-1"),
        ("rv-f", "2026-03-08", 480, "group", "signed", "sp-2"),
    ]:
        store.save_review(meeting_review(rubric, minutes, kind, stage=stage, review_id=rid, specialist=who,
                                         review_date=day))
    return store


def test_the_log_lists_each_meeting_and_totals_the_signed_hours(logged):
    log = supervision_log(logged, "sp-1", since="2026-01-01", until="2026-12-31")
    assert [(r.review_id, r.minutes, r.signed) for r in log.rows] == [
        ("rv-a", 60, True), ("rv-b", 90, True), ("rv-c", None, True), ("rv-d", 45, False)]
    assert log.signed_hours == 2.5 and log.all_hours == 3.25 and log.not_recorded == 1
    assert log.minutes(signed_only=True, kind=MeetingKind.GROUP) == 90
    assert log.rows[2].length == NOT_RECORDED and log.rows[3].status == "not signed (agreed)"
    assert log.rows[0].supervisor_name == "Wren Hollowbrook"
    everything = supervision_log(logged, "sp-1")
    assert everything.signed_hours == 4.5 and len(everything.rows) == 5


def test_a_corrected_meeting_is_listed_as_its_signed_revision(logged):
    amended = model.amend(logged.review("rv-a"), "The meeting length was typed wrongly.")
    logged.save_review(model.with_meeting(amended, minutes=75, kind="individual"))
    row = supervision_log(logged, "sp-1", since="2026-01-01").rows[0]
    assert (row.review_id, row.revision, row.minutes, row.signed) == ("rv-a", 1, 60, True)
    assert row.status == "signed; revision 2 is being amended"


def _cli_db(store) -> str:
    return store.url or str(store.path)


def test_the_cli_writes_the_csv_log_with_the_total(logged, tmp_path, capsys):
    out = tmp_path / "log.csv"
    args = ["report", "--db", _cli_db(logged), "--log", "--specialist", "sp-1", "--since", "2026-01-01",
            "--until", "2026-12-31", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    assert "2.50 hours signed" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # owner-only
    rows = list(csv.DictReader(out.open(newline="")))
    meetings = [r for r in rows if r["review_id"]]
    assert [r["review_id"] for r in meetings] == ["rv-a", "rv-b", "rv-c", "rv-d"]
    assert meetings[2]["length_min"] == NOT_RECORDED and meetings[3]["signed"] == "no"
    totals = {r["date"]: r for r in rows if not r["review_id"]}
    signed = totals["total, signed meetings"]
    assert (signed["length_min"], signed["hours"]) == ("150", "2.50")
    assert totals["total, all meetings"]["hours"] == "3.25"
    assert totals["total, signed group meetings"]["hours"] == "1.50"
    assert totals["length not recorded"]["status"].startswith("1 meetings listed without a length")


def test_the_pdf_log_says_the_totals(logged, tmp_path, capsys):
    out = tmp_path / "log.pdf"
    assert main(["report", "--db", _cli_db(logged), "--log", "--specialist", "sp-1", "--since", "2026-01-01",
                 "--out", str(out)]) == 0, capsys.readouterr().err
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    assert "Total hours, signed meetings 2.50 hours (2 signed meetings with a recorded length)" in text
    assert "Total hours, all meetings 3.25 hours" in text
    assert "1 meeting: listed, but not counted in either total" in text
    assert "2026-04-05 not recorded not recorded" in text
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


@pytest.mark.parametrize(("extra", "message"), [
    (["--specialist", "sp-nobody"], "there is no specialist with id 'sp-nobody'"),
    (["--specialist", "sp-1", "--since", "2026-13-01"], "`since` must be a date such as 2026-03-31 (got '2026-13-01')"),
    (["--specialist", "sp-1", "--since", "2026-06-01", "--until", "2026-01-01"], "must not be after"),
    (["--specialist", "sp-1", "--out-suffix", ".txt"], "--out must end in one of them"),
    (["--review", "rv-a"], "--log lists one specialist's meetings; give --specialist ID"),
])
def test_bad_log_requests_get_one_sentence(logged, tmp_path, capsys, extra, message):
    out = tmp_path / "log.csv"
    if "--out-suffix" in extra:
        out, extra = tmp_path / "log.txt", extra[:2]
    assert main(["report", "--db", _cli_db(logged), "--log", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_write_log_refuses_a_folder(logged, tmp_path):
    folder = tmp_path / "log.pdf"
    folder.mkdir()
    with pytest.raises(ValidationError, match="is a folder"):
        write_log(supervision_log(logged, "sp-1"), folder)


def test_the_demo_team_has_meeting_lengths_to_log(demo_store):
    log = supervision_log(demo_store, "sp-01")
    assert log.signed_hours > 10 and 0 < log.not_recorded < len(log.rows)
    assert {r.kind for r in log.rows} == {MeetingKind.INDIVIDUAL, MeetingKind.GROUP, None}


# ============================================================================ the meeting form


def _agreed_meeting(store):
    """A meeting of sp-01 on a new session, agreed, with its goals set (the form's own flow)."""
    from test_forms_meeting import agree_all, revealed_meeting, set_goals

    form = revealed_meeting(store)
    agree_all(form)
    set_goals(form)
    return form


def test_the_meeting_form_records_the_length_and_kind_at_sign_off(demo_store):
    form = _agreed_meeting(demo_store)
    details = form.meeting_details
    assert not details.minutes.disabled and details.widget in form._sections[5].children
    details.minutes.value = "fifty"
    form.sign_specialist.click()
    assert form.status.kind == "error" and "'meeting length' must be whole minutes, such as 50" in form.status.message
    assert form.review.specialist_signed_at is None
    details.minutes.value, details.kind.value = "600", "group"
    form.sign_specialist.click()
    assert "'meeting_minutes' must be whole minutes from 5 to 480" in form.status.message
    details.minutes.value = "55"
    form.sign_specialist.click()
    form.sign_supervisor.click()
    saved = demo_store.review(form.review.id)
    assert (saved.status, saved.meeting_minutes, saved.meeting_kind) == (ReviewStatus.SIGNED, 55, MeetingKind.GROUP)
    assert details.minutes.disabled  # signed: final
    assert any(r.review_id == saved.id and r.minutes == 55 for r in supervision_log(demo_store, "sp-01").rows)


def test_the_meeting_details_survive_a_restart_in_the_draft(demo_store):
    from rapportkit.ui import MeetingForm

    form = _agreed_meeting(demo_store)
    form.meeting_details.minutes.value, form.meeting_details.kind.value = "70", "individual"
    again = MeetingForm(demo_store, session=form.session.id, today=TODAY)
    assert (again.meeting_details.minutes.value, again.meeting_details.kind.value) == ("70", "individual")
    assert demo_store.review(form.review.id).meeting_minutes is None  # typed, not saved yet


def test_the_record_says_how_long_the_meeting_was_and_what_kind(rubric, tmp_path):
    from rapportkit.report import review_report
    from rapportkit.ui.record_html import summary_html

    with Store(tmp_path / "rk.db", actor="tester", rubric=rubric) as store:
        store.save_many(people=team())
        timed = meeting_review(rubric, 75, "group", review_id="rv-mw1")
        bare = meeting_review(rubric, None, None, review_id="rv-mw2", session_id="se-mw2")
        store.save_many(reviews=[timed, bare])
        for review, words in ((timed, "75 min, group supervision"),
                              (bare, "length not recorded, kind not recorded")):
            assert model.meeting_words(review) == words
            assert f"({words})" in summary_html(review, rubric, {}, "session")
            out = review_report(store, review.id, tmp_path / f"{review.id}.pdf")
            text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
            assert f"Review meeting {review.review_date:%Y-%m-%d} · {words} (review {review.id})" in text
