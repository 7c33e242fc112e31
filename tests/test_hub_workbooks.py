"""``rapportkit workbooks``: each role's notebooks, shipped in the package, laid out into a
person's folder without ever overwriting their own copy."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from rapportkit.hub import ROLES, lay_out, workbooks_for

EXPECTED = {
    "specialist": ["1_my_self_ratings.ipynb", "2_waiting_for_my_signature.ipynb", "3_my_progress.ipynb",
                   "4_my_supervision_log.ipynb"],
    "supervisor": ["1_the_meeting.ipynb", "2_my_specialists.ipynb", "3_waiting_for_my_signature.ipynb"],
    "lead": ["1_team_dashboard.ipynb"],
    "admin": ["1_roster.ipynb"],
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_its_workbooks_with_a_kernelspec(role):
    books = workbooks_for(role)
    assert [p.name for p in books] == EXPECTED[role]
    for nb in books:
        meta = json.loads(nb.read_text())["metadata"]
        assert meta["kernelspec"]["name"] == "python3"


def test_lay_out_adds_what_is_missing_and_never_overwrites(tmp_path):
    into = tmp_path / "home" / "rapportkit"
    assert [p.name for p in lay_out("specialist", into)] == EXPECTED["specialist"]
    assert stat.S_IMODE(into.stat().st_mode) == 0o700
    mine = into / "1_my_self_ratings.ipynb"
    assert stat.S_IMODE(mine.stat().st_mode) == 0o600
    mine.write_text("my own edits")
    (into / "3_my_progress.ipynb").unlink()
    assert [p.name for p in lay_out("specialist", into)] == ["3_my_progress.ipynb"]
    assert mine.read_text() == "my own edits"


def test_the_command_needs_a_role_on_one_computer(tmp_path):
    run = [sys.executable, "-m", "rapportkit.cli", "workbooks", "--into", str(tmp_path / "wb")]
    refused = subprocess.run(run + ["--db", str(tmp_path / "x.db")], capture_output=True, text=True)
    assert refused.returncode == 2 and "--role" in refused.stderr
    done = subprocess.run(run + ["--role", "lead"], capture_output=True, text=True)
    assert done.returncode == 0 and "1_team_dashboard.ipynb added" in done.stdout
