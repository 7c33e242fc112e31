"""My supervision log in a workbook (``rapportkit.ui.SupervisionLogView``), on both
backends with the demo team, and on a team database as the specialist's own login."""

from __future__ import annotations

import csv
import datetime as dt
import stat

from conftest import open_backend
from rapportkit.model import PersonRole
from rapportkit.store import Store
from rapportkit.supervision_log import supervision_log
from rapportkit.ui import SupervisionLogView


def test_the_log_lists_each_meeting_with_the_totals(demo_store, tmp_path):
    view = SupervisionLogView(demo_store, specialist="sp-02", folder=tmp_path)
    log = supervision_log(demo_store, "sp-02")
    assert view.log == log and len(log.rows) > 5
    shown = view.table.value
    assert shown.split("</table>")[0].count("<tr><td") == len(log.rows)  # one row per meeting
    for label, value in log.totals():
        assert value.replace("&", "&amp;") in shown
    assert f"{log.signed_hours:.2f} hours" in shown and log.signed_hours > 0
    assert "not recorded" in shown  # the first month's meetings have no length (the demo's history)
    assert not view.save_pdf.disabled and not view.save_csv.disabled


def test_dates_narrow_it_and_the_wrong_way_round_is_a_sentence(demo_store, tmp_path):
    view = SupervisionLogView(demo_store, specialist="sp-02", folder=tmp_path)
    every = len(view.log.rows)
    view.since.value = dt.date(2026, 1, 1)
    assert 0 < len(view.log.rows) < every and all(r.date >= dt.date(2026, 1, 1) for r in view.log.rows)
    view.until.value = dt.date(2025, 6, 1)
    assert view.log is None and view.table.value == ""
    assert view.status.kind == "warning" and "Change the dates" in view.status.message
    assert view.save_csv.disabled  # nothing to save
    view.until.value = None
    assert view.log is not None and view.status.kind == ""


def test_saving_writes_the_same_log_owner_only(demo_store, tmp_path):
    view = SupervisionLogView(demo_store, specialist="sp-01", folder=tmp_path)
    view.save_csv.click()
    assert view.status.kind == "ok", view.status.message
    [written] = tmp_path.glob("supervision-log-sp-01-*.csv")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    rows = list(csv.DictReader(written.open()))
    meetings = [r for r in rows if r["review_id"]]
    assert len(meetings) == len(view.log.rows)
    assert sum(int(r["length_min"]) for r in meetings if r["signed"] == "yes" and r["length_min"].isdigit()) == \
        view.log.minutes(signed_only=True)
    view.save_pdf.click()
    [pdf] = tmp_path.glob("supervision-log-sp-01-*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and stat.S_IMODE(pdf.stat().st_mode) == 0o600


def test_on_a_team_database_a_specialist_sees_their_own_log_only(request, tmp_path, rubric):
    with open_backend("postgresql", request, tmp_path, rubric, "demo") as demo_store:
        _own_log_only(demo_store, tmp_path, rubric)


def _own_log_only(demo_store, tmp_path, rubric):
    demo_store.change_person("sp-03", login="pt_log_sp03", reason="a login for the test")
    with Store(demo_store.url.replace("user=postgres", "user=pt_log_sp03"), rubric=rubric) as mine:
        view = SupervisionLogView(mine, specialist="sp-01", folder=tmp_path)  # asks for someone else
        assert [v for _, v in view.specialist.options] == ["sp-03"]
        assert view.log.specialist_id == "sp-03"
        assert view.log == supervision_log(demo_store, "sp-03")  # the installer's view of their meetings
        assert len(demo_store.people(PersonRole.SPECIALIST)) > 1
