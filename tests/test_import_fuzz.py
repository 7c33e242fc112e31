"""CSV import fed malformed files: each is accepted whole or rejected whole — never partly
imported, never an unexpected exception — and what an accepted file imports is what the
file says.

A valid export of a small demo team is damaged in generated ways (BOMs, other
encodings, line endings, broken quoting, formula cells, neutralised formula notes, blank
rows, out-of-range scores, duplicated rows, huge fields, truncation, shuffled columns).

The oracle, for every file:

- rejected: every problem is located (``line N…`` or ``the file …``) and the database is
  unchanged;
- accepted, damage that keeps the meaning (BOM, blank rows, CRLF → LF): the imported
  reviews equal the source's (``to_dict``);
- accepted, a note rewritten to formula-like text and neutralised as the export does: the
  source with exactly that note changed;
- accepted, any other damage: re-exporting what was imported gives the rows the file
  holds (the import kept every row and invented none), and ``Store.check`` is clean.

The figures (files fuzzed, accepted, rejected) come from a fixed sweep of every damage
kind at several places, in a test of their own that does not depend on test order.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapportkit.demo import generate
from rapportkit.errors import ImportRejected
from rapportkit.store import Store
from rapportkit.transfer import CSV_COLUMNS, _restore, export_csv, import_file, neutralise

KINDS = ["bom", "latin1", "utf16", "crlf", "quote", "formula", "neutralised", "blank", "score", "duplicate", "huge",
         "truncate", "nul", "columns", "junk"]
SAME_MEANING = {"bom", "blank", "crlf"}  # damage that must not change what the file says
FORMULAS = ["=SUM(A1:A9) twice", "+1 extra check-in each week", "-2 since the last review", "@the team: agreed plan"]
SLOTS = {"self": "self_rating", "supervisor": "supervisor_rating", "consensus": "consensus"}


@dataclass(frozen=True)
class Source:
    data: bytes
    reviews: dict  # (id, revision) -> to_dict()


def _revisions(store: Store) -> dict:
    return {(r.id, r.revision): r.to_dict() for latest in store.reviews() for r in store.history(latest.id)}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Source:
    folder = tmp_path_factory.mktemp("fuzz")
    team = generate(specialists=2, months=2)
    with Store(folder / "src.db", actor="fuzz") as store:
        store.save_many(people=team.people, reviews=team.reviews)
        export_csv(store, folder / "good.csv")
        reviews = _revisions(store)
    assert len(reviews) == len(team.reviews) > 3
    return Source((folder / "good.csv").read_bytes(), reviews)


def _neutralised(data: bytes, where: float, payload: str) -> tuple[bytes, dict]:
    """A rating row's note rewritten to formula-like text, neutralised as the export does;
    with the (id, revision, rating slot, practice, text) it now says."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    header = rows[0]
    col = {h: j for j, h in enumerate(header)}
    ratings = [i for i, r in enumerate(rows) if i and r[col["kind"]] == "rating" and r[col["practice_id"]]]
    i = ratings[min(len(ratings) - 1, int(where * len(ratings)))]
    text = FORMULAS[int(where * 1000) % len(FORMULAS)]
    rows[i][col["note"]] = neutralise(text)
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    row = rows[i]
    return out.getvalue().encode("utf-8"), dict(key=(row[col["review_id"]], int(row[col["revision"]])),
                                                slot=SLOTS[row[col["role"]]], practice=row[col["practice_id"]],
                                                text=text)


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
    if how == "crlf":
        return data.replace(b"\r\n", b"\n")
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
    return b"\r\n".join(lines)


def _rows(data: bytes) -> Counter:
    """The item rows a CSV holds, cells as the import reads them (formula protection taken
    off, ends stripped), in the order of CSV_COLUMNS; blank rows left out, and a bare
    ``review`` row counted once (it says only that the review exists)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = [h.strip() for h in next(reader)]
    rows = Counter()
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        cells = dict(zip(header, row))
        rows[tuple(_restore(cells.get(c, "")).strip() for c in CSV_COLUMNS)] += 1
    for row in rows:
        if row[0] == "review":
            rows[row] = 1
    return rows


def attempt(source: Source, folder: Path, how: str, where: float, payload: str) -> str:
    """Import one damaged file into an empty database and hold the result to the oracle;
    returns "accepted" or "rejected"."""
    expected = dict(source.reviews)
    if how == "neutralised":
        data, change = _neutralised(source.data, where, payload)
        review = {**expected[change["key"]]}
        rating = {**review[change["slot"]]}
        rating["notes"] = {**rating["notes"], change["practice"]: change["text"]}
        review[change["slot"]] = rating
        expected[change["key"]] = review
    else:
        data = _damage(source.data, how, where, payload)
    path = folder / "in.csv"
    path.write_bytes(data)
    with Store(folder / "target.db", actor="fuzz") as store:
        before = store.counts()
        try:
            import_file(store, path)
        except ImportRejected as exc:
            assert how not in SAME_MEANING | {"neutralised"}, (how, exc.problems)
            assert exc.problems, "a rejection must say what is wrong"
            located = [p for p in exc.problems if not p.startswith(("line ", "the file "))]
            assert not located, f"{how}: problems without a line: {located}"
            assert store.counts() == before, "a rejected file changed the database"
            return "rejected"
        got = _revisions(store)
        if how in SAME_MEANING or how == "neutralised":
            assert got == expected, f"{how}: the imported reviews differ from what the file says"
        else:
            export_csv(store, folder / "again.csv")
            again = _rows((folder / "again.csv").read_bytes())
            assert again == _rows(data), f"{how}: the import dropped or invented rows"
        assert store.check() == []
    return "accepted"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(KINDS), where=st.floats(0, 1), payload=st.text(max_size=40))
def test_malformed_csv_is_accepted_whole_or_rejected_whole(source, tmp_path_factory, how, where, payload):
    attempt(source, tmp_path_factory.mktemp("case"), how, where, payload)


def test_fuzz_figures(source, tmp_path_factory):
    """Every damage kind at five places: each file held to the oracle, and the tally printed."""
    tally = Counter()
    for how in KINDS:
        for where in (0.0, 0.23, 0.5, 0.77, 1.0):
            tally[attempt(source, tmp_path_factory.mktemp("sweep"), how, where, "2")] += 1
            tally["fuzzed"] += 1
    print(f"\nCSV fuzz: files fuzzed {tally['fuzzed']}, accepted whole {tally['accepted']}, "
          f"rejected whole {tally['rejected']}, partial imports 0")
    assert tally["fuzzed"] == len(KINDS) * 5 == tally["accepted"] + tally["rejected"]
    assert tally["accepted"] >= len(SAME_MEANING | {"neutralised"}) * 5  # these are always accepted
    assert tally["rejected"] >= 5 * 5  # utf16, latin1, nul, columns and huge never are
