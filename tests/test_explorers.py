"""Explorers redraw one figure from cached frames, and say what they show in words."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rapportkit import frames  # noqa: E402
from rapportkit.model import Person, PersonRole  # noqa: E402
from rapportkit.store import Store  # noqa: E402
from rapportkit.ui import CalibrationExplorer, GoalsExplorer, TrendExplorer  # noqa: E402
from rapportkit.ui import explorers  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
MARKUP = "<img src=x onerror=alert(1)>"


@pytest.fixture
def demo(demo_db):
    s = Store(demo_db, readonly=True)
    yield s
    s.close()


def lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def test_explorer_widget_holds_controls_status_and_picture(demo):
    e = TrendExplorer(demo)
    assert e.image in e.widget.children
    assert e.status.widget in e.widget.children
    assert bytes(e.image.value).startswith(PNG)
    assert e.last_draw_ms > 0
    assert [label for label, _ in e.specialist.options][0] == "Aster Moonwhistle (sp-01)"


def test_changing_specialist_redraws_the_same_figure_with_their_data(demo):
    e = TrendExplorer(demo)
    figure, before = e.figure, e.image.value
    e.specialist.value = "sp-06"
    assert e.figure is figure
    assert e.image.value != before
    assert "Fable Puddleby (sp-06)" in figure.get_suptitle()
    every = frames.ratings_frame(demo, specialist="sp-06")
    ratings = frames.counted(every)  # signed reviews only; the one in progress is not drawn
    first = ratings[(ratings.practice_order == 0) & (ratings.role == "consensus")].dropna(subset=["score"])
    np.testing.assert_array_equal(lines(figure.axes[0], "consensus")[0].get_ydata(), first["score"].astype(float))
    signed, all_reviews = ratings["review_id"].nunique(), every["review_id"].nunique()
    assert all_reviews - signed == 1
    assert f"Fable Puddleby (sp-06): {signed} reviews" in e.status.message
    assert e.status.message.endswith("1 review in progress is not counted here until signed.")
    assert plt.get_fignums() == []


def test_practices_and_window_controls_redraw(demo):
    e = TrendExplorer(demo, specialist="sp-02")
    e.practices.value = ("boundaries", "empathy")
    assert [" ".join(ax.get_title(loc="left").split()) for ax in e.figure.axes] == [
        "Demonstrating empathy", "Establishing boundaries"]
    e.window.value = 5
    assert "rolling mean of 5" in [t.get_text() for t in e.figure.legends[0].get_texts()]
    e.practices.value = ()
    assert e.status.kind == "warning"
    assert "at least one practice" in e.status.message


def test_date_range_keeps_only_reviews_inside_it(demo):
    e = TrendExplorer(demo, specialist="sp-01")
    e.since.value = dt.date(2026, 1, 1)
    e.until.value = dt.date(2026, 3, 31)
    import matplotlib.dates as mdates

    for ax in e.figure.axes:
        xs = mdates.num2date(lines(ax, "consensus")[0].get_xdata(orig=False))
        assert all(dt.date(2026, 1, 1) <= x.date() <= dt.date(2026, 3, 31) for x in xs)
    assert "from 2026-01" in e.status.message


def test_from_after_to_is_a_message_not_an_exception(demo):
    e = GoalsExplorer(demo, today="2026-11-01")
    e.since.value = dt.date(2026, 6, 1)
    e.until.value = dt.date(2026, 1, 1)
    assert e.status.kind == "warning"
    assert "'From' (2026-06-01) is after 'To' (2026-01-01)" in e.status.message


def test_unknown_preselected_specialist_is_reported_in_the_status_area(demo):
    e = CalibrationExplorer(demo, specialist="sp-99")
    assert e.specialist.value == "sp-01"
    assert e.status.kind == "warning"
    assert "no specialist with id 'sp-99'" in e.status.message
    assert "Aster Moonwhistle (sp-01)" in e.status.message
    e.specialist.value = "sp-02"  # once the user picks someone, the notice goes
    assert "sp-99" not in e.status.message


def test_known_preselected_specialist_is_shown_first(demo):
    e = GoalsExplorer(demo, specialist="sp-07", today="2026-11-01")
    assert e.specialist.value == "sp-07"
    goals = frames.goals_frame(demo, specialist="sp-07")
    assert e.status.message.startswith(f"Gale Nightjar (sp-07): {len(goals)} goals")
    assert "1 overdue on 2026-11-01" in e.status.message


def test_calibration_explorer_describes_the_gap(demo):
    e = CalibrationExplorer(demo, specialist="sp-04")
    assert len(e.figure.axes) == 2
    assert "points lower than the supervisor's" in e.status.message  # sp-04 rates themself lower
    e.practices.value = ("empathy",)
    assert e.figure.axes[1].get_images()[0].get_array().sum() <= 40


def test_names_and_ids_are_escaped_in_the_status_area(store, make_review):
    store.save_person(Person("sp-1", MARKUP, PersonRole.SPECIALIST, supervisor_id="sv-1"))
    store.save_review(make_review(specialist="sp-1"))
    e = TrendExplorer(store, specialist="sp-1")
    assert MARKUP in e.status.message
    assert MARKUP not in e.status.html.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in e.status.html.value
    e = TrendExplorer(store, specialist="<script>alert(1)</script>")
    assert "<script>" not in e.status.html.value
    assert "&lt;script&gt;" in e.status.html.value


def test_specialist_without_reviews_gets_an_empty_picture(store):
    e = TrendExplorer(store, specialist="sp-3")
    assert "no reviews" in e.status.message
    assert [t.get_text() for t in e.figure.axes[0].texts] == ["No reviews yet"]


def test_frames_are_read_once_per_store(demo, monkeypatch):
    calls = []
    real = frames.ratings_frame
    monkeypatch.setattr(frames, "ratings_frame", lambda *a, **k: calls.append(1) or real(*a, **k))
    e = TrendExplorer(demo)
    CalibrationExplorer(demo)
    e.specialist.value = "sp-03"
    assert len(calls) == 1
    e.reload()
    assert len(calls) == 2


def test_importing_ui_does_not_load_ipywidgets_or_matplotlib():
    code = ("import sys, rapportkit, rapportkit.ui; "
            "print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_team_data_lists_specialists_in_name_order(demo):
    data = explorers.team_data(demo)
    names = [label for label, _ in data.specialists]
    assert names == sorted(names)
    assert explorers.team_data(demo) is data
