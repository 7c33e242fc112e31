"""The plots draw what the frames say: checked on the drawn artists, not on pictures."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rapportkit import frames, plots  # noqa: E402
from rapportkit.store import Store  # noqa: E402

TODAY = "2026-11-01"


@pytest.fixture(scope="module")
def demo(demo_db):
    with Store(demo_db, readonly=True) as s:
        return SimpleNamespace(ratings=frames.ratings_frame(s), goals=frames.goals_frame(s), rubric=s.rubric)


def by_gid(ax: Axes, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def line(ax: Axes, gid: str):
    found = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, f"expected one line {gid!r}, found {len(found)}"
    return found[0]


def flat(text: str) -> str:
    return " ".join(text.split())


def consensus(ratings: pd.DataFrame, specialist: str, practice: str) -> pd.DataFrame:
    rows = ratings[(ratings.specialist_id == specialist) & (ratings.practice_id == practice)
                   & (ratings.role == "consensus")]
    return rows.sort_values(["review_date", "review_id"])


def messages(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ------------------------------------------------------------------ trend grid
def test_trend_grid_has_nine_panels_titled_in_rubric_order(demo):
    fig = plots.trend_grid(demo.ratings, demo.goals, specialist="sp-01")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 9
    assert [flat(ax.get_title(loc="left")) for ax in fig.axes] == [p.title for p in demo.rubric.practices]
    assert "Aster Moonwhistle (sp-01)" in fig.get_suptitle()


def test_trend_grid_panels_share_dates_and_the_score_scale(demo):
    fig = plots.trend_grid(demo.ratings, specialist="sp-02")
    first = fig.axes[0]
    for ax in fig.axes[::3]:  # the left column carries the (shared) score labels
        assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "3", "4"]
    for ax in fig.axes:
        assert ax.get_ylim() == (0.5, 4.5)
        assert list(ax.get_yticks()) == [1, 2, 3, 4]
        assert ax.get_shared_x_axes().joined(first, ax)
        assert line(ax, "proficiency").get_ydata() == [3, 3]
        assert line(ax, "proficiency").get_linestyle() == "--"


@pytest.mark.parametrize("window", [1, 3, 5])
def test_trend_grid_rolling_line_is_the_mean_of_the_last_scores(demo, window):
    fig = plots.trend_grid(demo.ratings, specialist="sp-03", window=window)
    for ax, practice in zip(fig.axes, demo.rubric.practice_ids):
        rows = consensus(demo.ratings, "sp-03", practice)
        scored = rows["score"].dropna().astype(float)
        expected = scored.rolling(window, min_periods=1).mean().reindex(rows.index).ffill()
        keep = expected.notna()
        drawn = line(ax, "rolling_mean")
        np.testing.assert_allclose(drawn.get_ydata(), expected[keep].to_numpy())
        np.testing.assert_allclose(drawn.get_xdata(orig=False), mdates.date2num(rows["review_date"][keep]))


def test_trend_grid_points_are_the_consensus_scores(demo):
    fig = plots.trend_grid(demo.ratings, specialist="sp-04")
    for ax, practice in zip(fig.axes, demo.rubric.practice_ids):
        rows = consensus(demo.ratings, "sp-04", practice).dropna(subset=["score"])
        np.testing.assert_array_equal(line(ax, "consensus").get_ydata(), rows["score"].astype(float))


def test_trend_grid_marks_each_goal_on_its_practice(demo):
    fig = plots.trend_grid(demo.ratings, demo.goals, specialist="sp-05")
    goals = demo.goals[demo.goals.specialist_id == "sp-05"]
    for ax, practice in zip(fig.axes, demo.rubric.practice_ids):
        mine = goals[goals.practice_id == practice]
        set_on = [ln for ln in ax.get_lines() if ln.get_gid() == "goal_set"]
        if mine.empty:
            assert not set_on or len(set_on[0].get_xdata()) == 0
            continue
        np.testing.assert_allclose(line(ax, "goal_set").get_xdata(orig=False), mdates.date2num(mine["set_on"]))
        np.testing.assert_allclose(line(ax, "goal_follow_up").get_xdata(orig=False),
                                   mdates.date2num(mine["follow_up"]))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["consensus score", "rolling mean of 3", "proficient (3)", "goal set", "goal follow-up"]


def test_trend_grid_without_goals_has_no_goal_legend(demo):
    fig = plots.trend_grid(demo.ratings, specialist="sp-05", window=4)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["consensus score", "rolling mean of 4", "proficient (3)"]


def test_trend_grid_shows_chosen_practices_in_rubric_order(demo):
    fig = plots.trend_grid(demo.ratings, specialist="sp-01", practices=["boundaries", "empathy"])
    titles = [flat(ax.get_title(loc="left")) for ax in fig.axes]
    assert titles == [demo.rubric.practice("empathy").title, demo.rubric.practice("boundaries").title]


def test_trend_grid_reuses_the_figure_it_is_given(demo):
    fig = Figure()
    assert plots.trend_grid(demo.ratings, specialist="sp-01", fig=fig) is fig
    plots.trend_grid(demo.ratings, specialist="sp-02", fig=fig)
    assert len(fig.axes) == 9
    assert "sp-02" in fig.get_suptitle()


@pytest.mark.parametrize("window", [0, -1, 2.5, "3", True])
def test_trend_grid_rejects_a_bad_window(demo, window):
    with pytest.raises(ValueError, match="`window`"):
        plots.trend_grid(demo.ratings, specialist="sp-01", window=window)


def test_trend_grid_names_an_unknown_practice(demo):
    with pytest.raises(ValueError, match=r"`practices` must be one of .*not 'empathyy'"):
        plots.trend_grid(demo.ratings, specialist="sp-01", practices=["empathyy"])


# -------------------------------------------------------------------- profile
def test_profile_shows_the_latest_review_against_the_one_before(demo):
    ax = plots.profile(demo.ratings, specialist="sp-02")
    mine = demo.ratings[demo.ratings.specialist_id == "sp-02"]
    dates = mine.drop_duplicates("review_id").sort_values(["review_date", "review_id"])
    latest, previous = dates.iloc[-1], dates.iloc[-2]
    for role in ("self", "supervisor"):
        rows = mine[(mine.review_id == latest.review_id) & (mine.role == role)].dropna(subset=["score"])
        np.testing.assert_array_equal(line(ax, role).get_xdata(), rows["score"].astype(float))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"self, {latest.review_date:%Y-%m-%d}" in labels
    assert any(f"{previous.review_date:%Y-%m-%d}" in label for label in labels)
    assert [flat(t.get_text()) for t in ax.get_yticklabels()] == [p.title for p in demo.rubric.practices]
    assert ax.get_xlim() == (0.5, 4.5)
    assert line(ax, "proficiency").get_xdata() == [3, 3]


def test_profile_at_and_earlier_pick_reviews_by_date(demo):
    mine = demo.ratings[(demo.ratings.specialist_id == "sp-01") & (demo.ratings.role == "consensus")]
    dates = sorted(mine.review_date.unique())
    ax = plots.profile(demo.ratings, specialist="sp-01", at=dates[5], earlier=dates[0])
    then = mine[mine.review_date == dates[0]].dropna(subset=["score"])
    np.testing.assert_array_equal(line(ax, "earlier").get_xdata(), then["score"].astype(float))
    assert f"{pd.Timestamp(dates[5]):%Y-%m-%d}" in ax.get_title()


def test_profile_names_a_date_before_any_review(demo):
    with pytest.raises(ValueError, match=r"`at` must be on or after .* not '2001-01-01'"):
        plots.profile(demo.ratings, specialist="sp-01", at="2001-01-01")
    with pytest.raises(ValueError, match="`earlier`"):
        plots.profile(demo.ratings, specialist="sp-01", earlier="not a date")


# ---------------------------------------------------------------- calibration
def test_calibration_gap_is_self_minus_supervisor_per_review(demo):
    ax = plots.calibration_gap(demo.ratings, specialist="sp-04")
    mine = demo.ratings[demo.ratings.specialist_id == "sp-04"]
    wide = mine.pivot_table(index=["review_date", "review_id", "practice_id"], columns="role",
                            values="score", aggfunc="first")
    wide = wide.dropna(subset=["self", "supervisor"])
    expected = (wide["self"].astype(float) - wide["supervisor"].astype(float)).groupby(level=[0, 1]).mean()
    np.testing.assert_allclose(line(ax, "mean_gap").get_ydata(), expected.to_numpy())
    assert line(ax, "zero").get_ydata() == [0, 0]
    assert {"▲ rates self higher", "▼ rates self lower"} <= set(messages(ax))
    low, high = ax.get_ylim()
    assert low == -high
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "range across practices", "mean gap of the review"]


def test_agreement_matrix_counts_each_pair_of_scores(demo):
    ax = plots.agreement_matrix(demo.ratings, specialist="sp-06")
    mine = demo.ratings[demo.ratings.specialist_id == "sp-06"]
    wide = mine.pivot_table(index=["review_id", "practice_id"], columns="role", values="score",
                            aggfunc="first").dropna(subset=["self", "supervisor"])
    expected = np.zeros((4, 4), dtype=int)
    for own, sup in zip(wide["self"], wide["supervisor"]):
        expected[int(own) - 1, int(sup) - 1] += 1
    image = ax.get_images()[0]
    np.testing.assert_array_equal(image.get_array(), expected)
    counts = [int(t.get_text()) for t in ax.texts if t.get_gid() == "count"]
    assert sorted(counts) == sorted(expected.ravel())
    assert len(by_gid(ax, "diagonal")) == 4


def test_agreement_matrix_of_the_whole_team(demo):
    ax = plots.agreement_matrix(demo.ratings)
    assert ax.get_title().startswith("the team")
    total = ax.get_images()[0].get_array().sum()
    pairs = demo.ratings.pivot_table(index=["review_id", "practice_id"], columns="role", values="score",
                                     aggfunc="first").dropna(subset=["self", "supervisor"])
    assert total == len(pairs)


# ----------------------------------------------------------------------- team
@pytest.fixture
def team():
    rows = []
    for sid, name, values in (("sp-2", "Zinnia Vale", [3.5, 1.0]), ("sp-1", "Arden Brook", [2.0, 2.5])):
        for order, (pid, title) in enumerate([("empathy", "Demonstrating empathy"),
                                               ("boundaries", "Establishing boundaries")]):
            rows.append(dict(specialist_id=sid, specialist_name=name, practice_id=pid, practice_title=title,
                             practice_order=order, n_reviews=2 if (sid, pid) == ("sp-2", "boundaries") else 5,
                             latest_rolling=values[order],
                             suppressed=(sid, pid) == ("sp-2", "boundaries")))
    return pd.DataFrame(rows)


def test_team_heatmap_rows_are_in_name_order_never_by_score(team):
    ax = plots.team_heatmap(team)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Arden Brook", "Zinnia Vale"]
    assert [flat(t.get_text()) for t in ax.get_xticklabels()] == ["Demonstrating empathy",
                                                                  "Establishing boundaries"]


def test_team_heatmap_hides_suppressed_cells(team):
    ax = plots.team_heatmap(team)
    values = np.ma.filled(ax.get_images()[0].get_array().astype(float), np.nan)
    np.testing.assert_array_equal(values, [[2.0, 2.5], [3.5, np.nan]])
    assert [t.get_text() for t in ax.texts if t.get_gid() == "suppressed_label"] == ["n<3"]
    assert len(by_gid(ax, "suppressed")) == 1
    assert by_gid(ax, "suppressed")[0].get_hatch() == "///"


def test_team_heatmap_has_a_colourbar_from_one_to_four(team):
    ax = plots.team_heatmap(team)
    assert ax.get_images()[0].get_clim() == (1, 4)
    colourbar = ax.get_images()[0].colorbar
    assert colourbar is not None
    assert list(colourbar.get_ticks()) == [1, 2, 3, 4]


# ---------------------------------------------------------------------- goals
def test_goal_timeline_draws_a_bar_per_goal_by_status(demo):
    ax = plots.goal_timeline(demo.goals, specialist="sp-07", today=TODAY)
    mine = demo.goals[demo.goals.specialist_id == "sp-07"]
    for status, count in mine["status"].value_counts().items():
        bars = [p for c in ax.containers if c.get_label() == status for p in c.patches]
        assert len(bars) == count, status
    assert len(ax.get_yticklabels()) == len(mine)
    late = mine[mine.status.isin(["open", "carried"]) & (mine.follow_up < pd.Timestamp(TODAY))]
    np.testing.assert_allclose(line(ax, "overdue").get_xdata(), mdates.date2num(late["follow_up"]))
    assert f"overdue ({len(late)})" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert line(ax, "today").get_xdata()[0] == mdates.date2num(pd.Timestamp(TODAY))


def test_goal_timeline_uses_an_overdue_column_when_given(demo):
    goals = demo.goals[demo.goals.specialist_id == "sp-01"].assign(overdue=False)
    goals.loc[goals.index[:2], "overdue"] = True
    ax = plots.goal_timeline(goals, specialist="sp-01", today=TODAY)
    assert len(line(ax, "overdue").get_xdata()) == 2


def test_goal_timeline_without_goals_says_so(demo):
    ax = plots.goal_timeline(demo.goals.iloc[:0], specialist="sp-01")
    assert messages(ax) == ["No goals yet"]


# ----------------------------------------------------------- shared behaviour
CALLS = {
    "trend_grid": lambda d, **kw: plots.trend_grid(d.ratings, d.goals, **kw),
    "profile": lambda d, **kw: plots.profile(d.ratings, **kw),
    "calibration_gap": lambda d, **kw: plots.calibration_gap(d.ratings, **kw),
    "agreement_matrix": lambda d, **kw: plots.agreement_matrix(d.ratings, **kw),
    "goal_timeline": lambda d, **kw: plots.goal_timeline(d.goals, today=TODAY, **kw),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_unknown_specialist_is_named_in_a_value_error(demo, name):
    with pytest.raises(ValueError) as caught:
        CALLS[name](demo, specialist="sp-99")
    message = str(caught.value)
    assert message.startswith("`specialist` must be one of sp-01, sp-02")
    assert message.endswith("not 'sp-99'")


@pytest.mark.parametrize("name", ["trend_grid", "profile", "calibration_gap", "agreement_matrix"])
def test_no_reviews_gives_a_message_not_an_exception(demo, name):
    empty = SimpleNamespace(ratings=demo.ratings.iloc[:0], goals=demo.goals.iloc[:0])
    drawn = CALLS[name](empty, specialist="sp-01")
    ax = drawn.axes[0] if isinstance(drawn, Figure) else drawn
    assert messages(ax) == ["No reviews yet"]


def test_empty_team_gives_a_message(team):
    assert messages(plots.team_heatmap(team.iloc[:0])) == ["No reviews yet"]


def test_plots_draw_into_a_given_axes(demo):
    ax = Figure().add_subplot()
    assert plots.calibration_gap(demo.ratings, specialist="sp-01", ax=ax) is ax
    assert plots.profile(demo.ratings, specialist="sp-01", ax=Figure().add_subplot()).figure is not ax.figure


def test_plots_leave_pyplot_alone(demo, team, monkeypatch):
    plt.close("all")
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("a plot called plt.show()"))
    monkeypatch.setattr(plt, "figure", lambda *a, **k: pytest.fail("a plot called plt.figure()"))
    for name, call in CALLS.items():
        call(demo, specialist="sp-01")
    plots.agreement_matrix(demo.ratings)
    plots.team_heatmap(team)
    assert plt.get_fignums() == []


def test_plotting_never_imports_pyplot(demo_db):
    code = (
        "import sys; from rapportkit import frames, plots; from rapportkit.store import Store\n"
        f"s = Store({str(demo_db)!r}, readonly=True)\n"
        "plots.trend_grid(frames.ratings_frame(s), specialist='sp-01').savefig(__import__('io').BytesIO())\n"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_user_text_is_never_read_as_mathematics(demo):
    ratings = demo.ratings.assign(specialist_name="Dollar $x^2$ Person")
    ax = plots.calibration_gap(ratings, specialist="sp-01")
    assert "$x^2$" in ax.get_title()
    ax.figure.canvas.draw()  # mathtext would render (and could fail on) the dollar signs
    assert ax.title.get_parse_math() is False


def test_series_differ_in_shape_as_well_as_colour():
    markers = {style["marker"] for style in plots.ROLE_STYLE.values()}
    colours = {style["color"] for style in plots.ROLE_STYLE.values()}
    hatches = {style["hatch"] for style in plots.STATUS_STYLE.values()}
    assert len(markers) == len(colours) == 3
    assert len(hatches) == len(plots.STATUS_STYLE)
    assert colours <= set(plots.OKABE_ITO.values())
