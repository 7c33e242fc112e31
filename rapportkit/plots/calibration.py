"""Calibration: how a specialist's self-ratings compare with their supervisor's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from ..analysis.calibration import gaps as paired_scores
from ._common import (
    NO_REVIEWS, OKABE_ITO, PLAIN, SCALE, date_axis, for_specialist, new_axes, show_message,
    specialist_label,
)

__all__ = ["calibration_gap", "agreement_matrix"]

HIGHER = "rates self higher"
LOWER = "rates self lower"


def calibration_gap(ratings: pd.DataFrame, *, specialist: str, ax: Axes | None = None) -> Axes:
    """Self-rating minus supervisor's rating, review by review.

    Gaps come from :func:`rapportkit.analysis.calibration.gaps`. For every review
    where both rated, a dot marks the mean gap over the practices and
    a pale bar spans the smallest to the largest gap of a single practice. Above the
    zero line the specialist rated themself higher than the supervisor did; below it,
    lower.

    Parameters
    ----------
    ratings
        :func:`rapportkit.frames.ratings_frame` output.
    specialist
        A ``specialist_id`` present in ``ratings``.
    ax
        Axes to draw into; a new Figure when None.

    Returns
    -------
    Axes
    """
    ax = new_axes(ax, (10, 4.5))
    if ratings.empty:
        return show_message(ax, NO_REVIEWS)
    mine = for_specialist(ratings, specialist)
    gaps = paired_scores(mine, a="self", b="supervisor")
    if gaps.empty:
        return show_message(ax, NO_REVIEWS)
    per_review = (gaps.groupby(["review_date", "review_id"], sort=True)["gap"]
                  .agg(["mean", "min", "max"]).reset_index())
    ax.axhline(0, color=OKABE_ITO["black"], lw=1, gid="zero")
    ax.vlines(per_review["review_date"], per_review["min"], per_review["max"],
              color=OKABE_ITO["sky_blue"], lw=4, alpha=0.55, label="range across practices", gid="spread")
    ax.plot(per_review["review_date"], per_review["mean"], color=OKABE_ITO["vermillion"], marker="o",
            ms=5, lw=1.2, label="mean gap of the review", gid="mean_gap")
    ax.set_ylim(-3.5, 3.5)
    ax.set_yticks(range(-3, 4), labels=[f"{v:+d}" if v else "0" for v in range(-3, 4)])
    ax.set_ylabel("self − supervisor")
    ax.text(0.01, 0.97, f"▲ {HIGHER}", transform=ax.transAxes, va="top", fontsize=9, color="#444444",
            gid="higher")
    ax.text(0.01, 0.03, f"▼ {LOWER}", transform=ax.transAxes, va="bottom", fontsize=9, color="#444444",
            gid="lower")
    date_axis(ax.xaxis)
    ax.grid(axis="y", color="#e5e5e5", lw=0.8)
    ax.set_title(f"{specialist_label(mine, specialist)}: self-rating minus supervisor's rating",
                 fontsize=11, **PLAIN)
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    return ax


def agreement_matrix(ratings: pd.DataFrame, *, specialist: str | None = None,
                     ax: Axes | None = None) -> Axes:
    """How often each self-rating met each supervisor rating: a 4×4 table of counts.

    The diagonal (outlined) is exact agreement; cells above it are practices the
    specialist rated higher than the supervisor, cells below it lower.

    Parameters
    ----------
    ratings
        :func:`rapportkit.frames.ratings_frame` output.
    specialist
        A ``specialist_id`` present in ``ratings``; the whole team when None.
    ax
        Axes to draw into; a new Figure when None.

    Returns
    -------
    Axes
        Its image holds the counts (rows: self-rating 1–4 from the bottom; columns:
        supervisor's rating 1–4).
    """
    ax = new_axes(ax, (5.5, 5))
    if ratings.empty:
        return show_message(ax, NO_REVIEWS)
    frame = ratings if specialist is None else for_specialist(ratings, specialist)
    gaps = paired_scores(frame, a="self", b="supervisor")
    if gaps.empty:
        return show_message(ax, NO_REVIEWS)
    counts = (pd.crosstab(gaps["score_a"], gaps["score_b"])
              .reindex(index=SCALE, columns=SCALE, fill_value=0).to_numpy())
    image = ax.imshow(counts, origin="lower", cmap="Blues", extent=(0.5, 4.5, 0.5, 4.5),
                      vmin=0, vmax=max(1, counts.max()))
    threshold = counts.max() * 0.55
    for i, own in enumerate(SCALE):
        for j, sup in enumerate(SCALE):
            ax.text(sup, own, str(counts[i, j]), ha="center", va="center", fontsize=10,
                    color="white" if counts[i, j] > threshold else "black", gid="count")
        ax.add_patch(Rectangle((own - 0.5, own - 0.5), 1, 1, fill=False, lw=1.8,
                               edgecolor=OKABE_ITO["vermillion"], gid="diagonal"))
    ax.set_xticks(SCALE)
    ax.set_yticks(SCALE)
    ax.set_xlabel("supervisor's score")
    ax.set_ylabel("self-rating")
    exact = np.trace(counts) / counts.sum()
    who = "the team" if specialist is None else specialist_label(frame, specialist)
    ax.set_title(f"{who}\n{counts.sum()} paired ratings, {exact:.0%} exact", fontsize=11, **PLAIN)
    image.set_gid("counts")
    return ax
