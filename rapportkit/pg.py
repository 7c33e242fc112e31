"""PostgreSQL connection set-up: the only psycopg-specific code besides the schema.

The store speaks one SQL dialect, SQLite's, with ``?`` placeholders; a
:class:`PgConnection` gives a psycopg connection the face of a ``sqlite3`` connection
(``execute``, ``executemany``, ``in_transaction``) and translates the few statements that
differ. Every dialect difference the store meets at run time is in :func:`translate`:

- ``?`` placeholders become ``%s`` (and a literal ``%`` becomes ``%%``);
- ``BEGIN IMMEDIATE`` (SQLite: take the write lock up front) becomes ``BEGIN`` plus a
  transaction-scoped advisory lock, so writers queue exactly as on SQLite and a save reads
  the version it checks under the lock (no lost updates);
- ``BEGIN`` (a read snapshot for several SELECTs) becomes ``BEGIN ISOLATION LEVEL
  REPEATABLE READ``.

Identity is the connection's database role: with Unix-socket *peer* authentication the
operating-system account is the role, so no password sits in a kernel or a file. A
password may come from ``~/.pgpass`` or ``PGPASSWORD`` (libpq reads them) for hubs without
OS accounts; rapportkit never stores one.

Errors the database raises on purpose (a policy, a grant, a trigger of ours) become
rapportkit errors with a sentence; see :func:`explain`.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import AccessError, ConflictError, ReviewStateError, StoreError, ValidationError

__all__ = ["is_url", "display_url", "connect", "transaction", "explain", "PgConnection", "WRITE_LOCK"]

#: The advisory lock every write transaction takes first (one writer at a time, as SQLite).
WRITE_LOCK = 0x7261_7070  # "rapp"

# SQLSTATEs our triggers raise (class "RK" is free for applications).
_STATE_ERRORS = {"RK001": ReviewStateError, "RK002": ValidationError, "RK003": AccessError,
                 "RK004": ConflictError}


def is_url(location: Any) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than an SQLite file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def display_url(url: str) -> str:
    """``url`` without a password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


@functools.lru_cache(maxsize=512)
def translate(sql: str, placeholders: bool = True) -> str:
    """The PostgreSQL form of one of the store's SQLite statements (see the module notes);
    ``placeholders``: the statement comes with parameters."""
    head = sql.strip().upper()
    if head == "BEGIN IMMEDIATE":
        return f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
    if head in ("BEGIN", "BEGIN DEFERRED"):
        return "BEGIN ISOLATION LEVEL REPEATABLE READ"
    return sql.replace("%", "%%").replace("?", "%s") if placeholders else sql


class PgConnection:
    """A psycopg connection in autocommit mode with the calls the store makes of sqlite3."""

    dialect = "postgresql"

    def __init__(self, raw, url: str) -> None:
        self.raw = raw
        self.url = url

    def execute(self, sql: str, args: Sequence | None = None):
        cursor = self.raw.cursor()
        try:
            if args:
                cursor.execute(translate(sql), list(args), prepare=False)
            else:
                cursor.execute(translate(sql, False), prepare=False)
        except Exception as exc:
            cursor.close()
            raise _translated(exc) from None
        return cursor

    def executemany(self, sql: str, rows) -> None:
        rows = [list(r) for r in rows]
        if not rows:
            return
        with self.raw.cursor() as cursor:
            try:
                cursor.executemany(translate(sql), rows)
            except Exception as exc:
                raise _translated(exc) from None

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    @property
    def session_user(self) -> str:
        return self.execute("SELECT session_user").fetchone()[0]

    def close(self) -> None:
        self.raw.close()


def connect(url: str, *, readonly: bool = False) -> PgConnection:
    """Open ``url`` (``postgresql:///rapportkit?host=/run/postgresql`` for the Unix socket).

    A read-only connection runs every transaction read-only (``default_transaction_read_only``);
    what a role may read or write at all is the database's rule, not this flag's.
    """
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        raise StoreError("the PostgreSQL driver is missing: pip install 'psycopg[binary]'") from None
    options = "-c default_transaction_read_only=on" if readonly else None
    try:
        raw = psycopg.connect(url, autocommit=True, options=options, connect_timeout=10,
                              application_name="rapportkit")
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"could not connect to PostgreSQL at {display_url(url)} ({detail}). Check that the server runs, "
            "that the database exists (an administrator creates it with `rapportkit team init`), and that "
            "your account has a database role"
        ) from None
    conn = PgConnection(raw, url)
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


@contextlib.contextmanager
def transaction(conn: PgConnection) -> Iterator[PgConnection]:
    """``BEGIN`` + the write lock … ``COMMIT``: all or nothing; a failed COMMIT is rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(Exception):
                conn.raw.execute("ROLLBACK")
        raise


def explain(exc: Exception) -> Exception | None:
    """A rapportkit error for an error the database server raised (None for anything else)."""
    import psycopg
    from psycopg import errors as e

    if not isinstance(exc, psycopg.Error):
        return None
    diag = getattr(exc, "diag", None)
    state = getattr(diag, "sqlstate", None) or ""
    primary = (getattr(diag, "message_primary", None) or str(exc)).strip()
    if state in _STATE_ERRORS:
        cls = _STATE_ERRORS[state]
        if cls is ConflictError:
            return ConflictError(primary, saved_by="", saved_at="", version=0)
        return cls(primary)
    if isinstance(exc, e.InsufficientPrivilege) or state == "42501":
        what = re.sub(r"^permission denied for ", "", primary)
        if "row-level security" in primary:
            return AccessError(
                "your database role may not make this change (it is not yours to make: a record of another "
                "specialist, a rating that is not yours, or a role without write access); nothing was written"
            )
        return AccessError(
            f"your database role may not do this ({what}); nothing was written. Ask the programme's "
            "administrator if you need this access"
        )
    if isinstance(exc, e.ReadOnlySqlTransaction):
        from .errors import ReadOnlyError

        return ReadOnlyError("this store is read-only; nothing was written")
    if isinstance(exc, e.UniqueViolation):
        return ValidationError(f"that record exists already ({primary}); nothing was written")
    if isinstance(exc, e.ForeignKeyViolation):
        return ValidationError(f"a record it refers to is missing ({primary}); nothing was written")
    if isinstance(exc, e.CheckViolation):
        return ValidationError(f"a value is out of range ({primary}); nothing was written")
    if isinstance(exc, e.UndefinedTable):
        return StoreError(
            f"this PostgreSQL database has no rapportkit tables you can see ({primary}); an administrator "
            "sets it up with `rapportkit team init --db URL`"
        )
    if isinstance(exc, (psycopg.OperationalError, e.AdminShutdown)):
        return StoreError(f"the connection to PostgreSQL failed ({primary}); try again, or ask the administrator")
    if isinstance(exc, psycopg.DataError):
        return ValidationError(f"the database refused a value ({primary}); nothing was written")
    # anything else the server refused: a sentence, never the driver's exception
    return StoreError(f"the database refused this ({primary}); nothing was written")


def _translated(exc: Exception) -> Exception:
    return explain(exc) or exc
