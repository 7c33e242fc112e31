"""Spreadsheet and de-identified exports (``rapportkit.exports``) and the CSV export's
formula neutralisation (``rapportkit.transfer``).

One store per module: the demo team plus one signed review of sp-01 whose notes, rationale
and goal begin with ``=``, ``+``, ``-`` and ``@``. The workbook is written once, by the
command line, and read back with openpyxl.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import all_scores, build_review, goal
from rapportkit import model
from rapportkit.demo import generate
from rapportkit.exports import deidentified_frame, export_deidentified
from rapportkit.frames import ratings_frame
from rapportkit.model import RaterRole, Rating
from rapportkit.store import Store
from rapportkit.transfer import export_csv, import_file

CLI = [sys.executable, "-m", "rapportkit.cli"]
FORMULAS = ('=HYPERLINK("http://example.invalid","open me")', "+1 extra check-in each week",
            "-2 since the last review", "@SUM(A1:A9)")
SHEETS = ["ratings", "goals", "traps", "trends", "calibration", "team"]
DEID_COLUMNS = ["review", "review_month", "session_month", "modality", "source", "specialist", "supervisor",
                "practice_id", "practice_title", "role", "score", "rubric_id", "rubric_version", "status"]
SIGNED_AT = dt.datetime(2026, 10, 30, 17, 0, tzinfo=dt.timezone.utc)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180)


def formula_review(rubric) -> model.Review:
    """A signed review of sp-01 whose free text starts with every formula character."""
    review = build_review(
        rubric, stage="revealed", review_id="rv-formula", session_id="se-formula", specialist="sp-01",
        supervisor="sv-01", review_date="2026-10-30",
        self_scores=all_scores(rubric, 3, empathy=4, boundaries=2),
        self_notes={"empathy": FORMULAS[0], "active_listening": FORMULAS[1]},
        supervisor_notes={"boundaries": FORMULAS[2], "consistency": FORMULAS[3]},
        traps=["dominating"],
        goals=[goal("go-formula", "empathy", follow_up="2026-12-01", text=FORMULAS[0], actions=FORMULAS[1])],
    )
    consensus = Rating("sv-01", RaterRole.CONSENSUS, all_scores(rubric, 3),
                       {"empathy": FORMULAS[3], "boundaries": FORMULAS[2]}, rubric.id, rubric.version)
    review = model.agree(review, consensus, rubric)
    review = model.sign(review, "specialist", at=SIGNED_AT)
    return model.sign(review, "supervisor", at=SIGNED_AT)


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory, rubric) -> Path:
    path = tmp_path_factory.mktemp("exports") / "team.db"
    shutil.copyfile(demo_db, path)
    with Store(path, actor="tester", rubric=rubric) as store:
        # the formula text holds a web address and an @-word: not about a client, so allowed
        store.save_review(formula_review(rubric), allow_identifiers=True)
    return path


@pytest.fixture(scope="module")
def store(db, rubric):
    with Store(db, readonly=True, rubric=rubric) as s:
        yield s


@pytest.fixture(scope="module")
def workbook(db) -> Path:
    out = db.parent / "team.xlsx"
    proc = run("export", "--db", str(db), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout
    return out


@pytest.fixture(scope="module")
def book(workbook) -> dict[str, list[tuple]]:
    """Each sheet as rows of ``(value, data_type)`` cells, read back with openpyxl."""
    wb = openpyxl.load_workbook(workbook, read_only=True)
    try:
        return {ws.title: [tuple((c.value, c.data_type) for c in row) for row in ws.iter_rows()]
                for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.fixture(scope="module")
def sheets(book) -> dict[str, list[tuple]]:
    return {name: [tuple(value for value, _ in row) for row in rows] for name, rows in book.items()}


# ----------------------------------------------------------------------------- XLSX


def test_workbook_has_the_six_sheets_with_a_row_per_record(sheets, rubric):
    team = generate(rubric=rubric)  # what load_demo saved, counted from the records themselves
    rated = sum(len(r.scores) for rv in team.reviews
                for r in (rv.self_rating, rv.supervisor_rating, rv.consensus) if r is not None)
    goals = sum(len(rv.goals) for rv in team.reviews)
    traps = sum(len(rv.traps) for rv in team.reviews)
    specialists = sum(p.role.value == "specialist" for p in team.people)
    assert specialists == 8
    practices = len(rubric.practices)

    assert list(sheets) == SHEETS
    rows = {name: len(body) - 1 for name, body in sheets.items()}  # less the header row
    assert rows == {
        "ratings": rated + 3 * practices,   # the formula review adds three complete ratings
        "goals": goals + 1,
        "traps": traps + 1,
        "trends": specialists * practices,
        "calibration": specialists,
        "team": specialists * practices,
    }


def test_ratings_sheet_holds_the_tidy_table(sheets, store):
    header, *body = sheets["ratings"]
    frame = ratings_frame(store)
    assert list(header) == list(frame.columns)
    mine = [row for row in body if row[0] == "rv-formula"]
    scores = {(r[header.index("practice_id")], r[header.index("role")]): r[header.index("score")] for r in mine}
    assert scores[("empathy", "self")] == 4 and scores[("boundaries", "self")] == 2
    assert scores[("empathy", "supervisor")] == 3 and scores[("empathy", "consensus")] == 3


def test_workbook_neutralises_cells_that_a_spreadsheet_would_run(book, sheets):
    header, *body = sheets["goals"]
    row = next(r for r in body if r[0] == "go-formula")
    assert row[header.index("text")] == "'" + FORMULAS[0]
    assert row[header.index("actions")] == "'" + FORMULAS[1]
    # nothing in the whole workbook is a formula, or text that a spreadsheet would run
    cells = [cell for rows in book.values() for row in rows for cell in row]
    assert len(cells) > 100_000
    assert [v for v, kind in cells if kind == "f"] == []
    assert [v for v, _ in cells if isinstance(v, str) and v.startswith(("=", "+", "-", "@"))] == []


# ----------------------------------------------------------------------------- CSV


def test_csv_export_neutralises_formulas_and_the_import_restores_them(store, tmp_path, rubric):
    path = tmp_path / "sp-01.csv"
    export_csv(store, path, specialist="sp-01")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["review_id"] == "rv-formula"]
    cells = [r["note"] for r in rows if r["note"]] + [r["goal_text"] for r in rows if r["goal_text"]] + [
        r["goal_actions"] for r in rows if r["goal_actions"]]
    # two notes, two rationales, the goal's text and actions: each formula twice
    assert sorted(cells) == sorted("'" + f for f in FORMULAS * 2)

    with Store(tmp_path / "fresh.db", actor="importer", rubric=rubric) as fresh:
        import_file(fresh, path, allow_identifiers=True)
        back = fresh.review("rv-formula")
    original = store.review("rv-formula")
    assert back.to_dict() == original.to_dict()
    assert back.self_rating.notes["empathy"] == FORMULAS[0]
    assert back.goals[0].actions == FORMULAS[1]


# ----------------------------------------------------------------------------- de-identified


@pytest.fixture(scope="module")
def deid_csv(store, tmp_path_factory) -> Path:
    return export_deidentified(store, tmp_path_factory.mktemp("deid") / "shared.csv")


def test_deidentified_export_has_months_and_no_free_text(deid_csv):
    frame = pd.read_csv(deid_csv, dtype=str, keep_default_na=False)
    assert list(frame.columns) == DEID_COLUMNS
    for forbidden in ("note", "text", "action", "code", "name", "reason", "goal", "rationale", "date"):
        assert not [c for c in frame.columns if forbidden in c], forbidden
    for col in ("review_month", "session_month"):
        assert frame[col].str.fullmatch(r"\d{4}-\d{2}").all(), col
    assert (frame["review_month"] >= "2025-05").all() and (frame["review_month"] <= "2026-10").all()


def test_deidentified_export_names_nobody(deid_csv, store):
    text = deid_csv.read_text(encoding="utf-8")
    people = store.people()
    assert len(people) == 10
    for person in people:
        assert person.id not in text
        assert person.display_name not in text
        for part in person.display_name.split():
            assert not re.search(rf"\b{re.escape(part)}\b", text), part
    for pattern in (r"\bs[pv]-\d", r"\brv-", r"\bse-", r"\bgo-", r"\bS-\d{4}\b", r"\d{4}-\d{2}-\d{2}"):
        assert not re.search(pattern, text), pattern  # ids, session codes, whole dates
    for phrase in ("HYPERLINK", "SUM(", "check-in", "Agreed after"):
        assert phrase not in text  # notes, rationales and goals stay behind


def _fingerprints(frame: pd.DataFrame, person: str, review: str) -> Counter:
    """Each person's reviews as a multiset of (month, practice, role, score) rows: the
    same whatever the person or the review is called."""
    prints = Counter()
    for _, rows in frame.groupby(person):
        per_review = Counter()
        for _, one in rows.groupby(review):
            per_review[tuple(sorted(zip(one["review_month"], one["practice_id"], one["role"], one["score"])))] += 1
        prints[tuple(sorted(per_review.items()))] += 1
    return prints


def test_deidentified_codes_are_consistent_within_one_export(deid_csv, store):
    shared = pd.read_csv(deid_csv, dtype=str, keep_default_na=False)
    original = ratings_frame(store, statuses=["signed"])
    original = pd.DataFrame({
        "specialist": original["specialist_id"], "supervisor": original["supervisor_id"],
        "review": original["review_id"], "review_month": original["review_date"].dt.strftime("%Y-%m"),
        "practice_id": original["practice_id"], "role": original["role"],
        "score": original["score"].astype("string").fillna(""),
    })
    assert len(shared) == len(original)
    assert shared["specialist"].str.fullmatch(r"S\d{3}").all()
    assert shared["supervisor"].str.fullmatch(r"V\d{2}").all()
    # one specialist, supervisor and month per review code
    per_review = shared.groupby("review")[["specialist", "supervisor", "review_month"]].nunique()
    assert (per_review == 1).all().all()
    assert shared["review"].nunique() == original["review"].nunique()
    assert shared["specialist"].nunique() == 8 and shared["supervisor"].nunique() == 2
    # each new code stands for exactly one real person: same reviews, months and scores
    assert _fingerprints(shared, "specialist", "review") == _fingerprints(original, "specialist", "review")
    teams = lambda f: sorted(Counter(f.drop_duplicates("specialist")["supervisor"]).values())  # noqa: E731
    assert teams(shared) == teams(original) == [4, 4]


def test_each_deidentified_export_draws_new_codes(store):
    first, second = deidentified_frame(store), deidentified_frame(store)

    def codes(frame):  # review code keyed by what the review holds, not by its name
        return {key: code for code, rows in frame.groupby("review")
                for key in [tuple(zip(rows["review_month"], rows["practice_id"], rows["role"],
                                      rows["score"].astype("string").fillna("")))]}

    a, b = codes(first), codes(second)
    assert a.keys() == b.keys()
    assert a != b
    assert deidentified_frame(store, seed=7).equals(deidentified_frame(store, seed=7))


# ----------------------------------------------------------------------------- command line


def test_cli_writes_a_deidentified_csv(db, tmp_path):
    out = tmp_path / "shared.csv"
    proc = run("export", "--db", str(db), "--deidentified", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "de-identified" in proc.stdout
    with out.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == DEID_COLUMNS
    assert "Moonwhistle" not in out.read_text(encoding="utf-8")


def test_cli_refuses_a_deidentified_export_in_another_format(db, tmp_path):
    out = tmp_path / "shared.json"
    proc = run("export", "--db", str(db), "--deidentified", "--out", str(out))
    assert proc.returncode == 2
    assert ".csv or .xlsx" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- writing files


def test_deidentified_xlsx_matches_the_csv(store, tmp_path):
    out = export_deidentified(store, tmp_path / "new" / "folder" / "shared.xlsx")
    wb = openpyxl.load_workbook(out, read_only=True)
    try:
        header, *rows = [tuple(c.value for c in row) for row in wb.worksheets[0].iter_rows()]
    finally:
        wb.close()
    assert list(header) == DEID_COLUMNS
    assert len(rows) == len(ratings_frame(store, statuses=["signed"]))
    months = {row[header.index(col)] for row in rows for col in ("review_month", "session_month")}
    assert all(re.fullmatch(r"\d{4}-\d{2}", m) for m in months)


def test_a_failed_export_leaves_the_previous_file_and_no_temporary_one(store, tmp_path, monkeypatch):
    from rapportkit import exports

    out = tmp_path / "team.xlsx"
    out.write_bytes(b"last month's export")
    monkeypatch.setattr(exports, "_sheets", lambda store: {name: pd.DataFrame({"n": [1, 2]}) for name in SHEETS})
    calls = {"n": 0}
    real = pd.DataFrame.to_excel

    def flaky(self, *args, **kwargs):  # the third sheet fails half-way through the workbook
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_excel", flaky)
    with pytest.raises(OSError, match="disk full"):
        exports.export_xlsx(store, out)
    assert calls["n"] == 3
    assert out.read_bytes() == b"last month's export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team.xlsx"]


def test_a_table_too_long_for_a_sheet_is_refused_in_words(store, tmp_path, monkeypatch):
    from rapportkit import exports
    from rapportkit.errors import ValidationError

    monkeypatch.setattr(exports, "MAX_SHEET_ROWS", 1000)
    with pytest.raises(ValidationError, match=r"ratings table has 7,\d{3} rows.*export to \.csv instead"):
        exports.export_xlsx(store, tmp_path / "big.xlsx")
    assert list(tmp_path.iterdir()) == []
