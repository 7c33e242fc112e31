"""The ``rapportkit`` command.

Every subcommand takes ``--db PATH`` (default: ``$RAPPORTKIT_DB``, else
``data/rapportkit.db``). Mistakes a user can make print one clear message and exit 2,
and so do failures of the disk or of the database file (full, read-only, damaged, a
folder, missing); ``check`` exits 1 when the database does not verify. Read commands
(``check``, ``export``, ``backup``, ``report``, ``serve``) never create a database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, hub, roster
from .errors import ImportRejected, RapportkitError, StoreError
from .pg import is_url

__all__ = ["main"]

_DESCRIPTION = """\
rapportkit: supervision workbooks for peer-support programmes.

A peer specialist and their supervisor rate the same session against nine
rapport-building practices, compare, agree, set goals and sign the record;
trends and calibration follow over months.

Start here:
  rapportkit demo            make a database with a fictional demo team
  rapportkit lab             open the workbooks in JupyterLab (on this computer only)
  rapportkit check           verify the database and its audit trail
"""

_EPILOG = """\
The database is data/rapportkit.db unless you set RAPPORTKIT_DB or pass --db.
Use your own rubric with RAPPORTKIT_RUBRIC=path/to/rubric.toml or --rubric.
"""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH|URL",
                        help="the database file, or a team's PostgreSQL database as postgresql:///NAME?host=SOCKETDIR "
                             "(default: $RAPPORTKIT_DB or data/rapportkit.db)")
    common.add_argument("--rubric", metavar="FILE", help="a rubric TOML file (default: $RAPPORTKIT_RUBRIC or the built-in one)")

    parser = argparse.ArgumentParser(
        prog="rapportkit", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rapportkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("init", parents=[common], help="create an empty database (or migrate an older one)")

    demo = sub.add_parser("demo", parents=[common], help="add the fictional demo team to a database")
    demo.add_argument("--specialists", type=int, default=8, help="team size (default 8)")
    demo.add_argument("--months", type=int, default=18, help="months of history (default 18)")
    demo.add_argument("--reviews-per-month", default="1-3", metavar="MIN-MAX",
                      help="reviews per specialist per month (default 1-3)")
    demo.add_argument("--seed", type=int, default=2024, help="the same seed gives the same team")
    demo.add_argument("--if-empty", action="store_true", help="do nothing if the database already has people")

    imp = sub.add_parser("import", parents=[common], help="import reviews from a .csv or .json export (all or nothing)")
    imp.add_argument("file", help="the file to import")
    imp.add_argument("--update-people", action="store_true",
                     help="let the file rename people, change roles or supervisors, or (de)activate someone; "
                          "each change is listed and audited (without it such a file is refused)")
    imp.add_argument("--allow-identifiers", action="store_true",
                     help="let free text through that may identify someone, after you checked it is not about a "
                          "client; each finding is listed and recorded in the audit log")

    exp = sub.add_parser("export", parents=[common], help="export every review to .csv, .json or .xlsx")
    exp.add_argument("--out", required=True, metavar="FILE",
                     help="FILE.csv or FILE.json (re-importable), or FILE.xlsx (tables and summaries)")
    exp.add_argument("--specialist", metavar="ID", help="only this specialist's reviews (.csv/.json)")
    exp.add_argument("--deidentified", action="store_true",
                     help="for sharing outside the programme: months not dates, no free text, new codes for people")

    bak = sub.add_parser("backup", parents=[common], help="copy the database safely, even while it is in use")
    bak.add_argument("--out", metavar="FILE", help="where to write the copy (default: backups/rapportkit-<time>.db)")

    sub.add_parser("check", parents=[common], help="verify the file, the audit chain and every record; exit 1 on problems")

    rev = sub.add_parser("reviews", parents=[common], help="list reviews, one a line (id, date, specialist, supervisor, status)")
    rev.add_argument("--specialist", metavar="ID", help="only this specialist's reviews")
    rev.add_argument("--status", choices=("draft", "revealed", "agreed", "signed", "amended"),
                     help="only reviews whose latest revision has this status")

    amd = sub.add_parser("amend", parents=[common],
                         help="open the next revision of a signed review to correct it (both sign again)")
    amd.add_argument("review", metavar="REVIEW_ID", help="the signed review to correct (see `rapportkit reviews`)")
    amd.add_argument("--reason", required=True, help="why the record is corrected (kept with the new revision)")

    rep = sub.add_parser("report", parents=[common], help="print a review, or a specialist's period, as a PDF")
    which = rep.add_mutually_exclusive_group(required=True)
    which.add_argument("--review", metavar="ID", help="the supervision record of one review")
    which.add_argument("--specialist", metavar="ID", help="a summary of one specialist's reviews over a period")
    which.add_argument("--team", action="store_true", help="a summary for every specialist, one PDF each")
    rep.add_argument("--out", required=True, metavar="FILE.pdf|DIR",
                     help="the PDF to write (with --team: the folder to write them into; with --log: .pdf or .csv)")
    rep.add_argument("--log", action="store_true",
                     help="with --specialist: the supervision log for certification (each meeting's date, length, "
                          "kind, supervisor, signed or not; total hours)")
    rep.add_argument("--revision", type=int, metavar="N", help="with --review: an earlier revision (default: latest)")
    rep.add_argument("--since", metavar="DATE", help="first meeting date to include, e.g. 2026-01-01")
    rep.add_argument("--until", metavar="DATE", help="last meeting date to include, e.g. 2026-06-30")

    lab = sub.add_parser("lab", parents=[common], help="open the workbooks in JupyterLab on 127.0.0.1")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--workbooks", default=None, metavar="DIR",
                     help="folder the workbooks are copied from (default: ./workbooks)")
    lab.add_argument("--into", default=None, metavar="DIR",
                     help="your own copy of the workbooks, which JupyterLab opens; only missing ones are added, "
                          "yours are never overwritten (default: ./data/workbooks)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    serve = sub.add_parser("serve", parents=[common],
                           help="serve the read-only dashboards with Voilà (127.0.0.1 unless you give a token)")
    serve.add_argument("--port", type=int, default=8866)
    serve.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    serve.add_argument("--token", default=None, help="required for any address beyond 127.0.0.1")
    serve.add_argument("--dashboards", default=None, metavar="DIR",
                       help="folder of dashboard notebooks (default: ./workbooks/dashboards)")
    serve.add_argument("--no-preheat", action="store_true", help="start kernels on demand (slower first view)")
    serve.add_argument("--pool-size", type=int, default=1, metavar="N",
                       help="kernels kept ready per dashboard (default 1); size it to how many viewers open a "
                            "dashboard at once — each kernel holds the team's data in memory")
    roster.add_parsers(sub, common)
    hub.add_parsers(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "rubric", None):
        os.environ["RAPPORTKIT_RUBRIC"] = str(Path(args.rubric).resolve())
    if getattr(args, "db", None):
        os.environ["RAPPORTKIT_DB"] = args.db if is_url(args.db) else str(Path(args.db).resolve())
    try:
        return _COMMANDS[args.command](args)
    except RapportkitError as exc:
        print(f"rapportkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.DatabaseError, OSError) as exc:
        # the last resort for a failure of the disk or the database file that escaped the
        # places that translate them (a database damaged past its first pages, …); any
        # other error is a bug and keeps its traceback
        from .files import explain

        if isinstance(exc, sqlite3.DatabaseError):
            problem = explain(exc, _db_path(args), database=True)
        else:
            problem = explain(exc, exc.filename or _db_path(args))
        if problem is None:
            raise
        print(f"rapportkit {args.command}: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _db_path(args) -> Path | str:
    """The database a command uses: --db, else $RAPPORTKIT_DB, else data/rapportkit.db
    (a PostgreSQL URL stays a string)."""
    from .store import default_db_path

    db = getattr(args, "db", None)
    if db:
        return db if is_url(db) else Path(db)
    return default_db_path()


def _store(args, **kwargs):
    from .store import Store

    return Store(args.db, **kwargs)


def _init(args) -> int:
    with _store(args) as store:
        backup = getattr(store, "migration_backup", None)
        print(f"database ready: {store.location}" + (f" (backup of the older schema: {backup})" if backup else ""))
    return 0


def _demo(args) -> int:
    from .demo import load_demo

    try:
        low, high = (int(x) for x in args.reviews_per_month.split("-"))
        assert 0 < low <= high <= 20
    except (ValueError, AssertionError):
        print("rapportkit demo: --reviews-per-month must look like 1-3 (from 1 to 20)", file=sys.stderr)
        return 2
    with _store(args, actor="demo") as store:
        if args.if_empty and store.counts()["people"]:
            print(f"{store.location} already has a team; left as it is")
            return 0
        team = load_demo(store, seed=args.seed, specialists=args.specialists, months=args.months,
                         reviews_per_month=(low, high))
        print(f"demo team written to {store.location}: {len(team.people)} people, {len(team.reviews)} reviews")
    return 0


def _import(args) -> int:
    from .transfer import import_file

    with _store(args) as store:
        try:
            result = import_file(store, args.file, update_people=args.update_people,
                                 allow_identifiers=args.allow_identifiers)
        except ImportRejected as exc:
            # a failure of the database (disk full, read-only, …) is not the file's fault:
            # say it as it is, not as a problem to fix in the file
            if isinstance(exc.__context__, StoreError):
                raise exc.__context__ from None
            raise
        added = len(result.people_added)
        print(f"imported {args.file} into {store.path}: {result.changed} record(s) added or changed, "
              f"{added} new {'person' if added == 1 else 'people'} added to the team")
    if result.roster_changes:
        print("changed in the team (--update-people, recorded in the audit log):")
        for change in result.roster_changes:
            print(f"  - {change}")
    if result.allowed:
        print("possible identifiers let through (--allow-identifiers, recorded in the audit log):")
        for finding in result.allowed:
            print(f"  - {finding}")
    return 0


def _export(args) -> int:
    from .transfer import export_csv, export_json

    out = Path(args.out)
    suffix = out.suffix.lower()
    if args.deidentified or suffix == ".xlsx":
        from .exports import export_deidentified, export_xlsx

        with _store(args, readonly=True) as store:
            (export_deidentified if args.deidentified else export_xlsx)(store, out)
        print(f"wrote {out}" + (" (de-identified)" if args.deidentified else ""))
        return 0
    writer = {".csv": export_csv, ".json": export_json}.get(suffix)
    if writer is None:
        print("rapportkit export: --out must end in .csv, .json or .xlsx", file=sys.stderr)
        return 2
    with _store(args, readonly=True) as store:
        n = writer(store, out, specialist=args.specialist)
    print(f"wrote {out} ({n} {'rows' if out.suffix.lower() == '.csv' else 'reviews'})")
    return 0


def _backup(args) -> int:
    import datetime as dt

    with _store(args, readonly=True) as store:
        if store.team:
            store.backup(args.out or "")  # says how: pg_dump
        out = Path(args.out) if args.out else store.path.parent / "backups" / (
            f"rapportkit-{dt.datetime.now():%Y%m%d-%H%M%S}.db")
        store.backup(out)
    from .store import Store

    with Store(out, readonly=True) as copy:
        problems = copy.check()
    if problems:
        print(f"rapportkit backup: the copy at {out} did not verify:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"backup written and verified: {out}")
    return 0


def _check(args) -> int:
    from .db import require_database

    where = _db_path(args)
    if is_url(where):
        writable = True  # a team database is set up by `team init`; check never changes it
    else:
        # never create a database here: a mistyped --db must not come back "ok"
        path = require_database(where)
        # migrate (writable) when allowed; a database that is read-only for us is still checked
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    with _store(args, readonly=not writable) as store:
        problems = store.check()
        counts = store.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    if problems:
        print(f"{store.location}: {len(problems)} problem(s) ({summary}):")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"{store.location}: ok ({summary}; audit chain intact)")
    return 0


def _reviews(args) -> int:
    with _store(args, readonly=True) as store:
        names = {p.id: p.display_name for p in store.people()}
        shown = 0
        for review in store.reviews(args.specialist):
            if args.status and review.status.value != args.status:
                continue
            revision = f" (revision {review.revision})" if review.revision > 1 else ""
            print(f"{review.id}  {review.review_date.isoformat()}  {review.specialist_id} "
                  f"{names.get(review.specialist_id, '?')}  {review.supervisor_id} "
                  f"{names.get(review.supervisor_id, '?')}  {review.status.value}{revision}")
            shown += 1
    if not shown:
        print("no reviews match", file=sys.stderr)
    return 0


def _amend(args) -> int:
    from .model import amend

    with _store(args) as store:
        amended = amend(store.review(args.review), args.reason)
        store.save_review(amended)
    print(f"opened revision {amended.revision} of {amended.id} (amended: {amended.amend_reason}). Correct it in the "
          "meeting workbook; both of you sign again. Earlier revisions stay as they were.")
    return 0


def _report(args) -> int:
    from .report import progress_line, review_report, specialist_report, team_reports

    if args.review and (args.since or args.until):
        print("rapportkit report: --since and --until go with --specialist or --team, not --review", file=sys.stderr)
        return 2
    if args.revision is not None and not args.review:
        print("rapportkit report: --revision goes with --review", file=sys.stderr)
        return 2
    if args.log:
        return _supervision_log(args)
    with _store(args, readonly=True) as store:
        if args.review:
            out = review_report(store, args.review, args.out, revision=args.revision)
        elif args.specialist:
            out = specialist_report(store, args.specialist, args.out, since=args.since, until=args.until)
        else:
            live = sys.stderr.isatty()

            def show(done: int, total: int, name: str) -> None:
                line = progress_line(done, total, name)
                if live:  # redraw one line in a terminal; one line per report in a log
                    print(f"\r{line:<79}", end="\n" if done == total else "", file=sys.stderr, flush=True)
                else:
                    print(line, file=sys.stderr, flush=True)

            with _whole_folder(Path(args.out)):
                written = team_reports(store, args.out, since=args.since, until=args.until, progress=show)
            print(f"wrote {len(written)} reports to {args.out}")
            return 0
    print(f"wrote {out}")
    return 0


def _supervision_log(args) -> int:
    from .supervision_log import supervision_log, write_log

    if not args.specialist:
        print("rapportkit report: --log lists one specialist's meetings; give --specialist ID (see `rapportkit "
              "people list`)", file=sys.stderr)
        return 2
    with _store(args, readonly=True) as store:
        log = supervision_log(store, args.specialist, since=args.since, until=args.until)
    out = write_log(log, args.out)
    print(f"wrote {out}: {len(log.rows)} meetings, {log.signed_hours:.2f} hours signed "
          f"({log.all_hours:.2f} hours in all, {log.not_recorded} without a recorded length)")
    return 0


@contextlib.contextmanager
def _whole_folder(folder: Path):
    """A set of PDFs written into ``folder`` all or none: if writing fails part-way, the
    PDFs this run added are removed again (and the folder, if this run made it)."""
    made = not folder.exists()
    before = set(folder.iterdir()) if folder.is_dir() else set()
    try:
        yield
    except BaseException:
        if folder.is_dir():
            for added in set(folder.iterdir()) - before:
                if added.suffix.lower() == ".pdf" and added.is_file():
                    with contextlib.suppress(OSError):
                        added.unlink()
            if made:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty
        raise


def _lab(args) -> int:
    from .serve import SHARE
    from .ui.not_running import pre_save_hook

    workbooks = Path(args.workbooks) if args.workbooks else Path.cwd() / "workbooks"
    if not workbooks.is_dir():
        print(f"rapportkit lab: no workbooks folder at {workbooks}; pass --workbooks DIR", file=sys.stderr)
        return 2
    with _store(args) as store:  # create or migrate before anyone opens a notebook
        os.environ["RAPPORTKIT_DB"] = store.url or str(store.path.resolve())
    # the JupyterLab installed beside this Python first: `make run` calls .venv/bin/rapportkit
    # without activating the virtual environment, so PATH alone may not reach it
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("jupyter-lab", path=search) or shutil.which("jupyter", path=search)
    if exe is None:
        print("rapportkit lab: JupyterLab is not installed here (pip install jupyterlab)", file=sys.stderr)
        return 2
    # runs and edits go to the person's own copy, never to the tracked notebooks (whose
    # stored outputs the tests check, and which `git pull` updates)
    mine = Path(args.into) if args.into else Path.cwd() / "data" / "workbooks"
    added = lay_out_workbooks(workbooks, mine)
    cmd = [exe] + ([] if exe.endswith("jupyter-lab") else ["lab"]) + [
        "--ip=127.0.0.1", f"--port={args.port}", f"--ServerApp.root_dir={mine}",
        # nothing from the internet (locked-down networks): no news feed, no update check
        # against PyPI, and an extension manager that lists what is installed without
        # querying PyPI; the settings overrides answer "no" to JupyterLab's question about
        # news, so it never pops up
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", f"--LabApp.app_settings_dir={SHARE / 'lab' / 'settings'}",
        # a saved notebook holds a sentence where each form was, not a dangling widget
        f"--ContentsManager.pre_save_hook={pre_save_hook.__module__}.{pre_save_hook.__name__}",
    ]
    if args.no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    print(f"your workbooks: {mine}" + (f" ({len(added)} added from {workbooks})" if added else
                                       f" (yours are kept as they are; delete one to get it afresh from {workbooks})"))
    print(f"JupyterLab on http://127.0.0.1:{args.port}/ with {os.environ['RAPPORTKIT_DB']}")
    return subprocess.call(cmd)


def lay_out_workbooks(workbooks: Path, into: Path) -> list[Path]:
    """Copy the notebooks of ``workbooks`` (and its subfolders) that ``into`` lacks, owner-only
    (:func:`rapportkit.hub.copy_missing`); returns the files added."""
    notebooks = sorted(p for p in workbooks.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return hub.copy_missing(workbooks, notebooks, into)


def _serve(args) -> int:
    from .serve import voila_command, voila_env

    dashboards = Path(args.dashboards) if args.dashboards else Path.cwd() / "workbooks" / "dashboards"
    cmd = voila_command(dashboards.resolve(), port=args.port, ip=args.ip, token=args.token,
                        preheat=not args.no_preheat, pool_size=args.pool_size)
    with _store(args, readonly=True) as store:  # refuse early: missing or unmigrated database
        if store.team:
            print("rapportkit serve: a team's dashboards are served by JupyterHub, each viewer with their own "
                  "database role (see \"For a team\" in the README); serve reads a local SQLite file", file=sys.stderr)
            return 2
        db = store.path
    shown = "127.0.0.1" if args.ip in ("127.0.0.1", "localhost") else args.ip
    print(f"dashboards on http://{shown}:{args.port}/ (read-only) from {db}", flush=True)
    # become Voilà, so a signal to this process (Ctrl-C, SIGTERM from a service manager)
    # reaches the server and its kernels instead of leaving them running
    os.execve(cmd[0], cmd, voila_env(db))
    return 0  # pragma: no cover (execve does not return)


_COMMANDS = {
    "init": _init, "demo": _demo, "import": _import, "export": _export,
    "backup": _backup, "check": _check, "report": _report, "lab": _lab, "serve": _serve,
    "reviews": _reviews, "amend": _amend, **roster.COMMANDS, **hub.COMMANDS,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
