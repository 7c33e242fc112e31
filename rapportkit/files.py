"""Writing files: owner-only, whole or not at all, and every failure said in words.

Every file rapportkit writes goes through here:

- :func:`atomic_write` — an open file whose content appears at ``path`` only once it is
  complete: it is written to a temporary file beside ``path`` (created with ``O_EXCL``,
  mode ``0600`` less whatever a stricter umask takes away), flushed, fsynced and moved
  into place. On any failure the temporary file is removed and ``path`` is left as it was.
- :func:`atomic_path` — the same for a writer that insists on opening the file itself
  (SQLite's online backup): it gets the path of the owner-only temporary file.
- :func:`make_dirs` — folders rapportkit creates for its output are ``0700``.
- :func:`explain` — the one place where an :class:`OSError` or a
  :class:`sqlite3.DatabaseError` becomes a sentence saying what is wrong and what to do
  (the disk is full, the file is read-only, the database is damaged, …).

A leaf module: the standard library and :mod:`rapportkit.errors` only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import FileWriteError, RapportkitError, ReadOnlyError, StoreError

__all__ = ["atomic_write", "atomic_path", "make_dirs", "explain", "damaged", "folder_not_database",
           "FILE_MODE", "DIR_MODE"]

FILE_MODE = 0o600  # owner only; the umask may take more away, never add
DIR_MODE = 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BUSY_WAIT_S = 30


# ----------------------------------------------------------------------------- writing


def make_dirs(folder: str | os.PathLike) -> list[Path]:
    """Create ``folder`` and any missing parents, each ``0700`` (less the umask); returns
    the folders made, outermost first.

    Folders that exist already are left as they are. Raises :class:`OSError`.
    """
    missing = []
    here = Path(folder)
    while not (here.exists() or here.is_symlink()) and here != here.parent:
        missing.append(here)
        here = here.parent
    made = []
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue
        made.append(path)
    return made


def _create_temp(path: Path, leftovers: list[Path]) -> tuple[Path, int]:
    """A new, empty, owner-only file beside ``path``; its path and an fd open for writing.
    The folders made for it are added to ``leftovers`` (innermost first)."""
    leftovers.extend(reversed(make_dirs(path.parent)))
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW | _CLOEXEC, FILE_MODE)
        except FileExistsError:
            continue
        return tmp, fd


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _move_into_place(tmp: Path, path: Path, replace: bool) -> None:
    if replace:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)  # fails if ``path`` exists: never overwrites, even in a race
        except FileExistsError:
            raise FileWriteError(f"{path} exists already; choose a new file name. Nothing was written.") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if path.exists():  # a filesystem without hard links: check, then rename
                raise FileWriteError(f"{path} exists already; choose a new file name. Nothing was written.") from None
            os.rename(tmp, path)
        else:
            tmp.unlink()
    _fsync_folder(path.parent)


def _fail(exc: BaseException, path: Path, leftovers: list[Path]) -> BaseException | None:
    """Remove ``leftovers`` (files, then the folders made for them if still empty); the
    sentence for ``exc`` if it is a file-system failure."""
    for left in sorted(leftovers, key=lambda p: p.is_dir()):
        with contextlib.suppress(OSError):
            left.rmdir() if left.is_dir() else left.unlink()
    if isinstance(exc, OSError) and not isinstance(exc, RapportkitError):
        return explain(exc, exc.filename if _is_other_file(exc, path, leftovers) else path, writing=True)
    return None


def _is_other_file(exc: OSError, path: Path, ours: list[Path]) -> bool:
    """True when the OSError names a file that is neither ``path``, nor one of our
    temporary files, nor a folder on the way to ``path``."""
    if not exc.filename:
        return False
    named = Path(os.fsdecode(exc.filename))
    temporary = named.parent == path.parent and named.name.startswith(f".{path.name}.")
    return not (temporary or named in (path, *ours) or named in path.parents)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, text: bool = True, replace: bool = True) -> Iterator[IO]:
    """Write ``path`` whole or not at all, readable by its owner only.

    Yields a file open for writing (text: UTF-8 with ``newline=""``; else binary). When
    the block ends normally the data is fsynced and moved to ``path`` (replacing a file
    there, unless ``replace=False``); if anything fails, ``path`` is untouched and no
    temporary file is left. A full disk, a read-only folder and the like are raised as
    :class:`~rapportkit.errors.FileWriteError` with a sentence saying what to do.
    """
    path = Path(path)
    leftovers: list[Path] = []
    try:
        tmp, fd = _create_temp(path, leftovers)
        leftovers.append(tmp)
        fh = os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _move_into_place(tmp, path, replace)
    except BaseException as exc:
        problem = _fail(exc, path, leftovers)
        if problem is None:
            raise
        raise problem from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, replace: bool = True,
                companions: tuple[str, ...] = ()) -> Iterator[Path]:
    """Like :func:`atomic_write`, for a writer that opens the file itself: yields the path
    of an empty owner-only temporary file beside ``path``. On failure the temporary file
    and its ``companions`` (suffixes, e.g. SQLite's ``-journal``) are removed."""
    path = Path(path)
    leftovers: list[Path] = []
    try:
        tmp, fd = _create_temp(path, leftovers)
        try:
            leftovers += [tmp, *(tmp.with_name(tmp.name + suffix) for suffix in companions)]
            # the mode the umask allows is the file's final mode; meanwhile the writer, which
            # opens the file by name, must be able to write it even under a umask such as 0277
            final_mode = stat.S_IMODE(os.fstat(fd).st_mode)
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
        yield tmp
        os.chmod(tmp, final_mode)
        fd = os.open(tmp, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _move_into_place(tmp, path, replace)
    except BaseException as exc:
        problem = _fail(exc, path, leftovers)
        if problem is None:
            raise
        raise problem from None


# ----------------------------------------------------------------------------- sentences


def _readonly_filesystem(path: Path) -> bool:
    here = path
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        return bool(os.statvfs(here).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _nearly_full(path: Path) -> bool:
    here = path
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        st = os.statvfs(here)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 1_000_000 or (st.f_files > 0 and st.f_favail == 0)


def _disk_full(path: Path, quota: bool = False, reading: bool = False) -> str:
    why = "your disk quota is used up" if quota else "the disk is full"
    if reading:  # SQLite needs a little room beside a WAL database even to read it
        return (f"cannot read {path}: {why}, and SQLite needs a little room beside it ({path.name}-shm) to "
                "read it: free some space and try again; nothing was written")
    return f"cannot write {path}: {why}: free some space and try again; nothing was written"


def _read_only(path: Path, database: bool) -> str:
    if _readonly_filesystem(path):
        fix = ("make that disk writable (or copy the database to a writable one and use --db)" if database
               else "choose a writable place for the file")
        return f"cannot write {path}: it is on a read-only filesystem: {fix}, then try again; nothing was written"
    if database and not path.exists():
        return (f"cannot create {path}: you have no permission to write in {path.parent}: choose another place "
                "with --db (or RAPPORTKIT_DB), or ask the folder's owner for access; nothing was written")
    if database:
        return (f"cannot write {path}: it is read-only for you (no permission to change the file or its folder): "
                "ask its owner for write access, or run rapportkit as the user who owns it; nothing was written")
    return (f"cannot write {path}: you have no permission to write in {path.parent}: "
            "choose another place for the file, or ask its owner for access; nothing was written")


def damaged(path: str | os.PathLike) -> str:
    """The sentence for a file that is not a rapportkit (SQLite) database, or a damaged one."""
    return (f"{path} is not a rapportkit database or is damaged; it was left as it is. Restore it from a "
            "backup (see `rapportkit backup`), or point --db (or RAPPORTKIT_DB) at the right file")


def folder_not_database(path: str | os.PathLike) -> str:
    return (f"{path} is a folder, not a database file: point --db (or RAPPORTKIT_DB) at a file, "
            f"such as {Path(path) / 'rapportkit.db'}")


def _cant_open(path: Path, reading: bool = True) -> tuple[str, bool]:
    """Why SQLite could not open ``path`` (to read it only, or to write too): the sentence,
    and whether it is about permission."""
    if path.is_dir():
        return folder_not_database(path), False
    if path.exists() and not os.access(path, os.R_OK):
        return _cant_read(path), True
    if not path.parent.is_dir():
        return f"cannot open {path}: there is no folder {path.parent}; check the path given by --db", False
    if reading and not os.access(path.parent, os.W_OK | os.X_OK):
        return (f"cannot read {path}: SQLite must create {path.name}-shm beside it to read it safely, but its "
                f"folder {path.parent} is read-only for you: ask its owner for write access to the folder, "
                "or copy the database somewhere you may write and use --db"), True
    if _readonly_filesystem(path) or not os.access(path.parent, os.W_OK | os.X_OK):
        return _read_only(path, database=True), True
    return (f"cannot open {path}: SQLite needs to read it and to create {path.name}-wal and {path.name}-shm "
            "beside it; check the permissions of the file and its folder"), False


def _cant_read(path: Path) -> str:
    return (f"cannot read {path}: you have no permission to read it: ask its owner for access, "
            "or run rapportkit as the user who owns it")


def explain(exc: BaseException, path: str | os.PathLike | None, *, database: bool = False,
            writing: bool | None = None) -> RapportkitError | None:
    """The user's-eye error for a failure of the file system or of SQLite at ``path``.

    Returns a :class:`~rapportkit.errors.StoreError` (or its
    :class:`~rapportkit.errors.ReadOnlyError`) when ``database``, else a
    :class:`~rapportkit.errors.FileWriteError`, each with one sentence naming the file and
    saying what to do; or ``None`` when ``exc`` is not such a failure (a programming
    error, which the caller must let through).

    ``writing`` says what was being done to the file, when known (it picks the verb).
    """
    where = Path(os.fsdecode(path)) if path else Path("the file")
    text, permission = None, False
    if isinstance(exc, sqlite3.DatabaseError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return None
        code &= 0xFF
        if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _nearly_full(where)):
            text = _disk_full(where, reading=writing is False)
        elif code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
            text, permission = (_cant_open(where) if writing is False else (_read_only(where, database), True))
        elif code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            text = damaged(where)
        elif code == sqlite3.SQLITE_CANTOPEN:
            text, permission = _cant_open(where, reading=writing is False)
        elif code == sqlite3.SQLITE_IOERR:
            text = (f"cannot read or write {where}: the disk reported an input/output error: check the disk "
                    "and try again; nothing was written")
        elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            text = (f"{where} is locked by another program (waited {_BUSY_WAIT_S} s): try again when it has "
                    "finished; nothing was written")
        else:
            return None
    elif isinstance(exc, OSError) and not isinstance(exc, RapportkitError):
        if exc.errno is None:
            return None
        code = exc.errno
        if code == errno.ENOSPC:
            text = _disk_full(where)
        elif code == getattr(errno, "EDQUOT", -1):
            text = _disk_full(where, quota=True)
        elif code == errno.EROFS:
            text, permission = _read_only(where, database), True
        elif code in (errno.EACCES, errno.EPERM):
            permission = True
            if writing is None and not database:
                text = (f"cannot use {where}: permission denied: ask its owner for access, or run rapportkit "
                        "as the user who owns it")
            else:
                text = _cant_read(where) if writing is False else _read_only(where, database)
        elif code == errno.EISDIR:
            text = (folder_not_database(where) if database else
                    f"cannot write {where}: it is a folder: give the name of a file instead; nothing was written")
        elif code == errno.EIO:
            text = (f"cannot read or write {where}: the disk reported an input/output error: check the disk "
                    "and try again; nothing was written")
        else:
            verb = {True: "write", False: "read", None: "use"}[writing]
            reason = (exc.strerror or str(exc)).rstrip(".")
            text = f"cannot {verb} {where}: {reason[:1].lower() + reason[1:]}: check the path and try again"
            if writing:
                text += "; nothing was written"
    else:
        return None
    if not database:
        return FileWriteError(text)
    return ReadOnlyError(text) if permission else StoreError(text)
