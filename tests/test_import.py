"""Imports that cannot lie (``rapportkit.transfer.import_file`` and ``rapportkit import``).

- The team never changes silently: a file that would rename someone, change a role,
  move a specialist to another supervisor, or (de)activate someone is refused naming the
  line (CSV) or place (JSON) and the change, unless ``update_people``; then each change is
  listed and audited. One id has one name in a file. New people are added.
- Every problem names its line and column (CSV) or place and field (JSON), including what
  only the database can tell (rubric, people, earlier goals, signed revisions).
- Free text that may identify someone is refused at its cell unless ``allow_identifiers``,
  and then listed.
- A correct file imports whole and equals its source.

The source database holds the small team of ``conftest.team`` plus a lead, and one review
of each shape: signed with notes (one over two lines, one formula-like), a trap and a
goal (``rv-a``); signed with a verdict on that goal (``rv-b``); a draft whose supervisor
has scored one practice and noted another (``rv-c``); a revealed review (``rv-d``); a
review of sp-1 by another supervisor than sp-1's own, signed and amended (``rv-e``, two
revisions).

Each test was checked against a one-line break of the behaviour it covers (it goes red).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SIGNED_AT, all_scores, build_review, goal, team
from rapportkit import model
from rapportkit.errors import ImportRejected, ValidationError
from rapportkit.model import GoalUpdate, Person, RaterRole, Rating
from rapportkit.store import Store
from rapportkit.transfer import CSV_COLUMNS, export_csv, export_json, import_file

LEAD = Person("ld-1", "Marisol Quernby", "lead")
PEOPLE = [*team(), LEAD]
NOTE = "Reflected the feeling back, then waited;\nthe pause did the work."  # a comma-free, two-line note
PHONE = "Asked them to call 555-0142 after the group."


def _reviews(rubric) -> list[model.Review]:
    a = build_review(
        rubric, review_id="rv-a", session_id="se-a", specialist="sp-1", supervisor="sv-1", review_date="2026-03-10",
        self_scores=all_scores(rubric, 3, empathy=4), self_notes={"empathy": NOTE, "boundaries": "=held the line"},
        supervisor_notes={"consistency": "Followed up on last week's plan.", "boundaries": "Ended on time."},
        traps=["dominating"], goals=[goal("go-a1", "empathy", follow_up="2026-04-10")],
    )
    b = build_review(
        rubric, review_id="rv-b", session_id="se-b", specialist="sp-1", supervisor="sv-1", review_date="2026-04-12",
        supervisor_scores=all_scores(rubric, 3, boundaries=2),
        goal_updates=[GoalUpdate("go-a1", "met", "Named the feeling twice.")],
    )
    c = build_review(rubric, stage="draft", review_id="rv-c", session_id="se-c", specialist="sp-2",
                     supervisor="sv-1", review_date="2026-04-20", self_scores=all_scores(rubric, 2),
                     supervisor_scores={"empathy": 3}, supervisor_notes={"boundaries": "Not rated yet: ask."})
    d = build_review(rubric, stage="revealed", review_id="rv-d", session_id="se-d", specialist="sp-3",
                     supervisor="sv-2", review_date="2026-04-21", self_notes={"empathy": "Stayed with it."})
    e1 = build_review(rubric, review_id="rv-e", session_id="se-e", specialist="sp-1", supervisor="sv-2",
                      review_date="2026-03-20")
    e2 = model.amend(e1, "The session was by video, not in person; the ratings stand.")
    e2 = model.sign(model.sign(e2, "specialist", at=SIGNED_AT), "supervisor", at=SIGNED_AT)
    return [a, e1, e2, b, c, d]


@pytest.fixture
def source(tmp_path, rubric):
    s = Store(tmp_path / "source.db", actor="source", rubric=rubric)
    s.save_many(people=PEOPLE)
    s.save_many(reviews=_reviews(rubric))
    yield s
    s.close()


def _empty(backend: str, request, tmp_path, name: str, rubric) -> Store:
    """An empty database on ``backend`` (the import goes into each)."""
    if backend == "postgresql":
        from conftest import new_pg_database

        return Store(new_pg_database(request.getfixturevalue("pg_cluster")), rubric=rubric)
    return Store(tmp_path / name, actor="importer", rubric=rubric)


@pytest.fixture
def target(backend, request, tmp_path, rubric):
    """The same team as the source, no reviews yet (on each backend)."""
    s = _empty(backend, request, tmp_path, "target.db", rubric)
    s.save_many(people=PEOPLE)
    yield s
    s.close()


@pytest.fixture
def fresh(backend, request, tmp_path, rubric):
    s = _empty(backend, request, tmp_path, "fresh.db", rubric)
    yield s
    s.close()


class Sheet:
    """A CSV export as records that can be edited and saved again; ``line`` gives the
    line (header = 1) where the first record matching some cells starts."""

    def __init__(self, path: Path):
        self.path = path
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            self.header = next(reader)
            self.records, self.lines, last = [], [], reader.line_num
            for row in reader:
                self.lines.append(last + 1)
                last = reader.line_num
                self.records.append(dict(zip(self.header, row)))

    def where(self, **match) -> list[int]:
        return [i for i, r in enumerate(self.records) if all(r[k] == v for k, v in match.items())]

    def line(self, **match) -> int:
        return self.lines[self.where(**match)[0]]

    def set(self, column: str, value: str, **match) -> None:
        found = self.where(**match)
        assert found, match
        for i in found:
            self.records[i][column] = value

    def save(self, path: Path | None = None) -> Path:
        path = path or self.path
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.header)
            writer.writerows([r[h] for h in self.header] for r in self.records)
        return Sheet(path).path


def export(store: Store, folder: Path, suffix: str = ".csv", name: str = "team") -> Path:
    out = folder / f"{name}{suffix}"
    (export_csv if suffix == ".csv" else export_json)(store, out)
    return out


def rejected(store: Store, path: Path, **options) -> list[str]:
    before = store.counts()
    people = store.people()
    with pytest.raises(ImportRejected) as info:
        import_file(store, path, **options)
    assert store.counts() == before and store.people() == people, "a rejected file changed the database"
    return info.value.problems


def revisions(store: Store) -> dict[tuple[str, int], dict]:
    return {(r.id, r.revision): r.to_dict() for latest in store.reviews() for r in store.history(latest.id)}


# ----------------------------------------------------------------------------- a correct file


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_correct_file_imports_whole_and_equals_its_source(source, fresh, tmp_path, suffix):
    path = export(source, tmp_path, suffix)
    result = import_file(fresh, path)
    assert revisions(fresh) == revisions(source)
    assert len(revisions(fresh)) == 6
    assert fresh.review("rv-a").self_rating.notes == {"boundaries": "=held the line", "empathy": NOTE}
    assert fresh.review("rv-c").supervisor_rating.notes == {"boundaries": "Not rated yet: ask."}  # no score yet
    named = {"sp-1", "sp-2", "sp-3", "sv-1", "sv-2"}
    if suffix == ".json":  # the whole team, as it is
        assert fresh.people() == source.people()
        assert sorted(result.people_added) == sorted(p.id for p in PEOPLE)
    else:  # the people the reviews name, each under the supervisor of their latest review
        assert fresh.people() == [p for p in source.people() if p.id in named]
        assert sorted(result.people_added) == sorted(named)
    assert result.changed == len(result.people_added) + 6
    assert result.roster_changes == () and result.allowed == ()
    assert fresh.check() == []
    # a second time changes nothing
    assert import_file(fresh, path).changed == 0


# ----------------------------------------------------------------------------- the team


def test_csv_rename_is_refused_naming_the_line_and_the_change(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("specialist_name", "Corvin B.", specialist_id="sp-2")
    path = sheet.save()
    line = Sheet(path).line(specialist_id="sp-2")
    assert rejected(target, path) == [
        f"line {line}, column 'specialist_name': would rename sp-2 from 'Corvin Bracken' to 'Corvin B.'; "
        "import with --update-people to apply it"
    ]


def test_csv_rename_with_update_people_is_listed_and_audited(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("specialist_name", "Corvin B.", specialist_id="sp-2")
    path = sheet.save()
    line = Sheet(path).line(specialist_id="sp-2")
    result = import_file(target, path, update_people=True)
    did = "renamed sp-2 from 'Corvin Bracken' to 'Corvin B.'"
    assert result.roster_changes == (f"line {line}, column 'specialist_name': {did}",)
    assert target.person("sp-2") == dataclasses.replace(source.person("sp-2"), display_name="Corvin B.")
    entry = target.audit_log("person", "sp-2")[-1]
    assert entry.action == "update"
    assert entry.reason == f"imported from {path.name} with --update-people: {did}"
    assert revisions(target) == revisions(source)
    assert [p for p in target.people() if p.id != "sp-2"] == [p for p in source.people() if p.id != "sp-2"]


def test_two_names_for_one_id_in_one_file_are_refused_naming_both_lines(source, fresh, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("specialist_name", "Tansy M.", review_id="rv-b")
    path = sheet.save()
    again = Sheet(path)
    first, second = again.line(specialist_id="sp-1"), again.line(review_id="rv-b")
    assert first < second
    assert rejected(fresh, path) == [
        f"line {second}, column 'specialist_name': names sp-1 'Tansy M.', but line {first} names them "
        "'Tansy Millwheel'; one id, one name"
    ]
    # with --update-people too: the file contradicts itself
    assert rejected(fresh, path, update_people=True) == rejected(fresh, path)


def test_a_review_by_another_supervisor_does_not_move_the_specialist(source, target, tmp_path):
    assert source.review("rv-e").supervisor_id == "sv-2" and target.person("sp-1").supervisor_id == "sv-1"
    sheet = Sheet(export(source, tmp_path))
    sheet.records = [r for r in sheet.records if r["review_id"] == "rv-e"]  # sp-1 only ever with sv-2 here
    import_file(target, sheet.save())
    assert [r.supervisor_id for r in target.history("rv-e")] == ["sv-2", "sv-2"]
    assert target.person("sp-1").supervisor_id == "sv-1"
    assert [e.action for e in target.audit_log("person", "sp-1")] == ["create"]


def test_a_csv_does_not_reactivate_anyone(source, target, tmp_path):
    target.save_person(dataclasses.replace(target.person("sp-1"), active=False))
    import_file(target, export(source, tmp_path))
    assert target.person("sp-1").active is False
    assert len(target.reviews("sp-1")) == 3


def test_a_csv_supervisor_id_naming_a_specialist_is_refused(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("supervisor_id", "sp-2", review_id="rv-c")
    sheet.set("supervisor_name", "Corvin Bracken", review_id="rv-c")
    path = sheet.save()
    line = Sheet(path).line(review_id="rv-c")
    assert rejected(target, path) == [f"line {line}, column 'supervisor_id': sp-2 is a specialist, not a supervisor"]


JSON_CHANGES = {  # field: (person, new value, what it would do, what it did)
    "display_name": ("sp-1", "Tansy M.", "rename sp-1 from 'Tansy Millwheel' to 'Tansy M.'",
                     "renamed sp-1 from 'Tansy Millwheel' to 'Tansy M.'"),
    "supervisor_id": ("sp-1", "sv-2", "move sp-1 from supervisor sv-1 to sv-2", "moved sp-1 from supervisor sv-1 to sv-2"),
    "role": ("ld-1", "supervisor", "change ld-1's role from lead to supervisor", "changed ld-1's role from lead to supervisor"),
    "active": ("sp-2", False, "deactivate sp-2", "deactivated sp-2"),
    "reactivate": ("sp-3", True, "reactivate sp-3, who is inactive in the database", "reactivated sp-3"),
}


def _json_change(source, target, tmp_path, field):
    pid, value, would, did = JSON_CHANGES[field]
    if field == "reactivate":
        field = "active"
        target.save_person(dataclasses.replace(target.person(pid), active=False))
    path = export(source, tmp_path, ".json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    k = next(i for i, p in enumerate(doc["people"]) if p["id"] == pid)
    doc["people"][k][field] = value
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path, pid, field, value, f"people[{k}], field '{field}'", would, did


@pytest.mark.parametrize("change", sorted(JSON_CHANGES))
def test_json_roster_change_is_refused_naming_the_place_and_the_change(source, target, tmp_path, change):
    path, pid, field, value, where, would, did = _json_change(source, target, tmp_path, change)
    assert rejected(target, path) == [f"{where}: would {would}; import with --update-people to apply it"]


@pytest.mark.parametrize("change", sorted(JSON_CHANGES))
def test_json_roster_change_with_update_people_is_listed_and_audited(source, target, tmp_path, change):
    path, pid, field, value, where, would, did = _json_change(source, target, tmp_path, change)
    others = [p for p in target.people() if p.id != pid]
    result = import_file(target, path, update_people=True)
    assert result.roster_changes == (f"{where}: {did}",)
    assert result.people_added == ()
    assert getattr(target.person(pid), field) == value
    assert [p for p in target.people() if p.id != pid] == others
    entry = target.audit_log("person", pid)[-1]
    assert entry.reason == f"imported from {path.name} with --update-people: {did}"
    assert revisions(target) == revisions(source)


def test_json_two_records_for_one_id_are_refused_naming_both_places(source, fresh, tmp_path):
    path = export(source, tmp_path, ".json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    k = next(i for i, p in enumerate(doc["people"]) if p["id"] == "sp-1")
    doc["people"].append({**doc["people"][k], "display_name": "Tansy M."})
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert rejected(fresh, path) == [
        f"people[{len(doc['people']) - 1}]: sp-1 appears again with a different record (first at people[{k}]); "
        "one id, one person"
    ]


def test_cli_refuses_a_roster_change_and_applies_it_with_update_people(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("specialist_name", "Corvin B.", specialist_id="sp-2")
    path = sheet.save()
    line = Sheet(path).line(specialist_id="sp-2")
    db = str(target.url or target.path)
    target.close()
    cli = [sys.executable, "-m", "rapportkit.cli", "import", "--db", db, str(path)]
    refused = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert (f"line {line}, column 'specialist_name': would rename sp-2 from 'Corvin Bracken' to 'Corvin B.'; "
            "import with --update-people") in refused.stderr
    done = subprocess.run([*cli, "--update-people"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "0 new people added" in done.stdout
    assert f"  - line {line}, column 'specialist_name': renamed sp-2 from 'Corvin Bracken' to 'Corvin B.'" in done.stdout


def test_new_people_are_added_and_counted(source, fresh, tmp_path):
    done = subprocess.run([sys.executable, "-m", "rapportkit.cli", "import", "--db", str(fresh.url or fresh.path),
                           str(export(source, tmp_path, ".json"))], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{len(PEOPLE) + 6} record(s) added or changed, {len(PEOPLE)} new people added" in done.stdout


# ----------------------------------------------------------------------------- every problem located


def _rating(review: str, role: str, practice: str) -> dict:
    """The cells that pick one rating row."""
    return dict(kind="rating", review_id=review, role=role, practice_id=practice)


CSV_CASES = {
    # name: (edit the sheet, the cells of the row the problem is on, its column, the message begins)
    "unknown practice": (
        lambda s: s.set("practice_id", "empathie", **_rating("rv-a", "consensus", "empathy")),
        dict(kind="rating", review_id="rv-a", role="consensus", practice_id="empathie"), "practice_id",
        "'empathie' is not a practice of rubric peer-rapport 1.0 (safe_environment, "),
    "unknown trap": (
        lambda s: s.set("trap_id", "bullying", kind="trap", review_id="rv-a"),
        dict(kind="trap", review_id="rv-a"), "trap_id", "'bullying' is not a trap of rubric peer-rapport 1.0"),
    "unknown goal practice": (
        lambda s: s.set("practice_id", "warmth", kind="goal", review_id="rv-a"),
        dict(kind="goal", review_id="rv-a"), "practice_id", "'warmth' is not a practice of rubric peer-rapport 1.0"),
    "unknown rubric version": (
        lambda s: s.set("rubric_version", "9.9", review_id="rv-c"),
        dict(review_id="rv-c"), "rubric_version", "rubric 'peer-rapport' version '9.9' is not known to this database"),
    "unknown person": (
        lambda s: (s.set("specialist_id", "sp-9", review_id="rv-c"), s.set("specialist_name", "", review_id="rv-c"),
                   s.set("rater_id", "sp-9", review_id="rv-c", role="self")),
        dict(review_id="rv-c"), "specialist_id",
        "sp-9 is not in the database and the file gives no name for them (column 'specialist_name')"),
    "no earlier goal": (
        lambda s: s.set("goal_id", "go-zz", kind="goal_update", review_id="rv-b"),
        dict(kind="goal_update", review_id="rv-b"), "goal_id",
        "'go-zz' is not an earlier goal of sp-1: no other review of theirs, in the file or the database, sets it"),
    "long note": (
        lambda s: s.set("note", "x" * 1001, **_rating("rv-a", "supervisor", "consistency")),
        _rating("rv-a", "supervisor", "consistency"), "note", "'xxxxxxxxxx"),
    "control characters": (
        lambda s: s.set("note", "Paused\x07 here", **_rating("rv-a", "supervisor", "consistency")),
        _rating("rv-a", "supervisor", "consistency"), "note", "'Paused\\x07 here' is not valid ('note' contains "
                                                                    "control characters"),
    "review-level cells disagree": (
        lambda s: s.set("review_date", "2026-03-11", **_rating("rv-a", "supervisor", "empathy")),
        _rating("rv-a", "supervisor", "empathy"), "review_date",
        "'2026-03-11' differs from line {first} ('2026-03-10') for the same review"),
    "a status's rules": (
        lambda s: s.set("supervisor_signed_at", "", review_id="rv-a"),
        dict(review_id="rv-a"), "status",
        "review rv-a revision 1 cannot be signed: a signed review needs both signatures (the supervisor's is missing)"),
    "a cell with no place in its row": (
        lambda s: s.set("trap_id", "dominating", **_rating("rv-b", "self", "empathy")),
        _rating("rv-b", "self", "empathy"), "trap_id", "'dominating' has no place in a rating row"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_each_csv_problem_names_its_line_and_column(source, target, tmp_path, case):
    edit, row, column, message = CSV_CASES[case]
    sheet = Sheet(export(source, tmp_path))
    edit(sheet)
    path = sheet.save()
    again = Sheet(path)
    line, first = again.line(**row), again.line(review_id=row["review_id"])
    problems = rejected(target, path)
    expected = f"line {line}, column '{column}': {message.format(first=first)}"
    assert [p for p in problems if p.startswith(expected)], (expected, problems)
    assert all(p.startswith("line ") for p in problems), problems
    if case in ("long note", "control characters", "unknown practice", "review-level cells disagree",
                "a cell with no place in its row", "no earlier goal"):
        assert line != first  # the part's own row, not the review's first


def test_a_practice_rated_twice_in_one_role_names_both_lines(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    i = sheet.where(kind="rating", review_id="rv-a", role="self", practice_id="active_listening")[0]
    sheet.records.insert(i + 1, dict(sheet.records[i], score="2"))
    path = sheet.save()
    again = Sheet(path)
    one, two = [again.lines[k] for k in again.where(kind="rating", review_id="rv-a", role="self",
                                                     practice_id="active_listening")]
    assert rejected(target, path) == [
        f"line {two}, column 'practice_id': practice 'active_listening' appears twice in the self rating "
        f"(lines {one} and {two})"
    ]


def test_a_duplicated_header_column_is_named_with_both_positions(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.header[sheet.header.index("goal_status")] = "note"
    path = sheet.save()
    assert rejected(target, path) == [
        f"line 1 (header): column 'note' appears twice (columns {CSV_COLUMNS.index('note') + 1} and "
        f"{CSV_COLUMNS.index('goal_status') + 1})"
    ]


def test_a_byte_that_is_not_utf8_is_named_by_line_and_column(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("note", "Cafe talk", **_rating("rv-a", "supervisor", "consistency"))
    path = sheet.save()
    line = Sheet(path).line(**_rating("rv-a", "supervisor", "consistency"))
    path.write_bytes(path.read_bytes().replace(b"Cafe talk", b"Caf\xe9 talk"))
    assert rejected(target, path) == [
        f"line {line}, column 'note': contains the byte 0xe9, which is not UTF-8; save the file as UTF-8 "
        "('CSV UTF-8' in a spreadsheet) and try again"
    ]


def test_a_signed_review_the_file_changes_is_refused_at_its_first_line(source, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("note", "Another note.", **_rating("rv-a", "supervisor", "consistency"))
    path = sheet.save()
    first = Sheet(path).line(review_id="rv-a")
    assert rejected(source, path) == [
        f"line {first}: review rv-a revision 1 is signed in the database and this file changes it (supervisor_rating); "
        "a signed review is never changed: amend it to make a new revision"
    ]


def test_what_the_store_still_refuses_names_the_review_and_its_first_line(source, target, tmp_path, monkeypatch):
    path = export(source, tmp_path)
    first = Sheet(path).line(review_id="rv-b")
    real = Store.save_many

    def refusing(self, *, people=(), reviews=(), **kw):
        def checked():
            for review in reviews:
                if review.id == "rv-b":
                    raise ValidationError("the database says no")
                yield review
        return real(self, people=people, reviews=checked(), **kw)

    monkeypatch.setattr(Store, "save_many", refusing)
    assert rejected(target, path) == [f"line {first} (review rv-b revision 1): the database says no"]


JSON_CASES = {
    # name: (edit the review dict with this id, the field, the message begins)
    "unknown practice": ("rv-a", lambda r: r["self_rating"]["scores"].update(empathie=r["self_rating"]["scores"].pop(
        "empathy")), "self_rating.scores.empathie", "'empathie' is not a practice of rubric peer-rapport 1.0"),
    "long note": ("rv-a", lambda r: r["self_rating"]["notes"].update(empathy="x" * 1001),
                  "self_rating.notes.empathy", "'note for empathy' is 1,001 characters"),
    "unknown person": ("rv-c", lambda r: (r["session"].update(specialist_id="sp-9"),
                                          r["self_rating"].update(rater_id="sp-9")),
                       "session.specialist_id", "sp-9 is not in the database or among the file's people"),
    "supervisor is a specialist": ("rv-c", lambda r: r.update(supervisor_id="sp-2"), "supervisor_id",
                                   "sp-2 is a specialist, not a supervisor"),
    "no earlier goal": ("rv-b", lambda r: r["goal_updates"][0].update(goal_id="go-zz"), "goal_updates[0].goal_id",
                        "'go-zz' is not an earlier goal of sp-1"),
    "unknown trap": ("rv-a", lambda r: r.update(traps=["bullying"]), "traps[0]", "'bullying' is not a trap of"),
    "a status's rules": ("rv-a", lambda r: r.update(supervisor_signed_at=None), "status",
                         "review rv-a revision 1 cannot be signed: a signed review needs both signatures"),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_each_json_problem_names_its_place_and_field(source, target, tmp_path, case):
    rid, edit, field, message = JSON_CASES[case]
    path = export(source, tmp_path, ".json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    i = next(k for k, r in enumerate(doc["reviews"]) if r["id"] == rid)
    edit(doc["reviews"][i])
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    problems = rejected(target, path)
    expected = f"reviews[{i}] (id {rid}), field '{field}': {message}"
    assert [p for p in problems if p.startswith(expected)], (expected, problems)


def test_json_people_and_syntax_problems_are_located(source, target, tmp_path):
    path = export(source, tmp_path, ".json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["people"][1]["display_name"] = ""
    doc["people"][2]["active"] = "yes"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    assert rejected(target, path) == ["people[1], field 'display_name': 'display_name' must not be empty",
                                      "people[2], field 'active': must be true or false (got 'yes')"]
    path.write_text('{"format": "rapportkit",\n "version": 1,\n "people": [}', encoding="utf-8")
    assert rejected(target, path) == ["line 3, column 13: not valid JSON (Expecting value)"]


# ----------------------------------------------------------------------------- identifiers


def _with_note(source, tmp_path, text, **where) -> tuple[Path, int]:
    sheet = Sheet(export(source, tmp_path))
    sheet.set("note", text, **where)
    path = sheet.save()
    return path, Sheet(path).line(**where)


def test_a_possible_identifier_is_refused_at_its_cell(source, target, tmp_path):
    path, line = _with_note(source, tmp_path, PHONE, **_rating("rv-a", "supervisor", "consistency"))
    assert rejected(target, path) == [
        f"line {line}, column 'note': may identify someone (phone '555-0142'); edit it, or import with "
        "--allow-identifiers if it is not about a client"
    ]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_an_identifier_is_reported_with_the_other_problems_of_its_review(source, target, tmp_path, suffix):
    path = export(source, tmp_path, suffix)
    if suffix == ".csv":
        sheet = Sheet(path)
        sheet.set("note", PHONE, **_rating("rv-a", "supervisor", "consistency"))
        sheet.set("trap_id", "bullying", kind="trap", review_id="rv-a")
        sheet.save()
        again = Sheet(path)
        spots = [f"line {again.line(**_rating('rv-a', 'supervisor', 'consistency'))}, column 'note'",
                 f"line {again.line(kind='trap', review_id='rv-a')}, column 'trap_id'"]
    else:
        doc = json.loads(path.read_text(encoding="utf-8"))
        i = next(k for k, r in enumerate(doc["reviews"]) if r["id"] == "rv-a")
        doc["reviews"][i]["supervisor_rating"]["notes"]["consistency"] = PHONE
        doc["reviews"][i]["traps"] = ["bullying"]
        path.write_text(json.dumps(doc), encoding="utf-8")
        spots = [f"reviews[{i}] (id rv-a), field 'supervisor_rating.notes.consistency'",
                 f"reviews[{i}] (id rv-a), field 'traps[0]'"]
    problems = rejected(target, path)
    assert len(problems) == 2, problems
    assert {p.split(": ", 1)[0] for p in problems} == set(spots)
    assert any(p.startswith(f"{spots[0]}: may identify someone (phone '555-0142')") for p in problems)


def test_the_team_is_the_roster_except_the_reviews_own_people(source, target, tmp_path):
    sheet = Sheet(export(source, tmp_path))
    sheet.set("note", "Compared notes with Corvin on pacing.", **_rating("rv-a", "supervisor", "consistency"))
    sheet.set("note", "Tansy asked Wren for a longer pause.", **_rating("rv-a", "supervisor", "boundaries"))
    sheet.set("session_code", "555-0142", review_id="rv-d")
    path = sheet.save()
    again = Sheet(path)
    assert rejected(target, path) == [
        f"line {again.line(**_rating('rv-a', 'supervisor', 'consistency'))}, column 'note': may identify "
        "someone (name 'Corvin'); edit it, or import with --allow-identifiers if it is not about a client",
        f"line {again.line(review_id='rv-d')}, column 'session_code': may identify someone (phone '555-0142'); edit "
        "it, or import with --allow-identifiers if it is not about a client",
    ]


def test_json_free_text_is_screened_at_its_field(source, target, tmp_path):
    path = export(source, tmp_path, ".json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    i = next(k for k, r in enumerate(doc["reviews"]) if r["id"] == "rv-e" and r["revision"] == 2)
    doc["reviews"][i]["amend_reason"] = "Mr. Okafor asked for the change."
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert rejected(target, path) == [
        f"reviews[{i}] (id rv-e), field 'amend_reason': may identify someone (name 'Okafor'); edit it, or import "
        "with --allow-identifiers if it is not about a client"
    ]


def test_allow_identifiers_lets_them_through_listed_and_recorded(source, target, tmp_path):
    path, line = _with_note(source, tmp_path, PHONE, **_rating("rv-a", "supervisor", "consistency"))
    result = import_file(target, path, allow_identifiers=True)
    assert result.allowed == (f"line {line}, column 'note': phone '555-0142'",)
    assert target.review("rv-a").supervisor_rating.notes["consistency"] == PHONE
    assert "phone" in (target.audit_log("review", "rv-a#1")[-1].reason or "")
    # what was let through once does not block the same file again
    assert import_file(target, path).changed == 0


def test_cli_names_what_it_allowed(source, target, tmp_path):
    path, line = _with_note(source, tmp_path, PHONE, **_rating("rv-a", "supervisor", "consistency"))
    db = str(target.url or target.path)
    target.close()
    cli = [sys.executable, "-m", "rapportkit.cli", "import", "--db", db, str(path)]
    refused = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and f"line {line}, column 'note': may identify someone" in refused.stderr
    done = subprocess.run([*cli, "--allow-identifiers"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"  - line {line}, column 'note': phone '555-0142'" in done.stdout
