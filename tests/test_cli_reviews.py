"""`rapportkit reviews` lists reviews; `rapportkit amend` opens the next revision of a signed one."""

from __future__ import annotations

import json
import shutil

import pytest

from rapportkit.cli import main
from rapportkit.model import ReviewStatus
from rapportkit.store import Store


@pytest.fixture
def db(demo_db, tmp_path):
    path = tmp_path / "team.db"
    shutil.copyfile(demo_db, path)
    return path


def test_reviews_lists_one_a_line_and_filters(db, capsys, rubric):
    with Store(db, readonly=True, rubric=rubric) as store:
        expected = [r for r in store.reviews("sp-03")]
    assert main(["reviews", "--db", str(db), "--specialist", "sp-03"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [r.id for r in expected]
    first = expected[0]
    assert lines[0].split()[1:4] == [first.review_date.isoformat(), "sp-03", "Cedar"]
    assert main(["reviews", "--db", str(db), "--status", "revealed"]) == 0
    shown = capsys.readouterr().out.splitlines()
    with Store(db, readonly=True, rubric=rubric) as store:
        in_progress = [r.id for r in store.reviews() if r.status is ReviewStatus.REVEALED]
    assert in_progress and [line.split()[0] for line in shown] == in_progress
    assert all(line.endswith("revealed") for line in shown)


def test_amend_opens_the_next_revision_and_the_export_holds_it(db, tmp_path, capsys, rubric):
    with Store(db, readonly=True, rubric=rubric) as store:
        signed = next(r for r in store.reviews("sp-01") if r.status is ReviewStatus.SIGNED)
    assert main(["amend", "--db", str(db), signed.id, "--reason", "The session date was wrong."]) == 0
    assert f"opened revision 2 of {signed.id}" in capsys.readouterr().out
    out = tmp_path / "all.json"
    assert main(["export", "--db", str(db), "--out", str(out)]) == 0
    revisions = [r for r in json.loads(out.read_text())["reviews"] if r["id"] == signed.id]
    assert [(r["revision"], r["status"]) for r in revisions] == [(1, "signed"), (2, "amended")]
    assert revisions[1]["amend_reason"] == "The session date was wrong."
    with Store(db, readonly=True, rubric=rubric) as store:
        assert store.review(signed.id, 1) == signed  # the signed revision is kept as it was


def test_amend_refuses_an_unsigned_review_with_a_sentence(db, capsys, rubric):
    with Store(db, readonly=True, rubric=rubric) as store:
        open_review = next(r for r in store.reviews() if r.status is not ReviewStatus.SIGNED)
    assert main(["amend", "--db", str(db), open_review.id, "--reason", "Fix"]) == 2
    err = capsys.readouterr().err
    assert "only a signed review is amended" in err and "Traceback" not in err
    assert main(["amend", "--db", str(db), "rv-nope", "--reason", "Fix"]) == 2
    assert "there is no review 'rv-nope'" in capsys.readouterr().err
