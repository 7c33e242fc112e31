"""Spreadsheet and de-identified exports.

- :func:`export_xlsx` — the tidy ratings table, goals, traps and the summaries (trends,
  calibration, team) as sheets of one workbook, for programme leads.
- :func:`deidentified_frame` / :func:`export_deidentified` — for sharing outside the
  programme: dates coarsened to the month, free text dropped (notes, goal text, session
  codes), and people re-pseudonymised with a fresh random mapping that is not kept.

Every text cell that a spreadsheet could run as a formula (starting with ``=``, ``+``,
``-``, ``@``) is written with a leading ``'``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pandas as pd

from .errors import ValidationError
from .frames import goals_frame, ratings_frame, traps_frame
from .store import Store
from .transfer import neutralise

__all__ = ["export_xlsx", "deidentified_frame", "export_deidentified", "safe_cells"]

_DEID_COLUMNS = ("review", "review_month", "session_month", "modality", "source", "specialist",
                 "supervisor", "practice_id", "practice_title", "role", "score", "rubric_id",
                 "rubric_version", "status")


def safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell is neutralised against formula injection."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return out


def _sheets(store: Store) -> dict[str, pd.DataFrame]:
    from .analysis import calibration, goal_progress, team_summary, trend_summary

    ratings = ratings_frame(store)
    goals = goals_frame(store)
    signed = ratings[ratings["status"] == "signed"]
    return {
        "ratings": ratings,
        "goals": goal_progress(goals, ratings),
        "traps": traps_frame(store),
        "trends": trend_summary(signed),
        "calibration": calibration(signed),
        "team": team_summary(signed),
    }


def export_xlsx(store: Store, out: str | os.PathLike) -> Path:
    """Write the tidy tables and summaries to an ``.xlsx`` workbook; returns its path."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, frame in _sheets(store).items():
            safe_cells(frame).to_excel(writer, sheet_name=name, index=False)
    os.replace(tmp, out)
    return out


def deidentified_frame(store: Store, *, seed: int | None = None) -> pd.DataFrame:
    """The ratings table made safe to share outside the programme.

    Dates become months (``2026-03``); notes, goal text and session codes are left out;
    specialists become ``S01``, ``S02``…, supervisors ``V01``…, and reviews ``R0001``… in
    an order drawn at random each time (pass ``seed`` only in tests), so the codes cannot
    be matched back to the pseudonymous ids of the programme.
    """
    ratings = ratings_frame(store, statuses=["signed"])
    rng = secrets.SystemRandom() if seed is None else __import__("random").Random(seed)

    def recode(values: pd.Series, prefix: str, width: int) -> pd.Series:
        unique = sorted(set(values))
        rng.shuffle(unique)
        mapping = {v: f"{prefix}{i + 1:0{width}d}" for i, v in enumerate(unique)}
        return values.map(mapping)

    out = pd.DataFrame({
        "review": recode(ratings["review_id"], "R", 5),
        "review_month": ratings["review_date"].dt.strftime("%Y-%m"),
        "session_month": ratings["session_date"].dt.strftime("%Y-%m"),
        "modality": ratings["modality"],
        "source": ratings["source"],
        "specialist": recode(ratings["specialist_id"], "S", 3),
        "supervisor": recode(ratings["supervisor_id"], "V", 2),
        "practice_id": ratings["practice_id"],
        "practice_title": ratings["practice_title"],
        "role": ratings["role"],
        "score": ratings["score"],
        "rubric_id": ratings["rubric_id"],
        "rubric_version": ratings["rubric_version"],
        "status": ratings["status"],
    })
    return out.sort_values(["review_month", "review", "practice_id", "role"], kind="stable").reset_index(drop=True)


def export_deidentified(store: Store, out: str | os.PathLike) -> Path:
    """Write :func:`deidentified_frame` to ``.csv`` or ``.xlsx``."""
    out = Path(out)
    frame = safe_cells(deidentified_frame(store))
    tmp = out.with_name(f".{out.name}.tmp")
    if out.suffix.lower() == ".xlsx":
        frame.to_excel(tmp, index=False, engine="openpyxl")
    elif out.suffix.lower() == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        raise ValidationError(f"the de-identified export must end in .csv or .xlsx, not {out.suffix or 'nothing'!r}")
    os.replace(tmp, out)
    return out
