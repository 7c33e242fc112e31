"""Bringing a parsed file into the database: the last checks, then one save.

:func:`_bring_in` checks each review against the database (the people it names, the
earlier goals it gives verdicts on, its session, the signed revisions it would change),
screens the new or changed free text for client identifiers, and only when nothing is
wrong saves the people (supervisors first) and the reviews (in an order the store
accepts) in one transaction. What the store still refuses is named by the person or
review it refused.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections import defaultdict
from typing import Any

from .. import privacy
from ..errors import ConflictError, ImportRejected, PrivacyFindings, RapportkitError, StoreError
from ..model import Person, PersonRole, Review, ReviewStatus, Session
from ..store import Store
from .checks import _kind, _team
from .export import _all_revisions
from .parsed import _SLOTS, _Entry, _Parsed


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What :func:`import_file` did.

    ``changed`` counts the records (people and review revisions) added or changed; a file
    imported before changes nothing and gives 0. ``people_added`` are the ids of the people
    new to the database. ``roster_changes`` (only with ``update_people=True``) and
    ``allowed`` (only with ``allow_identifiers=True``) list, each with its line and column
    (CSV) or place and field (JSON), what was changed in the team and which possible
    identifiers were let through.
    """

    changed: int
    people_added: tuple[str, ...] = ()
    roster_changes: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()


def _texts(review: Review) -> list[tuple[tuple, str, str]]:
    """Every free-text field of ``review`` as (part, CSV column, text)."""
    out: list[tuple[tuple, str, str]] = []
    if review.session.code:
        out.append((("review",), "session_code", review.session.code))
    for role, slot in _SLOTS.items():
        rating = getattr(review, slot)
        for practice, note in (rating.notes.items() if rating is not None else ()):
            out.append((("rating", role, practice), "note", note))
    for k, goal in enumerate(review.goals):
        out.append((("goal", k), "goal_text", goal.text))
        out.append((("goal", k), "goal_actions", goal.actions))
    for k, update in enumerate(review.goal_updates):
        out.append((("update", k), "note", update.note))
    if review.amend_reason:
        out.append((("review",), "amend_reason", review.amend_reason))
    return [t for t in out if t[2]]


