"""The team view for programme leads: specialists × practices, never ranked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from ._common import NO_REVIEWS, PLAIN, SCALE, new_axes, practice_catalog, show_message, wrap

__all__ = ["team_heatmap"]


def team_heatmap(team: pd.DataFrame, *, min_reviews: int = 3, ax: Axes | None = None) -> Axes:
    """Each specialist's recent level in each practice, as a colour table.

    Rows are specialists in name order (never sorted by score), columns the practices
    in rubric order. A cell is the rolling mean of the latest consensus scores; cells
    with too few reviews to say are grey, hatched and marked ``n<3``.

    Parameters
    ----------
    team
        ``rapportkit.analysis.team.team_summary`` output: ``specialist_id,
        specialist_name, practice_id, practice_title, practice_order, latest_rolling,
        suppressed``.
    min_reviews
        The threshold ``team_summary`` used, for the ``n<…`` label.
    ax
        Axes to draw into; a new Figure when None.

    Returns
    -------
    Axes
        Its image holds the values (NaN where suppressed); a colourbar spans 1–4.
    """
    people = (team[["specialist_id", "specialist_name"]].drop_duplicates("specialist_id")
              .sort_values(["specialist_name", "specialist_id"], kind="stable"))
    ax = new_axes(ax, (11, 0.45 * len(people) + 3.2))
    if team.empty:
        return show_message(ax, NO_REVIEWS)
    catalog = practice_catalog(team)
    values = team["latest_rolling"].astype(float).where(~team["suppressed"].astype(bool))
    grid = (team.assign(_value=values)
            .pivot(index="specialist_id", columns="practice_id", values="_value")
            .reindex(index=people["specialist_id"], columns=[pid for pid, _ in catalog]))
    suppressed = (team.pivot(index="specialist_id", columns="practice_id", values="suppressed")
                  .reindex(index=grid.index, columns=grid.columns).fillna(True).astype(bool).to_numpy())
    array = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(array), cmap=colormaps["cividis"].with_extremes(bad="#d9d9d9"), vmin=SCALE[0], vmax=SCALE[-1],
                      aspect="auto", interpolation="nearest")
    image.set_gid("levels")
    for (i, j), value in np.ndenumerate(array):
        if suppressed[i, j] or np.isnan(value):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#d9d9d9", hatch="///",
                                   edgecolor="#9a9a9a", lw=0, gid="suppressed"))
            ax.text(j, i, f"n<{min_reviews}", ha="center", va="center", fontsize=8, color="#333333",
                    gid="suppressed_label")
        else:
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=9,
                    color="white" if value < 2.6 else "black", gid="value")
    ax.set_xticks(range(len(catalog)), labels=[wrap(t, 15) for _, t in catalog], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(people)), labels=list(people["specialist_name"]), fontsize=9, **PLAIN)
    ax.tick_params(length=0)
    bar = ax.figure.colorbar(image, ax=ax, ticks=SCALE, fraction=0.035, pad=0.02)
    bar.set_label("rolling mean of consensus scores")
    ax.set_title("Where each specialist is now, practice by practice", fontsize=11, pad=12)
    return ax
