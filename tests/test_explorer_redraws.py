"""A change of specialist redraws in place (same Axes, new data) and gives the very
picture a fresh drawing gives: the same PNG, byte for byte, and the same words."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rapportkit.analysis import calibration  # noqa: E402
from rapportkit.store import Store  # noqa: E402
from rapportkit.ui import CalibrationDashboard, CalibrationExplorer, TrendExplorer  # noqa: E402
from rapportkit.ui.explorers import team_calibration, team_data  # noqa: E402


@pytest.fixture(scope="module")
def demo(demo_db):
    s = Store(demo_db, readonly=True)
    yield s
    s.close()


def _same_as_fresh(explorer, cls, store, specialist, **choices) -> None:
    fresh = cls(store, specialist=specialist)
    for name, value in choices.items():
        getattr(fresh, name).value = value
    assert fresh.specialist.value == explorer.specialist.value == specialist
    assert bytes(explorer.image.value) == bytes(fresh.image.value), f"{cls.__name__} of {specialist} differs"
    assert (explorer.status.kind, explorer.status.message) == (fresh.status.kind, fresh.status.message)


@pytest.mark.parametrize("cls", [TrendExplorer, CalibrationExplorer])
def test_a_new_specialist_reuses_the_axes_and_draws_what_a_fresh_figure_draws(demo, cls):
    e = cls(demo)
    axes = list(e.figure.axes)
    ids = [i for _, i in e.data.specialists]
    for specialist in [*ids[1:], ids[0]]:
        e.specialist.value = specialist
        assert e.figure.axes == axes  # the same Axes objects: updated, not rebuilt
        _same_as_fresh(e, cls, demo, specialist)


@pytest.mark.parametrize("cls", [TrendExplorer, CalibrationExplorer])
def test_in_place_redraws_follow_dates_and_practices(demo, cls):
    e = cls(demo, specialist="sp-02")
    choices = {"practices": ("boundaries", "empathy", "active_listening", "consistency"),
               "since": dt.date(2026, 2, 1), "until": dt.date(2026, 8, 31)}
    for name, value in choices.items():
        getattr(e, name).value = value
    axes = list(e.figure.axes)
    for specialist in ("sp-05", "sp-07", "sp-01"):
        e.specialist.value = specialist
        assert e.figure.axes == axes
        _same_as_fresh(e, cls, demo, specialist, **choices)


def test_a_changed_window_or_an_empty_choice_draws_anew_and_in_place_resumes(demo):
    e = TrendExplorer(demo, specialist="sp-03")
    e.window.value = 5
    e.specialist.value = "sp-04"
    _same_as_fresh(e, TrendExplorer, demo, "sp-04", window=5)
    e.practices.value = ()
    assert e.status.kind == "warning" and [t.get_text() for t in e.figure.axes[0].texts] == [
        "Nothing to show for these choices"]
    e.practices.value = tuple(i for _, i in e.data.practices)
    e.specialist.value = "sp-06"
    _same_as_fresh(e, TrendExplorer, demo, "sp-06", window=5)


def test_from_a_specialist_without_reviews_and_back(store, make_review):
    store.save_review(make_review(specialist="sp-1", review_date="2026-02-01"))
    store.save_review(make_review(specialist="sp-1", review_date="2026-03-01"))
    store.save_review(make_review(specialist="sp-2", review_date="2026-03-05"))
    for cls in (TrendExplorer, CalibrationExplorer):
        e = cls(store, specialist="sp-1")
        for specialist in ("sp-3", "sp-2", "sp-1"):
            e.specialist.value = specialist
            _same_as_fresh(e, cls, store, specialist)


def test_agreement_statistics_are_worked_out_once_and_match_each_specialist_alone(demo, monkeypatch):
    data = team_data(demo)
    team = team_calibration(data)
    assert team_calibration(data) is team
    for specialist in team["specialist_id"]:
        alone = calibration(data.ratings[data.ratings["specialist_id"] == specialist]).iloc[0]
        mine = team[team["specialist_id"] == specialist].iloc[0]
        pd.testing.assert_series_equal(mine.reset_index(drop=True), alone.reset_index(drop=True),
                                       check_names=False)
    import rapportkit.ui.dashboards as dashboards
    import rapportkit.ui.explorers as explorers

    calls = []
    for module in (explorers, dashboards):
        real = module.calibration
        monkeypatch.setattr(module, "calibration",
                            lambda *a, real=real, **k: calls.append(k.get("by", "person")) or real(*a, **k))
    e = CalibrationExplorer(demo)
    for specialist in ("sp-02", "sp-03", "sp-04"):
        e.specialist.value = specialist
    assert calls == []  # the status line reads the team's statistics
    e.practices.value = ("empathy",)
    assert calls == ["person"]  # a narrower choice is worked out for itself
    CalibrationDashboard(demo)
    assert calls == ["person", ("specialist_id", "practice_id")]  # the per-person table is shared