def _bring_in(store: Store, parsed: _Parsed, source: str, *, update_people: bool,
              allow_identifiers: bool) -> ImportResult:
    problems = parsed.problems
    final, to_save, added, applied, confused, roster, own_names = _team(store, parsed, update_people)
    histories: dict[str, dict[int, Review]] = {}

    def stored(review_id: str) -> dict[int, Review]:
        if review_id not in histories:
            histories[review_id] = {r.revision: r for r in store.history(review_id)}
        return histories[review_id]

    stored_goals: dict[str, set[tuple[str, str]]] = {}

    def goals_of(specialist: str) -> set[tuple[str, str]]:  # (goal id, review id) in the database
        if specialist not in stored_goals:
            stored_goals[specialist] = {(g.id, r.id) for r in _all_revisions(store, specialist) for g in r.goals}
        return stored_goals[specialist]

    def screen(where, texts: list[tuple[tuple, str, str]], before: Review | None, *own: Any) -> None:
        """Scan each (part, column, text) that ``before`` did not hold, with the team's names
        except those of the review's own people; a finding is a problem, or is allowed."""
        exclude = sorted(set().union(*(own_names.get(pid, set()) for pid in own if isinstance(pid, str))))
        known = {(part, column): text for part, column, text in _texts(before)} if before else {}
        for part, column, text in texts:
            if known.get((part, column)) == text:
                continue
            findings = privacy.scan(text, roster=roster, exclude=exclude)
            if not findings:
                continue
            spot = where(part, column)
            if allow_identifiers:
                allowed.extend(f"{spot}: {f.kind} {f.text!r}" for f in findings)
            else:
                shown = ", ".join(f"{f.kind} {f.text!r}" for f in findings)
                problems.append(f"{spot}: may identify someone ({shown}); edit it, or import with "
                                "--allow-identifiers if it is not about a client")

    in_file = {(e.review.id, e.review.revision): e for e in parsed.entries}
    setters: dict[tuple[str, str], set[str]] = defaultdict(set)  # (specialist, goal) -> reviews in the file
    for specialist, goal_id, review_id in parsed.goals:
        setters[(specialist, goal_id)].add(review_id)
    sessions: dict[str, tuple[Session, str]] = {}
    to_import: list[_Entry] = []
    allowed: list[str] = []
    for entry in parsed.entries:
        review, where = entry.review, entry.where
        # the people it names
        for pid, role, column in ((review.specialist_id, PersonRole.SPECIALIST, "specialist_id"),
                                  (review.supervisor_id, PersonRole.SUPERVISOR, "supervisor_id")):
            person = final.get(pid)
            if pid in confused:
                continue
            if person is None:
                unknown = (f"and the file gives no name for them (column '{role.value}_name')"
                           if where.place is None else "or among the file's people")
                problems.append(f"{where(('review',), column)}: {pid} is not in the database {unknown}")
            elif person.role is not role:
                problems.append(f"{where(('review',), column)}: {pid} is {_kind(person.role)}, not {_kind(role)}")
        for role, slot in _SLOTS.items():
            rating = getattr(review, slot)
            if rating is None or rating.rater_id in final or rating.rater_id in confused or rating.rater_id in (
                    review.specialist_id, review.supervisor_id):
                continue
            problems.append(f"{where(('rating', role, None), 'rater_id')}: {rating.rater_id} is not in the database "
                            "or the file")
        # verdicts on earlier goals
        for k, update in enumerate(review.goal_updates):
            in_this_file = bool(setters.get((review.specialist_id, update.goal_id), set()) - {review.id})
            if not in_this_file and not any(g == update.goal_id and r != review.id
                                            for g, r in goals_of(review.specialist_id)):
                problems.append(f"{where(('update', k), 'goal_id')}: '{update.goal_id}' is not an earlier goal of "
                                f"{review.specialist_id}: no other review of theirs, in the file or the database, "
                                "sets it")
        # the session: one id, one session
        session = review.session
        if session.id in sessions and sessions[session.id][0] != session:
            problems.append(f"{where(('review',), 'session_id')}: session {session.id} is described differently "
                            f"at {sessions[session.id][1]}; one id, one session")
        sessions.setdefault(session.id, (session, where(("review",))))
        # what the database holds already
        revisions = stored(review.id)
        before = revisions.get(review.revision)
        if before is not None and before.to_dict() == review.to_dict():
            continue  # imported before: nothing to do
        newest = max(revisions, default=0)
        if before is not None and before.status is ReviewStatus.SIGNED:
            differ = [k for k, v in review.to_dict().items() if before.to_dict().get(k) != v]
            problems.append(f"{where(('review',))}: review {review.id} revision {review.revision} is signed in the "
                            f"database and this file changes it ({', '.join(differ)}); a signed review is never "
                            "changed: amend it to make a new revision")
        elif newest > review.revision:
            problems.append(f"{where(('review',), 'revision')}: the database has revision {newest} of review "
                            f"{review.id}; revision {review.revision} is history and cannot be changed")
        elif before is None and review.revision > 1:
            prior = in_file.get((review.id, review.revision - 1))
            prior = prior.review if prior is not None else revisions.get(review.revision - 1)
            if prior is None or prior.status is not ReviewStatus.SIGNED:
                state = "is in neither the file nor the database" if prior is None else f"is {prior.status.value}"
                problems.append(f"{where(('review',), 'revision')}: revision {review.revision} of review "
                                f"{review.id} must follow a signed revision {review.revision - 1}, which {state}")
        if sessions[session.id][0] == session:
            try:
                held = store.session(session.id)
            except RapportkitError:
                held = None
            if held is not None and held != session:
                users = {r.id: r for r in store.reviews(session_id=session.id)}
                others = sorted(rid for rid in users if rid != review.id)
                signed = any(r.status is ReviewStatus.SIGNED for rid in users for r in stored(rid).values())
                if others or signed:
                    whose = f"review {others[0]}" if others else "a signed revision of this review"
                    problems.append(f"{where(('review',), 'session_id')}: session {session.id} is in the database "
                                    f"with other details and belongs to {whose}; give this session a new id")
        # free text that may identify someone (only what is new or changed)
        screen(where, [(part, column, text) for part, column, text in _texts(review)], before,
               review.specialist_id, review.supervisor_id)
        to_import.append(entry)
    for spot, text, specialist, supervisor, key, part, column in parsed.loose:  # reviews that did not parse
        before = stored(key[0]).get(key[1]) if key is not None else None
        screen(lambda *_: spot, [(part, column, text)], before, specialist, supervisor)
    if problems:
        raise ImportRejected(source, _in_file_order(problems))

    reason = f"imported from {source}"
    if applied:
        reason += f" with --update-people: {'; '.join(did for _, did in applied)}"
    people = _Feed(_supervisors_first(to_save))
    reviews = _Feed(_in_order(to_import))
    try:
        changed = store.save_many(people=people, reviews=(e.review for e in reviews), reason=reason,
                                  allow_identifiers=allow_identifiers)
    except StoreError as exc:
        if not isinstance(exc, ConflictError):
            raise  # the database failed (read-only, disk full, …): not the file's fault
        raise ImportRejected(source, [_refused(exc, people, reviews, parsed)]) from None
    except (RapportkitError, sqlite3.IntegrityError) as exc:
        raise ImportRejected(source, [_refused(exc, people, reviews, parsed)]) from None
    return ImportResult(changed, tuple(added), tuple(f"{where}: {did}" for where, did in applied), tuple(allowed))


