"""Analysis figures on the large team: team summary speed and peak memory."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import Figure, large_db, median_time, peak_rss_mb


def _hand_written(ratings: pd.DataFrame) -> pd.DataFrame:
    """The same result as team_summary, written the obvious pandas way."""
    c = ratings[ratings["role"] == "consensus"].dropna(subset=["score"])
    c = c.sort_values(["specialist_id", "practice_id", "review_date", "review_id"])
    g = c.groupby(["specialist_id", "practice_id"], sort=False)["score"]
    out = pd.DataFrame({"n_reviews": g.size(), "latest": g.apply(lambda s: s.iloc[-3:].astype(float).mean())})
    out["latest"] = np.where(out["n_reviews"] < 3, np.nan, out["latest"])
    return out.reset_index()


def _hand_written_vectorised(ratings: pd.DataFrame) -> pd.DataFrame:
    c = ratings[ratings["role"] == "consensus"].dropna(subset=["score"])
    c = c.sort_values(["specialist_id", "practice_id", "review_date", "review_id"])
    tail = c.groupby(["specialist_id", "practice_id"], sort=False).tail(3)
    latest = tail.groupby(["specialist_id", "practice_id"])["score"].mean()
    n = c.groupby(["specialist_id", "practice_id"])["score"].size()
    out = pd.DataFrame({"n_reviews": n, "latest": latest.astype(float)})
    out["latest"] = out["latest"].where(out["n_reviews"] >= 3)
    return out.reset_index()


def team_summary_speed() -> list[Figure]:
    from rapportkit.analysis import team_summary
    from rapportkit.frames import ratings_frame
    from rapportkit.store import Store

    with Store(large_db(), readonly=True) as store:
        ratings = ratings_frame(store)
    ours = team_summary(ratings)
    base = _hand_written_vectorised(ratings)
    check = ours.merge(base, on=["specialist_id", "practice_id"])
    assert len(check) == len(ours) == len(base), "the baseline must compute the same table"
    assert np.allclose(check["latest_rolling"], check["latest"], equal_nan=True)
    value = median_time(lambda: team_summary(ratings), repeat=5)
    baseline = median_time(lambda: _hand_written_vectorised(ratings), repeat=5)
    f = Figure(f"team summary ({len(ratings):,} rating rows)", value * 1000, "ms", baseline * 1000,
               "hand-written pandas groupby (sort, tail(3), mean)", "≤ 1.5×")
    f.ok = f.ratio <= 1.5
    return [f]


def team_summary_memory() -> list[Figure]:
    path = large_db()
    code = (
        "from rapportkit.store import Store; from rapportkit.frames import ratings_frame;"
        "from rapportkit.analysis import team_summary;"
        f"s = Store({str(path)!r}, readonly=True); r = ratings_frame(s); t = team_summary(r)"
    )
    base_code = (
        "from rapportkit.store import Store; from rapportkit.frames import ratings_frame;"
        f"s = Store({str(path)!r}, readonly=True); r = ratings_frame(s)"
    )
    value, baseline = peak_rss_mb(code), peak_rss_mb(base_code)
    return [Figure("peak memory: tidy frame + team summary at 1.3 M rows", value, "MB", baseline,
                   "tidy frame alone, same process type", "report (no target)")]


BENCHES = {"team": team_summary_speed, "team_memory": team_summary_memory}
