"""A programme on one JupyterHub: each person's workbooks, by role.

``rapportkit workbooks --into DIR`` lays out the notebooks of the connected person's role
(asked of the team database: ``Store.me()``; or ``--role``) into DIR, which the hub's
single-user server runs on every start (``deploy/jupyterhub/jupyterhub_config.py``). It
copies only what is missing: a person's own copy, with their runs and edits, is never
overwritten, and no run dirties a shared copy. The notebooks ship with the package
(``rapportkit/hub_workbooks/<role>/``), so a pip-installed rapportkit can lay them out.

The role only chooses which notebooks a person gets; what they can see and do in them is
the database's decision (their database role), whatever they run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .errors import ValidationError
from .files import make_dirs

__all__ = ["ROLES", "workbooks_for", "lay_out", "copy_missing", "add_parsers", "COMMANDS"]

ROLES = ("specialist", "supervisor", "lead", "admin")
_HERE = Path(__file__).resolve().parent / "hub_workbooks"


def workbooks_for(role: str) -> list[Path]:
    """The packaged notebooks for ``role``, in the order shown."""
    if role not in ROLES:
        raise ValidationError(f"the role must be one of {', '.join(ROLES)} (got {role!r})")
    return sorted((_HERE / role).glob("*.ipynb"))


def lay_out(role: str, into: str | os.PathLike) -> list[Path]:
    """Copy ``role``'s workbooks into ``into`` (created, owner-only), skipping any file that
    is there already; returns the files written."""
    return copy_missing(_HERE / role, workbooks_for(role), into)


def copy_missing(folder: Path, notebooks: list[Path], into: str | os.PathLike) -> list[Path]:
    """Copy ``notebooks`` (files under ``folder``) to the same places under ``into``, each
    owner-only (folders ``0700``, files ``0600``), skipping any file that is there already:
    a person's own copy, with their runs and edits, is never overwritten. Returns the
    files written. ``rapportkit lab`` lays out ``workbooks/`` with it too."""
    target = Path(into).expanduser()
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for source in notebooks:
        dest = target / Path(source).relative_to(folder)
        if dest.exists() or dest.is_symlink():
            continue
        make_dirs(dest.parent)
        tmp = dest.with_name(f".{dest.name}.tmp")
        with open(tmp, "xb") as out:  # exclusive: never follows a planted link
            out.write(Path(source).read_bytes())
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
        written.append(dest)
    return written


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add ``workbooks`` to the ``rapportkit`` command's subparsers."""
    wb = sub.add_parser("workbooks", parents=[common],
                        help="lay out the workbooks of your role (on a team database: the one it knows you by)")
    wb.add_argument("--role", choices=ROLES, help="whose workbooks (default: your role in the team database)")
    wb.add_argument("--into", default="~/rapportkit", metavar="DIR", help="folder to copy them into (default ~/rapportkit)")


def _workbooks(args) -> int:
    role = args.role
    if role is None:
        from .pg import is_url
        from .store import Store, default_db_path

        where = args.db or str(default_db_path())
        if not is_url(where):
            raise ValidationError("say whose workbooks with --role (only a team database knows who you are)")
        with Store(where, readonly=True) as store:
            me = store.me()
        if me is None:
            raise ValidationError(f"{store.actor} is nobody on the team's roster: ask your administrator to add "
                                  "you with `rapportkit people add --login`")
        role = me.role.value
    written = lay_out(role, args.into)
    shown = Path(args.into).expanduser()
    print(f"{role} workbooks in {shown}: " + (", ".join(p.name for p in written) + " added" if written
                                                else "all there already (yours are never overwritten)"))
    return 0


COMMANDS = {"workbooks": _workbooks}
