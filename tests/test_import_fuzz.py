"""CSV import fed malformed files: each is accepted whole or rejected whole with
row/column messages — never partly imported, never an unexpected exception.

A valid export of a small demo team is damaged in generated ways (BOMs, other
encodings, broken quoting, formula cells, blank rows, out-of-range scores, duplicated
rows, huge fields, truncation, shuffled columns). The figures (files fuzzed, accepted,
rejected, partial imports) are printed at the end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapportkit.demo import generate
from rapportkit.errors import ImportRejected
from rapportkit.store import Store
from rapportkit.transfer import export_csv, import_file

TALLY = {"fuzzed": 0, "accepted": 0, "rejected": 0, "partial": 0}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[bytes, int]:
    folder = tmp_path_factory.mktemp("fuzz")
    team = generate(specialists=2, months=2)
    with Store(folder / "src.db", actor="fuzz") as store:
        store.save_many(people=team.people, reviews=team.reviews)
        export_csv(store, folder / "good.csv")
    return (folder / "good.csv").read_bytes(), len(team.reviews)


def _damage(data: bytes, how: str, where: float, payload: str) -> bytes:
    lines = data.split(b"\r\n") if b"\r\n" in data else data.split(b"\n")
    i = 1 + int(where * (len(lines) - 2))
    text = payload.encode("utf-8", "surrogatepass") if payload else b"x"
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "latin1":
        return data.decode("utf-8").encode("latin-1", "replace") + "é".encode("latin-1")
    if how == "utf16":
        return data.decode("utf-8").encode("utf-16")
    if how == "quote":
        lines[i] = lines[i].replace(b",", b',"', 1)
    elif how == "formula":
        cells = lines[i].split(b",")
        cells[min(len(cells) - 1, int(where * len(cells)))] = b"=HYPERLINK(\"x\")"
        lines[i] = b",".join(cells)
    elif how == "blank":
        lines.insert(i, b"")
        lines.insert(i, b",,,,")
    elif how == "score":
        header = lines[0].split(b",")
        cells = lines[i].split(b",")
        if len(cells) == len(header):
            cells[header.index(b"score")] = payload.encode("utf-8", "replace")[:12] or b"9"
        lines[i] = b",".join(cells)
    elif how == "duplicate":
        lines.insert(i, lines[i])
    elif how == "huge":
        cells = lines[i].split(b",")
        cells[-1] = b"A" * 300_000
        lines[i] = b",".join(cells)
    elif how == "truncate":
        return data[: max(1, int(where * len(data)))]
    elif how == "nul":
        lines[i] = lines[i] + b"\x00"
    elif how == "columns":
        header = lines[0].split(b",")
        lines[0] = b",".join(reversed(header))
    elif how == "junk":
        lines.insert(i, text)
    return b"\n".join(lines)


KINDS = ["bom", "latin1", "utf16", "quote", "formula", "blank", "score", "duplicate", "huge",
         "truncate", "nul", "columns", "junk"]


def _reviews(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM reviews").fetchone()[0]
    finally:
        con.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(KINDS), where=st.floats(0, 1), payload=st.text(max_size=40))
def test_malformed_csv_is_accepted_whole_or_rejected_whole(source, tmp_path_factory, how, where, payload):
    data, expected = source
    folder = tmp_path_factory.mktemp("case")
    path = folder / "in.csv"
    path.write_bytes(_damage(data, how, where, payload))
    db = folder / "target.db"
    with Store(db, actor="fuzz") as store:
        before = store.counts()
        TALLY["fuzzed"] += 1
        try:
            import_file(store, path)
        except ImportRejected as exc:
            TALLY["rejected"] += 1
            assert exc.problems, "a rejection must say what is wrong"
            assert all(("line" in p or "file" in p or "column" in p or "review" in p) for p in exc.problems), exc.problems
            assert store.counts() == before, "a rejected file changed the database"
            return
        TALLY["accepted"] += 1
        got = _reviews(db)
        if got != expected:
            TALLY["partial"] += 1
        assert got == expected, f"{how}: accepted file imported {got} of {expected} reviews"
        assert store.check() == []


def test_zz_fuzz_figures():
    """Prints the tallies of the fuzz test above (runs after it in file order)."""
    print(f"\nCSV fuzz: files fuzzed {TALLY['fuzzed']}, accepted whole {TALLY['accepted']}, "
          f"rejected whole {TALLY['rejected']}, partial imports {TALLY['partial']}")
    assert TALLY["partial"] == 0
    assert TALLY["fuzzed"] == 0 or TALLY["rejected"] > 0
