"""Import and export reviews as CSV (a tidy long table) or JSON.

CSV: one row per *item* of a review, with the review's own columns repeated on each row
and a ``kind`` column saying what the row holds:

- ``rating`` — one practice in one role (``role``, ``rater_id``, ``practice_id``,
  ``score`` = 1–4, ``not_observed``, or empty for a note without a score, ``note``);
- ``trap`` — a trap ticked (``trap_id``);
- ``goal`` — a goal set (``goal_id``, ``practice_id``, ``goal_text``, ``goal_actions``,
  ``follow_up``, ``target``);
- ``goal_update`` — a verdict on an earlier goal (``goal_id``, ``goal_status``, ``note``);
- ``review`` — a review with none of the above yet.

JSON: ``{"format": "rapportkit", "version": 1, "people": [...], "reviews": [...]}`` with
each review as :meth:`rapportkit.model.Review.to_dict` gives it.

Both round-trip faithfully: exporting and importing into an empty store gives equal
reviews. An import is atomic: every row is checked first, every problem is reported
by row and column, and only a file with none goes in, in one transaction.

Cells that begin with ``=``, ``+``, ``-`` or ``@`` are written with a leading ``'`` so a
spreadsheet does not run them as formulas; the import removes it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import ImportRejected, RapportkitError
from .model import (
    Goal, GoalUpdate, Person, PersonRole, Rating, RaterRole, Review, Session,
)
from .store import Store

__all__ = ["CSV_COLUMNS", "export_csv", "export_json", "import_file", "neutralise", "MAX_IMPORT_BYTES"]

MAX_IMPORT_BYTES = 200_000_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "kind", "review_id", "revision", "review_date", "status", "session_id", "session_date",
    "modality", "duration_min", "source", "session_code", "specialist_id", "specialist_name",
    "supervisor_id", "supervisor_name", "rubric_id", "rubric_version", "specialist_signed_at",
    "supervisor_signed_at", "amend_reason", "role", "rater_id", "practice_id", "score", "note",
    "trap_id", "goal_id", "goal_text", "goal_actions", "follow_up", "target", "goal_status",
)
_REQUIRED = ("kind", "review_id", "revision", "review_date", "status", "session_id", "session_date",
             "modality", "duration_min", "source", "specialist_id", "supervisor_id", "rubric_id",
             "rubric_version")


def _formula_like(text: str) -> bool:
    """True when a spreadsheet would run ``text``, or would once its quotes are removed."""
    return text.lstrip("'").startswith(_FORMULA_START)


def neutralise(value: Any) -> str:
    """Text for a CSV/XLSX cell that a spreadsheet will not run as a formula.

    One ``'`` is added in front of anything that starts (after any quotes already there)
    with ``=``, ``+``, ``-`` or ``@``; :func:`_restore` takes exactly one away, so every
    text round-trips, including one that itself begins with ``'=``.
    """
    text = "" if value is None else str(value)
    return "'" + text if _formula_like(text) else text


def _restore(text: str) -> str:
    return text[1:] if text.startswith("'") and _formula_like(text) else text


# ----------------------------------------------------------------------------- export


def _rows(review: Review, names: dict[str, str]) -> Iterable[dict[str, Any]]:
    s = review.session
    head = {
        "review_id": review.id, "revision": review.revision, "review_date": review.review_date.isoformat(),
        "status": review.status.value, "session_id": s.id, "session_date": s.date.isoformat(),
        "modality": s.modality.value, "duration_min": s.duration_min, "source": s.source.value,
        "session_code": s.code or "", "specialist_id": s.specialist_id,
        "specialist_name": names.get(s.specialist_id, ""), "supervisor_id": review.supervisor_id,
        "supervisor_name": names.get(review.supervisor_id, ""), "rubric_id": review.rubric_id,
        "rubric_version": review.rubric_version,
        "specialist_signed_at": review.specialist_signed_at.isoformat() if review.specialist_signed_at else "",
        "supervisor_signed_at": review.supervisor_signed_at.isoformat() if review.supervisor_signed_at else "",
        "amend_reason": review.amend_reason or "",
    }
    items = 0
    for rating in (review.self_rating, review.supervisor_rating, review.consensus):
        if rating is None:
            continue
        for p in sorted(set(rating.scores) | set(rating.notes)) or [""]:
            score = rating.scores.get(p, "")
            items += 1
            yield {**head, "kind": "rating", "role": rating.role.value, "rater_id": rating.rater_id,
                   "practice_id": p, "score": "not_observed" if p in rating.scores and score is None else score,
                   "note": rating.notes.get(p, "")}
    for trap in sorted(review.traps):
        items += 1
        yield {**head, "kind": "trap", "trap_id": trap}
    for g in review.goals:
        items += 1
        yield {**head, "kind": "goal", "goal_id": g.id, "practice_id": g.practice_id, "goal_text": g.text,
               "goal_actions": g.actions, "follow_up": g.follow_up.isoformat(), "target": g.target}
    for u in review.goal_updates:
        items += 1
        yield {**head, "kind": "goal_update", "goal_id": u.goal_id, "goal_status": u.status.value, "note": u.note}
    if not items:
        yield {**head, "kind": "review"}


def _all_revisions(store: Store, specialist: str | None) -> list[Review]:
    result = []
    for latest in store.reviews(specialist):
        result.extend(store.history(latest.id) if latest.revision > 1 else [latest])
    return result


def export_csv(store: Store, out: str | os.PathLike, *, specialist: str | None = None) -> int:
    """Write every revision of every review (or one specialist's) to ``out``; returns rows."""
    names = {p.id: p.display_name for p in store.people()}
    count = 0
    with _atomic_write(Path(out)) as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="raise")
        writer.writeheader()
        for review in _all_revisions(store, specialist):
            for row in _rows(review, names):
                writer.writerow({k: neutralise(row.get(k, "")) for k in CSV_COLUMNS})
                count += 1
    return count


