"""The CSV format: its columns, and reading a CSV export back into reviews.

:data:`CSV_COLUMNS` is the header the export writes. :func:`_parse_csv` checks the header,
groups the rows by review and revision, and builds each review from its rows, naming
every problem by line and column (the header is line 1); the free text of a review that
did not parse is kept to be screened all the same.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from typing import Any

from ..errors import ImportRejected, RapportkitError
from ..model import (
    MAX_GOALS, Goal, GoalUpdate, Person, PersonRole, Rating, RaterRole, Review, ReviewStatus, Session, check_id,
    check_text,
)
from .checks import _Rubrics, _status_rules
from .parsed import _Claim, _Entry, _Parsed, _Where
from .reading import _cell, _checker, _choice, _reason, _restore, _revision, _score, _when, _whole

CSV_COLUMNS = (
    "kind", "review_id", "revision", "review_date", "status", "session_id", "session_date",
    "modality", "duration_min", "source", "session_code", "specialist_id", "specialist_name",
    "supervisor_id", "supervisor_name", "rubric_id", "rubric_version", "specialist_signed_at",
    "supervisor_signed_at", "amend_reason", "role", "rater_id", "practice_id", "score", "note",
    "trap_id", "goal_id", "goal_text", "goal_actions", "follow_up", "target", "goal_status",
    "meeting_minutes", "meeting_kind",
)
_REQUIRED = ("kind", "review_id", "revision", "review_date", "status", "session_id", "session_date",
             "modality", "duration_min", "source", "specialist_id", "supervisor_id", "rubric_id",
             "rubric_version")


_ITEM_COLUMNS = ("kind", "role", "rater_id", "practice_id", "score", "note", "trap_id", "goal_id", "goal_text",
                 "goal_actions", "follow_up", "target", "goal_status")
_HEAD_COLUMNS = tuple(c for c in CSV_COLUMNS if c not in _ITEM_COLUMNS)
#: the item columns each kind of row fills; the others stay empty
_USES = {
    "rating": ("role", "rater_id", "practice_id", "score", "note"),
    "trap": ("trap_id",),
    "goal": ("goal_id", "practice_id", "goal_text", "goal_actions", "follow_up", "target"),
    "goal_update": ("goal_id", "goal_status", "note"),
    "review": (),
}


def _parse_csv(text: str, source: str, rubrics: "_Rubrics") -> _Parsed:
    parsed = _Parsed()
    problems = parsed.problems
    if not text.strip():
        raise ImportRejected(source, ["the file is empty"])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None) or []
    except csv.Error as exc:
        raise ImportRejected(source, [f"line 1 (header): the CSV is malformed ({exc}); check the quoting"]) from None
    header = [h.strip() for h in header]
    positions: dict[str, list[int]] = defaultdict(list)
    for j, name in enumerate(header, 1):
        positions[name].append(j)
    msgs = [f"missing column '{c}'" for c in _REQUIRED if c not in positions]
    for name, where in positions.items():
        if not name:
            msgs.append(f"column {where[0]} has no name")
        elif name not in CSV_COLUMNS:
            msgs.append(f"unknown column '{name[:40]}' (column {where[0]})")
        if len(where) > 1:
            times = "twice" if len(where) == 2 else f"{len(where)} times"
            msgs.append(f"column '{name[:40]}' appears {times} (columns "
                        f"{', '.join(map(str, where[:-1]))} and {where[-1]})")
    if msgs:
        raise ImportRejected(source, [f"line 1 (header): {m}" for m in msgs])
    groups: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = defaultdict(list)
    last = reader.line_num
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                problems.append(f"line {start}: has {len(row)} cells but the header has {len(header)}")
                continue
            record = {h: _restore(c) for h, c in zip(header, row)}
            groups[(record["review_id"].strip(), record["revision"].strip())].append((start, record))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: the CSV is malformed ({exc}); check the quoting")
    for rows in groups.values():
        made = len(parsed.entries)
        _review_from_rows(rows, parsed, rubrics)
        if len(parsed.entries) == made:
            parsed.loose.extend(_loose_rows(rows))
    return parsed


def _loose_rows(rows: list[tuple[int, dict[str, str]]]) -> list[tuple]:
    """The free-text cells of a review that did not parse (those fit to be screened)."""
    line, first = rows[0]
    head = {c: first[c].strip() for c in ("specialist_id", "supervisor_id", "review_id", "revision")}
    key = (head["review_id"], int(head["revision"])) if head["revision"].isdigit() else None
    out = []

    def add(ln, part, column, value, limit):
        try:
            text = check_text(value, column, limit)
        except RapportkitError:
            return  # reported already
        if text:
            out.append((f"line {ln}, column '{column}'", text, head["specialist_id"], head["supervisor_id"], key,
                        part, column))

    add(line, ("review",), "session_code", first.get("session_code", ""), "goal_text")
    add(line, ("review",), "amend_reason", first.get("amend_reason", ""), "reason")
    counts = Counter()
    for ln, rec in rows:
        kind = rec.get("kind", "").strip()
        if kind == "rating":
            add(ln, ("rating", rec.get("role", "").strip(), rec.get("practice_id", "").strip()), "note",
                rec.get("note", ""), "note")
        elif kind == "goal":
            add(ln, ("goal", counts[kind]), "goal_text", rec.get("goal_text", ""), "goal_text")
            add(ln, ("goal", counts[kind]), "goal_actions", rec.get("goal_actions", ""), "actions")
        elif kind == "goal_update":
            add(ln, ("update", counts[kind]), "note", rec.get("note", ""), "note")
        counts[kind] += 1
    return out


def _review_from_rows(rows: list[tuple[int, dict[str, str]]], parsed: _Parsed, rubrics: "_Rubrics") -> None:
    problems = parsed.problems
    before = len(problems)
    line, first = rows[0]
    where = _Where(line=line)
    head = {c: first[c].strip() for c in _HEAD_COLUMNS if c in first}
    for ln, rec in rows[1:]:
        for col, value in head.items():
            if rec[col].strip() != value:
                problems.append(
                    f"line {ln}, column '{col}': {rec[col].strip()[:40]!r} differs from line {line} "
                    f"({value[:40]!r}) for the same review"
                )

    def cell(column, convert=str, required=True):
        return _cell(first, column, line, problems, convert, required)

    review_id = cell("review_id", _checker(Review, "id"))
    revision = cell("revision", _revision)
    review_date = cell("review_date", _checker(Review, "review_date"))
    status = cell("status", _choice(ReviewStatus))
    supervisor_id = cell("supervisor_id", _checker(Review, "supervisor_id"))
    rubric_id, rubric_version = cell("rubric_id"), cell("rubric_version")
    session = {
        "id": cell("session_id", _checker(Session, "id")),
        "specialist_id": cell("specialist_id", _checker(Session, "specialist_id")),
        "date": cell("session_date", _checker(Session, "date")),
        "modality": cell("modality", _checker(Session, "modality")),
        "duration_min": cell("duration_min", _checker(Session, "duration_min", _whole)),
        "source": cell("source", _checker(Session, "source")),
        "code": cell("session_code", _checker(Session, "code"), required=False),
    }
    signed = {f: cell(f, _when, required=False) for f in ("specialist_signed_at", "supervisor_signed_at")}
    amend_reason = cell("amend_reason", _reason, required=False)
    # optional columns (files exported before they existed have neither)
    meeting = {"meeting_minutes": cell("meeting_minutes", _checker(Review, "meeting_minutes", _whole), required=False),
               "meeting_kind": cell("meeting_kind", _checker(Review, "meeting_kind"), required=False)}
    specialist_id = session["specialist_id"]
    for role, pid in ((PersonRole.SPECIALIST, specialist_id), (PersonRole.SUPERVISOR, supervisor_id)):
        column = f"{role.value}_name"
        shown = len(problems)
        name = cell(column, _checker(Person, "display_name"), required=False)
        if pid is not None and len(problems) == shown:
            parsed.claims.append(_Claim(pid, role, name or "", f"line {line}",
                                        columns={"display_name": column, "id": f"{role.value}_id"}))

    ratings: dict[str, dict[str, Any]] = {}
    traps: dict[str, int] = {}
    goals: list[Goal] = []
    goal_lines: dict[str, int] = {}
    updates: list[GoalUpdate] = []
    update_lines: dict[str, int] = {}
    for ln, rec in rows:
        kind = rec.get("kind", "").strip()
        for column in _ITEM_COLUMNS[1:]:
            if kind in _USES and column not in _USES[kind] and rec.get(column, "").strip():
                problems.append(f"line {ln}, column '{column}': {rec[column].strip()[:40]!r} has no place in a {kind} "
                                "row; leave it empty")

        def c(column, convert=str, required=True):
            return _cell(rec, column, ln, problems, convert, required)

        if kind == "rating":
            role = c("role", _choice(RaterRole))
            rater = c("rater_id", _checker(Rating, "rater_id"))
            practice = c("practice_id", lambda v: check_id(v, "practice_id"), required=False)
            note = c("note", lambda v: check_text(v, "note", "note"), required=False)
            raw = rec.get("score", "").strip()
            score = c("score", _score, required=False)
            if role is None:
                continue
            slot = ratings.setdefault(role.value, {"rater": rater, "line": ln, "scores": {}, "notes": {}, "seen": {}})
            where.lines.setdefault(("rating", role.value, None), ln)
            if rater is not None and slot["rater"] is not None and rater != slot["rater"]:
                problems.append(f"line {ln}, column 'rater_id': {rater!r} differs from {slot['rater']!r} on line "
                                f"{slot['line']} for the same {role.value} rating")
            if practice is None:
                if raw or note:
                    problems.append(f"line {ln}, column 'practice_id': is empty")
                continue
            if practice in slot["seen"]:
                problems.append(f"line {ln}, column 'practice_id': practice '{practice}' appears twice in the "
                                f"{role.value} rating (lines {slot['seen'][practice]} and {ln})")
                continue
            slot["seen"][practice] = ln
            where.lines[("rating", role.value, practice)] = ln
            if raw and (score is not None or raw == "not_observed"):
                slot["scores"][practice] = score
            if note:
                slot["notes"][practice] = note
        elif kind == "trap":
            trap = c("trap_id", lambda v: check_id(v, "trap_id"))
            if trap is None:
                continue
            if trap in traps:
                problems.append(f"line {ln}, column 'trap_id': trap '{trap}' appears twice (lines {traps[trap]} "
                                f"and {ln})")
            traps.setdefault(trap, ln)
            where.lines[("trap", trap)] = ln
        elif kind == "goal":
            values = {
                "id": c("goal_id", _checker(Goal, "id")),
                "practice_id": c("practice_id", _checker(Goal, "practice_id")),
                "text": c("goal_text", _checker(Goal, "text")),
                "actions": c("goal_actions", _checker(Goal, "actions"), required=False) or "",
                "follow_up": c("follow_up", _checker(Goal, "follow_up")),
                "target": c("target", _checker(Goal, "target", _whole), required=False) or 3,
            }
            gid = values["id"]
            if gid is None:
                continue
            if specialist_id and review_id:
                parsed.goals.add((specialist_id, gid, review_id))
            if gid in goal_lines:
                problems.append(f"line {ln}, column 'goal_id': goal '{gid}' appears twice in this review (lines "
                                f"{goal_lines[gid]} and {ln})")
                continue
            goal_lines[gid] = ln
            if len(goal_lines) > MAX_GOALS:
                problems.append(f"line {ln}, column 'goal_id': a review sets at most {MAX_GOALS} goals; this is "
                                f"goal {len(goal_lines)}")
            if all(v is not None for v in values.values()):
                try:
                    goals.append(Goal(**values))
                except (RapportkitError, TypeError, ValueError) as exc:
                    problems.append(f"line {ln}, column 'goal_id': {exc}")
                    continue
                where.lines[("goal", len(goals) - 1)] = ln
        elif kind == "goal_update":
            gid = c("goal_id", _checker(GoalUpdate, "goal_id"))
            state = c("goal_status", _checker(GoalUpdate, "status"))
            note = c("note", _checker(GoalUpdate, "note"), required=False) or ""
            if gid is None:
                continue
            if gid in update_lines:
                problems.append(f"line {ln}, column 'goal_id': a second verdict on goal '{gid}' (the first is on "
                                f"line {update_lines[gid]}); a review gives one verdict per goal")
                continue
            update_lines[gid] = ln
            if state is not None:
                updates.append(GoalUpdate(gid, state, note))
                where.lines[("update", len(updates) - 1)] = ln
        elif kind != "review":
            problems.append(f"line {ln}, column 'kind': {kind[:40]!r} must be one of rating, trap, goal, "
                            "goal_update, review")
    rubric = None
    if rubric_id and rubric_version:  # also when a cell above is wrong: every problem is named
        rubric = rubrics.check(rubric_id, rubric_version, where, problems, {
            role: sorted(slot["seen"]) for role, slot in ratings.items()}, sorted(traps),
            [g.practice_id for g in goals])
    if rubric is None or len(problems) > before:
        return
    try:
        built = {role: Rating(slot["rater"], role, slot["scores"], slot["notes"], rubric_id, rubric_version)
                 for role, slot in ratings.items()}
        review = Review(
            id=review_id, revision=revision, session=Session(**session), supervisor_id=supervisor_id,
            review_date=review_date, rubric_id=rubric_id, rubric_version=rubric_version,
            status=status, self_rating=built.get("self"), supervisor_rating=built.get("supervisor"),
            consensus=built.get("consensus"), traps=frozenset(traps), goals=tuple(goals),
            goal_updates=tuple(updates), amend_reason=amend_reason, **signed, **meeting,
        )
    except (RapportkitError, TypeError, ValueError) as exc:  # the rules of the review's status
        problems.append(f"line {line}, column 'status': {exc}")
        return
    if _status_rules(review, rubric, where, problems):
        parsed.entries.append(_Entry(review, where))

