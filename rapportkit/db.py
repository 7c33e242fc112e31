"""SQLite connection set-up: the only SQLite-specific code besides the schema.

- Writers use WAL, ``synchronous=FULL`` (a committed review survives power loss), a
  busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every write transaction, so
  concurrent writers queue for the lock instead of failing half-way.
- Readers for dashboards (:func:`connect` with ``readonly=True``) are refused every
  write by SQLite itself: the file is opened ``mode=ro``, ``query_only`` is on, no
  database can be attached, and an authorizer allows nothing but reading.
- A writable database on a network filesystem (NFS, SMB/CIFS, …) is refused, because
  SQLite's file locking is not reliable there and records could be corrupted.
- A folder, a file that is not an SQLite database (by its 16-byte header) and, when
  reading, a missing or empty file are refused up front; a full disk, a read-only or
  damaged file met later is raised as a :class:`~rapportkit.errors.StoreError` whose
  sentence comes from :func:`rapportkit.files.explain`.
- A new database is created owner-only (``0600`` less the umask; SQLite gives its
  ``-wal`` and ``-shm`` the same mode), and so is every backup (:func:`backup_to`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from .errors import NetworkFilesystemError, ReadOnlyError, StoreError
from .files import FILE_MODE, atomic_path, damaged, explain, folder_not_database, make_dirs

__all__ = ["connect", "transaction", "require_database", "backup_to", "database_path", "network_filesystem",
           "BUSY_TIMEOUT_S", "MOUNTS_FILE", "SQLITE_HEADER"]

BUSY_TIMEOUT_S = 30.0
MOUNTS_FILE = "/proc/self/mounts"
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file

_NETWORK_FS = {
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "afs", "9p", "ncpfs", "coda",
    "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "fuse.sshfs", "fuse.glusterfs",
    "fuse.s3fs", "fuse.rclone", "davfs", "fuse.davfs2",
}

# Read-only connections may run these PRAGMAs, and only without an argument (reads).
_READ_PRAGMAS = {
    "user_version", "integrity_check", "quick_check", "foreign_key_check", "table_info",
    "table_xinfo", "index_list", "index_info", "journal_mode", "page_count", "page_size",
    "freelist_count", "schema_version", "data_version", "compile_options", "database_list",
}


def network_filesystem(path: str | os.PathLike, mounts_file: str | None = None) -> str | None:
    """Return the filesystem type if ``path`` lies on a network filesystem, else None.

    The deepest mount point containing the path's directory decides.
    """
    target = os.path.realpath(Path(path).parent if not Path(path).is_dir() else path)
    try:
        lines = Path(mounts_file or MOUNTS_FILE).read_text().splitlines()
    except OSError:
        return None
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, best_type = mount, parts[2]
    if best_type and (best_type in _NETWORK_FS or best_type.startswith("nfs")):
        return best_type
    return None


def _readonly_authorizer(action: int, arg1, arg2, dbname, source) -> int:
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                  sqlite3.SQLITE_RECURSIVE):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_TRANSACTION and arg1 in ("BEGIN", "COMMIT", "ROLLBACK"):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS and arg2 is None:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def require_database(path: str | os.PathLike) -> Path:
    """Refuse ``path`` unless it is an existing, non-empty file that starts like an SQLite
    database; returns it as a :class:`~pathlib.Path`. Nothing is created or changed.

    Raises :class:`~rapportkit.errors.StoreError` with a sentence saying what to do: no
    file there, a folder, an empty file, a file that is not a database, or one you may
    not read.
    """
    path = Path(path)
    if not _inspect(path):
        raise StoreError(
            f"there is no database at {path}: check the path given by --db or RAPPORTKIT_DB, or create one "
            f"with `rapportkit init --db {path}` (or `rapportkit demo --db {path}` for the demo team)"
        )
    if path.stat().st_size == 0:
        raise StoreError(
            f"{path} is empty (0 bytes) and holds no records: restore it from a backup (see `rapportkit "
            f"backup`), or create a new database there with `rapportkit init --db {path}`"
        )
    return path


def _inspect(path: Path) -> bool:
    """Whether ``path`` exists; raises StoreError for a folder, a file that is not an SQLite
    database (judged by its 16-byte header, when it is not empty), or one that cannot be read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise explain(exc, path, database=True, writing=False) or exc from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(folder_not_database(path))
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(damaged(path))
    if st.st_size:
        try:
            with open(path, "rb") as fh:
                header = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise explain(exc, path, database=True, writing=False) or exc from None
        if header != SQLITE_HEADER:
            raise StoreError(damaged(path))
    return True


def _immutable(path: Path) -> bool:
    """True for a database on a read-only filesystem with no write-ahead log beside it: no
    one can change it, so SQLite may read it without creating the ``-shm`` file it
    otherwise needs (and cannot create there)."""
    try:
        readonly_fs = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        wal = path.with_name(path.name + "-wal")
        return readonly_fs and (not wal.exists() or wal.stat().st_size == 0)
    except OSError:
        return False


