"""Schema versions, kept in ``PRAGMA user_version``.

Each migration is a numbered function; :func:`migrate` runs the ones a database lacks in
one ``BEGIN IMMEDIATE`` transaction together with the new ``user_version``, so a crash
leaves the schema wholly old or wholly new. Before changing an existing database it
takes an online backup next to it. A database newer than this code is refused.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .db import transaction
from .errors import SchemaVersionError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "schema_version", "migrate"]


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Run a script statement by statement, inside the caller's transaction.

    (``executescript`` would commit the open transaction first.)
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


def _v1_initial(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE people (
            id TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('specialist', 'supervisor', 'lead')),
            supervisor_id TEXT REFERENCES people(id),
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            specialist_id TEXT NOT NULL REFERENCES people(id),
            session_date TEXT NOT NULL,
            modality TEXT NOT NULL,
            duration_min INTEGER NOT NULL,
            source TEXT NOT NULL,
            code TEXT
        );
        CREATE TABLE reviews (
            review_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            supervisor_id TEXT NOT NULL REFERENCES people(id),
            review_date TEXT NOT NULL,
            status TEXT NOT NULL,
            rubric_id TEXT NOT NULL,
            rubric_version TEXT NOT NULL,
            specialist_signed_at TEXT,
            supervisor_signed_at TEXT,
            amend_reason TEXT,
            saved_at TEXT NOT NULL,
            saved_by TEXT NOT NULL,
            PRIMARY KEY (review_id, revision)
        );
        CREATE TABLE ratings (
            review_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('self', 'supervisor', 'consensus')),
            rater_id TEXT NOT NULL,
            rubric_id TEXT NOT NULL,
            rubric_version TEXT NOT NULL,
            PRIMARY KEY (review_id, revision, role),
            FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
        );
        CREATE TABLE scores (
            review_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            role TEXT NOT NULL,
            practice_id TEXT NOT NULL,
            rated INTEGER NOT NULL CHECK (rated IN (0, 1)),
            score INTEGER CHECK (score BETWEEN 1 AND 4),
            note TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (review_id, revision, role, practice_id),
            FOREIGN KEY (review_id, revision, role) REFERENCES ratings (review_id, revision, role)
        );
        CREATE TABLE traps (
            review_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            trap_id TEXT NOT NULL,
            PRIMARY KEY (review_id, revision, trap_id),
            FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
        );
        CREATE TABLE goals (
            review_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            goal_id TEXT NOT NULL,
            practice_id TEXT NOT NULL,
            text TEXT NOT NULL,
            actions TEXT NOT NULL DEFAULT '',
            follow_up TEXT NOT NULL,
            PRIMARY KEY (review_id, revision, goal_id),
            FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
        );
        CREATE TABLE goal_updates (
            review_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            goal_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'met', 'carried', 'dropped')),
            note TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (review_id, revision, goal_id),
            FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
        );
        CREATE TABLE drafts (
            key TEXT PRIMARY KEY,
            payload TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            before TEXT,
            after TEXT,
            reason TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX sessions_by_specialist ON sessions (specialist_id, session_date);
        CREATE INDEX reviews_by_session ON reviews (session_id);
        CREATE INDEX audit_by_entity ON audit (entity, entity_id);
        """
    )


def _v2_goal_targets_and_append_only_audit(conn: sqlite3.Connection) -> None:
    # Goals gain a target score; the audit table refuses UPDATE and DELETE outright.
    _run(
        conn,
        """
        ALTER TABLE goals ADD COLUMN target INTEGER NOT NULL DEFAULT 3;
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE INDEX goal_updates_by_goal ON goal_updates (goal_id);
        """
    )


def _v3_versions_rubrics_and_signed_rows(conn: sqlite3.Connection) -> None:
    # - reviews.version counts the saves of a revision, so a save can say which version
    #   it started from and a stale one is refused (no lost updates);
    # - rubrics keeps every rubric a rating used (its definition and digest), so each
    #   rating is checked against the rubric it names, whatever rubric is loaded now;
    # - a signed revision's rows refuse UPDATE and DELETE at the database.
    _run(
        conn,
        """
        ALTER TABLE reviews ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        CREATE TABLE rubrics (
            rubric_id TEXT NOT NULL,
            version TEXT NOT NULL,
            digest TEXT NOT NULL,
            definition TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (rubric_id, version)
        );
        CREATE TRIGGER rubrics_no_update BEFORE UPDATE ON rubrics
            BEGIN SELECT RAISE(ABORT, 'a recorded rubric never changes; give an edited rubric a new version'); END;
        CREATE TRIGGER rubrics_no_delete BEFORE DELETE ON rubrics
            BEGIN SELECT RAISE(ABORT, 'a recorded rubric never changes; give an edited rubric a new version'); END;
        """
    )
    for op in ("UPDATE", "DELETE"):
        conn.execute(
            f"CREATE TRIGGER reviews_signed_no_{op.lower()} BEFORE {op} ON reviews WHEN OLD.status = 'signed'"
            " BEGIN SELECT RAISE(ABORT, 'a signed revision never changes; amend it with a reason'); END"
        )
        for table in ("ratings", "scores", "traps", "goals", "goal_updates"):
            conn.execute(
                f"CREATE TRIGGER {table}_signed_no_{op.lower()} BEFORE {op} ON {table} WHEN"
                " (SELECT status FROM reviews r WHERE r.review_id = OLD.review_id AND r.revision = OLD.revision)"
                " = 'signed' BEGIN SELECT RAISE(ABORT, 'a signed revision never changes; amend it with a reason'); END"
            )


