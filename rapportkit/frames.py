"""The tidy tables that everything downstream of the store reads.

Columns are documented once, in ``docs/frames.md``; :data:`RATINGS_COLUMNS` and friends
list them in order, and the tests hold the frames to them. Dates are ``datetime64[ns]``,
scores are nullable ``Int64`` (``<NA>`` = not observed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "ratings_frame",
    "goals_frame",
    "traps_frame",
    "reviews_frame",
    "people_frame",
    "rubric_frame",
    "RATINGS_COLUMNS",
    "GOALS_COLUMNS",
    "TRAPS_COLUMNS",
    "REVIEWS_COLUMNS",
]

RATINGS_COLUMNS = (
    "review_id", "revision", "review_date", "session_id", "session_date", "modality", "source",
    "specialist_id", "specialist_name", "supervisor_id", "supervisor_name", "practice_id",
    "practice_title", "practice_order", "role", "rater_id", "score", "rubric_id",
    "rubric_version", "status",
)
GOALS_COLUMNS = (
    "goal_id", "review_id", "set_on", "specialist_id", "specialist_name", "practice_id",
    "practice_title", "text", "actions", "follow_up", "status", "status_date", "target",
)
TRAPS_COLUMNS = ("review_id", "review_date", "specialist_id", "specialist_name", "trap_id", "trap_title")
REVIEWS_COLUMNS = (
    "review_id", "revision", "review_date", "session_id", "session_date", "specialist_id",
    "specialist_name", "supervisor_id", "supervisor_name", "status", "signed_at",
)

_LATEST = "r.revision = (SELECT max(x.revision) FROM reviews x WHERE x.review_id = r.review_id)"
_REVIEW_JOINS = (
    " JOIN sessions s ON s.id = r.session_id"
    " JOIN people sp ON sp.id = s.specialist_id"
    " JOIN people sv ON sv.id = r.supervisor_id"
)


def _filters(
    specialist: str | Iterable[str] | None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    statuses: Iterable[str] | None = None,
    latest_only: bool = True,
) -> tuple[str, list]:
    where, args = [], []
    if latest_only:
        where.append(_LATEST)
    if specialist is not None:
        ids = [specialist] if isinstance(specialist, str) else list(specialist)
        where.append(f"s.specialist_id IN ({', '.join('?' * len(ids))})")
        args += ids
    if since is not None:
        where.append("r.review_date >= ?")
        args.append(str(pd.Timestamp(since).date()))
    if until is not None:
        where.append("r.review_date <= ?")
        args.append(str(pd.Timestamp(until).date()))
    if statuses is not None:
        st = list(statuses)
        where.append(f"r.status IN ({', '.join('?' * len(st))})")
        args += st
    return (" WHERE " + " AND ".join(where)) if where else "", args


def _dates(frame: pd.DataFrame, *columns: str) -> None:
    """Parse ISO dates, each distinct value once (a few thousand dates in a million rows)."""
    for col in columns:
        codes, uniques = pd.factorize(frame[col])
        parsed = pd.to_datetime(pd.Series(uniques, dtype=object), format="ISO8601").to_numpy("datetime64[ns]")
        # code -1 (a missing date) picks the NaT appended at the end
        values = np.append(parsed, np.datetime64("NaT", "ns"))[codes]
        frame[col] = pd.Series(values, index=frame.index, dtype="datetime64[ns]")


def _frame(store: "Store", sql: str, args: list, columns: Iterable[str]) -> pd.DataFrame:
    rows = store.conn.execute(sql, args).fetchall()
    return pd.DataFrame.from_records(rows, columns=list(columns))


def ratings_frame(
    store: "Store",
    *,
    specialist: str | Iterable[str] | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    statuses: Iterable[str] | None = None,
    latest_only: bool = True,
) -> pd.DataFrame:
    """One row per (review, practice, role): the table every analysis reads.

    Parameters
    ----------
    store
        An open :class:`~rapportkit.store.Store` (read-only is fine).
    specialist
        One specialist id or several; all when None.
    since, until
        Keep reviews whose meeting date lies in this closed range.
    statuses
        Keep reviews in these states (for trends, usually ``["signed"]``).
    latest_only
        Only the latest revision of each review (default); False gives every revision.

    Returns
    -------
    DataFrame
        Columns :data:`RATINGS_COLUMNS`, described in ``docs/frames.md``; practices in
        rubric order within a review.
    """
    where, args = _filters(specialist, since, until, statuses, latest_only=False)
    where = (where + " AND" if where else " WHERE") + " sc.rated = 1"
    # the latest revision of each review, worked out once per review rather than per row
    source = (
        " FROM (SELECT review_id, max(revision) AS latest FROM reviews GROUP BY review_id) lr"
        " JOIN reviews r ON r.review_id = lr.review_id AND r.revision = lr.latest"
        if latest_only else " FROM reviews r"
    )
    sql = (
        "SELECT r.review_id, r.revision, r.review_date, r.session_id, s.session_date, s.modality,"
        " s.source, s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name,"
        " sc.practice_id, sc.role, ra.rater_id, sc.score, ra.rubric_id, ra.rubric_version, r.status"
        + source + _REVIEW_JOINS +
        " JOIN ratings ra ON ra.review_id = r.review_id AND ra.revision = r.revision"
        " JOIN scores sc ON sc.review_id = ra.review_id AND sc.revision = ra.revision AND sc.role = ra.role"
        + where
    )
    cols = [c for c in RATINGS_COLUMNS if c not in ("practice_title", "practice_order")]
    frame = _frame(store, sql, args, cols)
    rubric = store.rubric
    # few distinct values in many rows: convert each distinct value once, then spread
    codes, practices = pd.factorize(frame["practice_id"])
    titles = {p.id: p.title for p in rubric.practices}
    order = {p.id: i for i, p in enumerate(rubric.practices)}
    frame["practice_title"] = pd.array([titles.get(p, p) for p in practices], dtype="str")[codes] if len(frame) else frame["practice_id"]
    frame["practice_order"] = np.array([order.get(p, len(order)) for p in practices], dtype="int64")[codes]
    frame["score"] = frame["score"].astype("Int64")
    frame["revision"] = frame["revision"].astype("int64")
    _dates(frame, "review_date", "session_date")
    role_order = frame["role"].map({"self": 0, "supervisor": 1, "consensus": 2}).to_numpy()
    review_codes = pd.factorize(frame["review_id"], sort=True)[0]
    sort = np.lexsort((role_order, frame["practice_order"].to_numpy(), frame["revision"].to_numpy(),
                       review_codes, frame["review_date"].to_numpy()))
    frame = frame.take(sort).reset_index(drop=True)
    return frame[list(RATINGS_COLUMNS)]


def goals_frame(store: "Store", *, specialist: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per goal, with its latest status from later reviews (see ``docs/frames.md``)."""
    where, args = _filters(specialist)
    sql = (
        "SELECT g.goal_id, r.review_id, r.review_date, s.specialist_id, sp.display_name,"
        " g.practice_id, g.text, g.actions, g.follow_up, g.target"
        " FROM goals g JOIN reviews r ON r.review_id = g.review_id AND r.revision = g.revision"
        + _REVIEW_JOINS + where + " ORDER BY r.review_date, g.goal_id"
    )
    frame = _frame(store, sql, args, ["goal_id", "review_id", "set_on", "specialist_id",
                                      "specialist_name", "practice_id", "text", "actions",
                                      "follow_up", "target"])
    updates = _frame(
        store,
        "SELECT u.goal_id, u.status, r.review_date FROM goal_updates u"
        " JOIN reviews r ON r.review_id = u.review_id AND r.revision = u.revision"
        " WHERE " + _LATEST + " ORDER BY r.review_date, r.review_id",
        [], ["goal_id", "status", "status_date"],
    ).drop_duplicates("goal_id", keep="last")
    frame = frame.merge(updates, on="goal_id", how="left")
    frame["status"] = frame["status"].fillna("open")
    titles = {p.id: p.title for p in store.rubric.practices}
    frame["practice_title"] = frame["practice_id"].map(titles).fillna(frame["practice_id"])
    frame["target"] = frame["target"].astype("Int64")
    _dates(frame, "set_on", "follow_up", "status_date")
    return frame[list(GOALS_COLUMNS)]


