"""The tidy tables that everything downstream of the store reads.

Columns are documented once, in ``docs/frames.md``; :data:`RATINGS_COLUMNS` and friends
list them in order, and the tests hold the frames to them. Dates are ``datetime64[ns]``,
scores are nullable ``Int64`` (``<NA>`` = not observed), and text that repeats across rows
(ids, names, titles, statuses) is an ordered ``category`` whose categories are the
column's whole vocabulary in alphabetical order (every person, every review the filters
select, the rubric's practices, every status...), so 1.3 million rating rows take about a
hundred megabytes rather than two gigabytes of Python strings.

Rows are read :data:`CHUNK_ROWS` at a time and each chunk is turned into integer codes
with a category set shared by every chunk, so the result never exists as a list of
Python tuples. The ratings frame goes further: its big query returns one integer per row
(the review's rowid, the practice, the role and the score packed together) and the text
is spread onto the rows from the review and rating rows, which are some thirty and ten
times fewer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from .model import COUNTED, GoalStatus, Modality, ReviewStatus, Source

if TYPE_CHECKING:
    import sqlite3

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
    "CHUNK_ROWS",
    "COUNTED_STATUSES",
    "counted",
    "in_progress_counts",
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

#: The review states that count in analysis (``model.COUNTED``: signed), as the frames spell them.
COUNTED_STATUSES = tuple(str(s) for s in COUNTED)

#: Rows fetched from SQLite at a time (the most Python objects alive at once while loading).
CHUNK_ROWS = 10_000

_LATEST = "r.revision = (SELECT max(x.revision) FROM reviews x WHERE x.review_id = r.review_id)"
_SESSION_JOIN = " JOIN sessions s ON s.id = r.session_id"
_REVIEW_JOINS = (
    _SESSION_JOIN +
    " JOIN people sp ON sp.id = s.specialist_id"
    " JOIN people sv ON sv.id = r.supervisor_id"
)
_ROLES = ("self", "supervisor", "consensus")  # the order of a review's rows; codes 0, 1, 2


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


# ------------------------------------------------------------------ reading in chunks


class _Text(NamedTuple):
    """A text column as integer codes into its distinct values (first-seen order; -1 = NULL)."""

    codes: np.ndarray
    values: list


@contextlib.contextmanager
def _snapshot(conn: "sqlite3.Connection") -> Iterator[None]:
    """Run several SELECTs on one snapshot of the database (their row ids must agree)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _chunks(conn: "sqlite3.Connection", sql: str, args: Sequence) -> Iterator[list[tuple]]:
    cursor = conn.execute(sql, list(args))
    try:
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows
    finally:
        cursor.close()


