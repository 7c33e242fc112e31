"""The JSON format: reading a JSON export back into people and reviews.

:func:`_parse_json` checks the document's ``format`` and ``version``, then each person
and each review field by field, naming every problem by place and field (e.g.
``reviews[3] (id rv-01-0003), field 'self_rating.notes.empathy'``); the free text of a
review that did not parse is kept to be screened all the same.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from ..errors import ImportRejected, RapportkitError
from ..model import MAX_GOALS, Goal, GoalUpdate, Person, Rating, Review, ReviewStatus, Session, check_id, check_text
from .checks import _Rubrics, _status_rules
from .parsed import _SLOTS, _Claim, _Entry, _Parsed, _Where
from .reading import _choice, _probe, _reason, _revision, _when


def _parse_json(text: str, source: str, rubrics: "_Rubrics") -> _Parsed:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(source, [f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"]) from None
    if not isinstance(doc, dict) or doc.get("format") != "rapportkit":
        raise ImportRejected(source, ['the file is not a rapportkit export (expected "format": "rapportkit")'])
    if doc.get("version") != 1:
        raise ImportRejected(source, [f"the file's export version {doc.get('version')!r} is not supported "
                                      "(expected 1)"])
    parsed = _Parsed()
    for section in ("people", "reviews"):
        if not isinstance(doc.get(section, []), list):
            parsed.problems.append(f"{section}: must be a list")
    if parsed.problems:
        raise ImportRejected(source, parsed.problems)
    for i, item in enumerate(doc.get("people") or []):
        _person_from_json(i, item, parsed)
    for i, item in enumerate(doc.get("reviews") or []):
        made = len(parsed.entries)
        _review_from_json(i, item, parsed, rubrics)
        if len(parsed.entries) == made and isinstance(item, dict):
            parsed.loose.extend(_loose_json(i, item))
    return parsed


def _fields(item: Any, place: str, allowed: Iterable[str], required: Iterable[str], problems: list[str]) -> bool:
    """Whether ``item`` is an object with no unknown and no missing field (problems added)."""
    if not isinstance(item, dict):
        problems.append(f"{place}: must be an object (got {type(item).__name__})")
        return False
    allowed = list(allowed)
    ok = True
    for key in item:
        if key not in allowed:
            problems.append(f"{place}, field '{str(key)[:40]}': is not a field here (expected {', '.join(allowed)})")
            ok = False
    for key in required:
        if item.get(key) is None:
            problems.append(f"{place}, field '{key}': is missing")
            ok = False
    return ok


def _person_from_json(i: int, item: Any, parsed: _Parsed) -> None:
    place = f"people[{i}]"
    problems = parsed.problems
    if not _fields(item, place, ("id", "display_name", "role", "supervisor_id", "active"),
                   ("id", "display_name", "role"), problems):
        return
    values, ok = {}, True
    for key, value in item.items():
        if key == "active":
            if not isinstance(value, bool):
                problems.append(f"{place}, field 'active': must be true or false (got {value!r})")
                ok = False
            values[key] = value
            continue
        try:
            values[key] = _probe(Person, key, value)
        except (RapportkitError, ValueError) as exc:
            problems.append(f"{place}, field '{key}': {exc}")
            ok = False
    if ok:
        person = Person(**values)
        parsed.claims.append(_Claim(person.id, person.role, person.display_name, place, person=person))


def _review_from_json(i: int, item: Any, parsed: _Parsed, rubrics: "_Rubrics") -> None:
    problems = parsed.problems
    rid = item.get("id") if isinstance(item, dict) else None
    place = f"reviews[{i}]" + (f" (id {rid})" if isinstance(rid, str) and len(rid) <= 64 else "")
    where = _Where(place=place)
    before = len(problems)

    def bad(field: str, exc: Any) -> None:
        problems.append(f"{place}, field '{field}': {exc}")

    def probe(cls, field, value, path):
        try:
            return _probe(cls, field, value)
        except (RapportkitError, ValueError) as exc:
            bad(path, exc)
            return None

    names = [f.name for f in dataclasses.fields(Review)]
    if not _fields(item, place, names, ("id", "revision", "session", "supervisor_id", "review_date", "rubric_id",
                                         "rubric_version"), problems):
        if not isinstance(item, dict):
            return
    values: dict[str, Any] = {}
    for key in ("id", "supervisor_id", "review_date"):
        if item.get(key) is not None:
            values[key] = probe(Review, key, item[key], key)
    if item.get("revision") is not None:
        try:
            values["revision"] = _revision(item["revision"])
        except ValueError as exc:
            bad("revision", exc)
    for key in ("rubric_id", "rubric_version"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            bad(key, f"must be text (got {value!r})")
        values[key] = value
    try:
        values["status"] = _choice(ReviewStatus)(item.get("status", "draft"))
    except (TypeError, ValueError) as exc:
        bad("status", exc)
    session = item.get("session")
    specialist_id = None
    if session is not None and _fields(session, f"{place}, field 'session'", [f.name for f in dataclasses.fields(Session)],
                                       ("id", "specialist_id", "date", "modality", "duration_min", "source"), problems):
        checked = {k: probe(Session, k, v, f"session.{k}") for k, v in session.items()}
        specialist_id = checked.get("specialist_id")
        if len(problems) == before:
            values["session"] = Session(**checked)
    for role, slot in _SLOTS.items():
        rating = item.get(slot)
        if rating is None:
            continue
        if not _fields(rating, f"{place}, field '{slot}'", ("rater_id", "role", "scores", "notes", "rubric_id",
                                                            "rubric_version"),
                       ("rater_id", "role", "scores", "notes", "rubric_id", "rubric_version"), problems):
            continue
        if rating["role"] != role:
            bad(f"{slot}.role", f"must be {role!r} (got {rating['role']!r})")
        probe(Rating, "rater_id", rating["rater_id"], f"{slot}.rater_id")
        for part in ("scores", "notes"):
            if not isinstance(rating[part], dict):
                bad(f"{slot}.{part}", "must be an object of practice id to value")
                continue
            for practice, value in rating[part].items():
                try:
                    Rating("x", role, **{"scores": {}, "notes": {}, part: {practice: value}}, rubric_id="x",
                           rubric_version="x")
                except (RapportkitError, ValueError, TypeError) as exc:
                    bad(f"{slot}.{part}.{practice}", exc)
        for key in ("rubric_id", "rubric_version"):
            if not isinstance(rating[key], str):
                bad(f"{slot}.{key}", f"must be text (got {rating[key]!r})")
        if len(problems) == before:
            values[slot] = Rating(**rating)
    traps = item.get("traps", [])
    if not isinstance(traps, list):
        bad("traps", "must be a list of trap ids")
    else:
        for k, trap in enumerate(traps):
            try:
                check_id(trap, "trap")
            except RapportkitError as exc:
                bad(f"traps[{k}]", exc)
                continue
            if trap in where.traps:
                bad(f"traps[{k}]", f"trap '{trap}' appears twice (traps[{where.traps[trap]}] and traps[{k}])")
            where.traps.setdefault(trap, k)
        values["traps"] = frozenset(t for t in traps if isinstance(t, str))
    for key, cls, what in (("goals", Goal, "goal"), ("goal_updates", GoalUpdate, "verdict")):
        items = item.get(key, [])
        if not isinstance(items, list):
            bad(key, f"must be a list of {what}s")
            continue
        made, seen = [], {}
        for k, one in enumerate(items):
            here = f"{key}[{k}]"
            fields = [f.name for f in dataclasses.fields(cls)]
            if not _fields(one, f"{place}, field '{here}'", fields,
                           [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING], problems):
                continue
            checked = {f: probe(cls, f, v, f"{here}.{f}") for f, v in one.items()}
            gid = checked.get("id" if cls is Goal else "goal_id")
            if cls is Goal and isinstance(gid, str) and isinstance(specialist_id, str) and isinstance(rid, str):
                parsed.goals.add((specialist_id, gid, rid))
            if gid in seen:
                bad(f"{here}.{'id' if cls is Goal else 'goal_id'}",
                    f"{what} for goal '{gid}' appears twice ({key}[{seen[gid]}] and {here})")
            elif gid is not None:
                seen[gid] = k
            if cls is Goal and len(seen) > MAX_GOALS and gid is not None and seen.get(gid) == k:
                bad(f"{here}.id", f"a review sets at most {MAX_GOALS} goals; this is goal {len(seen)}")
            if len(problems) == before:
                made.append(cls(**checked))
        values[key] = tuple(made)
    for key in ("specialist_signed_at", "supervisor_signed_at"):
        value = item.get(key)
        if value in (None, ""):
            values[key] = None
            continue
        try:
            values[key] = _when(value)
        except ValueError as exc:
            bad(key, exc)
    if item.get("amend_reason") is not None:
        try:
            values["amend_reason"] = _reason(item["amend_reason"])
        except RapportkitError as exc:
            bad("amend_reason", exc)
    for key in ("meeting_minutes", "meeting_kind"):  # optional: older exports have neither
        if item.get(key) is not None:
            values[key] = probe(Review, key, item[key], key)
    if len(problems) > before:
        return
    key = (values["rubric_id"], values["rubric_version"])
    for role, slot in _SLOTS.items():
        rating = values.get(slot)
        if rating is not None and (rating.rubric_id, rating.rubric_version) != key:
            bad(f"{slot}.rubric_version", f"the {role} rating was made with rubric {rating.rubric_id} "
                f"{rating.rubric_version}, but the review uses {key[0]} {key[1]}")
    ratings = {role: sorted(set(values[slot].scores) | set(values[slot].notes))
               for role, slot in _SLOTS.items() if values.get(slot) is not None}
    rubric = rubrics.check(*key, where, problems, ratings, sorted(values["traps"]),
                           [g.practice_id for g in values["goals"]])
    if rubric is None or len(problems) > before:
        return
    try:
        review = Review(**values)
    except (RapportkitError, TypeError, ValueError) as exc:  # the rules of the review's status
        bad("status", exc)
        return
    if _status_rules(review, rubric, where, problems):
        parsed.entries.append(_Entry(review, where))


def _loose_json(i: int, item: dict) -> list[tuple]:
    """The free text of a review that did not parse (what is text and fit to be screened)."""
    rid = item.get("id")
    where = _Where(place=f"reviews[{i}]" + (f" (id {rid})" if isinstance(rid, str) and len(rid) <= 64 else ""))
    session = item.get("session") if isinstance(item.get("session"), dict) else {}
    key = (rid, item.get("revision")) if isinstance(rid, str) and isinstance(item.get("revision"), int) else None
    found: list[tuple[tuple, str, Any, str]] = [(("review",), "session_code", session.get("code"), "goal_text"),
                                                (("review",), "amend_reason", item.get("amend_reason"), "reason")]
    for role, slot in _SLOTS.items():
        notes = item.get(slot).get("notes") if isinstance(item.get(slot), dict) else None
        for practice, note in (notes.items() if isinstance(notes, dict) else ()):
            found.append((("rating", role, practice), "note", note, "note"))
    for k, goal in enumerate(item.get("goals") if isinstance(item.get("goals"), list) else ()):
        if isinstance(goal, dict):
            found += [(("goal", k), "goal_text", goal.get("text"), "goal_text"),
                      (("goal", k), "goal_actions", goal.get("actions"), "actions")]
    for k, update in enumerate(item.get("goal_updates") if isinstance(item.get("goal_updates"), list) else ()):
        if isinstance(update, dict):
            found.append((("update", k), "note", update.get("note"), "note"))
    out = []
    for part, column, value, limit in found:
        try:
            text = check_text(value, column, limit) if isinstance(value, str) else ""
        except RapportkitError:
            continue  # reported already
        if text:
            out.append((where(part, column), text, session.get("specialist_id"), item.get("supervisor_id"), key,
                        part, column))
    return out