def traps_frame(store: "Store", *, specialist: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per trap ticked in a review (latest revisions)."""
    where, args = _filters(specialist)
    sql = (
        "SELECT r.review_id, r.review_date, s.specialist_id, sp.display_name, t.trap_id"
        " FROM traps t JOIN reviews r ON r.review_id = t.review_id AND r.revision = t.revision"
        + _REVIEW_JOINS + where + " ORDER BY r.review_date, r.review_id, t.trap_id"
    )
    frame = _frame(store, sql, args, TRAPS_COLUMNS[:-1])
    titles = {t.id: t.title for t in store.rubric.traps}
    frame["trap_title"] = frame["trap_id"].map(titles).fillna(frame["trap_id"])
    _dates(frame, "review_date")
    return frame[list(TRAPS_COLUMNS)]


def reviews_frame(store: "Store", *, specialist: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per review (latest revision); ``signed_at`` is the later of the two signatures."""
    where, args = _filters(specialist)
    sql = (
        "SELECT r.review_id, r.revision, r.review_date, r.session_id, s.session_date,"
        " s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name, r.status,"
        " r.specialist_signed_at, r.supervisor_signed_at"
        " FROM reviews r" + _REVIEW_JOINS + where + " ORDER BY r.review_date, r.review_id"
    )
    frame = _frame(store, sql, args, [*REVIEWS_COLUMNS[:-1], "_specialist", "_supervisor"])
    frame["revision"] = frame["revision"].astype("int64")
    _dates(frame, "review_date", "session_date")
    # compare the signatures as instants (their text may carry different UTC offsets)
    both = pd.concat([pd.to_datetime(frame[c], format="ISO8601", utc=True) for c in ("_specialist", "_supervisor")],
                     axis=1)
    signed_at = both.max(axis=1).where(frame["status"] == "signed")
    frame["signed_at"] = pd.to_datetime(signed_at, utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    return frame[list(REVIEWS_COLUMNS)]


def people_frame(store: "Store") -> pd.DataFrame:
    """The team: ``id, display_name, role, supervisor_id, supervisor_name, active, reviews``."""
    rows = store.conn.execute(
        "SELECT p.id, p.display_name, p.role, p.supervisor_id, sv.display_name, p.active,"
        " (SELECT count(DISTINCT r.review_id) FROM reviews r JOIN sessions s ON s.id = r.session_id"
        "  WHERE s.specialist_id = p.id OR r.supervisor_id = p.id)"
        " FROM people p LEFT JOIN people sv ON sv.id = p.supervisor_id ORDER BY p.role DESC, p.display_name"
    ).fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["id", "display_name", "role", "supervisor_id",
                                                     "supervisor_name", "active", "reviews"])
    frame["active"] = frame["active"].astype(bool)
    return frame


def rubric_frame(rubric) -> pd.DataFrame:
    """The rubric as a table: one row per practice with its definition and the four anchors."""
    return pd.DataFrame(
        [
            {"practice_id": p.id, "title": p.title, "definition": p.definition,
             **{f"{score} {rubric.label(score)}": p.anchors[score] for score in rubric.scores}}
            for p in rubric.practices
        ]
    )
