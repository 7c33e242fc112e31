"""Every failure is a message; every file is its owner's.

The real command in a real process, on real filesystems: a small tmpfs that is filled
up (disk full) or remounted read-only, a database that the unprivileged user ``nobody``
may read but not write (root ignores permission bits, so that case runs as ``nobody``),
damaged database files, folders where a file is expected, missing files, and umasks.

Each failure must end in exit status 2 with one line on stderr saying what is wrong and
what to do — no traceback —, leave the database exactly as it was, leave no file behind
(no 0-byte backup, no temporary file), and a retry once the cause is gone must work.
Everything rapportkit writes must be ``0600`` (less what a stricter umask takes away),
and the folders it makes for its output ``0700``.

Needs root for the tmpfs mounts and ``runuser``; those tests skip elsewhere.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from rapportkit import files, migrations
from rapportkit.errors import FileWriteError, ReadOnlyError, StoreError
from rapportkit.model import Person
from rapportkit.store import Store

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "rapportkit.cli"]

FULL = "the disk is full"
READ_ONLY = "read-only"
DAMAGED = "is not a rapportkit database or is damaged"
FOLDER = "is a folder, not a database file"
MISSING = "there is no database at"
EMPTY = "is empty (0 bytes)"


# ----------------------------------------------------------------------------- helpers


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORTKIT_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run(*args: str | Path, cwd: Path | None = None, umask: int | None = None, env: dict | None = None,
        ) -> subprocess.CompletedProcess:
    """``rapportkit ARGS`` in a new process (in ``cwd``, under ``umask`` if given)."""
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd or ROOT,
        env=env or _env(), preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def ok(*args: str | Path, **kw) -> subprocess.CompletedProcess:
    proc = run(*args, **kw)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def refused(proc: subprocess.CompletedProcess, phrase: str) -> str:
    """Assert exit 2 with one line on stderr holding ``phrase`` and no traceback; return it.
    (``report --team`` may print its progress bar lines before it.)"""
    err = proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {err}"
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = [line for line in err.strip().splitlines() if not line.startswith("[#")]
    assert len(lines) == 1, err
    assert phrase in lines[0], err
    assert lines[0].startswith("rapportkit "), err
    return lines[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def names(folder: Path) -> list[str]:
    """Everything in ``folder``, hidden files included, sorted."""
    return sorted(p.name for p in folder.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def first_review(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)  # creates no -shm
    try:
        return conn.execute("SELECT review_id FROM reviews ORDER BY review_id LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill the filesystem at ``disk`` with one file, to the last byte or leaving about
    ``leave`` bytes free; returns the file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        if leave:
            os.write(fd, b"\0" * max(0, shutil.disk_usage(disk).free - leave))
        else:
            for chunk in (1 << 16, 1 << 12, 1 << 9, 1):
                while True:
                    try:
                        os.write(fd, b"\0" * chunk)
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC
                        break
    finally:
        os.close(fd)
    return filler


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A small demo database (2 specialists, 2 months), closed; never written by tests."""
    db = tmp_path_factory.mktemp("failures") / "demo.db"
    ok("demo", "--db", db, "--specialists", "2", "--months", "2")
    return db


