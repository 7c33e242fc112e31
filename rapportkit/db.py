"""SQLite connection set-up: the only SQLite-specific code besides the schema.

- Writers use WAL, ``synchronous=FULL`` (a committed review survives power loss), a
  busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every write transaction, so
  concurrent writers queue for the lock instead of failing half-way.
- Readers for dashboards (:func:`connect` with ``readonly=True``) are refused every
  write by SQLite itself: the file is opened ``mode=ro``, ``query_only`` is on, no
  database can be attached, and an authorizer allows nothing but reading.
- A writable database on a network filesystem (NFS, SMB/CIFS, …) is refused, because
  SQLite's file locking is not reliable there and records could be corrupted.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from .errors import NetworkFilesystemError, ReadOnlyError, StoreError

__all__ = ["connect", "transaction", "network_filesystem", "BUSY_TIMEOUT_S", "MOUNTS_FILE"]

BUSY_TIMEOUT_S = 30.0
MOUNTS_FILE = "/proc/self/mounts"

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


def connect(path: str | os.PathLike, *, readonly: bool = False, mounts_file: str | None = None) -> sqlite3.Connection:
    """Open the database at ``path`` with rapportkit's settings.

    Parameters
    ----------
    path
        The SQLite file. A writable connection creates it (and its folder) if absent; a
        read-only one requires it to exist and creates nothing.
    readonly
        Refuse every write at the database level.
    mounts_file
        Where to read the mount table (default ``/proc/self/mounts``).
    """
    path = Path(path)
    if readonly:
        if not path.is_file():
            raise StoreError(
                f"there is no database at {path}; create one with `rapportkit init --db {path}` "
                f"(or `rapportkit demo --db {path}` for the demo team)"
            )
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.execute("PRAGMA query_only = 1")
        conn.set_authorizer(_readonly_authorizer)
        return conn

    fs = network_filesystem(path, mounts_file)
    if fs:
        raise NetworkFilesystemError(
            f"{path} is on a network filesystem ({fs}). SQLite cannot lock files safely there, "
            "so records could be lost or corrupted. Keep the database on a local disk "
            "(set RAPPORTKIT_DB or --db to a local path), or ask for the PostgreSQL backend."
        )
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    if new:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)  # supervision records: owner only
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        conn.close()
        raise StoreError(f"could not switch {path} to WAL journaling (got {mode}); is the folder writable?")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE … COMMIT``: all or nothing, with the write lock taken up front."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        if _is_readonly_error(exc):
            raise ReadOnlyError("this store is read-only; nothing was written") from None
        raise
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # some errors (RAISE(ROLLBACK), SQLITE_FULL) already rolled back
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def _is_readonly_error(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "not authorized" in text or "query_only" in text
