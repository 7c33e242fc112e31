"""The checks a parsed file must pass beyond its own fields.

- :class:`_Rubrics`: every practice, trap and goal of a review is one of its rubric, a
  rubric the database knows;
- :func:`_status_rules`: a review keeps the rules of its status against its rubric;
- :func:`_team`: what the file says about the team against the database: new people, the
  changes it would make (rejected unless ``update_people``), the ids it contradicts
  itself about, and the names to screen free text against.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from ..errors import RapportkitError
from ..model import Person, PersonRole, Review, review_problems
from ..store import Store
from .parsed import _Claim, _Parsed, _Where


class _Rubrics:
    """The rubrics the database knows (:meth:`Store.rubric_for`), asked once each."""

    def __init__(self, store: Store):
        self.store = store
        self.known: dict[tuple[str, str], Any] = {}

    def check(self, rubric_id: str, version: str, where: _Where, problems: list[str],
              ratings: dict[str, list[str]], traps: list[str], goal_practices: list[str]):
        """The review's rubric, if the database knows it and every practice, trap and
        goal of the review is one of it (else None, the problems added)."""
        key = (rubric_id, version)
        if key not in self.known:
            try:
                self.known[key] = self.store.rubric_for(*key)
            except RapportkitError as exc:
                self.known[key] = exc
        rubric = self.known[key]
        if isinstance(rubric, Exception):
            problems.append(f"{where(('review',), 'rubric_version')}: {rubric}")
            return None
        start = len(problems)
        of = f"rubric {rubric.id} {rubric.version}"
        for role, practices in ratings.items():
            for practice in practices:
                if practice not in rubric.practice_ids:
                    problems.append(f"{where(('rating', role, practice), 'practice_id')}: '{practice}' is not a "
                                    f"practice of {of} ({', '.join(rubric.practice_ids)})")
        for trap in traps:
            if trap not in rubric.trap_ids:
                problems.append(f"{where(('trap', trap), 'trap_id')}: '{trap}' is not a trap of {of} "
                                f"({', '.join(rubric.trap_ids)})")
        for k, practice in enumerate(goal_practices):
            if practice not in rubric.practice_ids:
                problems.append(f"{where(('goal', k), 'practice_id')}: '{practice}' is not a practice of {of} "
                                f"({', '.join(rubric.practice_ids)})")
        return rubric if len(problems) == start else None


def _status_rules(review: Review, rubric, where: _Where, problems: list[str]) -> bool:
    """Whether ``review`` keeps the rules of its status against its rubric (problems added)."""
    found = review_problems(review, rubric)
    for problem in found:
        problems.append(f"{where(('review',), 'status')}: review {review.id} revision {review.revision} cannot be "
                        f"{review.status.value}: {problem}")
    return not found


# ------------------------------------------------------------------ the team against the database


def _kind(role: PersonRole) -> str:
    return {"specialist": "a specialist", "supervisor": "a supervisor", "lead": "a lead"}[role.value]


def _differences(old: Person, new: Person) -> list[tuple[str, str, str]]:
    """How ``new`` differs from ``old``: (field, what it would do, what it did)."""
    out = []
    pid = old.id
    if new.display_name != old.display_name:
        what = f"{pid} from {old.display_name!r} to {new.display_name!r}"
        out.append(("display_name", f"rename {what}", f"renamed {what}"))
    if new.role != old.role:
        what = f"{pid}'s role from {old.role.value} to {new.role.value}"
        out.append(("role", f"change {what}", f"changed {what}"))
    if new.supervisor_id != old.supervisor_id:
        if old.supervisor_id is None:
            would, did = f"assign {pid} to supervisor {new.supervisor_id}", f"assigned {pid} to supervisor {new.supervisor_id}"
        elif new.supervisor_id is None:
            would, did = (f"take {pid} away from supervisor {old.supervisor_id}",
                          f"took {pid} away from supervisor {old.supervisor_id}")
        else:
            what = f"{pid} from supervisor {old.supervisor_id} to {new.supervisor_id}"
            would, did = f"move {what}", f"moved {what}"
        out.append(("supervisor_id", would, did))
    if new.active != old.active:
        if new.active:
            out.append(("active", f"reactivate {pid}, who is inactive in the database", f"reactivated {pid}"))
        else:
            out.append(("active", f"deactivate {pid}", f"deactivated {pid}"))
    return out


def _team(store: Store, parsed: _Parsed, update_people: bool):
    """The team after the import, and what the file says about it.

    Returns everyone by id (the database, plus the file's new people, plus its changes
    when ``update_people``), the people to save, the ids added, the changes applied as
    (where, what), the ids the file contradicts itself about, the roster of names for the
    identifier screening, and each id's names (the database's and the file's)."""
    problems = parsed.problems
    db = {p.id: p for p in store.people()}
    final = dict(db)
    to_save: list[Person] = []
    added: list[str] = []
    applied: list[tuple[str, str]] = []
    confused: set[str] = set()
    by_id: dict[str, list[_Claim]] = defaultdict(list)
    for claim in parsed.claims:
        by_id[claim.id].append(claim)
    latest: dict[str, Review] = {}  # each specialist's latest review in the file
    for entry in parsed.entries:
        r = entry.review
        if r.specialist_id not in latest or (r.review_date, r.revision) > (
                latest[r.specialist_id].review_date, latest[r.specialist_id].revision):
            latest[r.specialist_id] = r
    for pid, claims in by_id.items():
        first = claims[0]
        old = db.get(pid)
        if first.person is not None:  # JSON: whole records
            for other in claims[1:]:
                if other.person != first.person:
                    problems.append(f"{other.place}: {pid} appears again with a different record (first at "
                                    f"{first.place}); one id, one person")
                    confused.add(pid)
            person, said = first.person, first
            blame = {}
        else:  # CSV: a name, and a role by the column it is in
            names: dict[str, _Claim] = {}
            for claim in claims:
                if claim.name:
                    names.setdefault(claim.name, claim)
            if len(names) > 1:
                (name0, claim0), *rest = names.items()
                for name, claim in rest:
                    problems.append(f"{claim.at('display_name')}: names {pid} {name!r}, but {claim0.place} names "
                                    f"them {name0!r}; one id, one name")
                confused.add(pid)
            roles: dict[PersonRole, _Claim] = {}
            for claim in claims:
                roles.setdefault(claim.role, claim)
            if len(roles) > 1 and old is None:
                (role0, claim0), (role1, claim1) = list(roles.items())[:2]
                problems.append(f"{claim1.at('id')}: {pid} is {_kind(role1)} here but {_kind(role0)} on "
                                f"{claim0.place}; one person has one role")
                confused.add(pid)
            name = next(iter(names), "")
            if old is not None:  # only the name can change; role, supervisor and active stay
                person = dataclasses.replace(old, display_name=name) if name else old
            elif name:
                sup = latest[pid].supervisor_id if first.role is PersonRole.SPECIALIST and pid in latest else None
                person = Person(pid, name, first.role, supervisor_id=sup)
            else:
                continue  # named nowhere: the reviews naming them say so
            said = names.get(name, first)
            blame = {"display_name": said}
        if pid in confused:
            continue
        if old is None:
            final[pid] = person
            to_save.append(person)
            added.append(pid)
            continue
        changes = _differences(old, person)
        for field, would, did in changes:
            where = blame.get(field, said).at(field)
            if update_people:
                applied.append((where, did))
            else:
                problems.append(f"{where}: would {would}; import with --update-people to apply it")
        if changes and update_people:
            final[pid] = person
            to_save.append(person)
    for pid, claims in by_id.items():  # a supervisor named in the file must be a supervisor
        person = final.get(pid)
        if claims[0].person is None or pid in confused or person is None or person.supervisor_id is None:
            continue
        if person not in to_save:
            continue
        sup = final.get(person.supervisor_id)
        if sup is None:
            problems.append(f"{claims[0].at('supervisor_id')}: {person.supervisor_id} is not in the database or "
                            "the file")
        elif sup.role is not PersonRole.SUPERVISOR:
            problems.append(f"{claims[0].at('supervisor_id')}: {person.supervisor_id} is {_kind(sup.role)}, not "
                            "a supervisor")
    names = {p.display_name for p in final.values()} | {p.display_name for p in db.values()}
    names |= {c.name for c in parsed.claims if c.name}
    own_names: dict[str, set[str]] = defaultdict(set)
    for pid, p in final.items():
        own_names[pid].add(p.display_name)
    for c in parsed.claims:
        if c.name:
            own_names[c.id].add(c.name)
    return final, to_save, added, applied, confused, sorted(names), own_names
