"""A throwaway PostgreSQL cluster for tests, benchmarks and a local demo: Debian's server
binaries, ``initdb`` and ``pg_ctl`` in a temporary folder, listening only on a Unix socket
in that folder. Not for records that matter: see "For a team" in the README for a server.

As root the server runs as the ``postgres`` OS account (PostgreSQL refuses to run as
root). Authentication is ``trust`` on the socket by default: the tests connect as each
database role by name, which is what peer authentication gives each OS account on a real
server. ``Cluster(auth="peer")`` is that real thing (the demo hub and its test): each OS
account connects as the database role of its own name and nobody else; the OS accounts
``postgres`` and (when it runs the cluster) ``root`` connect as the superuser ``postgres``.
The socket folder is then searchable by every account, so that they can reach the socket.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["Cluster", "find_bin"]


def find_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (the newest version), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class Cluster:
    """Start with :meth:`start`, connect with :meth:`url`, end with :meth:`stop`."""

    def __init__(self, fsync: bool = False, auth: str = "trust") -> None:
        if auth not in ("trust", "peer"):
            raise ValueError(f"auth must be 'trust' or 'peer' (got {auth!r})")
        self.bin = find_bin()
        if self.bin is None:
            raise RuntimeError(
                "PostgreSQL's server is not installed (apt-get install postgresql); the tests of the team "
                "store need it (.ci/run installs it)"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="rk-pg-"))
        self.fsync = fsync
        self.superuser = "postgres"
        self.auth = auth

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def start(self) -> "Cluster":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o700 if self.auth == "trust" else 0o711)
        self._run("initdb", "-D", str(self.dir / "data"), "-U", self.superuser, "--auth=trust",
                  "--no-instructions", "-E", "UTF8", "--locale=C.UTF-8")
        if self.auth == "peer":
            self._peer()
        options = f"-k {self.dir} -c listen_addresses='' -c max_connections=200 -c unix_socket_permissions=0777"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-o", options, "-w", "start")
        return self

    def _peer(self) -> None:
        """Peer authentication on the socket, nothing else: the OS account is the role."""
        data = self.dir / "data"
        installers = ["postgres"] + (["root"] if os.geteuid() == 0 else [])
        ident = "".join(f"rapportkit {who} {self.superuser}\n" for who in installers)
        hba = "local all all peer map=rapportkit\n"
        if os.geteuid() == 0:
            # as root the files belong to postgres; write them as postgres
            for name, text in (("pg_ident.conf", ident + "rapportkit /^(.*)$ \\1\n"), ("pg_hba.conf", hba)):
                subprocess.run(["runuser", "-u", "postgres", "--", "sh", "-c", 'cat > "$1"', "sh", str(data / name)],
                               input=text, text=True, check=True)
        else:
            (data / "pg_ident.conf").write_text(ident + "rapportkit /^(.*)$ \\1\n")
            (data / "pg_hba.conf").write_text(hba)

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql:///{database}?host={self.dir}&user={user or self.superuser}"

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
