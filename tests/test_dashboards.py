"""Dashboards: thin notebooks over read-only classes; deep links, messages, no writes.

No browser here (see ``test_browser_dashboards.py`` for Chromium): the classes are
driven the way Voilà drives them, including forged widget values delivered through
the same ``_handle_msg`` path a comm message from the browser takes.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import hashlib
import shutil
import sqlite3
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nbformat  # noqa: E402
import pytest  # noqa: E402
from traitlets import TraitError  # noqa: E402

from conftest import goal  # noqa: E402
from rapportkit import frames  # noqa: E402
from rapportkit.errors import ReadOnlyError, StoreError, ValidationError  # noqa: E402
from rapportkit.model import Person, PersonRole  # noqa: E402
from rapportkit.store import Store  # noqa: E402
from rapportkit.ui import CalibrationDashboard, SpecialistProgress, TeamOverview, query_string  # noqa: E402
from rapportkit.ui import dashboards  # noqa: E402
from rapportkit.ui.dashboards import requested_specialist  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "workbooks" / "dashboards"
MARKUP = "<img src=x onerror=alert(1)>"
TODAY = "2026-11-22"


@pytest.fixture
def demo(demo_db):
    s = Store(demo_db, readonly=True)
    yield s
    s.close()


def reopen(store) -> Store:
    """A read-only Store on the same file as the writable ``store``."""
    return Store(store.url or store.path, readonly=True, rubric=store.rubric)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- the link's query string


@pytest.mark.parametrize("query, wanted", [
    ("specialist=sp-03", "sp-03"),
    ("?specialist=sp-03&theme=dark", "sp-03"),
    ("token=abc&specialist=sp-07", "sp-07"),
    ("specialist=sp-02&specialist=sp-05", "sp-02"),
    ("specialist=%20sp-04%20", "sp-04"),
    ("", None), (None, None), ("theme=dark", None), ("specialist=", None),
])
def test_the_link_names_one_specialist_or_nobody(query, wanted):
    assert requested_specialist(query) == wanted


@pytest.mark.parametrize("value", ["%3Cscript%3Ealert(1)%3C%2Fscript%3E", "sp-03%27%3B%20DROP%20TABLE%20people",
                                   "../../etc/passwd", "x" * 65, "sp 03", "%00"])
def test_a_value_not_shaped_like_an_id_is_refused_before_use(value):
    with pytest.raises(ValidationError, match="is not a specialist id"):
        requested_specialist(f"specialist={value}")


def test_a_very_long_value_is_shortened_in_the_message():
    with pytest.raises(ValidationError) as info:
        requested_specialist("specialist=" + "y" * 5000)
    assert len(str(info.value)) < 300


def test_query_string_outside_voila_is_empty(monkeypatch):
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.delenv("QUERY_STRING", raising=False)
    assert query_string() == ""
    monkeypatch.setenv("QUERY_STRING", "specialist=sp-02")  # a cold Voilà kernel
    assert query_string() == "specialist=sp-02"


def test_query_string_in_a_preheated_kernel_waits_for_voila(monkeypatch):
    import voila.utils

    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.setattr(voila.utils, "get_query_string", lambda url=None: "specialist=sp-05")
    assert query_string() == "specialist=sp-05"
    monkeypatch.setattr(voila.utils, "get_query_string", lambda url=None: None)
    assert query_string() == ""


# ---------------------------------------------------------------- specialist progress


def test_specialist_progress_shows_the_first_specialist_by_name(demo):
    d = SpecialistProgress(demo, today=TODAY)
    assert d.picker.value == "sp-01"
    assert [label for label, _ in d.picker.options] == sorted(label for label, _ in d.picker.options)
    for image in (d.trends.image, d.profile.image, d.goals.image):
        assert bytes(image.value).startswith(b"\x89PNG")
    assert d.status.message == ""


def test_deep_link_shows_that_specialist_in_every_panel(demo):
    d = SpecialistProgress(demo, today=TODAY)
    d.apply_query("specialist=sp-03")
    assert d.picker.value == d.trends.specialist.value == d.goals.specialist.value == "sp-03"
    assert "Cedar Lanternfish (sp-03)" in d.trends.figure.get_suptitle()
    assert d.trends.status.message.startswith("Cedar Lanternfish (sp-03): 34 reviews")  # signed ones
    assert d.trends.status.message.endswith("1 review in progress is not counted here until signed.")
    # the latest review against the one before: the two latest *signed* reviews, never one in progress
    reviews = frames.reviews_frame(demo, specialist="sp-03").sort_values("review_date")
    assert reviews["status"].iloc[-1] != "signed"
    latest = frames.counted(reviews)["review_date"].iloc[-1]
    before = frames.counted(reviews)["review_date"].iloc[-2]
    profile = d.profile.figure.axes[0]
    assert profile.get_title() == f"Cedar Lanternfish (sp-03): review of {latest:%Y-%m-%d}"
    legend = [t.get_text() for t in profile.get_legend().get_texts()]
    assert legend == [f"consensus, {before:%Y-%m-%d}", *(f"{r}, {latest:%Y-%m-%d}" for r in
                                                        ("self", "supervisor", "consensus"))]
    assert "Active listening dropped from 4 to 3" in d.alerts.value
    assert d.last_change_ms > 0


def test_changing_the_specialist_redraws_every_panel(demo):
    d = SpecialistProgress(demo, today=TODAY)
    before = [bytes(i.value) for i in (d.trends.image, d.profile.image, d.goals.image)]
    alerts = d.alerts.value
    d.picker.value = "sp-06"
    after = [bytes(i.value) for i in (d.trends.image, d.profile.image, d.goals.image)]
    assert all(a != b for a, b in zip(before, after))
    assert d.alerts.value != alerts
    assert "Fable Puddleby" in d.goals.status.message


def test_a_viewers_change_shows_the_first_plot_first_and_the_rest_just_after(demo):
    d = SpecialistProgress(demo, today=TODAY)
    images = (d.trends.image, d.profile.image, d.goals.image)

    async def pick_as_a_viewer():  # a comm message is handled inside the kernel's event loop
        before = [bytes(i.value) for i in images]
        d.picker.value = "sp-06"
        now = [bytes(i.value) for i in images]
        assert now[0] != before[0] and now[1:] == before[1:]  # only the first plot so far
        d.picker.value = "sp-07"  # picked again before the rest was drawn
        await asyncio.sleep(0.3 + 4 * d.PANEL_GAP_S)
        for _ in range(100):
            if d.last_change_ms is not None and d.goals.specialist.value == "sp-07":
                break
            await asyncio.sleep(0.1)
        return before

    d.last_change_ms = None
    before = asyncio.run(pick_as_a_viewer())
    assert all(bytes(i.value) != b for i, b in zip(images, before))
    assert d.goals.specialist.value == d.trends.specialist.value == "sp-07"
    assert d.profile.figure.axes[0].get_title().startswith("Gale Nightjar (sp-07)")
    assert 0 < d.first_change_ms <= d.last_change_ms


def test_unknown_specialist_is_a_clear_message_and_the_dropdown_stays(demo):
    d = SpecialistProgress(demo, today=TODAY)
    d.apply_query("specialist=sp-99")
    assert d.picker.value == "sp-01"
    assert d.status.kind == "warning"
    assert d.status.message == ("There is no specialist with the id “sp-99” in this database. "
                                "Showing Aster Moonwhistle (sp-01) instead; pick someone from the list.")
    assert d.picker.layout.display != "none"
    d.picker.value = "sp-02"  # once someone is picked, the message no longer applies
    assert d.status.message == ""


def test_a_malformed_link_is_reported_escaped_and_never_used(demo, monkeypatch):
    d = CalibrationDashboard(demo)
    asked = []
    monkeypatch.setattr(d, "select", asked.append)
    d.apply_query("specialist=%3Cscript%3Ealert(1)%3C/script%3E")
    assert asked == []  # refused before any lookup
    assert d.status.kind == "warning"
    assert "<script>" not in d.status.html.value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in d.status.html.value
    assert d.picker.value == "sp-01"


def test_alerts_goal_texts_and_names_are_escaped(store, make_review):
    store.save_person(Person("sp-1", MARKUP, PersonRole.SPECIALIST, supervisor_id="sv-1"))
    store.save_review(make_review(specialist="sp-1", review_date="2026-03-01",
                                  goals=[goal("g-1", text=f"Listen first {MARKUP}", follow_up="2026-04-01")]))
    with reopen(store) as ro:
        d = SpecialistProgress(ro, specialist="sp-1", today=TODAY)
        assert "overdue" in d.alerts.value
        assert MARKUP not in d.alerts.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in d.alerts.value
        assert MARKUP not in d.trends.status.html.value


def test_a_specialist_without_reviews_gets_words_not_errors(store):
    with reopen(store) as ro:
        d = SpecialistProgress(ro, specialist="sp-3", today=TODAY)
        assert "Nothing stands out" in d.alerts.value
        assert [t.get_text() for t in d.profile.figure.axes[0].texts] == ["No reviews yet"]


def test_an_empty_database_shows_messages(tmp_path):
    Store(tmp_path / "empty.db").close()
    with Store(tmp_path / "empty.db", readonly=True) as ro:
        for cls in (SpecialistProgress, CalibrationDashboard):
            d = cls(ro)
            assert d.picker.value is None
            d.apply_query("specialist=sp-01")
            assert d.status.message == "There are no specialists in this database yet."
        assert "No reviews yet" in [t.get_text() for t in TeamOverview(ro).heatmap.figure.axes[0].texts]


# ---------------------------------------------------------------- team overview


def test_team_overview_lists_people_in_name_order_and_ranks_nobody(demo):
    t = TeamOverview(demo, today=TODAY)
    names = [label for label, _ in t.data.specialists]
    assert names == sorted(names)
    for html in (t.follow_ups.value, t.calibration.value):
        rows = [line.split("</td>")[0].removeprefix("<td>") for line in html.split("<tr>")[2:]]
        assert rows == names
    ax = t.heatmap.figure.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == [n.rsplit(" (", 1)[0] for n in names]
    assert "rank" not in (t.follow_ups.value + t.calibration.value).lower()


def test_team_overview_counts_follow_ups_for_everyone(demo):
    t = TeamOverview(demo, today="2026-11-01")
    # open, carried, overdue (of open or carried), met, dropped
    assert "<td>Gale Nightjar (sp-07)</td><td>2</td><td>1</td><td>1</td><td>21</td><td>7</td>" in t.follow_ups.value
    assert "<td>Fable Puddleby (sp-06)</td><td>0</td><td>1</td><td>1</td>" in t.follow_ups.value


def test_team_overview_leaves_cells_with_few_reviews_blank(store, make_review):
    for i in range(4):
        store.save_review(make_review(specialist="sp-1", review_date=dt.date(2026, 1, 5 + 7 * i)))
    store.save_review(make_review(specialist="sp-2", review_date=dt.date(2026, 2, 1)))
    with reopen(store) as ro:
        t = TeamOverview(ro, today=TODAY)
    ax = t.heatmap.figure.axes[0]
    labels = [x.get_text() for x in ax.texts if x.get_gid() == "suppressed_label"]
    assert labels == ["n<3"] * 9  # Corvin Bracken: one review in each practice
    values = [x.get_text() for x in ax.texts if x.get_gid() == "value"]
    assert values == ["3.0"] * 9
    assert "<td>Corvin Bracken (sp-2)</td><td>9</td>" in t.calibration.value


def test_team_overview_with_too_few_pairs_says_so(store, make_review):
    store.save_review(make_review(specialist="sp-2", review_date=dt.date(2026, 2, 1),
                                  self_scores={"empathy": 3, **{p: None for p in store.rubric.practice_ids
                                                                 if p != "empathy"}}))
    with reopen(store) as ro:
        t = TeamOverview(ro)
    assert "too few reviews (1 paired ratings; at least 5 needed)" in t.calibration.value
    assert "no paired ratings yet" in t.calibration.value  # sp-1 and sp-3 have none


# ---------------------------------------------------------------- calibration


def test_calibration_dashboard_tables_speak_plainly(demo):
    d = CalibrationDashboard(demo, specialist="sp-04")
    assert "Dune Quillfeather (sp-04)" in d.explorer.figure.axes[0].get_title()
    practice_rows = d.practices.value.split("<tr>")[2:]
    assert len(practice_rows) == 9
    assert practice_rows[0].startswith("<td>Creating a safe and trusting environment</td>")
    for header in ("Same score", "Within one level", "Self minus supervisor (95% range)", "Agreement beyond chance"):
        assert f"<th>{header}</th>" in d.practices.value and f"<th>{header}</th>" in d.team.value
    team_rows = [r.split("</td>")[0].removeprefix("<td>") for r in d.team.value.split("<tr>")[2:]]
    assert team_rows == sorted(team_rows)
    assert "rates self lower" in d.team.value
    assert any(word in d.team.value for word in ("slight", "fair", "moderate", "substantial"))
    before = d.practices.value
    d.picker.value = "sp-01"
    assert d.practices.value != before
    assert "Aster Moonwhistle (sp-01)" in d.explorer.figure.axes[0].get_title()


# ---------------------------------------------------------------- read-only, whatever the browser sends


def test_dashboards_refuse_a_writable_store(store):
    for cls in (SpecialistProgress, TeamOverview, CalibrationDashboard):
        with pytest.raises(StoreError, match="readonly=True"):
            cls(store)


def test_the_server_setting_makes_any_store_read_only(demo_db, tmp_path, monkeypatch):
    path = tmp_path / "copy.db"
    shutil.copyfile(demo_db, path)
    monkeypatch.setenv("RAPPORTKIT_READONLY", "1")
    with Store(path) as forced:  # a notebook asking for a writable store gets a read-only one
        assert forced.readonly
        TeamOverview(forced)
        with pytest.raises(ReadOnlyError):
            forced.save_person(Person("sp-x", "New Person", PersonRole.SPECIALIST, supervisor_id="sv-01"))


def _forge(widget, state: dict) -> None:
    """Deliver ``state`` the way a comm message from the browser does."""
    try:
        widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}},
                            "buffers": []})
    except (TraitError, ValueError, TypeError, KeyError):
        pass  # ipywidgets refuses it; in a kernel this lands in the log


def test_forged_widget_values_cannot_write(demo_db, tmp_path):
    path = tmp_path / "copy.db"
    shutil.copyfile(demo_db, path)
    before = sha256(path)
    with Store(path, readonly=True) as ro:
        audit = ro.counts()["audit"]
        progress, calib, team = SpecialistProgress(ro, today=TODAY), CalibrationDashboard(ro), TeamOverview(ro)
        forgeries = [
            (progress.picker, {"index": 10**6}), (progress.picker, {"index": -1}), (progress.picker, {"index": None}),
            (progress.picker, {"index": 2}), (progress.picker, {"_options_labels": [MARKUP]}),
            (progress.trends.specialist, {"index": 5}), (progress.trends.practices, {"index": []}),
            (progress.trends.window, {"value": 10**9}),
            (progress.trends.since, {"value": {"year": 9999, "month": 13, "date": 40}}),
            (progress.trends.until, {"value": "'; DROP TABLE reviews; --"}),
            (progress.goals.practices, {"index": [0, 99]}),
            (progress.status.confirm, {"value": True}), (progress.alerts, {"value": MARKUP}),
            (progress.trends.image, {"value": b"not a png"}),
            (calib.picker, {"index": 3}), (calib.explorer.practices, {"index": [1]}),
            (team.follow_ups, {"value": "<script>alert(1)</script>"}),
        ]
        for widget, state in forgeries:
            _forge(widget, state)
        assert progress.picker.value == "sp-03"  # the valid forgery just picks someone
        assert ro.counts()["audit"] == audit
        with pytest.raises(ReadOnlyError):
            ro.save_draft("forged", {"x": 1})
    assert sha256(path) == before


def test_dashboards_never_call_a_writing_store_method():
    writers = {"save_person", "save_session", "save_review", "save_many", "save_draft", "delete_draft",
               "backup", "_write", "execute", "executescript"}
    tree = ast.parse(Path(dashboards.__file__).read_text())
    called = {node.func.attr for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not called & writers


def test_a_read_only_connection_refuses_sql_writes_too(demo):
    with pytest.raises(sqlite3.DatabaseError):
        demo.conn.execute("DELETE FROM audit")


# ---------------------------------------------------------------- the notebooks


@pytest.mark.parametrize("name", ["specialist_progress", "team_overview", "calibration"])
def test_dashboard_notebooks_are_thin_and_do_the_slow_part_first(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 2
    assert all(1 <= len(src.splitlines()) <= 3 for src in code)
    first, second = code
    assert "open_store(readonly=True)" in first
    assert "query_string()" not in first  # cell 1 runs in a preheated kernel before any request
    assert second.splitlines()[-1].endswith(".widget")
    if name != "team_overview":
        assert "apply_query(query_string())" in second
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
