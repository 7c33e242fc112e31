"""The dashboards on a team's PostgreSQL store, opened by each role as their own login.

A programme lead's database role reads the three aggregate views and nothing else, so
the team overview draws from those views (``rapportkit.aggregates``), and the per-person
dashboards say plainly that they are not available to a lead. A supervisor's dashboards
read through row-level security and show only their own specialists. The oracles here
are computed independently from the installer's full frames (signed reviews only,
which is the views' rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import new_pg_database
from rapportkit import frames
from rapportkit.aggregates import MIN_REVIEWS, reads_aggregates_only, team_aggregates
from rapportkit.analysis import team_summary
from rapportkit.errors import RapportkitError
from rapportkit.model import Person, PersonRole
from rapportkit.store import Store
from rapportkit.ui import CalibrationDashboard, SpecialistProgress, TeamOverview

LEAD, SUPERVISOR = "pt_td_lead", "pt_td_sup"


@pytest.fixture(scope="module")
def demo_team(pg_cluster, pg_templates, rubric):
    """The demo team on a team database; one lead and one supervisor have logins."""
    url = new_pg_database(pg_cluster, pg_templates["demo"])
    with Store(url, rubric=rubric) as installer:
        installer.add_person(Person("ld-td", "Isolde Fernwhistle", "lead", login=LEAD))
        supervisor = installer.people(PersonRole.SUPERVISOR)[0]
        installer.change_person(supervisor.id, login=SUPERVISOR, reason="a login for the test")
        signed = frames.counted(frames.ratings_frame(installer))  # model.COUNTED: the views must agree
        theirs = {p.id for p in installer.people(PersonRole.SPECIALIST) if p.supervisor_id == supervisor.id}
        everyone = {p.id for p in installer.people(PersonRole.SPECIALIST)}
    return {"url": url, "signed": signed, "theirs": theirs, "everyone": everyone}


def as_login(url: str, login: str, rubric, **kw) -> Store:
    return Store(url.replace("user=postgres", f"user={login}"), rubric=rubric, **kw)


def test_only_a_lead_on_a_team_database_reads_aggregates_only(demo_team, rubric, tmp_path):
    with as_login(demo_team["url"], LEAD, rubric) as lead, as_login(demo_team["url"], SUPERVISOR, rubric) as sup:
        assert reads_aggregates_only(lead) and not reads_aggregates_only(sup)
    with Store(demo_team["url"], rubric=rubric) as installer:
        assert not reads_aggregates_only(installer)  # nobody on the roster: no role to narrow
    with Store(tmp_path / "one.db", rubric=rubric) as local:
        assert not reads_aggregates_only(local)


def test_the_leads_heatmap_is_the_signed_consensus_with_small_cells_suppressed(demo_team, rubric):
    with as_login(demo_team["url"], LEAD, rubric) as lead:
        got = team_aggregates(lead).summary
    expected = team_summary(demo_team["signed"], min_reviews=MIN_REVIEWS)
    key = ["specialist_id", "practice_id"]

    def plain(frame):
        frame = frame.astype({k: object for k in key}).astype({k: str for k in key})
        return frame.sort_values(key).reset_index(drop=True)

    got, expected = plain(got), plain(expected)
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got[key + ["n_reviews", "suppressed"]], expected[key + ["n_reviews", "suppressed"]],
                                  check_dtype=False)
    np.testing.assert_allclose(got["latest_rolling"], expected["latest_rolling"], atol=0.005)  # the view rounds
    assert got.loc[got["suppressed"], "latest_rolling"].isna().all()


def test_the_leads_calibration_is_per_practice_over_signed_pairs(demo_team, rubric):
    with as_login(demo_team["url"], LEAD, rubric) as lead:
        got = team_aggregates(lead).calibration.set_index("practice_id")
    r = demo_team["signed"]
    wide = r[r["role"].isin(["self", "supervisor"])].pivot_table(
        index=["review_id", "practice_id"], columns="role", values="score", aggfunc="first").dropna()
    gap = (wide["self"] - wide["supervisor"]).groupby(level="practice_id")
    assert list(got.index) == list(rubric.practice_ids)
    for practice, g in gap:
        assert got.loc[practice, "pairs"] == len(g)
        assert got.loc[practice, "exact"] == pytest.approx((g == 0).mean(), abs=0.001)
        assert got.loc[practice, "within_one"] == pytest.approx((g.abs() <= 1).mean(), abs=0.001)
        assert got.loc[practice, "mean_gap"] == pytest.approx(g.mean(), abs=0.005)


def test_the_lead_sees_the_team_overview_from_the_views(demo_team, rubric):
    with as_login(demo_team["url"], LEAD, rubric, readonly=True) as lead:
        overview = TeamOverview(lead)
        views = team_aggregates(lead)
    assert overview.aggregates_only
    assert bytes(overview.heatmap.image.value).startswith(b"\x89PNG")
    heatmap = overview.heatmap.figure.axes[0]  # one row per specialist the views hold, by name
    assert [t.get_text() for t in heatmap.get_yticklabels()] == sorted(set(views.summary["specialist_name"]))
    cells = heatmap.get_images()[0].get_array()
    assert np.ma.count(cells) == int((~views.summary["suppressed"]).sum())  # suppressed cells stay blank
    table = overview.calibration.value
    for title in (p.title for p in rubric.practices):
        assert title in table
    assert "whole team per practice" in table and "Only signed reviews count;" in overview.widget.children[0].value
    follow = overview.follow_ups.value
    for row in views.followups.itertuples():  # each specialist's counts, by name
        assert row.specialist_name in follow
    assert len(views.followups) > 0 and (views.followups[["open", "carried"]] >= 0).all().all()


def test_per_person_dashboards_tell_a_lead_they_are_not_for_their_role(demo_team, rubric):
    with as_login(demo_team["url"], LEAD, rubric, readonly=True) as lead:
        for page, title in ((SpecialistProgress, "Specialist progress"), (CalibrationDashboard, "Calibration")):
            dashboard = page(lead, specialist=sorted(demo_team["everyone"])[0])
            assert not dashboard.available
            assert dashboard.status.kind == "info"
            assert dashboard.status.message.startswith(f"{title}") and "not available to your role" in \
                dashboard.status.message
            dashboard.apply_query("?specialist=" + sorted(demo_team["everyone"])[0])
            dashboard.show_first_plot()  # nothing to draw, and no error
            assert "not available to your role" in dashboard.status.message


def test_a_supervisors_dashboards_show_their_own_specialists_only(demo_team, rubric):
    with as_login(demo_team["url"], SUPERVISOR, rubric, readonly=True) as sup:
        progress = SpecialistProgress(sup)
        assert progress.available and set(progress.ids) == demo_team["theirs"] != demo_team["everyone"]
        overview = TeamOverview(sup)
        assert not overview.aggregates_only
        assert {i for _, i in overview.specialists} == demo_team["theirs"]


def test_only_the_lead_may_read_the_views(demo_team, rubric):
    with as_login(demo_team["url"], SUPERVISOR, rubric) as sup:
        with pytest.raises(RapportkitError):
            team_aggregates(sup)


def test_the_leads_follow_up_counts_are_the_signed_reviews_goals_by_status(demo_team, rubric):
    """Each goal set in a signed review, counted once by its latest verdict in a signed
    review (else open): open and carried apart, as the team overview's columns say."""
    from collections import Counter

    with Store(demo_team["url"], rubric=rubric) as installer:
        signed = [r for r in installer.reviews() if r.status.value in frames.COUNTED_STATUSES]
    owner = {g.id: r.specialist_id for r in signed for g in r.goals}
    verdict = {}
    for r in sorted(signed, key=lambda r: (r.review_date, r.id)):
        verdict.update({u.goal_id: u.status.value for u in r.goal_updates})
    expected = Counter((owner[g], verdict.get(g, "open")) for g in owner)
    with as_login(demo_team["url"], LEAD, rubric) as lead:
        got = team_aggregates(lead).followups
    assert len(got) > 0 and got["carried"].sum() > 0  # the demo carries goals: open and carried told apart
    for row in got.itertuples():
        for status in ("open", "carried", "met", "dropped"):
            assert getattr(row, status) == expected[(row.specialist_id, status)], (row.specialist_id, status)