@pytest.fixture(scope="module")
def export_csv(demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "reviews.csv"
    ok("export", "--db", demo, "--out", out)
    return out


@pytest.fixture
def copy_of(demo, tmp_path):
    def make(where: Path | None = None, name: str = "rk.db") -> Path:
        dest = (where or tmp_path) / name
        shutil.copyfile(demo, dest)
        os.chmod(dest, 0o600)
        return dest

    return make


class Disks:
    """Small tmpfs filesystems, unmounted when the test ends."""

    def __init__(self, base: Path):
        self.base, self.mounted = base, []

    def new(self, size: str = "2m", name: str = "disk") -> Path:
        where = self.base / name
        where.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode}); needs root")
        self.mounted.append(where)
        return where

    @staticmethod
    def remount(where: Path, how: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{how}", str(where)], check=True, capture_output=True)

    def close(self) -> None:
        for where in reversed(self.mounted):
            if subprocess.run(["umount", str(where)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def disks(tmp_path):
    d = Disks(tmp_path)
    try:
        yield d
    finally:
        d.close()


# ============================================================================ disk full


@pytest.mark.parametrize("leave", [0, 48 * 1024], ids=["no-byte-free", "a-little-free"])
def test_import_on_a_full_disk_changes_nothing_and_works_once_there_is_room(disks, export_csv, leave):
    disk = disks.new("2m")
    db = disk / "rk.db"
    ok("init", "--db", db)
    before, filler = sha256(db), fill(disk, leave)
    line = refused(run("import", "--db", db, export_csv), FULL)
    assert str(db) in line and "free some space" in line and "nothing was written" in line
    assert sha256(db) == before
    # nothing else: SQLite's own -wal/-shm may stay (it recovers them on the next open)
    assert set(names(disk)) <= {"filler", "rk.db", "rk.db-wal", "rk.db-shm"}
    filler.unlink()
    assert "record(s) added" in ok("import", "--db", db, export_csv).stdout
    assert "audit chain intact" in ok("check", "--db", db).stdout


def test_backup_on_a_full_disk_leaves_no_file_so_the_retry_works(disks, demo):
    disk = disks.new("2m")
    filler = fill(disk)
    out = disk / "rk-backup.db"
    line = refused(run("backup", "--db", demo, "--out", out), FULL)
    assert str(out) in line
    assert names(disk) == ["filler"]  # no 0-byte backup, no temporary file
    filler.unlink()
    assert "verified" in ok("backup", "--db", demo, "--out", out).stdout
    assert names(disk) == ["rk-backup.db"]  # a single self-contained file: no -wal/-shm beside it
    assert mode(out) == 0o600
    ok("check", "--db", out)


def test_a_copy_that_does_not_verify_is_not_kept(tmp_path):
    """backup_to checks the copy (PRAGMA quick_check) before it takes the backup's name."""
    from rapportkit.db import backup_to

    odd = tmp_path / "odd.db"
    conn = sqlite3.connect(odd)
    conn.execute("CREATE TABLE t (a)")
    conn.execute("INSERT INTO t VALUES (NULL)")
    conn.commit()
    conn.execute("PRAGMA writable_schema = ON")  # now the column claims NOT NULL: quick_check objects
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE t (a NOT NULL)' WHERE name = 't'")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(odd)
    try:
        with pytest.raises(StoreError, match="did not verify"):
            backup_to(conn, tmp_path / "copies" / "odd-copy.db")
    finally:
        conn.close()
    assert names(tmp_path) == ["odd.db"]  # no copy, no temporary file, no copies/ folder


@pytest.mark.parametrize("leave", [0, 64 * 1024], ids=["no-byte-free", "a-little-free"])
def test_backup_to_the_default_folder_on_a_full_disk(disks, copy_of, leave):
    disk = disks.new("2m")
    db = copy_of(disk)
    before, filler = sha256(db), fill(disk, leave)
    refused(run("backup", "--db", db), FULL)
    assert sha256(db) == before
    # no backups/ folder, no 0-byte copy, no temporary file; SQLite's -wal/-shm may stay
    assert set(names(disk)) <= {"filler", "rk.db", "rk.db-wal", "rk.db-shm"}
    filler.unlink()
    ok("backup", "--db", db)
    (copy,) = (disk / "backups").iterdir()
    assert mode(copy) == 0o600 and mode(disk / "backups") == 0o700


EXPORTS = [("reviews.csv",), ("reviews.json",), ("programme.xlsx",), ("share.csv", "--deidentified"),
           ("share.xlsx", "--deidentified")]


@pytest.mark.parametrize("name_and_flags", EXPORTS, ids=[e[0] + "".join(e[1:]) for e in EXPORTS])
def test_export_on_a_full_disk_leaves_no_file(disks, demo, name_and_flags):
    name, *flags = name_and_flags
    disk = disks.new("2m")
    filler = fill(disk)
    out = disk / name
    line = refused(run("export", "--db", demo, "--out", out, *flags), FULL)
    assert str(out) in line and "free some space" in line
    assert names(disk) == ["filler"]
    filler.unlink()
    ok("export", "--db", demo, "--out", out, *flags)
    assert names(disk) == [name] and mode(out) == 0o600


@pytest.mark.parametrize("which", ["review", "team"])  # a summary is what --team writes
def test_report_on_a_full_disk_leaves_no_file(disks, demo, which):
    disk = disks.new("2m")
    filler = fill(disk)
    out = disk / ("reports" if which == "team" else "record.pdf")
    args = {"review": ["--review", first_review(demo)], "specialist": ["--specialist", "sp-01"],
            "team": ["--team"]}[which]
    refused(run("report", "--db", demo, *args, "--out", out), FULL)
    assert names(disk) == ["filler"]  # no PDF, no temporary file, no half-made team folder
    filler.unlink()
    ok("report", "--db", demo, *args, "--out", out)
    written = sorted(out.iterdir()) if which == "team" else [out]
    assert written and all(mode(p) == 0o600 for p in written)
    if which == "team":
        assert [p.name for p in written] == ["sp-01.pdf", "sp-02.pdf"] and mode(out) == 0o700


def test_a_team_report_that_fails_part_way_removes_what_it_wrote(disks, demo):
    disk = disks.new("2m")
    out = disk / "reports"
    ok("report", "--db", demo, "--team", "--out", out)  # how much room two reports take
    room = sum(p.stat().st_size for p in out.iterdir())
    shutil.rmtree(out)
    filler = fill(disk)
    filler.unlink()
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)  # leave room for about one report
    try:
        free = shutil.disk_usage(disk).free
        os.write(fd, b"\0" * max(0, free - room * 2 // 3))
    finally:
        os.close(fd)
    line = refused(run("report", "--db", demo, "--team", "--out", out), FULL)
    assert "sp-02.pdf" in line  # the first report was written, the second did not fit
    assert names(disk) == ["filler"]  # and the first one was taken away again


def test_the_store_says_the_disk_is_full_in_words(disks, copy_of):
    """db.transaction itself turns SQLITE_FULL into a StoreError (not only the command line)."""
    disk = disks.new("2m")
    db = copy_of(disk)
    before = sha256(db)
    with Store(db, actor="tester") as store:
        fill(disk)
        with pytest.raises(StoreError, match=FULL) as err:
            store.save_many(people=[Person(f"sp-x{i}", f"Fenna Quickthorn {i}", "specialist", supervisor_id=None)
                                    for i in range(3000)])
        assert str(db) in str(err.value)
        assert not isinstance(err.value, sqlite3.Error)
        assert store.counts()["people"] == 4
    assert sha256(db) == before


# ============================================================================ read-only


def test_import_into_a_database_on_a_read_only_filesystem(disks, copy_of, export_csv):
    disk = disks.new("2m")
    db = copy_of(disk)
    before = sha256(db)
    disks.remount(disk, "ro")
    line = refused(run("import", "--db", db, export_csv), READ_ONLY)
    assert str(db) in line and "read-only filesystem" in line and "nothing was written" in line
    with pytest.raises(ReadOnlyError, match="read-only filesystem"):  # the store itself says so
        with Store(db, actor="tester") as store:
            store.save_person(Person("sp-x", "Fenna Quickthorn", "specialist"))
    assert sha256(db) == before and names(disk) == ["rk.db"]
    # reading still works there, and creates nothing
    assert "audit chain intact" in ok("check", "--db", db).stdout
    ok("export", "--db", db, "--out", disk.parent / "from-ro.csv")
    assert names(disk) == ["rk.db"]
    disks.remount(disk, "rw")
    assert "added or changed" in ok("import", "--db", db, export_csv).stdout


def test_writing_an_export_to_a_read_only_filesystem(disks, demo):
    disk = disks.new("1m")
    disks.remount(disk, "ro")
    refused(run("export", "--db", demo, "--out", disk / "x.csv"), "read-only filesystem")
    refused(run("backup", "--db", demo, "--out", disk / "x.db"), "read-only filesystem")
    assert names(disk) == []


def _nobody_python() -> list[str]:
    """An interpreter the user ``nobody`` may run that imports this rapportkit, or skip."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to run rapportkit as another user")
    for exe in (sys.executable, shutil.which("python3.11"), shutil.which("python3"), "/usr/bin/python3"):
        if not exe:
            continue
        cmd = ["runuser", "-u", "nobody", "--", "env", f"PYTHONPATH={ROOT}", "PYTHONDONTWRITEBYTECODE=1", exe]
        probe = subprocess.run([*cmd, "-c", "import rapportkit.cli, rapportkit.transfer, rapportkit.store"],
                               capture_output=True, cwd="/", timeout=60)
        if probe.returncode == 0:
            return cmd
    pytest.skip("no Python that the user nobody may run imports rapportkit")


@pytest.fixture
def shared(demo, export_csv):
    """A folder in /tmp that ``nobody`` may enter (pytest's own are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="rk-nobody-", dir="/tmp"))
    try:
        os.chmod(folder, 0o755)
        shutil.copyfile(export_csv, folder / "reviews.csv")
        os.chmod(folder / "reviews.csv", 0o644)
        yield folder
    finally:
        shutil.rmtree(folder)


def test_import_into_a_database_that_is_read_only_for_you(shared, demo):
    python = _nobody_python()
    db = shared / "rk.db"
    shutil.copyfile(demo, db)
    os.chmod(db, 0o644)  # root's file, readable by all, writable by root only
    before = sha256(db)
    proc = subprocess.run([*python, "-m", "rapportkit.cli", "import", "--db", str(db), str(shared / "reviews.csv")],
                          capture_output=True, text=True, cwd=shared, timeout=120)
    line = refused(proc, "read-only for you")
    assert str(db) in line and "nothing was written" in line
    assert sha256(db) == before
    assert names(shared) == ["reviews.csv", "rk.db"]
    os.chmod(db, 0o600)  # not even readable for nobody now
    proc = subprocess.run([*python, "-m", "rapportkit.cli", "check", "--db", str(db)],
                          capture_output=True, text=True, cwd=shared, timeout=120)
    refused(proc, "no permission to read it")
    assert sha256(db) == before
    # once nobody may write the file and its folder (for -wal and -shm), the import goes in
    os.chmod(db, 0o666)
    os.chmod(shared, 0o777)
    proc = subprocess.run([*python, "-m", "rapportkit.cli", "import", "--db", str(db), str(shared / "reviews.csv")],
                          capture_output=True, text=True, cwd=shared, timeout=120)
    assert proc.returncode == 0 and "record(s) added or changed" in proc.stdout, proc.stderr


# ============================================================================ damaged, folders, missing


def _damage(kind: str, good: Path, dest: Path) -> Path:
    data = good.read_bytes()
    n, noise = len(data), random.Random(kind).randbytes
    dest.write_bytes({
        "truncated": data[: n // 2],
        "random": noise(n),
        "zeros": bytes(n),
        # the header and the schema intact, the last quarter's pages (records) overwritten:
        # SQLite opens it, and finds out only when the records are read
        "corrupt-pages": data[: n * 3 // 4 // 4096 * 4096] + noise(n - n * 3 // 4 // 4096 * 4096),
    }[kind])
    return dest


COMMANDS = {
    "check": [],
    "export": ["--out", "{out}/x.csv"],
    "backup": ["--out", "{out}/x.db"],
    "report": ["--specialist", "sp-01", "--out", "{out}/x.pdf"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["truncated", "random", "zeros", "corrupt-pages"])
def test_a_damaged_database_is_named_and_left_as_it_is(tmp_path, demo, kind, command):
    db = _damage(kind, demo, tmp_path / "rk.db")
    before = sha256(db)
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(out=out) for a in COMMANDS[command]]
    line = refused(run(command, "--db", db, *args), DAMAGED)
    assert str(db) in line and "restore it from a backup" in line.lower()
    assert sha256(db) == before
    assert names(out) == []  # no output, no temporary file
    if kind in ("random", "zeros"):  # refused from its first 16 bytes, before SQLite opens it
        assert names(tmp_path) == ["out", "rk.db"]
    else:  # nothing but SQLite's own -wal/-shm may appear beside the damaged file
        assert set(names(tmp_path)) <= {"rk.db", "rk.db-wal", "rk.db-shm", "out"}


@pytest.mark.parametrize("command", [*COMMANDS, "import", "init"])
@pytest.mark.parametrize("how", ["--db", "RAPPORTKIT_DB"])
def test_a_database_path_that_is_a_folder(tmp_path, export_csv, command, how):
    folder = tmp_path / "data"
    folder.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(out=out) for a in COMMANDS.get(command, [])] + ([str(export_csv)] if command == "import" else [])
    if how == "--db":
        proc = run(command, "--db", folder, *args)
    else:
        proc = run(command, *args, env=_env(RAPPORTKIT_DB=str(folder)))
    line = refused(proc, FOLDER)
    assert str(folder) in line
    assert names(folder) == [] and names(out) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_read_command_never_creates_a_database(tmp_path, command):
    missing = tmp_path / "mistyped.db"
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(out=out) for a in COMMANDS[command]]
    line = refused(run(command, "--db", missing, *args), MISSING)
    assert str(missing) in line and "rapportkit init" in line
    assert names(tmp_path) == ["out"] and names(out) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_database_file_is_refused(tmp_path, command):
    empty = tmp_path / "rk.db"
    empty.touch()
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(out=out) for a in COMMANDS[command]]
    refused(run(command, "--db", empty, *args), EMPTY)
    assert empty.stat().st_size == 0
    assert names(tmp_path) == ["out", "rk.db"] and names(out) == []


@pytest.mark.parametrize("command", ["init", "import", "demo"])
def test_a_small_file_that_is_not_a_database_is_never_overwritten(tmp_path, export_csv, command):
    """SQLite takes a file shorter than one page for an empty database and would write a
    new one over it; rapportkit reads its first 16 bytes first."""
    notes = tmp_path / "notes.db"
    notes.write_text("my own notes, not a database\n")
    args = {"init": [], "import": [str(export_csv)], "demo": ["--specialists", "2", "--months", "2"]}[command]
    refused(run(command, "--db", notes, *args), DAMAGED)
    assert notes.read_text() == "my own notes, not a database\n"
    assert names(tmp_path) == ["notes.db"]


def test_require_database_judges_a_file_by_its_header_without_opening_it(tmp_path, demo):
    from rapportkit.db import require_database

    for kind in ("random", "zeros"):
        bad = _damage(kind, demo, tmp_path / f"{kind}.db")
        with pytest.raises(StoreError, match="is damaged"):
            require_database(bad)
    text = tmp_path / "notes.db"
    text.write_text("SQLite format 2 (not really)")
    with pytest.raises(StoreError, match="is damaged"):
        require_database(text)
    assert require_database(demo) == demo
    assert sorted(names(tmp_path)) == ["notes.db", "random.db", "zeros.db"]


def test_check_of_a_mistyped_path_does_not_say_ok(tmp_path, demo):
    proc = run("check", "--db", tmp_path / "rapportkit.db.typo")
    refused(proc, MISSING)
    assert "ok" not in proc.stdout
    assert names(tmp_path) == []


# ============================================================================ one place, and bugs still show


def test_the_translation_lets_programming_errors_through(tmp_path):
    path = tmp_path / "rk.db"
    assert files.explain(sqlite3.ProgrammingError("Cannot operate on a closed database."), path) is None
    assert files.explain(sqlite3.InterfaceError("bad parameter"), path) is None
    assert files.explain(OSError("no errno: not from the operating system"), path) is None
    assert files.explain(ValueError("a bug"), path) is None
    full = files.explain(OSError(errno.ENOSPC, "No space left on device"), path)
    assert isinstance(full, OSError) and FULL in str(full) and str(path) in str(full)
    conn = sqlite3.connect(":memory:")
    try:
        with pytest.raises(sqlite3.OperationalError) as syntax:
            conn.execute("SELEKT 1")
    finally:
        conn.close()
    assert files.explain(syntax.value, path, database=True) is None


# ============================================================================ owner-only files


MODES_SCRIPT = textwrap.dedent("""
    import json, os, stat, sys
    from rapportkit.store import Store
    from rapportkit.model import Person
    path = sys.argv[1]
    with Store(path, actor="t") as s:
        s.save_person(Person("sv-9", "Fenna Quickthorn", "supervisor"))
        print(json.dumps({n: stat.S_IMODE(os.stat(path + n).st_mode) for n in ("", "-wal", "-shm")}))
""")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o277], ids=["umask022", "umask077", "umask277"])
def test_every_file_rapportkit_writes_is_owner_only(tmp_path, demo, umask):
    want_file, want_dir = 0o600 & ~umask, 0o700 & ~umask
    work = tmp_path / "work"
    work.mkdir()
    db = work / "data" / "rk.db"
    ok("demo", "--db", db, "--specialists", "2", "--months", "2", umask=umask)
    # an older schema, so that opening it migrates and takes a .bak first
    old = work / "old.db"
    conn = sqlite3.connect(old)
    migrations.migrate(conn, old, upto=1)
    conn.close()
    os.chmod(old, want_file)  # the test made this one; rapportkit makes its .bak
    ok("init", "--db", old, umask=umask)
    review = first_review(db)
    steps = [
        ("backup", "--db", db),
        ("backup", "--db", db, "--out", work / "copies" / "copy.db"),
        ("export", "--db", db, "--out", work / "out" / "reviews.csv"),
        ("export", "--db", db, "--out", work / "out" / "reviews.json"),
        ("export", "--db", db, "--out", work / "out" / "programme.xlsx"),
        ("export", "--db", db, "--out", work / "out" / "share.csv", "--deidentified"),
        ("export", "--db", db, "--out", work / "out" / "share.xlsx", "--deidentified"),
        ("report", "--db", db, "--review", review, "--out", work / "out" / "record.pdf"),
        ("report", "--db", db, "--specialist", "sp-01", "--out", work / "out" / "sp-01.pdf"),
        ("report", "--db", db, "--team", "--out", work / "team"),
    ]
    for args in steps:
        ok(*args, umask=umask)
    proc = subprocess.run([sys.executable, "-c", MODES_SCRIPT, str(db)], capture_output=True, text=True,
                          env=_env(), cwd=tmp_path, preexec_fn=lambda: os.umask(umask), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"": want_file, "-wal": want_file, "-shm": want_file}

    written = {p.relative_to(work).as_posix(): mode(p) for p in work.rglob("*") if p.is_file()}
    kinds = {
        "database": "data/rk.db", "backup (default folder)": "data/backups/", "backup --out": "copies/copy.db",
        "migration backup": "old.db.v1-", "csv": "out/reviews.csv", "json": "out/reviews.json",
        "xlsx": "out/programme.xlsx", "de-identified csv": "out/share.csv", "de-identified xlsx": "out/share.xlsx",
        "review pdf": "out/record.pdf", "summary pdf": "out/sp-01.pdf", "team pdfs": "team/sp-0",
    }
    for kind, prefix in kinds.items():
        assert any(name.startswith(prefix) for name in written), f"no {kind} was written: {sorted(written)}"
    assert {name: m for name, m in written.items() if m != want_file} == {}, f"umask {umask:o}"
    folders = {p.relative_to(work).as_posix(): mode(p) for p in work.rglob("*") if p.is_dir()}
    assert set(folders) == {"data", "data/backups", "copies", "out", "team"}
    assert {name: m for name, m in folders.items() if m != want_dir} == {}, f"umask {umask:o}"


def test_atomic_write_creates_owner_only_files_and_cleans_up(tmp_path):
    out = tmp_path / "deep" / "x.txt"
    with files.atomic_write(out) as fh:
        fh.write("hello")
        assert not out.exists()  # the content is not there until it is whole
    assert out.read_text() == "hello" and mode(out) == 0o600 and mode(out.parent) == 0o700
    with pytest.raises(RuntimeError):
        with files.atomic_write(out) as fh:
            fh.write("half")
            raise RuntimeError("a bug half-way")
    assert out.read_text() == "hello" and names(out.parent) == ["x.txt"]
    with pytest.raises(FileWriteError, match="exists already"):
        with files.atomic_write(out, replace=False) as fh:
            fh.write("other")
    assert out.read_text() == "hello" and names(out.parent) == ["x.txt"]