def export_json(store: Store, out: str | os.PathLike, *, specialist: str | None = None) -> int:
    """Write people and every revision of every review to ``out`` as JSON; returns reviews."""
    reviews = _all_revisions(store, specialist)
    people = store.people()
    doc = {
        "format": "rapportkit", "version": 1,
        "people": [{"id": p.id, "display_name": p.display_name, "role": p.role.value,
                    "supervisor_id": p.supervisor_id, "active": p.active} for p in people],
        "reviews": [r.to_dict() for r in reviews],
    }
    with _atomic_write(Path(out)) as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
    return len(reviews)


class _atomic_write:
    """Write to a temporary file beside ``path`` and move it into place on success."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.tmp, "w", encoding="utf-8", newline="")
        return self.fh

    def __exit__(self, exc_type, *rest):
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- import


def import_file(store: Store, path: str | os.PathLike) -> int:
    """Import a ``.csv`` or ``.json`` file whole, or reject it whole.

    Returns
    -------
    int
        How many records (people and review revisions) were added or changed; a file
        already imported changes nothing and returns 0.

    Raises
    ------
    ImportRejected
        With every problem found, each naming its row (CSV: the line number, header =
        line 1) and column, or its place in the JSON; the database is unchanged.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRejected(str(path), [f"there is no file at {path}"])
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise ImportRejected(path.name, [f"the file is over {MAX_IMPORT_BYTES // 1_000_000} MB; split it"])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(path.name, [
            f"the file is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8' or JSON and try again"
        ]) from None
    if "\x00" in text:
        raise ImportRejected(path.name, ["the file contains NUL bytes; it is not a text export"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        people, reviews = _parse_csv(text, path.name)
    elif suffix == ".json":
        people, reviews = _parse_json(text, path.name)
    else:
        raise ImportRejected(path.name, [f"the file must end in .csv or .json (got {suffix or 'no extension'})"])
    known = {p.id for p in store.people()}
    people = [p for p in people if p.id not in known or store.person(p.id) != p]
    try:
        return store.save_many(people=_supervisors_first(people), reviews=_in_order(reviews))
    except RapportkitError as exc:
        raise ImportRejected(path.name, [str(exc)]) from None
    except sqlite3.IntegrityError as exc:  # a rule only the database caught; nothing was written
        raise ImportRejected(path.name, [f"the file contradicts itself or the database ({exc})"]) from None


def _supervisors_first(people: list[Person]) -> list[Person]:
    return sorted(people, key=lambda p: (p.supervisor_id is not None, p.id))


def _in_order(reviews: list[Review]) -> list[Review]:
    return sorted(reviews, key=lambda r: (r.review_date, r.id, r.revision))


def _parse_json(text: str, source: str) -> tuple[list[Person], list[Review]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(source, [f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"]) from None
    if not isinstance(doc, dict) or doc.get("format") != "rapportkit":
        raise ImportRejected(source, ['this is not a rapportkit export (expected "format": "rapportkit")'])
    if doc.get("version") != 1:
        raise ImportRejected(source, [f"export version {doc.get('version')!r} is not supported (expected 1)"])
    problems: list[str] = []
    people, reviews = [], []
    for i, item in enumerate(doc.get("people") or []):
        try:
            people.append(Person(**item))
        except (RapportkitError, TypeError) as exc:
            problems.append(f"people[{i}]: {exc}")
    for i, item in enumerate(doc.get("reviews") or []):
        try:
            reviews.append(Review.from_dict(item))
        except (RapportkitError, TypeError, ValueError) as exc:
            problems.append(f"reviews[{i}] (id {item.get('id') if isinstance(item, dict) else '?'}): {exc}")
    if problems:
        raise ImportRejected(source, problems)
    return people, reviews


def _parse_csv(text: str, source: str) -> tuple[list[Person], list[Review]]:
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportRejected(source, [f"line 1: {exc}"]) from None
    if not header:
        raise ImportRejected(source, ["the file is empty"])
    header = [h.strip() for h in header]
    missing = [c for c in _REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        msgs = [f"missing column '{c}'" for c in missing] + [f"unknown column '{c}'" for c in unknown]
        if len(set(header)) != len(header):
            msgs.append("a column name appears twice")
        raise ImportRejected(source, [f"line 1 (header): {m}" for m in msgs])
    groups: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = defaultdict(list)
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                problems.append(f"line {line}: has {len(row)} cells but the header has {len(header)}")
                continue
            record = {h: _restore(c) for h, c in zip(header, row)}
            groups[(record["review_id"], record["revision"])].append((line, record))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: the CSV is malformed ({exc}); check the quoting")
    people: dict[str, Person] = {}
    reviews = []
    for (_, _), rows in groups.items():
        review = _review_from_rows(rows, people, problems)
        if review is not None:
            reviews.append(review)
    if problems:
        raise ImportRejected(source, problems)
    return list(people.values()), reviews


def _cell(record: dict[str, str], column: str, line: int, problems: list[str], convert=str, required=True):
    value = record.get(column, "").strip()
    if not value:
        if required:
            problems.append(f"line {line}, column '{column}': is empty")
        return None
    try:
        return convert(value)
    except (ValueError, RapportkitError) as exc:
        problems.append(f"line {line}, column '{column}': {value[:40]!r} is not valid ({exc})")
        return None


def _score(value: str) -> int | None:
    if value == "not_observed":
        return None
    if value not in ("1", "2", "3", "4"):
        raise ValueError("a score must be 1, 2, 3, 4 or not_observed")
    return int(value)


def _review_from_rows(rows, people: dict[str, Person], problems: list[str]) -> Review | None:
    before = len(problems)
    line, first = rows[0]
    head = {c: first.get(c, "") for c in CSV_COLUMNS if c not in (
        "kind", "role", "rater_id", "practice_id", "score", "note", "trap_id", "goal_id", "goal_text",
        "goal_actions", "follow_up", "target", "goal_status")}
    for ln, rec in rows[1:]:
        for col, value in head.items():
            if rec.get(col, "") != value:
                problems.append(
                    f"line {ln}, column '{col}': {rec.get(col, '')[:40]!r} differs from line {line} "
                    f"({value[:40]!r}) for the same review"
                )
    revision = _cell(first, "revision", line, problems, int)
    ratings: dict[str, dict[str, Any]] = {}
    traps, goals, updates = set(), [], []
    for ln, rec in rows:
        kind = rec.get("kind", "").strip()
        try:
            if kind == "rating":
                role = _cell(rec, "role", ln, problems, RaterRole)
                rater = _cell(rec, "rater_id", ln, problems)
                practice = _cell(rec, "practice_id", ln, problems)
                if role is None or practice is None:
                    continue
                slot = ratings.setdefault(role.value, {"rater": rater, "scores": {}, "notes": {}})
                if practice in slot["scores"] or practice in slot["notes"]:
                    problems.append(f"line {ln}: practice '{practice}' appears twice in the {role.value} rating")
                raw = rec.get("score", "").strip()
                if raw:
                    try:
                        slot["scores"][practice] = _score(raw)
                    except ValueError as exc:
                        problems.append(f"line {ln}, column 'score': {raw[:40]!r} is not valid ({exc})")
                if rec.get("note", "").strip():
                    slot["notes"][practice] = rec["note"]
            elif kind == "trap":
                traps.add(_cell(rec, "trap_id", ln, problems))
            elif kind == "goal":
                goals.append(Goal(
                    id=_cell(rec, "goal_id", ln, problems), practice_id=_cell(rec, "practice_id", ln, problems),
                    text=rec.get("goal_text", ""), actions=rec.get("goal_actions", ""),
                    follow_up=_cell(rec, "follow_up", ln, problems, dt.date.fromisoformat),
                    target=_cell(rec, "target", ln, problems, int, required=False) or 3,
                ))
            elif kind == "goal_update":
                updates.append(GoalUpdate(_cell(rec, "goal_id", ln, problems),
                                          _cell(rec, "goal_status", ln, problems), rec.get("note", "")))
            elif kind != "review":
                problems.append(f"line {ln}, column 'kind': {kind[:40]!r} must be one of rating, trap, goal, "
                                "goal_update, review")
        except (RapportkitError, TypeError) as exc:
            problems.append(f"line {ln}: {exc}")
    if len(problems) > before:
        return None
    try:
        g = first.get
        for pid, name, role, sup in (
            (g("supervisor_id"), g("supervisor_name", ""), PersonRole.SUPERVISOR, None),
            (g("specialist_id"), g("specialist_name", ""), PersonRole.SPECIALIST, g("supervisor_id")),
        ):
            if name and pid not in people:
                people[pid] = Person(pid, name, role, supervisor_id=sup)
        built = {
            role: Rating(slot["rater"], role, slot["scores"], slot["notes"], g("rubric_id"), g("rubric_version"))
            for role, slot in ratings.items()
        }
        session = Session(g("session_id"), g("specialist_id"), g("session_date"), g("modality"),
                          _int(g("duration_min"), "duration_min"), g("source"), g("session_code") or None)
        return Review(
            id=g("review_id"), revision=revision, session=session, supervisor_id=g("supervisor_id"),
            review_date=g("review_date"), rubric_id=g("rubric_id"), rubric_version=g("rubric_version"),
            status=g("status"), self_rating=built.get("self"), supervisor_rating=built.get("supervisor"),
            consensus=built.get("consensus"), traps=frozenset(traps), goals=tuple(goals),
            goal_updates=tuple(updates),
            specialist_signed_at=_when(g("specialist_signed_at")), supervisor_signed_at=_when(g("supervisor_signed_at")),
            amend_reason=g("amend_reason") or None,
        )
    except (RapportkitError, TypeError, ValueError) as exc:
        problems.append(f"line {line} (review {g('review_id')!r}): {exc}")
        return None


def _int(value: str, column: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"column '{column}' must be a whole number (got {value[:40]!r})") from None


def _when(value: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
