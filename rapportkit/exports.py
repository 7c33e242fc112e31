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

import io
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd

from .errors import ValidationError
from .files import atomic_write
from .frames import COUNTED_STATUSES, counted, goals_frame, ratings_frame, traps_frame
from .store import Store
from .transfer import neutralise

__all__ = ["export_xlsx", "deidentified_frame", "export_deidentified", "safe_cells"]

#: Rows a spreadsheet sheet holds, less its header row.
MAX_SHEET_ROWS = 1_048_575

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
    signed = counted(ratings)
    return {
        "ratings": ratings,
        "goals": goal_progress(goals, ratings),
        "traps": traps_frame(store),
        "trends": trend_summary(signed),
        "calibration": calibration(signed),
        "team": team_summary(signed),
    }


def _fits(name: str, frame: pd.DataFrame) -> None:
    if len(frame) > MAX_SHEET_ROWS:
        raise ValidationError(
            f"the {name} table has {len(frame):,} rows, more than a spreadsheet sheet holds "
            f"({MAX_SHEET_ROWS:,}); export to .csv instead"
        )


def _write_atomically(out: Path, write: Callable[[IO], None], *, text: bool = False) -> Path:
    """Call ``write(fh)`` with a file whose content reaches ``out`` only when complete,
    readable by its owner only; a failure leaves neither a partial file nor a temporary
    one, and a full disk or a read-only folder is said in words
    (:func:`rapportkit.files.atomic_write`).

    A workbook is built in memory first and then written in one go: openpyxl leaves its
    zip archive unclosed when a write fails half-way, and that archive would later try to
    finish itself on a closed file.
    """
    if text:
        with atomic_write(out, text=True) as fh:
            write(fh)
        return out
    buffer = io.BytesIO()
    write(buffer)
    with atomic_write(out, text=False) as fh:
        fh.write(buffer.getbuffer())
    return out


def export_xlsx(store: Store, out: str | os.PathLike) -> Path:
    """Write the tidy tables and summaries to an ``.xlsx`` workbook; returns its path."""
    sheets = _sheets(store)
    for name, frame in sheets.items():
        _fits(name, frame)

    def write(fh: IO) -> None:
        with pd.ExcelWriter(fh, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                safe_cells(frame).to_excel(writer, sheet_name=name, index=False)

    return _write_atomically(Path(out), write)


def deidentified_frame(store: Store, *, seed: int | None = None) -> pd.DataFrame:
    """The ratings table made safe to share outside the programme.

    Dates become months (``2026-03``); notes, goal text and session codes are left out;
    specialists become ``S001``, ``S002``…, supervisors ``V01``…, and reviews ``R00001``…
    in an order drawn at random each time (pass ``seed`` only in tests), so the codes
    cannot be matched back to the pseudonymous ids of the programme.
    """
    ratings = ratings_frame(store, statuses=COUNTED_STATUSES)
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
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError(f"the de-identified export must end in .csv or .xlsx, not {out.suffix or 'nothing'!r}")
    frame = safe_cells(deidentified_frame(store))
    if suffix == ".xlsx":
        _fits("de-identified ratings", frame)
        return _write_atomically(out, lambda fh: frame.to_excel(fh, index=False, engine="openpyxl"))
    return _write_atomically(out, lambda fh: frame.to_csv(fh, index=False), text=True)
