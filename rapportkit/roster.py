"""The roster from the command line, on either backend: ``rapportkit people add|edit|list|
deactivate``, ``rapportkit assign`` and ``rapportkit team init``.

On a team's PostgreSQL database the administrator (a member of ``rk_admin``) or the
installer runs these; adding a person with a ``--login`` gives that login its database
role (``rk_grant_login``), so with peer authentication the operating-system account of that
name *is* the person. Every change is audited by the store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from .errors import ValidationError

__all__ = ["add_parsers", "COMMANDS"]

_ROLES = ("specialist", "supervisor", "lead", "admin")


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add ``people``, ``assign`` and ``team`` to the ``rapportkit`` command's subparsers."""
    people = sub.add_parser("people", help="the roster: add, edit, list or deactivate people")
    verbs = people.add_subparsers(dest="verb", metavar="add|edit|list|deactivate", required=True)
    add = verbs.add_parser("add", parents=[common], help="add a person")
    add.add_argument("id", help="a short id such as sp-11 (letters, digits, . _ -)")
    add.add_argument("--name", required=True, help="the name shown in the workbooks, e.g. \"Rowan Pebblebrook\"")
    add.add_argument("--role", required=True, choices=_ROLES)
    add.add_argument("--login", help="their login (on a team database: their database role / OS account)")
    add.add_argument("--supervisor", metavar="ID", help="for a specialist: their supervisor's id")
    edit = verbs.add_parser("edit", parents=[common], help="change a person's name, role, login or supervisor")
    edit.add_argument("id")
    edit.add_argument("--name")
    edit.add_argument("--role", choices=_ROLES)
    edit.add_argument("--login")
    edit.add_argument("--supervisor", metavar="ID")
    edit.add_argument("--active", choices=("yes", "no"), help="reactivate (yes) or deactivate (no)")
    verbs.add_parser("list", parents=[common], help="list everyone you may see")
    off = verbs.add_parser("deactivate", parents=[common], help="mark someone as no longer active (records are kept)")
    off.add_argument("id")

    assign = sub.add_parser("assign", parents=[common], help="assign a specialist to a supervisor")
    assign.add_argument("supervisor", metavar="SUPERVISOR_ID")
    assign.add_argument("specialist", metavar="SPECIALIST_ID")
    assign.add_argument("--from", dest="starts", metavar="DATE", help="first day (default today), e.g. 2027-01-01")
    assign.add_argument("--until", dest="ends", metavar="DATE", help="last day (default: open-ended)")

    team = sub.add_parser("team", help="set up a team's PostgreSQL database")
    tverbs = team.add_subparsers(dest="verb", metavar="init", required=True)
    tverbs.add_parser("init", parents=[common],
                      help="create the schema, roles, policies and grants (idempotent; run as a PostgreSQL superuser)")


def _date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be a date like 2027-01-31 (got {value!r})") from None


def _open(args, **kwargs):
    from .store import Store

    return Store(args.db, **kwargs)


def _people(args) -> int:
    from .model import Person

    with _open(args, readonly=args.verb == "list") as store:
        if args.verb == "list":
            people = store.people()
            if not people:
                print(f"nobody yet in {store.location}: add people with `rapportkit people add`", file=sys.stderr)
                return 0
            names = {p.id: p.display_name for p in people}
            for p in people:
                parts = [p.id, p.display_name, p.role.value, f"login={p.login or '-'}"]
                if p.supervisor_id:
                    parts.append(f"supervisor={p.supervisor_id} ({names.get(p.supervisor_id, '?')})")
                if not p.active:
                    parts.append("inactive")
                print("  ".join(parts))
            return 0
        if args.verb == "add":
            person = store.add_person(Person(args.id, args.name, args.role, args.supervisor, True, args.login),
                                      reason="added with rapportkit people add")
            print(f"added {person.id} {person.display_name} ({person.role.value}"
                  + (f", login {person.login}" if person.login else "") + f") to {store.location}")
            return 0
        if args.verb == "deactivate":
            changes = {"active": False}
        else:
            changes = {k: v for k, v in (("display_name", args.name), ("role", args.role), ("login", args.login),
                                         ("supervisor_id", args.supervisor)) if v is not None}
            if args.active is not None:
                changes["active"] = args.active == "yes"
            if not changes:
                raise ValidationError("say what to change: --name, --role, --login, --supervisor or --active")
        changed = store.change_person(args.id, reason=f"rapportkit people {args.verb}", **changes)
        print(f"{args.verb}: {changed.id} {changed.display_name} ({changed.role.value}"
              + (f", login {changed.login}" if changed.login else "")
              + ("" if changed.active else ", inactive") + ")")
    return 0


def _assign(args) -> int:
    starts, ends = _date(args.starts, "--from"), _date(args.ends, "--until")
    with _open(args) as store:
        made = store.assign(args.supervisor, args.specialist, starts=starts, ends=ends)
    print(f"{made.specialist_id} is assigned to {made.supervisor_id} from {made.starts}"
          + (f" until {made.ends}" if made.ends else ""))
    return 0


def _team(args) -> int:
    from .pg import is_url
    from .store import default_db_path

    where = args.db or str(default_db_path())
    if not is_url(where):
        raise ValidationError(
            "team init sets up a PostgreSQL database: pass --db postgresql:///NAME?host=SOCKETDIR (one computer "
            "needs no set-up: `rapportkit init`)"
        )
    from . import pg_schema

    with _open(args) as store:  # migrates (as the installer) if anything is missing
        version = pg_schema.schema_version(store.conn)
        roles = [r for (r,) in store.conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'rk\\_%' ORDER BY 1").fetchall()]
        print(f"{store.location}: schema version {version}; roles {', '.join(roles)}; "
              "row-level security on every table. Add people with `rapportkit people add --login`.")
    return 0


COMMANDS = {"people": _people, "assign": _assign, "team": _team}