def _encode(values: Sequence, seen: dict) -> np.ndarray:
    """Codes of `values` in `seen` (value -> code), adding the values not seen before."""
    codes, uniques = pd.factorize(np.array(values, dtype=object))
    lookup = np.array([seen.setdefault(u, len(seen)) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # a NULL (code -1) picks the -1 at the end


def _read(conn: "sqlite3.Connection", sql: str, args: Sequence, kinds: str,
          vocabularies: dict[int, Iterable[str]] | None = None) -> list:
    """The columns of a query, read :data:`CHUNK_ROWS` rows at a time. `kinds` has a letter
    per column: ``t`` text -> :class:`_Text`, ``i`` integer (never NULL) -> int64 array,
    ``o`` anything -> object array (free text, which would gain nothing from codes).
    `vocabularies` gives text columns (by position) the values they know before the rows
    come: a column's categories are these and whatever else the rows hold."""
    parts: list[list[np.ndarray]] = [[] for _ in kinds]
    seen: list[dict] = [{} for _ in kinds]
    for j, values in (vocabularies or {}).items():
        for value in values:
            seen[j].setdefault(str(value), len(seen[j]))  # str(): an enum member gives its value
    for rows in _chunks(conn, sql, args):
        for j, (kind, values) in enumerate(zip(kinds, zip(*rows))):
            if kind == "t":
                parts[j].append(_encode(values, seen[j]))
            else:
                parts[j].append(np.array(values, dtype=np.int64 if kind == "i" else object))
    out = []
    for kind, chunks, values in zip(kinds, parts, seen):
        array = np.concatenate(chunks) if chunks else np.empty(0, dtype=object if kind == "o" else np.int64)
        out.append(_Text(array, list(values)) if kind == "t" else array)
    return out


def _small_int(n: int) -> type:
    """The smallest signed integer type that holds -1 .. n."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if n < np.iinfo(t).max)


def _categorical(column: _Text, take: np.ndarray | None = None) -> pd.Categorical:
    """The column's values (rows `take`) as an ordered categorical whose categories are all
    its known values in alphabetical order: sorting, ``min``/``max`` and ``<`` with a value
    it holds work as on the text."""
    order = sorted(range(len(column.values)), key=column.values.__getitem__)
    lookup = np.full(len(order) + 1, -1, dtype=_small_int(len(order)))  # the last one keeps -1 as -1
    lookup[order] = np.arange(len(order))
    codes = lookup[column.codes]  # at the review level first, then spread onto the rows
    if take is not None:
        codes = codes[take]
    categories = pd.Index([column.values[i] for i in order], dtype="str")
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories, ordered=True), validate=False)


def _shared_strings(column: _Text, take: np.ndarray | None = None) -> pd.Series:
    """The column as strings, every row pointing at one Python object per distinct value
    (eight bytes a row; pandas' deep memory count counts the object once per row)."""
    values = np.array([*column.values, None], dtype=object)
    return _strings(values[column.codes if take is None else column.codes[take]])


def _datetimes(column: _Text, take: np.ndarray | None = None) -> np.ndarray:
    """ISO dates as ``datetime64[ns]``, each distinct value parsed once; NULL gives NaT."""
    parsed = pd.to_datetime(pd.Series(column.values, dtype=object), format="ISO8601").to_numpy("datetime64[ns]")
    values = np.append(parsed, np.datetime64("NaT", "ns"))
    return values[column.codes if take is None else column.codes[take]]


#: pandas' default dtype for text: ``str`` under pandas 3, ``object`` before.
_TEXT = pd.Series(["x"]).dtype


def _strings(values: np.ndarray) -> pd.Series:
    """An object array of strings as the default text dtype (naming it skips a costly guess)."""
    return pd.Series(values, dtype=_TEXT, copy=False)


def _people(conn: "sqlite3.Connection") -> tuple[list[str], list[str]]:
    """Every person's id and every display name: the categories of the people columns."""
    rows = conn.execute("SELECT id, display_name FROM people").fetchall()
    return [r[0] for r in rows], list(dict.fromkeys(r[1] for r in rows))


def _scope(conn: "sqlite3.Connection", specialist: str | Iterable[str] | None) -> list[str]:
    """The ids of the reviews of `specialist` (all when None): the categories of ``review_id``.
    (An id names every revision of a review, so this needs no latest-revision filter.)"""
    where, args = _filters(specialist, latest_only=False)
    return [r for (r,) in conn.execute("SELECT DISTINCT r.review_id FROM reviews r" + _SESSION_JOIN + where, args)]


def _relabel(column: _Text, label: dict) -> _Text:
    """The column with each value replaced by ``label.get(value, value)`` (e.g. id -> title)."""
    codes, values = pd.factorize(np.array([label.get(v, v) for v in column.values], dtype=object))
    return _Text(np.append(codes, -1)[column.codes], list(values))


def _lexical_ranks(values: list) -> np.ndarray:
    """Each value's place in alphabetical order."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return ranks


def _frame(columns: dict, order: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: columns[c] for c in order}, copy=False)


# ------------------------------------------------------------------------ the frames


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
    # the latest revision of each review, worked out once per review rather than per row
    source = (
        " FROM (SELECT review_id, max(revision) AS latest FROM reviews GROUP BY review_id) lr"
        " JOIN reviews r ON r.review_id = lr.review_id AND r.revision = lr.latest"
        if latest_only else " FROM reviews r"
    )
    rubric = store.rubric
    conn = store.conn
    with _snapshot(conn):
        ids, names = _people(conn)
        # one row per review (tens of thousands), keyed by the reviews table's rowid
        (rowid, review_id, revision, review_date, session_id, session_date, modality, source_kind,
         specialist_id, specialist_name, supervisor_id, supervisor_name, status) = _read(
            conn,
            "SELECT r.rowid, r.review_id, r.revision, r.review_date, r.session_id, s.session_date,"
            " s.modality, s.source, s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name,"
            " r.status" + source + _REVIEW_JOINS + where,
            args, "ititttttttttt", {6: Modality, 7: Source, 8: ids, 9: names, 10: ids, 11: names, 12: ReviewStatus})
        # one row per rating (review x role). This query and the scores' leave the choice of
        # revision to the rowids above: rows of a revision not chosen find no review and drop
        # out, which is cheaper than working out the latest revisions again in each query.
        every = " FROM reviews r"
        rated_rowid, rated_role, rater_id, rubric_id, rubric_version = _read(
            conn,
            "SELECT r.rowid, " + _role_code("ra.role") + ", ra.rater_id, ra.rubric_id, ra.rubric_version"
            + every + _SESSION_JOIN +
            " JOIN ratings ra ON ra.review_id = r.review_id AND ra.revision = r.revision" + where,
            args, "iittt", {2: ids})
        # reviews table rowid -> review position; review position x role -> rating position
        (last_rowid,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM reviews").fetchone()
        position = np.full(last_rowid + 1, -1, dtype=np.int32)
        position[rowid] = np.arange(len(rowid))
        rated_at = position[rated_rowid]
        rating_of = np.full(len(rowid) * 4 + 1, -1, dtype=np.int32)  # the last one stays -1
        rating_of[rated_at * 4 + rated_role] = np.where(rated_at >= 0, np.arange(len(rated_at)), -1)
        del rated_at
        # the score rows: four small integers each, never a Python string
        practices = list(rubric.practice_ids)
        rows = _score_rows(conn, every, where, args, practices, position, rating_of)
        if rows is None:  # a practice the rubric does not have (rated with another rubric)
            practices += sorted(p for (p,) in conn.execute(
                "SELECT DISTINCT sc.practice_id" + every + _SESSION_JOIN + _SCORES_JOIN
                + (where + " AND" if where else " WHERE") + " sc.rated = 1", args) if p not in practices)
            rows = _score_rows(conn, every, where, args, practices, position, rating_of)
    del position, rating_of
    row_review, row_practice, row_role, row_score, row_rating = rows

    # rows in meeting order (date, review id, revision), then rubric order, then role
    titles = {p.id: p.title for p in rubric.practices}
    order = {p: i for i, p in enumerate(rubric.practice_ids)}
    practice_order = np.array([order.get(p, len(order)) for p in practices], dtype=np.int64)
    by_review = np.empty(len(rowid), dtype=np.int64)
    dates = _datetimes(review_date)
    by_review[np.lexsort((revision, _lexical_ranks(review_id.values)[review_id.codes],
                          dates.view(np.int64)))] = np.arange(len(rowid))
    key = by_review[row_review]
    key *= len(order) + 1
    key += practice_order[row_practice]
    key *= 4
    key += row_role
    key *= len(practices)
    key += _lexical_ranks(practices)[row_practice]
    sort = np.argsort(key)
    del key
    row_review, row_practice, row_role, row_score, row_rating = (
        a[sort] for a in (row_review, row_practice, row_role, row_score, row_rating))
    del sort

    practice = _Text(row_practice, practices)
    columns = {
        "review_id": _categorical(review_id, row_review),
        "revision": revision[row_review],
        "review_date": dates[row_review],
        "session_id": _categorical(session_id, row_review),
        "session_date": _datetimes(session_date, row_review),
        "modality": _categorical(modality, row_review),
        "source": _categorical(source_kind, row_review),
        "specialist_id": _categorical(specialist_id, row_review),
        "specialist_name": _categorical(specialist_name, row_review),
        "supervisor_id": _categorical(supervisor_id, row_review),
        "supervisor_name": _categorical(supervisor_name, row_review),
        "practice_id": _categorical(practice),
        "practice_title": _categorical(_relabel(practice, titles)),
        "practice_order": practice_order[row_practice],
        "role": _categorical(_Text(row_role, list(_ROLES))),
        "rater_id": _categorical(rater_id, row_rating),
        "score": pd.arrays.IntegerArray(row_score.astype(np.int64), row_score == 0),
        "rubric_id": _shared_strings(rubric_id, row_rating),
        "rubric_version": _shared_strings(rubric_version, row_rating),
        "status": _categorical(status, row_review),
    }
    return _frame(columns, RATINGS_COLUMNS)


_SCORES_JOIN = " JOIN scores sc ON sc.review_id = r.review_id AND sc.revision = r.revision"


def _role_code(column: str) -> str:
    """SQL for a role's code: 0 self, 1 supervisor, 2 consensus (3 for anything else)."""
    return f"CASE {column} " + " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(_ROLES)) + " ELSE 3 END"


def _score_rows(conn: "sqlite3.Connection", source: str, where: str, args: list, practices: list[str],
                position: np.ndarray, rating_of: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Every rated score in scope as five arrays: review position, practice code (in
    `practices`), role code, score (0 = not observed) and rating position; rows without a
    review or rating are left out, as an inner join would. SQLite hands over one integer
    per row, which packs the review's rowid, the practice, the role and the score. None
    when a score names a practice missing from `practices`."""
    n = len(practices) + 1
    practice = "CASE sc.practice_id " + "WHEN ? THEN ? " * len(practices) + f"ELSE {n - 1} END"
    sql = (f"SELECT ((r.rowid * {n} + {practice}) * 4 + {_role_code('sc.role')}) * 8 + coalesce(sc.score, 0)"
           + source + _SESSION_JOIN + _SCORES_JOIN + (where + " AND" if where else " WHERE") + " sc.rated = 1")
    params = [x for i, p in enumerate(practices) for x in (p, i)] + list(args)
    small = _small_int(n)
    parts = []
    for rows in _chunks(conn, sql, params):
        packed = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=len(rows))
        score = (packed & 7).astype(np.int8)
        role = ((packed >> 3) & 3).astype(np.int8)
        packed >>= 5
        code = (packed % n).astype(small)
        if (code == n - 1).any():
            return None
        review = position[packed // n]
        rating = rating_of[np.where(review >= 0, review.astype(np.int64) * 4 + role, -1)]
        keep = (rating >= 0) & (role < len(_ROLES))
        parts.append(tuple(a[keep] for a in (review, code, role, score, rating)))
    if not parts:
        return tuple(np.empty(0, dtype=t) for t in (np.int32, small, np.int8, np.int8, np.int32))
    return tuple(np.concatenate(column) for column in zip(*parts))


def counted(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (with a ``status`` column) whose review counts in analysis
    (:data:`COUNTED_STATUSES`: signed records; reviews in progress drop out)."""
    return frame[np.asarray(frame["status"].astype(str).isin(COUNTED_STATUSES))]


def in_progress_counts(store: "Store") -> dict[str, int]:
    """How many reviews of each specialist are in progress (latest revision not counted
    in analysis yet), by specialist id; specialists with none are left out."""
    where, args = _filters(None, statuses=None)
    waiting = ", ".join("?" for _ in COUNTED_STATUSES)
    rows = store.conn.execute(
        "SELECT s.specialist_id, count(*) FROM reviews r" + _SESSION_JOIN + where
        + f" AND r.status NOT IN ({waiting}) GROUP BY s.specialist_id", [*args, *COUNTED_STATUSES])
    return {specialist: int(n) for specialist, n in rows}


def goals_frame(store: "Store", *, specialist: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per goal, with its latest status from later reviews (see ``docs/frames.md``)."""
    where, args = _filters(specialist)
    conn = store.conn
    with _snapshot(conn):
        ids, names = _people(conn)
        goal_id, review_id, set_on, specialist_id, specialist_name, practice_id, text, actions, \
            follow_up, target = _read(
                conn,
                "SELECT g.goal_id, r.review_id, r.review_date, s.specialist_id, sp.display_name,"
                " g.practice_id, g.text, g.actions, g.follow_up, g.target"
                " FROM goals g JOIN reviews r ON r.review_id = g.review_id AND r.revision = g.revision"
                + _REVIEW_JOINS + where + " ORDER BY r.review_date, g.goal_id",
                args, "otttttooti", {1: _scope(conn, specialist), 3: ids, 4: names, 5: store.rubric.practice_ids})
        # the latest verdict on each goal: later rows win (meeting order)
        verdicts: dict[str, tuple[str, str]] = {}
        for rows in _chunks(conn, "SELECT u.goal_id, u.status, r.review_date FROM goal_updates u"
                            " JOIN reviews r ON r.review_id = u.review_id AND r.revision = u.revision"
                            " WHERE " + _LATEST + " ORDER BY r.review_date, r.review_id", []):
            verdicts.update((g, (s, d)) for g, s, d in rows)
    seen_status = {str(s): i for i, s in enumerate(GoalStatus)}
    seen_date: dict = {}
    status_codes = np.empty(len(goal_id), dtype=np.int64)
    date_codes = np.empty(len(goal_id), dtype=np.int64)
    for i, g in enumerate(goal_id):
        status, day = verdicts.get(g, ("open", None))
        status_codes[i] = seen_status.setdefault(status, len(seen_status))
        date_codes[i] = -1 if day is None else seen_date.setdefault(day, len(seen_date))
    titles = {p.id: p.title for p in store.rubric.practices}
    columns = {
        "goal_id": _strings(goal_id),
        "review_id": _categorical(review_id),
        "set_on": _datetimes(set_on),
        "specialist_id": _categorical(specialist_id),
        "specialist_name": _categorical(specialist_name),
        "practice_id": _categorical(practice_id),
        "practice_title": _categorical(_relabel(practice_id, titles)),
        "text": _strings(text),
        "actions": _strings(actions),
        "follow_up": _datetimes(follow_up),
        "status": _categorical(_Text(status_codes, list(seen_status))),
        "status_date": _datetimes(_Text(date_codes, list(seen_date))),
        "target": pd.arrays.IntegerArray(target, np.zeros(len(target), dtype=bool)),
    }
    return _frame(columns, GOALS_COLUMNS)


def traps_frame(store: "Store", *, specialist: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per trap ticked in a review (latest revisions)."""
    where, args = _filters(specialist)
    conn = store.conn
    with _snapshot(conn):
        ids, names = _people(conn)
        review_id, review_date, specialist_id, specialist_name, trap_id = _read(
            conn,
            "SELECT r.review_id, r.review_date, s.specialist_id, sp.display_name, t.trap_id"
            " FROM traps t JOIN reviews r ON r.review_id = t.review_id AND r.revision = t.revision"
            + _REVIEW_JOINS + where + " ORDER BY r.review_date, r.review_id, t.trap_id",
            args, "ttttt", {0: _scope(conn, specialist), 2: ids, 3: names, 4: store.rubric.trap_ids})
    titles = {t.id: t.title for t in store.rubric.traps}
    columns = {
        "review_id": _categorical(review_id),
        "review_date": _datetimes(review_date),
        "specialist_id": _categorical(specialist_id),
        "specialist_name": _categorical(specialist_name),
        "trap_id": _categorical(trap_id),
        "trap_title": _categorical(_relabel(trap_id, titles)),
    }
    return _frame(columns, TRAPS_COLUMNS)


def reviews_frame(store: "Store", *, specialist: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per review (latest revision); ``signed_at`` is the later of the two signatures."""
    where, args = _filters(specialist)
    conn = store.conn
    with _snapshot(conn):
        ids, names = _people(conn)
        columns = _read(
            conn,
            "SELECT r.review_id, r.revision, r.review_date, r.session_id, s.session_date,"
            " s.specialist_id, sp.display_name, r.supervisor_id, sv.display_name, r.status,"
            " r.specialist_signed_at, r.supervisor_signed_at"
            " FROM reviews r" + _REVIEW_JOINS + where + " ORDER BY r.review_date, r.review_id",
            args, "tittttttttoo", {5: ids, 6: names, 7: ids, 8: names, 9: ReviewStatus})
    (review_id, revision, review_date, session_id, session_date, specialist_id, specialist_name,
     supervisor_id, supervisor_name, status, specialist_signed, supervisor_signed) = columns
    # compare the signatures as instants (their text may carry different UTC offsets)
    both = pd.concat([pd.to_datetime(pd.Series(c, dtype=object), format="ISO8601", utc=True)
                      for c in (specialist_signed, supervisor_signed)], axis=1)
    status_column = _categorical(status)
    signed_at = both.max(axis=1).where(np.asarray(status_column == "signed"))
    columns = {
        "review_id": _categorical(review_id),
        "revision": revision,
        "review_date": _datetimes(review_date),
        "session_id": _categorical(session_id),
        "session_date": _datetimes(session_date),
        "specialist_id": _categorical(specialist_id),
        "specialist_name": _categorical(specialist_name),
        "supervisor_id": _categorical(supervisor_id),
        "supervisor_name": _categorical(supervisor_name),
        "status": status_column,
        "signed_at": pd.to_datetime(signed_at, utc=True).dt.tz_localize(None).astype("datetime64[ns]").to_numpy(),
    }
    return _frame(columns, REVIEWS_COLUMNS)


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