class _Feed:
    """Hands records to the store one by one, remembering which it is on."""

    def __init__(self, items: list):
        self.items, self.current, self.done = items, None, False

    def __iter__(self):
        for item in self.items:
            self.current = item
            yield item
        self.current, self.done = None, True


def _refused(exc: Exception, people: _Feed, reviews: _Feed, parsed: _Parsed) -> str:
    """What the store still refused, named by the review (and its first line) it refused."""
    if isinstance(exc, PrivacyFindings):
        what = (f"{exc.field}: may identify someone ({', '.join(sorted({f.kind for f in exc.findings}))}); edit it, "
                "or import with --allow-identifiers if it is not about a client")
    elif isinstance(exc, sqlite3.IntegrityError):
        what = f"the file contradicts itself or the database ({exc})"
    else:
        what = str(exc)
    if people.current is not None and not people.done:
        claim = next((c for c in parsed.claims if c.id == people.current.id), None)
        if claim is not None:
            return f"{claim.place} (person {claim.id}): {what}"
    entry = reviews.current if not reviews.done else None
    if entry is None:  # the store took every review first; its message may still name one
        entry = next((e for e in parsed.entries if re.search(rf"(?<![\w.-]){re.escape(e.review.id)}(?![\w.-])",
                                                              str(exc))), None)
    if entry is not None:
        return f"{entry.where(('review',))} (review {entry.review.id} revision {entry.review.revision}): {what}"
    return f"the file was refused by the database: {what}"


def _in_file_order(problems: list[str]) -> list[str]:
    def key(problem: str):
        m = re.match(r"line (\d+)", problem)
        if m:
            return (0, int(m.group(1)))
        m = re.match(r"(people|reviews)\[(\d+)\]", problem)
        if m:
            return (1 if m.group(1) == "people" else 2, int(m.group(2)))
        return (-1, 0)
    return sorted(problems, key=key)


def _supervisors_first(people: list[Person]) -> list[Person]:
    return sorted(people, key=lambda p: (p.supervisor_id is not None, p.id))


def _in_order(entries: list[_Entry]) -> list[_Entry]:
    """Oldest meeting first, but never before what a review depends on: its previous
    revision, and a review in the file that sets a goal it gives a verdict on."""
    pending = sorted(entries, key=lambda e: (e.review.review_date, e.review.id, e.review.revision))
    keys = {(e.review.id, e.review.revision) for e in pending}
    setters: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in pending:
        for g in e.review.goals:
            setters[(e.review.specialist_id, g.id)].add(e.review.id)
    done_keys: set[tuple[str, int]] = set()
    done_ids: set[str] = set()
    ordered: list[_Entry] = []
    while pending:
        waiting = []
        for e in pending:
            r = e.review
            after = (r.id, r.revision - 1) in keys and (r.id, r.revision - 1) not in done_keys
            for u in r.goal_updates:
                by = setters.get((r.specialist_id, u.goal_id), set()) - {r.id}
                after = after or (by and not by & done_ids)
            if after:
                waiting.append(e)
                continue
            ordered.append(e)
            done_keys.add((r.id, r.revision))
            done_ids.add(r.id)
        if len(waiting) == len(pending):  # a cycle: the store says what it refuses
            ordered.extend(waiting)
            break
        pending = waiting
    return ordered