def database_path(conn: sqlite3.Connection) -> Path | None:
    """The file behind ``conn`` (None for an in-memory database)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else None


def connect(path: str | os.PathLike, *, readonly: bool = False, mounts_file: str | None = None) -> sqlite3.Connection:
    """Open the database at ``path`` with rapportkit's settings.

    Parameters
    ----------
    path
        The SQLite file. A writable connection creates it (owner-only, and its folder,
        0700) if absent; a read-only one requires a non-empty database file and creates
        nothing. Either refuses a folder or a file that is not a database up front.
    readonly
        Refuse every write at the database level.
    mounts_file
        Where to read the mount table (default ``/proc/self/mounts``).

    Raises
    ------
    StoreError
        With a sentence saying what to do (see :func:`rapportkit.files.explain`).
    """
    path = Path(path)
    if readonly:
        require_database(path)
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        if _immutable(path):
            uri += "&immutable=1"
        conn = None
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            conn.execute("PRAGMA query_only = 1")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema: damaged?
            conn.set_authorizer(_readonly_authorizer)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise explain(exc, path, database=True, writing=False) or exc from None
        return conn

    fs = network_filesystem(path, mounts_file)
    if fs:
        raise NetworkFilesystemError(
            f"{path} is on a network filesystem ({fs}). SQLite cannot lock files safely there, "
            "so records could be lost or corrupted. Keep the database on a local disk "
            "(set RAPPORTKIT_DB or --db to a local path), or ask for the PostgreSQL backend."
        )
    created = False
    if not _inspect(path):
        try:
            make_dirs(path.parent)
            # supervision records: owner only (the -wal and -shm files SQLite adds take this mode)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
            created = True
        except FileExistsError:
            pass  # another process created it meanwhile
        except OSError as exc:
            raise explain(exc, path, database=True, writing=True) or exc from None
    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"could not switch {path} to WAL journaling (got {mode}); is the folder writable?")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema: damaged?
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if created:  # leave nothing behind that we made
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        if isinstance(exc, sqlite3.DatabaseError):
            raise explain(exc, path, database=True) or exc from None
        raise
    return conn


def backup_to(conn: sqlite3.Connection, dest: str | os.PathLike) -> Path:
    """Copy the database behind ``conn`` to the new file ``dest`` with SQLite's online
    backup (safe while others write), verified, owner-only; returns ``dest``.

    The copy is made in a temporary file beside ``dest``, checked with ``PRAGMA
    quick_check``, switched to a rollback journal (a single self-contained file: opening
    it creates no ``-wal``/``-shm`` beside it; rapportkit turns WAL back on when the copy
    is opened for writing) and only then moved to ``dest``. ``dest`` is never overwritten;
    if anything fails, nothing is left behind.
    """
    dest = Path(dest)
    source = database_path(conn)
    with atomic_path(dest, replace=False, companions=("-journal", "-wal", "-shm")) as tmp:
        target = None
        try:
            target = sqlite3.connect(str(tmp), isolation_level=None)
            conn.backup(target)
            verdict = [r[0] for r in target.execute("PRAGMA quick_check")]
            target.execute("PRAGMA journal_mode = DELETE").fetchone()
        except sqlite3.DatabaseError as exc:
            code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
            blame = source if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) and source else dest
            raise explain(exc, blame, database=blame == source) or exc from None
        finally:
            if target is not None:
                target.close()
        if verdict != ["ok"]:
            raise StoreError(
                f"the copy for {dest} did not verify ({verdict[0]}); nothing was written. Check the database "
                f"with `rapportkit check --db {source}`"
            )
    return dest


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE … COMMIT``: all or nothing, with the write lock taken up front.

    A full disk, a read-only file, an I/O error or a damaged file becomes a
    :class:`~rapportkit.errors.StoreError` saying so (after the rollback); any other
    error passes through unchanged.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        raise _failure(conn, exc) from None
    try:
        yield conn
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        if conn.in_transaction:  # some errors (RAISE(ROLLBACK), SQLITE_FULL) already rolled back
            with contextlib.suppress(sqlite3.DatabaseError):
                conn.execute("ROLLBACK")
        problem = _failure(conn, exc)
        if problem is exc:
            raise
        raise problem from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _failure(conn: sqlite3.Connection, exc: sqlite3.DatabaseError) -> BaseException:
    """The error to raise for ``exc``: a sentence, or ``exc`` itself if it is not a failure
    of the file or the disk."""
    if _is_readonly_error(exc) and _opened_readonly(conn):
        return ReadOnlyError("this store is read-only; nothing was written")
    try:
        path = database_path(conn)
    except sqlite3.DatabaseError:
        path = None
    return explain(exc, path, database=True) or exc


def _opened_readonly(conn: sqlite3.Connection) -> bool:
    """True for a connection :func:`connect` opened with ``readonly=True``."""
    try:
        return bool(conn.execute("PRAGMA query_only").fetchone()[0])
    except sqlite3.DatabaseError:  # the read-only authorizer refuses even asking
        return True


def _is_readonly_error(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "not authorized" in text or "query_only" in text