def _v4_logins_admins_and_assignments(conn: sqlite3.Connection) -> None:
    # - people gain a login (a team database's role for the person) and the admin role;
    #   SQLite cannot change a CHECK, so the table is rebuilt (foreign keys are off while
    #   migrating and checked before the commit, as SQLite's documentation prescribes);
    # - assignments: which supervisor supervises which specialist, from when until when.
    _run(
        conn,
        """
        CREATE TABLE people_v4 (
            id TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('specialist', 'supervisor', 'lead', 'admin')),
            supervisor_id TEXT REFERENCES people(id),
            active INTEGER NOT NULL DEFAULT 1,
            login TEXT UNIQUE
        );
        INSERT INTO people_v4 (id, display_name, role, supervisor_id, active)
            SELECT id, display_name, role, supervisor_id, active FROM people;
        DROP TABLE people;
        ALTER TABLE people_v4 RENAME TO people;
        CREATE TABLE assignments (
            supervisor_id TEXT NOT NULL REFERENCES people(id),
            specialist_id TEXT NOT NULL REFERENCES people(id),
            starts TEXT NOT NULL,
            ends TEXT,
            PRIMARY KEY (supervisor_id, specialist_id, starts),
            CHECK (ends IS NULL OR ends >= starts)
        );
        """
    )


def _v5_signed_sessions(conn: sqlite3.Connection) -> None:
    # the session a signed review covers is part of what its signatures cover
    for op in ("UPDATE", "DELETE"):
        conn.execute(
            f"CREATE TRIGGER sessions_signed_no_{op.lower()} BEFORE {op} ON sessions WHEN EXISTS"
            " (SELECT 1 FROM reviews r WHERE r.session_id = OLD.id AND r.status = 'signed')"
            " BEGIN SELECT RAISE(ABORT, 'a session a signed review covers never changes; record a new session'); END"
        )


def _v6_meeting_length_and_kind(conn: sqlite3.Connection) -> None:
    # how long the supervision meeting took and whether it was individual or group
    # supervision (the supervision log); NULL for records made before, whose signatures
    # cover no such line. A signed revision's row refuses UPDATE already (v3's trigger),
    # these columns included.
    _run(
        conn,
        """
        ALTER TABLE reviews ADD COLUMN meeting_minutes INTEGER
            CHECK (meeting_minutes IS NULL OR (typeof(meeting_minutes) = 'integer' AND meeting_minutes BETWEEN 5 AND 480));
        ALTER TABLE reviews ADD COLUMN meeting_kind TEXT
            CHECK (meeting_kind IS NULL OR meeting_kind IN ('individual', 'group'));
        """
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_initial,
    _v2_goal_targets_and_append_only_audit,
    _v3_versions_rubrics_and_signed_rows,
    _v4_logins_admins_and_assignments,
    _v5_signed_sessions,
    _v6_meeting_length_and_kind,
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0


def check_version(conn: sqlite3.Connection, path: Path) -> int:
    """Return the database's schema version, refusing one newer than this code."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} has schema version {version}, but this rapportkit understands up to "
            f"{SCHEMA_VERSION}. Upgrade rapportkit (pip install -U rapportkit) to open it; "
            "nothing was changed."
        )
    return version


def migrate(conn: sqlite3.Connection, path: Path, *, upto: int = SCHEMA_VERSION) -> Path | None:
    """Bring the schema to version ``upto``; return the backup taken, if any."""
    version = check_version(conn, path)
    if version >= upto:
        return None
    backup = None
    if version > 0 or _has_tables(conn):
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        from .db import backup_to  # verified, owner-only, never over a file; nothing left if it fails

        name, n = f"{path.name}.v{version}-{stamp}", 1
        backup = path.with_name(f"{name}.bak")
        while backup.exists():  # a retry within the same second keeps the earlier backup too
            n += 1
            backup = path.with_name(f"{name}-{n}.bak")
        backup = backup_to(conn, backup)
    # foreign keys off while tables are rebuilt, checked before the commit
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with transaction(conn):
            # re-read inside the lock: another process may have migrated meanwhile
            version = check_version(conn, path)
            for number in range(version + 1, upto + 1):
                MIGRATIONS[number - 1](conn)
                conn.execute(f"PRAGMA user_version = {number}")
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise SchemaVersionError(
                    f"migrating {path} would leave {len(broken)} row(s) pointing at missing records (first: "
                    f"{broken[0][0]} row {broken[0][1]}); nothing was changed. Run `rapportkit check` on the backup"
                )
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return backup
