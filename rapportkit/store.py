"""The record store: every SQL statement about people, sessions and reviews lives here.

Guarantees (each has a test in ``tests/test_store.py``):

- **All or nothing.** Saving a review (its ratings, traps, goals and the audit entry)
  is one ``BEGIN IMMEDIATE`` transaction; a failure part-way leaves no trace.
- **Durable.** WAL with ``synchronous=FULL``: once ``save_review`` returns, the review
  survives a crash or power loss.
- **Signed means final.** A signed revision is never changed or replaced; an amendment
  is a new revision with a reason, and every revision stays readable (:meth:`history`).
- **Audited.** Every change to a person, session or review appends a hash-chained audit
  entry (who, when, before, after, why) in the same transaction; :meth:`check` verifies
  the chain *and* that each record still equals what the log last recorded.
- **Idempotent.** Saving the same review twice (a double click) changes nothing the
  second time and writes no second audit entry.
- **Read-only for real.** ``Store(path, readonly=True)`` is refused every write by
  SQLite itself and creates no database.
- **Drafts** are saved as they are typed (:meth:`save_draft`) so nothing is lost when a
  kernel dies; drafts are scratch space and are not audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import audit, pg
from .db import connect, transaction
from .errors import (AccessError, ConflictError, PrivacyFindings, ReadOnlyError, ReviewStateError, StoreError,
                     ValidationError)
from .migrations import SCHEMA_VERSION, check_version, migrate
from .model import (AWAITING_SIGNATURES, SIGNATURE_FIELDS, Goal, GoalUpdate, Person, PersonRole, Rating, Review, ReviewStatus,
                    Session, Signature, MEANING, content, content_digest, to_plain)
from .rubric import Rubric, load_rubric, parse_rubric
from .screen import describe_findings, identifier_findings, text_findings

__all__ = ["Store", "open_store", "default_db_path", "ReviewVersion", "Assignment"]


def default_db_path() -> Path | str:
    """``$RAPPORTKIT_DB`` (a file, or a ``postgresql://`` URL), else the nearest ``data/rapportkit.db`` at or above the
    working folder (so notebooks in ``workbooks/`` find the project's), else
    ``./data/rapportkit.db``."""
    env = os.environ.get("RAPPORTKIT_DB")
    if env:
        return env if pg.is_url(env) else Path(env).expanduser()
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / "data" / "rapportkit.db"
        if candidate.is_file():
            return candidate
    return here / "data" / "rapportkit.db"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclasses.dataclass(frozen=True)
class ReviewVersion:
    """Which save of a review revision the database holds: ``number`` counts the saves
    (1 for the first); ``saved_by`` and ``saved_at`` (UTC, ISO 8601) say who and when."""

    number: int
    saved_by: str
    saved_at: str


@dataclasses.dataclass(frozen=True)
class Assignment:
    """``supervisor_id`` supervises ``specialist_id`` from ``starts`` until ``ends`` (open
    when None), dates as ISO text."""

    supervisor_id: str
    specialist_id: str
    starts: str
    ends: str | None = None


def _default_actor() -> str:
    try:
        return os.environ.get("RAPPORTKIT_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


class Store:
    """A rapportkit database.

    Parameters
    ----------
    path
        The SQLite file (default :func:`default_db_path`), created when writable and
        absent; or a team's PostgreSQL database as a ``postgresql://`` URL (for the Unix
        socket ``postgresql:///rapportkit?host=/run/postgresql``), set up beforehand with
        ``rapportkit team init``.
    readonly
        Open for reading only (dashboards): every write is refused by the database itself.
        ``RAPPORTKIT_READONLY=1`` in the environment forces this.
    actor
        Who is making changes, for the audit log (default ``$RAPPORTKIT_USER`` or the
        login name). On PostgreSQL the actor is always the connection's database role
        (``session_user``), set by the database; this argument is ignored there.
    rubric
        The rubric that new reviews are checked against (default :func:`load_rubric`).
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        readonly: bool = False,
        actor: str | None = None,
        rubric: Rubric | None = None,
        mounts_file: str | None = None,
    ) -> None:
        where = path if path is not None else default_db_path()
        # a server for viewers (rapportkit serve) forces every store its kernels open read-only
        self.readonly = readonly or os.environ.get("RAPPORTKIT_READONLY") == "1"
        self._rubric = rubric
        self._rubrics: dict[tuple[str, str], Rubric] = {}
        # the version of each revision this store last read or wrote: a save that does
        # not say which version it started from is held to this one
        self._seen: dict[tuple[str, int], int] = {}
        if pg.is_url(str(where)):
            self._open_team(str(where))
            return
        self.dialect = "sqlite"
        self.url = None
        self.installer = False
        self.path = Path(where)
        self.location = str(self.path)
        self.actor = actor or _default_actor()
        self.conn = connect(self.path, readonly=self.readonly, mounts_file=mounts_file)
        try:
            if self.readonly:
                version = check_version(self.conn, self.path)
                if version < SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has schema version {version} and needs migrating to "
                        f"{SCHEMA_VERSION}; open it once for writing (`rapportkit check --db "
                        f"{self.path}`) and try again"
                    )
            else:
                self.migration_backup = migrate(self.conn, self.path)
        except BaseException:
            self.conn.close()
            raise

    def _open_team(self, url: str) -> None:
        """Connect to a team's PostgreSQL database as the role the URL (or peer
        authentication) gives, bringing its schema up to date when the installer connects."""
        from . import pg_schema

        #: "sqlite" or "postgresql"
        self.dialect = "postgresql"
        self.path = None
        #: the PostgreSQL URL this store was opened with (None for SQLite)
        self.url = url
        self.location = pg.display_url(url)
        self.migration_backup = None
        self.conn = pg.connect(url, readonly=self.readonly)
        try:
            self.actor = self.conn.session_user  # the database role: the database's word, not the client's
            found = pg_schema.schema_version(self.conn)
            if found != pg_schema.SCHEMA_VERSION:
                if self.readonly and found < pg_schema.SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.location} has schema version {found}; rapportkit needs {pg_schema.SCHEMA_VERSION}. "
                        "The administrator runs `rapportkit team init --db URL`"
                    )
                pg_schema.migrate(self.conn, self.location)  # refuses a newer schema, or a role that may not
            #: the installer's account (a PostgreSQL superuser): sets up, imports, checks; it
            #: bypasses row-level security, so it meets nobody's blind rating as hidden
            self.installer = bool(self._one("SELECT rk_installer()")[0])
        except BaseException:
            self.conn.close()
            raise

    # ------------------------------------------------------------------ plumbing

    @property
    def rubric(self) -> Rubric:
        if self._rubric is None:
            self._rubric = load_rubric()
        return self._rubric

    def rubric_for(self, rubric_id: str, version: str) -> Rubric:
        """The rubric a rating names: the one this database recorded under that id and
        version (with the first rating that used it), or the rubric in use if none was.

        Raises
        ------
        ValidationError
            Neither is that rubric.
        """
        key = (rubric_id, version)
        if key in self._rubrics:
            return self._rubrics[key]
        row = self._one("SELECT definition, digest, recorded_at FROM rubrics WHERE rubric_id = ? AND version = ?",
                        *key)
        if row is not None and key == (self.rubric.id, self.rubric.version) and row[1] != self.rubric.digest:
            raise ValidationError(
                f"the rubric in use ({self.rubric.source}) calls itself {rubric_id} {version} but differs from "
                f"the {rubric_id} {version} this database recorded on {row[2][:10]}; give the edited rubric "
                "a new version number (version = \"…\" at the top of the file) and try again"
            )
        if row is not None:
            found = parse_rubric(row[0], f"rubric {rubric_id} {version} as recorded in {self.path}")
        elif key == (self.rubric.id, self.rubric.version):
            found = self.rubric
        else:
            raise ValidationError(
                f"rubric {rubric_id!r} version {version!r} is not known to this database (it records "
                f"{self._known_rubrics()}; the rubric in use is {self.rubric.id} {self.rubric.version}). "
                "Point RAPPORTKIT_RUBRIC or --rubric at that rubric's file and try again"
            )
        self._rubrics[key] = found
        return found

    def _known_rubrics(self) -> str:
        rows = self.conn.execute("SELECT rubric_id, version FROM rubrics ORDER BY 1, 2").fetchall()
        return ", ".join(f"{i} {v}" for i, v in rows) or "none yet"

    def _record_rubric(self, rubric: Rubric) -> None:
        """Keep the definition of a rubric the first time a saved rating uses it (on a team
        database with its practices, so the database can tell a complete rating)."""
        if self._one("SELECT 1 FROM rubrics WHERE rubric_id = ? AND version = ?", rubric.id, rubric.version):
            return
        self.conn.execute(
            "INSERT INTO rubrics (rubric_id, version, digest, definition, recorded_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (rubric_id, version) DO NOTHING",
            (rubric.id, rubric.version, rubric.digest, rubric.text, _now()),
        )
        if self.team:
            self.conn.executemany(
                "INSERT INTO rubric_practices (rubric_id, version, practice_id) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING", [(rubric.id, rubric.version, p) for p in rubric.practice_ids])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.location!r}, readonly={self.readonly})"

    @property
    def team(self) -> bool:
        """True on a team's PostgreSQL store, where the database knows who is connected."""
        return self.dialect == "postgresql"

    def _write(self):
        if self.readonly:
            raise ReadOnlyError(f"{self.location} is open read-only; nothing was written")
        return pg.transaction(self.conn) if self.team else transaction(self.conn)

    def _one(self, sql: str, *args: Any) -> tuple | None:
        return self.conn.execute(sql, args).fetchone()

    # ------------------------------------------------------------------ people

    def save_person(self, person: Person, *, reason: str | None = None) -> bool:
        """Add or update a person; returns False when nothing changed."""
        with self._write():
            return self._put_person(person, reason)

    def add_person(self, person: Person, *, reason: str = "added to the roster") -> Person:
        """Add someone new to the roster (refused if the id is taken); on a team database a
        login becomes their database role. The command line and the roster workbook call this."""
        with self._write():
            if self._person(person.id) is not None:
                raise ValidationError(f"{person.id!r} is in the team already; change them instead of adding them")
            self._put_person(person, reason)
        return person

    def change_person(self, person_id: str, *, reason: str = "changed in the roster", **changes: Any) -> Person:
        """Change someone's ``display_name``, ``role``, ``login``, ``supervisor_id`` or
        ``active``; returns the person as saved (unchanged if nothing differed)."""
        allowed = {"display_name", "role", "login", "supervisor_id", "active"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValidationError(f"a person has no {', '.join(map(repr, unknown))} to change; "
                                  f"change one of {', '.join(sorted(allowed))}")
        if not changes:
            raise ValidationError("say what to change: the name, role, login, supervisor or whether active")
        with self._write():
            before = self._person(person_id)
            if before is None:
                raise ValidationError(f"there is no person with id {person_id!r}")
            after = dataclasses.replace(before, **changes)
            self._put_person(after, reason)
        return after

    def _put_person(self, person: Person, reason: str | None = None) -> bool:
        before = self._person(person.id)
        if before is not None and person.login is None and before.login is not None:
            # a login is given with `rapportkit people add/edit`; an import (which has none) keeps it
            person = dataclasses.replace(person, login=before.login)
        if before == person:
            return False
        if person.supervisor_id and not self._person(person.supervisor_id):
            raise ValidationError(f"supervisor {person.supervisor_id!r} is not in the team; add them first")
        if person.login is not None:
            taken = self._one("SELECT id FROM people WHERE login = ? AND id <> ?", person.login, person.id)
            if taken:
                raise ValidationError(f"login {person.login!r} is taken already (by {taken[0]}); give another")
        row = (person.display_name, person.role.value, person.supervisor_id, int(person.active), person.login,
               person.id)
        if before is None:
            self.conn.execute(
                "INSERT INTO people (display_name, role, supervisor_id, active, login, id) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
        else:
            self.conn.execute(
                "UPDATE people SET display_name = ?, role = ?, supervisor_id = ?, active = ?, login = ? WHERE id = ?",
                row,
            )
        if self.team and person.login and (before is None or (before.login, before.role) != (person.login, person.role)):
            # the login's database role, created if absent and made a member of the person's group
            self.conn.execute("SELECT rk_grant_login(?, ?)", (person.login, person.role.value))
        audit.append(
            self.conn, actor=self.actor, action="update" if before else "create", entity="person",
            entity_id=person.id, before=_record(before), after=_record(person), reason=reason,
        )
        return True

    def _person(self, person_id: str) -> Person | None:
        row = self._one("SELECT id, display_name, role, supervisor_id, active, login FROM people WHERE id = ?",
                        person_id)
        return Person(row[0], row[1], row[2], row[3], bool(row[4]), row[5]) if row else None

    def person(self, person_id: str) -> Person:
        """The person with this id (ValidationError if there is none)."""
        found = self._person(person_id)
        if found is None:
            raise ValidationError(f"there is no person with id {person_id!r}")
        return found

    def people(self, role: PersonRole | str | None = None, *, active_only: bool = False) -> list[Person]:
        """Everyone, or everyone in one role, by display name."""
        sql = "SELECT id, display_name, role, supervisor_id, active, login FROM people WHERE 1 = 1"
        args: list[Any] = []
        if role is not None:
            sql += " AND role = ?"
            args.append(PersonRole(role).value)
        if active_only:
            sql += " AND active = 1"
        rows = self.conn.execute(sql + " ORDER BY display_name, id", args)
        return [Person(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    def me(self) -> Person | None:
        """The person connected, on a team's store (by the connection's database role);
        None on one computer, or for a role that is nobody's login."""
        if not self.team:
            return None
        row = self._one("SELECT rk_me()")
        return self._person(row[0]) if row and row[0] else None

    # ------------------------------------------------------------------ assignments

    def assign(self, supervisor_id: str, specialist_id: str, *, starts: dt.date | None = None,
               ends: dt.date | None = None) -> Assignment:
        """Assign a specialist to a supervisor from ``starts`` (default today) until ``ends``
        (open when None); an assignment in force today also makes them the specialist's
        supervisor. Audited."""
        starts = starts or dt.date.today()
        if ends is not None and ends < starts:
            raise ValidationError(f"an assignment ends after it starts (got {starts} to {ends})")
        with self._write():
            sup, spec = self._person(supervisor_id), self._person(specialist_id)
            if sup is None or sup.role is not PersonRole.SUPERVISOR:
                raise ValidationError(f"{supervisor_id!r} is not a supervisor in the team (see `rapportkit people list`)")
            if spec is None or spec.role is not PersonRole.SPECIALIST:
                raise ValidationError(f"{specialist_id!r} is not a specialist in the team (see `rapportkit people list`)")
            made = Assignment(supervisor_id, specialist_id, starts.isoformat(), ends.isoformat() if ends else None)
            exists = self._one("SELECT ends FROM assignments WHERE supervisor_id = ? AND specialist_id = ? AND starts = ?",
                               supervisor_id, specialist_id, made.starts)
            if exists is not None:
                self.conn.execute("UPDATE assignments SET ends = ? WHERE supervisor_id = ? AND specialist_id = ?"
                                  " AND starts = ?", (made.ends, supervisor_id, specialist_id, made.starts))
            else:
                self.conn.execute("INSERT INTO assignments (supervisor_id, specialist_id, starts, ends) VALUES (?, ?, ?, ?)",
                                  (supervisor_id, specialist_id, made.starts, made.ends))
            today = dt.date.today()
            if starts <= today and (ends is None or ends >= today) and spec.supervisor_id != supervisor_id:
                self._put_person(dataclasses.replace(spec, supervisor_id=supervisor_id),
                                 f"assigned to {supervisor_id} from {made.starts}")
            audit.append(self.conn, actor=self.actor, action="assign", entity="assignment",
                         entity_id=f"{supervisor_id}>{specialist_id}@{made.starts}", after=to_plain(made))
        return made

    def assignments(self, specialist_id: str | None = None) -> list[Assignment]:
        """Assignments (of one specialist, or all you may see), oldest first."""
        sql = "SELECT supervisor_id, specialist_id, starts, ends FROM assignments"
        args: tuple = ()
        if specialist_id:
            sql, args = sql + " WHERE specialist_id = ?", (specialist_id,)
        return [Assignment(*r) for r in self.conn.execute(sql + " ORDER BY starts, supervisor_id, specialist_id", args)]

    # ------------------------------------------------------------------ sessions

    def save_session(self, session: Session, *, allow_identifiers: bool = False) -> bool:
        """Add a session, or correct one that no signed review depends on."""
        with self._write():
            return self._put_session(session, screened=allow_identifiers)

    def _put_session(self, session: Session, review_id: str | None = None, *, screened: bool = False) -> bool:
        before = self._session(session.id)
        if before == session:
            return False
        if session.code and not screened and (before is None or before.code != session.code):
            found = text_findings({"Session code": session.code}, self.people(), (session.specialist_id,))
            if found:
                raise PrivacyFindings("Session code", [f for _, f in found], found)
        specialist = self._person(session.specialist_id)
        if specialist is None or specialist.role is not PersonRole.SPECIALIST:
            raise ValidationError(f"{session.specialist_id!r} is not a specialist in the team")
        if before is not None:
            users = self.conn.execute(
                "SELECT DISTINCT review_id, status FROM reviews WHERE session_id = ?", (session.id,)
            ).fetchall()
            if any(status == "signed" or rid != review_id for rid, status in users):
                raise ValidationError(
                    f"session {session.id} belongs to a review already; record a new session instead"
                )
        # an upsert, not DELETE + INSERT: the review row referencing the session stays valid
        self.conn.execute(
            "INSERT INTO sessions (id, specialist_id, session_date, modality, duration_min, source, code)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET specialist_id = excluded.specialist_id,"
            " session_date = excluded.session_date, modality = excluded.modality,"
            " duration_min = excluded.duration_min, source = excluded.source, code = excluded.code",
            (session.id, session.specialist_id, session.date.isoformat(), session.modality.value,
             session.duration_min, session.source.value, session.code),
        )
        audit.append(
            self.conn, actor=self.actor, action="update" if before else "create", entity="session",
            entity_id=session.id, before=_record(before), after=_record(session),
        )
        return True

    def _session(self, session_id: str) -> Session | None:
        row = self._one(
            "SELECT id, specialist_id, session_date, modality, duration_min, source, code"
            " FROM sessions WHERE id = ?", session_id,
        )
        return Session(row[0], row[1], dt.date.fromisoformat(row[2]), row[3], row[4], row[5], row[6]) if row else None

    def session(self, session_id: str) -> Session:
        found = self._session(session_id)
        if found is None:
            raise ValidationError(f"there is no session with id {session_id!r}")
        return found

    def sessions(self, specialist_id: str | None = None) -> list[Session]:
        """Sessions, newest first."""
        sql = "SELECT id FROM sessions" + (" WHERE specialist_id = ?" if specialist_id else "")
        ids = [r[0] for r in self.conn.execute(sql + " ORDER BY session_date DESC, id", (specialist_id,) if specialist_id else ())]
        return [self.session(i) for i in ids]

    # ------------------------------------------------------------------ reviews

    def save_review(self, review: Review, *, expected: int | None = None, allow_identifiers: bool = False) -> bool:
        """Save a review in one transaction; returns False when it was already saved as is.

        Parameters
        ----------
        expected
            The version of this revision the change started from (:meth:`version`);
            default: the version this store last read or wrote. Saving over a newer
            version is refused, so nobody's save silently replaces another's.
        allow_identifiers
            Save free text that looks like it identifies someone (the person saving
            confirmed it is not about a client); what was allowed goes into the audit log.

        Raises
        ------
        ReviewStateError
            The review breaks the rules of its status, the revision is signed already, a
            later revision exists, or an amendment does not follow a signed revision.
        ValidationError
            The review names an unknown person, rubric, practice, trap or goal.
        ConflictError
            Someone saved this revision since the version it started from.
        PrivacyFindings
            New or changed free text looks like a client identifier.
        """
        with self._write():
            return self._put_review(review, expected=expected, allow_identifiers=allow_identifiers)

    def save_many(self, *, people: Iterable[Person] = (), reviews: Iterable[Review] = (),
                  reason: str | None = None, allow_identifiers: bool = False) -> int:
        """Save people, then reviews, in a single transaction (all or none); returns how
        many records changed. Imports and the demo team use this. ``reason`` goes into
        the audit entries of the people it changes."""
        with self._write():
            changed = sum(self._put_person(p, reason) for p in people)
            return changed + sum(self._put_review(r, allow_identifiers=allow_identifiers) for r in reviews)

    def version(self, review_id: str, revision: int | None = None) -> ReviewVersion | None:
        """Which save of the review's latest revision (or ``revision``) the database holds."""
        if revision is None:
            revision = self._one("SELECT max(revision) FROM reviews WHERE review_id = ?", review_id)[0]
        row = self._one("SELECT version, saved_by, saved_at FROM reviews WHERE review_id = ? AND revision = ?",
                        review_id, revision)
        return ReviewVersion(*row) if row else None

    def _conflict(self, review: Review, current: ReviewVersion, started: int | None) -> ConflictError:
        at = dt.datetime.fromisoformat(current.saved_at).strftime("%d %b %Y %H:%M UTC")
        since = "since you opened it" if started else "and you had not opened it here"
        return ConflictError(
            f"review {review.id} (revision {review.revision}) was changed by {current.saved_by} at {at} {since}; "
            "reload to see it, then make your change again",
            saved_by=current.saved_by, saved_at=current.saved_at, version=current.number,
        )

    def _put_review(self, review: Review, *, expected: int | None = None, allow_identifiers: bool = False) -> bool:
        rubric = self.rubric_for(review.rubric_id, review.rubric_version)
        review.check(rubric)  # practices, traps and goals of that rubric; the status's rules
        key = (review.id, review.revision)
        before = self._review(review.id, review.revision)
        current = self.version(*key)
        if before is not None:
            if before.to_dict() == review.to_dict():
                return False
            if before.status is ReviewStatus.SIGNED:
                raise ReviewStateError(
                    f"review {review.id} revision {review.revision} is signed and cannot be changed; "
                    "amend it with a reason to open a new revision"
                )
            started = expected if expected is not None else self._seen.get(key)
            if started != current.number:
                raise self._conflict(review, current, started)
            kept = [f for f in SIGNATURE_FIELDS if getattr(before, f) and getattr(review, f) == getattr(before, f)]
            if kept and content(before) != content(review):
                raise ReviewStateError(
                    f"review {review.id} changed after it was signed by the "
                    f"{' and the '.join(f.split('_')[0] for f in kept)}; a change voids the signatures "
                    "given, so they sign again"
                )
        elif expected:
            raise ValidationError(f"review {review.id} revision {review.revision} is not in the database")
        latest = self._one("SELECT max(revision) FROM reviews WHERE review_id = ?", review.id)[0]
        if latest is not None and latest > review.revision:
            raise ReviewStateError(
                f"review {review.id} has a newer revision ({latest}); revision {review.revision} is history"
            )
        if before is None and review.revision > 1:
            prior = self._one(
                "SELECT status FROM reviews WHERE review_id = ? AND revision = ?", review.id, review.revision - 1
            )
            if prior is None or prior[0] != ReviewStatus.SIGNED.value:
                raise ReviewStateError(
                    f"revision {review.revision} of review {review.id} must follow a signed revision "
                    f"{review.revision - 1}"
                )
        supervisor = self._person(review.supervisor_id)
        if supervisor is None or supervisor.role is not PersonRole.SUPERVISOR:
            raise ValidationError(f"{review.supervisor_id!r} is not a supervisor in the team")
        found = identifier_findings(review, before, self.people(), rubric)
        if found and not allow_identifiers:
            raise PrivacyFindings(", ".join(dict.fromkeys(w for w, _ in found)), [f for _, f in found], found)
        self._record_rubric(rubric)
        self._put_session(review.session, review.id, screened=True)
        self._check_goal_updates(review)

        number = current.number + 1 if current else 1
        logged_before = self._logged(before)
        self._write_review(review, before, number)
        if self.team:
            self._sign_in_database(review, before)
            review = self._review(*key)  # as the database keeps it: its clock on the signatures
        if before is None:
            action = "amend" if review.revision > 1 else "create"
        else:
            action = "sign" if review.status is ReviewStatus.SIGNED else "update"
        why = [review.amend_reason if action == "amend" else None,
               f"identifiers allowed by {self.actor}: {describe_findings(found)}" if found else None]
        audit.append(
            self.conn, actor=self.actor, action=action, entity="review",
            entity_id=f"{review.id}#{review.revision}", before=logged_before, after=self._logged(review),
            reason="; ".join(w for w in why if w) or None,
        )
        self._seen[key] = self.version(*key).number if self.team else number
        return True

    def _logged(self, review: Review | None) -> Any:
        """What the audit log keeps of a review: the whole record on one computer; on a team
        database, where the person saving may not see all of it (a blind rating), the hash
        of its content computed by the database, and its status."""
        if review is None or not self.team:
            return _record(review)
        digest = self._one("SELECT rk_content_digest(?, ?)", review.id, review.revision)[0]
        return {"content_sha256": digest, "status": review.status.value}

    def _write_review(self, review: Review, before: Review | None, number: int) -> None:
        """Write the review's rows: the review row in place, and only the parts that changed
        (on a team database each person may write only their own parts, and a rating the
        other has not revealed is not theirs to rewrite)."""
        key = (review.id, review.revision)
        ratings = [(getattr(review, f), getattr(before, f) if before else None)
                   for f in ("self_rating", "supervisor_rating", "consensus")]
        ratings = [(new, old) for new, old in ratings if new != old]
        parts = [
            ("traps", review.traps, before and before.traps,
             "INSERT INTO traps (review_id, revision, trap_id) VALUES (?, ?, ?)",
             [(*key, t) for t in sorted(review.traps)]),
            ("goals", review.goals, before and before.goals,
             "INSERT INTO goals (review_id, revision, goal_id, practice_id, text, actions, follow_up, target)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             [(*key, g.id, g.practice_id, g.text, g.actions, g.follow_up.isoformat(), g.target) for g in review.goals]),
            ("goal_updates", review.goal_updates, before and before.goal_updates,
             "INSERT INTO goal_updates (review_id, revision, goal_id, status, note) VALUES (?, ?, ?, ?, ?)",
             [(*key, u.goal_id, u.status.value, u.note) for u in review.goal_updates]),
        ]
        parts = [(table, insert, rows) for table, new, old, insert, rows in parts if before is None or new != old]
        # what changed goes first, while the review row still has the status it had
        if before is not None:
            for _, old in ratings:
                if old is not None:
                    for table in ("scores", "ratings"):
                        self.conn.execute(f"DELETE FROM {table} WHERE review_id = ? AND revision = ? AND role = ?",
                                          (*key, old.role.value))
            for table, _, _ in parts:
                self.conn.execute(f"DELETE FROM {table} WHERE review_id = ? AND revision = ?", key)
        values = (review.supervisor_id, review.review_date.isoformat(), review.status.value, review.rubric_id,
                  review.rubric_version, _iso(review.specialist_signed_at), _iso(review.supervisor_signed_at),
                  review.amend_reason, _now(), self.actor, number, review.meeting_minutes,
                  review.meeting_kind.value if review.meeting_kind else None)
        if before is None:
            self.conn.execute(
                "INSERT INTO reviews (supervisor_id, review_date, status, rubric_id, rubric_version,"
                " specialist_signed_at, supervisor_signed_at, amend_reason, saved_at, saved_by, version,"
                " meeting_minutes, meeting_kind, review_id, revision, session_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, *key, review.session.id))
        else:  # in place (the row keeps its place; on a team database, its other party's rows)
            self.conn.execute(
                "UPDATE reviews SET supervisor_id = ?, review_date = ?, status = ?, rubric_id = ?, rubric_version = ?,"
                " specialist_signed_at = ?, supervisor_signed_at = ?, amend_reason = ?, saved_at = ?, saved_by = ?,"
                " version = ?, meeting_minutes = ?, meeting_kind = ? WHERE review_id = ? AND revision = ?",
                (*values, *key))
        for rating, _ in ratings:
            if rating is None:
                continue
            self.conn.execute(
                "INSERT INTO ratings (review_id, revision, role, rater_id, rubric_id, rubric_version)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (*key, rating.role.value, rating.rater_id, rating.rubric_id, rating.rubric_version),
            )
            self.conn.executemany(
                "INSERT INTO scores (review_id, revision, role, practice_id, rated, score, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*key, rating.role.value, p, int(p in rating.scores), rating.scores.get(p), rating.notes.get(p, ""))
                 for p in sorted(set(rating.scores) | set(rating.notes))],
            )
        for _, insert, rows in parts:
            self.conn.executemany(insert, rows)

    def _sign_in_database(self, review: Review, before: Review | None) -> None:
        """On a team database a signature is a row the database writes for the connected
        role, over the content as the database holds it (see ``rk_signature_row``)."""
        digest = None
        for field in SIGNATURE_FIELDS:
            if getattr(review, field) and not (before and getattr(before, field)):
                digest = digest or content_digest(review)
                if self.installer:  # an import or the demo keeps the time the record was signed
                    self.conn.execute(
                        "INSERT INTO signatures (review_id, revision, role, content_sha256, signed_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (review.id, review.revision, field.split("_")[0], digest, _iso(getattr(review, field))))
                    continue
                self.conn.execute(
                    "INSERT INTO signatures (review_id, revision, role, content_sha256) VALUES (?, ?, ?, ?)",
                    (review.id, review.revision, field.split("_")[0], digest),
                )

    def signatures(self, review_id: str, revision: int | None = None) -> list[Signature]:
        """The signatures in force on a revision (default: the latest), specialist first.

        On a team database these are the rows the database wrote (printed name, meaning,
        database time, the signer's login, the content hash); on one computer the times
        the two sign buttons recorded, marked "recorded on this computer, not verified"."""
        review = self._review(review_id, revision)  # not review(): reading them is not opening the record
        if review is None:
            raise ValidationError(f"there is no review {review_id!r}" + (f" revision {revision}" if revision else ""))
        if self.team:
            rows = self.conn.execute(
                "SELECT role, person_id, printed_name, signed_at, meaning, kind, signer_login, content_sha256"
                " FROM signatures WHERE review_id = ? AND revision = ? AND voided_at IS NULL ORDER BY role",
                (review.id, review.revision)).fetchall()
            return [Signature(review.id, review.revision, PersonRole(r[0]), r[1], r[2], _from_iso(r[3]), r[4], r[5],
                              r[6], r[7]) for r in rows]
        out = []
        for role, person_id in ((PersonRole.SPECIALIST, review.specialist_id),
                                (PersonRole.SUPERVISOR, review.supervisor_id)):
            at = getattr(review, f"{role.value}_signed_at")
            if at:
                person = self._person(person_id)
                out.append(Signature(review.id, review.revision, role, person_id,
                                     person.display_name if person else person_id, at, MEANING, "local"))
        return out

    def reveal(self, review_id: str) -> Review:
        """Reveal both blind ratings of a review's latest revision, once both are complete.

        On a team database this is the database's own step (``rk_reveal``), open to either
        party: neither can read the other's rating before it, whatever code they run."""
        from .model import reveal

        if self.team:
            with self._write():
                latest = self._one("SELECT max(revision) FROM reviews WHERE review_id = ?", review_id)
                if latest is None or latest[0] is None:
                    raise ValidationError(f"there is no review {review_id!r} you may see")
                self.conn.execute("SELECT rk_reveal(?, ?)", (review_id, latest[0]))
            return self.review(review_id)
        review = self.review(review_id)
        if review.status is not ReviewStatus.DRAFT:
            return review
        revealed = reveal(review, self.rubric_for(review.rubric_id, review.rubric_version))
        self.save_review(revealed)
        return self.review(review_id)

    def _check_goal_updates(self, review: Review) -> None:
        for update in review.goal_updates:
            row = self._one(
                "SELECT s.specialist_id FROM goals g JOIN reviews r USING (review_id, revision)"
                " JOIN sessions s ON s.id = r.session_id WHERE g.goal_id = ? AND g.review_id <> ?",
                update.goal_id, review.id,
            )
            if row is None or row[0] != review.specialist_id:
                raise ValidationError(
                    f"goal {update.goal_id!r} is not an earlier goal of {review.specialist_id}"
                )

    def _review(self, review_id: str, revision: int | None = None) -> Review | None:
        if revision is None:
            row = self._one("SELECT max(revision) FROM reviews WHERE review_id = ?", review_id)
            if row is None or row[0] is None:
                return None
            revision = row[0]
        head = self._one(
            "SELECT session_id, supervisor_id, review_date, status, rubric_id, rubric_version,"
            " specialist_signed_at, supervisor_signed_at, amend_reason, meeting_minutes, meeting_kind FROM reviews"
            " WHERE review_id = ? AND revision = ?", review_id, revision,
        )
        if head is None:
            return None
        key = (review_id, revision)
        ratings: dict[str, Rating] = {}
        for role, rater, rid, rver in self.conn.execute(
            "SELECT role, rater_id, rubric_id, rubric_version FROM ratings WHERE review_id = ? AND revision = ?", key
        ).fetchall():
            rows = self.conn.execute(
                "SELECT practice_id, rated, score, note FROM scores"
                " WHERE review_id = ? AND revision = ? AND role = ?", (*key, role)
            ).fetchall()
            scores = {p: s for p, rated, s, _ in rows if rated}
            notes = {p: n for p, _, _, n in rows if n}
            ratings[role] = Rating(rater, role, scores, notes, rid, rver)
        traps = [r[0] for r in self.conn.execute(
            "SELECT trap_id FROM traps WHERE review_id = ? AND revision = ?", key)]
        goals = [Goal(g, p, t, a, dt.date.fromisoformat(f), target) for g, p, t, a, f, target in self.conn.execute(
            "SELECT goal_id, practice_id, text, actions, follow_up, target FROM goals"
            " WHERE review_id = ? AND revision = ? ORDER BY rowid", key)]  # as entered
        updates = [GoalUpdate(g, s, n) for g, s, n in self.conn.execute(
            "SELECT goal_id, status, note FROM goal_updates WHERE review_id = ? AND revision = ?"
            " ORDER BY rowid", key)]  # as entered
        return Review(
            id=review_id, revision=revision, session=self.session(head[0]), supervisor_id=head[1],
            review_date=dt.date.fromisoformat(head[2]), status=head[3], rubric_id=head[4],
            rubric_version=head[5], self_rating=ratings.get("self"),
            supervisor_rating=ratings.get("supervisor"), consensus=ratings.get("consensus"),
            traps=frozenset(traps), goals=tuple(goals), goal_updates=tuple(updates),
            specialist_signed_at=_from_iso(head[6]), supervisor_signed_at=_from_iso(head[7]),
            amend_reason=head[8], meeting_minutes=head[9], meeting_kind=head[10],
        )

    def review(self, review_id: str, revision: int | None = None) -> Review:
        """The latest revision of a review (or the one asked for)."""
        found = self._review(review_id, revision)
        if found is None:
            which = f" revision {revision}" if revision else ""
            raise ValidationError(f"there is no review {review_id!r}{which}")
        self._seen[(review_id, found.revision)] = self.version(review_id, found.revision).number
        return found

    def reviews(self, specialist_id: str | None = None, *, session_id: str | None = None) -> list[Review]:
        """Latest revision of each review, oldest meeting first."""
        sql = (
            "SELECT r.review_id FROM reviews r JOIN sessions s ON s.id = r.session_id"
            " WHERE r.revision = (SELECT max(revision) FROM reviews x WHERE x.review_id = r.review_id)"
        )
        args: list[Any] = []
        if specialist_id:
            sql += " AND s.specialist_id = ?"
            args.append(specialist_id)
        if session_id:
            sql += " AND r.session_id = ?"
            args.append(session_id)
        ids = [row[0] for row in self.conn.execute(sql + " ORDER BY r.review_date, r.review_id", args)]
        return [self.review(i) for i in ids]

    def awaiting_signature(self, person_id: str) -> list[str]:
        """Ids of the reviews whose latest revision waits for ``person_id``'s signature as
        its specialist or its supervisor (a status in ``model.AWAITING_SIGNATURES``, that
        signature not given yet), oldest meeting first. One query, whatever the history."""
        waiting = ", ".join("?" for _ in AWAITING_SIGNATURES)
        sql = (
            "SELECT r.review_id FROM reviews r JOIN sessions s ON s.id = r.session_id"
            " WHERE r.revision = (SELECT max(revision) FROM reviews x WHERE x.review_id = r.review_id)"
            f" AND r.status IN ({waiting})"
            " AND ((s.specialist_id = ? AND r.specialist_signed_at IS NULL)"
            "   OR (r.supervisor_id = ? AND r.supervisor_signed_at IS NULL))"
            " ORDER BY r.review_date, r.review_id"
        )
        args = [s.value for s in AWAITING_SIGNATURES] + [person_id, person_id]
        return [row[0] for row in self.conn.execute(sql, args)]

    def history(self, review_id: str) -> list[Review]:
        """Every revision of a review, oldest first."""
        revs = [r[0] for r in self.conn.execute(
            "SELECT revision FROM reviews WHERE review_id = ? ORDER BY revision", (review_id,))]
        return [self.review(review_id, rev) for rev in revs]

    def open_goals(
        self, specialist_id: str, *, before: dt.date | None = None, exclude_review: str | None = None
    ) -> list[tuple[Goal, str]]:
        """Goals of ``specialist_id`` with no final verdict yet (open or carried), with the
        id of the review that set them, oldest first.

        ``exclude_review`` leaves out one review entirely, goals and verdicts alike: the
        review in progress, so its own new goals and its not-yet-signed verdicts do not
        change which earlier goals it has to give a verdict on."""
        reviews = [r for r in self.reviews(specialist_id) if r.id != exclude_review]
        result = []
        for review in reviews:
            if before is not None and review.review_date >= before:
                continue
            for goal in review.goals:
                result.append((goal, review.id))
        verdicts: dict[str, str] = {}
        for review in reviews:
            for update in review.goal_updates:
                verdicts[update.goal_id] = update.status.value
        return [(g, rid) for g, rid in result if verdicts.get(g.id, "open") in ("open", "carried")]

    # ------------------------------------------------------------------ drafts

    def save_draft(self, key: str, payload: dict[str, Any]) -> None:
        """Keep what has been typed so far under ``key`` (replacing the previous draft)."""
        if not isinstance(key, str) or not 0 < len(key) <= 200:
            raise ValidationError("a draft key must be 1–200 characters")
        text = json.dumps(payload, sort_keys=True, default=str)
        if len(text) > 2_000_000:
            raise ValidationError("this draft is too large to keep (over 2 MB); shorten the notes")
        with self._write():
            self.conn.execute(
                "INSERT INTO drafts (key, payload, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                f" ON CONFLICT ({'owner, key' if self.team else 'key'}) DO UPDATE SET payload = excluded.payload,"
                " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (key, text, _now(), self.actor),
            )

    def load_draft(self, key: str) -> dict[str, Any] | None:
        row = self._one("SELECT payload FROM drafts WHERE key = ?", key)
        return json.loads(row[0]) if row else None

    def delete_draft(self, key: str) -> None:
        with self._write():
            self.conn.execute("DELETE FROM drafts WHERE key = ?", (key,))

    # ------------------------------------------------------------------ upkeep

    def audit_log(self, entity: str | None = None, entity_id: str | None = None) -> list[audit.AuditEntry]:
        return audit.entries(self.conn, entity, entity_id)

    def check(self) -> list[str]:
        """Verify the file, the foreign keys, the audit chain, and that every record still
        equals what the audit log last recorded for it. Returns the problems found."""
        if self.team:
            problems = self._check_team()
        else:
            problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
            problems += [f"{r[0]} row {r[1]} points at a missing {r[2]}"
                         for r in self.conn.execute("PRAGMA foreign_key_check")]
        problems += audit.verify(self.conn)
        last: dict[tuple[str, str], str | None] = {
            (e, i): after for e, i, after in self.conn.execute(
                "SELECT entity, entity_id, after FROM audit a WHERE seq ="
                " (SELECT max(seq) FROM audit b WHERE b.entity = a.entity AND b.entity_id = a.entity_id)")
        }
        current: list[tuple[str, str, Any]] = [("person", p.id, p) for p in self.people()]
        current += [("session", s.id, s) for s in self.sessions()]
        for (rid, rev) in self.conn.execute("SELECT review_id, revision FROM reviews ORDER BY 1, 2").fetchall():
            try:
                review = self.review(rid, rev)
                review.check(self.rubric_for(review.rubric_id, review.rubric_version))
            except (ValidationError, ReviewStateError) as exc:
                problems.append(f"review {rid} revision {rev} breaks the record's rules: {exc}")
                continue
            current.append(("review", f"{rid}#{rev}", review))
        for entity, ident, record in current:
            logged = last.get((entity, ident))
            if self.team and entity == "review":
                expected = audit.canonical({"content_sha256": content_digest(record), "status": record.status.value})
            else:
                expected = audit.canonical(_record(record))
            if logged is None:
                problems.append(f"{entity} {ident} has no audit entry (written outside rapportkit?)")
            elif logged != expected:
                problems.append(f"{entity} {ident} differs from its last audit entry (changed outside rapportkit?)")
        return problems

    def _check_team(self) -> list[str]:
        """What only a team database has to verify: that this connection sees everything
        (an installer's), and that every signature in force covers the content as stored."""
        if not self._one("SELECT rk_installer()")[0]:
            raise AccessError(
                f"`check` reads every record and the audit log; on {self.location} only the installer's account "
                "(a PostgreSQL superuser, e.g. postgres) may: run it as that account"
            )
        from .pg_schema import safeguard_problems

        problems = safeguard_problems(self.conn)
        for rid, rev, role, digest, now in self.conn.execute(
                "SELECT review_id, revision, role, content_sha256, rk_content_digest(review_id, revision)"
                " FROM signatures WHERE voided_at IS NULL ORDER BY 1, 2, 3").fetchall():
            if digest != now:
                problems.append(f"review {rid} revision {rev}: the {role}'s signature does not cover the content "
                                "as stored (changed outside rapportkit?)")
        return problems

    def backup(self, dest: str | os.PathLike) -> Path:
        """Copy the database to ``dest`` with SQLite's online backup (safe during writes):
        verified, owner-only, never over an existing file, and nothing left behind on failure
        (see :func:`rapportkit.db.backup_to`)."""
        from .db import backup_to

        if self.team:
            raise StoreError(
                f"{self.location} is a PostgreSQL database: back it up with pg_dump (for example "
                "`pg_dump -Fc rapportkit > rapportkit-$(date +%F).dump`, as the postgres account); see the README"
            )
        dest = Path(dest)
        if dest.exists():
            raise StoreError(f"{dest} exists already; choose a new file name for the backup")
        return backup_to(self.conn, dest)

    def counts(self) -> dict[str, int]:
        """How many people, sessions, reviews and audit entries the store holds."""
        return {t: self._one(f"SELECT count(*) FROM {t}")[0] for t in ("people", "sessions", "reviews", "audit")}


def open_store(path: str | os.PathLike | None = None, **kwargs: Any) -> Store:
    """Open a :class:`Store` (see there for the parameters)."""
    return Store(path, **kwargs)


def _record(value: Any) -> Any:
    if value is None:
        return None
    return to_plain(value)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
