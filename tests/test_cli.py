"""The `rapportkit` command, run as a user runs it: a real process, real files."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "rapportkit.cli"]


def run(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "demo.db"
    out = run("demo", "--db", str(db), check=True)
    assert "10 people" in out.stdout
    return db


def test_help_reads_well_to_a_newcomer():
    out = run("--help", check=True).stdout
    for word in ("demo", "lab", "check", "import", "export", "backup", "--db"):
        assert word in out
    assert "nine" in out and "rapport" in out


def test_demo_then_check_passes(demo_db):
    out = run("check", "--db", str(demo_db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit chain intact" in out.stdout


def test_demo_if_empty_leaves_an_existing_team(demo_db):
    before = demo_db.read_bytes()
    out = run("demo", "--db", str(demo_db), "--if-empty", check=True)
    assert "left as it is" in out.stdout
    con = sqlite3.connect(demo_db)
    assert con.execute("select count(*) from people").fetchone()[0] == 10
    con.close()
    assert len(demo_db.read_bytes()) == len(before)


def test_changing_an_audit_row_makes_check_fail(demo_db, tmp_path):
    db = tmp_path / "tampered.db"
    run("backup", "--db", str(demo_db), "--out", str(db), check=True)
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 5")
    con.commit()
    con.close()
    out = run("check", "--db", str(db))
    assert out.returncode == 1
    assert "audit entry 5" in out.stdout and "altered" in out.stdout


def test_a_record_edited_outside_rapportkit_makes_check_fail(demo_db, tmp_path):
    db = tmp_path / "edited.db"
    run("backup", "--db", str(demo_db), "--out", str(db), check=True)
    con = sqlite3.connect(db)
    edit = "UPDATE scores SET note = 'edited by hand' WHERE rowid = (SELECT min(rowid) FROM scores WHERE rated = 1)"
    with pytest.raises(sqlite3.IntegrityError, match="a signed revision never changes"):
        con.execute(edit)  # the database refuses; someone who drops its trigger first is caught by check
    con.execute("DROP TRIGGER scores_signed_no_update")
    con.execute(edit)
    con.commit()
    con.close()
    out = run("check", "--db", str(db))
    assert out.returncode == 1
    assert "differs from its last audit entry" in out.stdout


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_export_then_import_round_trips(demo_db, tmp_path, suffix):
    out = tmp_path / f"all{suffix}"
    run("export", "--db", str(demo_db), "--out", str(out), check=True)
    fresh = tmp_path / "fresh.db"
    done = run("import", "--db", str(fresh), str(out), check=True)
    assert "296 record(s)" in done.stdout  # 10 people + 286 reviews
    again = tmp_path / f"again{suffix}"
    run("export", "--db", str(fresh), "--out", str(again), check=True)
    assert out.read_text(encoding="utf-8") == again.read_text(encoding="utf-8")
    assert run("check", "--db", str(fresh)).returncode == 0


def test_csv_with_one_bad_score_is_rejected_whole_naming_row_and_column(demo_db, tmp_path):
    good = tmp_path / "good.csv"
    run("export", "--db", str(demo_db), "--out", str(good), check=True)
    rows = list(csv.reader(good.open(encoding="utf-8", newline="")))
    header = rows[0]
    target = next(i for i, r in enumerate(rows) if i > 40 and r[0] == "rating" and r[header.index("score")] == "3")
    rows[target][header.index("score")] = "7"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    fresh = tmp_path / "fresh.db"
    out = run("import", "--db", str(fresh), str(bad))
    assert out.returncode == 2
    assert f"line {target + 1}, column 'score'" in out.stderr
    assert "'7'" in out.stderr and "nothing was changed" in out.stderr
    assert "Traceback" not in out.stderr
    con = sqlite3.connect(fresh)
    assert con.execute("select count(*) from reviews").fetchone()[0] == 0
    assert con.execute("select count(*) from people").fetchone()[0] == 0
    con.close()


def test_user_errors_never_show_a_traceback(tmp_path):
    cases = [
        ("import", "--db", str(tmp_path / "x.db"), str(tmp_path / "missing.csv")),
        ("export", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "x.csv")),
        ("export", "--db", str(tmp_path / "x.db"), "--out", str(tmp_path / "x.txt")),
        ("demo", "--db", str(tmp_path / "x.db"), "--reviews-per-month", "lots"),
    ]
    for args in cases:
        out = run(*args)
        assert out.returncode == 2, args
        assert "Traceback" not in out.stderr and out.stderr.strip(), args


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    db = tmp_path / "future.db"
    run("init", "--db", str(db), check=True)
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.close()
    out = run("check", "--db", str(db))
    assert out.returncode == 2
    assert "schema version 99" in out.stderr and "Upgrade rapportkit" in out.stderr


def test_backup_is_verified_and_never_overwrites(demo_db, tmp_path):
    dest = tmp_path / "copy.db"
    assert "verified" in run("backup", "--db", str(demo_db), "--out", str(dest), check=True).stdout
    again = run("backup", "--db", str(demo_db), "--out", str(dest))
    assert again.returncode == 2 and "exists already" in again.stderr


def test_export_json_is_a_rapportkit_document(demo_db, tmp_path):
    out = tmp_path / "x.json"
    run("export", "--db", str(demo_db), "--out", str(out), "--specialist", "sp-01", check=True)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "rapportkit" and doc["version"] == 1
    assert doc["reviews"] and {r["session"]["specialist_id"] for r in doc["reviews"]} == {"sp-01"}


def test_formula_cells_round_trip_exactly():
    from rapportkit.transfer import _restore, neutralise

    for text in ["=SUM(A1)", "+1", "-2", "@x", "'=x", "''+y", "plain", "", "'quoted", "\tTAB"]:
        cell = neutralise(text)
        assert not cell.startswith(("=", "+", "-", "@", "\t")), cell
        assert _restore(cell) == text
