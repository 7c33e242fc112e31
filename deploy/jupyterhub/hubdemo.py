"""A local demo hub: PostgreSQL with peer authentication, demo OS accounts, the demo team,
and JupyterHub on 127.0.0.1 — everything ``make hub-demo`` starts, and what the hub test
(``tests/test_hub.py``) drives. Run as root (it creates OS accounts); Ctrl-C stops the
hub and the database and removes the accounts and their homes.

    sudo .venv/bin/python deploy/jupyterhub/hubdemo.py [--port 8000]

Not for a real programme: the database is a throwaway cluster in /tmp and the passwords
are printed. The README's "For a team" says how to set up a server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = HERE / "jupyterhub_config.py"
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
DATABASE = "rapportkit"


@dataclass(frozen=True)
class Account:
    """A demo person: their OS account (= database role), roster entry and hub group."""

    login: str
    password: str
    person_id: str
    name: str
    role: str  # specialist | supervisor | lead | admin

    @property
    def group(self) -> str:
        return self.role + "s"


def demo_accounts(prefix: str = "demo_", password: str | None = None) -> list[Account]:
    """The demo team's logins: two specialists and their supervisor (from ``rapportkit demo``),
    and a programme lead. ``password`` None gives each a random one."""
    def pw() -> str:
        return password or secrets.token_urlsafe(12)

    return [
        Account(f"{prefix}aster", pw(), "sp-01", "Aster Moonwhistle", "specialist"),
        Account(f"{prefix}cedar", pw(), "sp-03", "Cedar Lanternfish", "specialist"),
        Account(f"{prefix}sage", pw(), "sv-01", "Sage Lanternby", "supervisor"),
        Account(f"{prefix}isolde", pw(), "ld-01", "Isolde Fernwhistle", "lead"),
    ]


# ============================================================================ a Python every account can run


def _runs_as_nobody(python: str, code: str = "import rapportkit, jupyterhub") -> bool:
    probe = subprocess.run(["runuser", "-u", "nobody", "--", python, "-c", code], cwd="/",
                           capture_output=True, text=True)
    return probe.returncode == 0


def readable_python(workdir: Path) -> str:
    """A Python with rapportkit, JupyterHub and Jupyter that every OS account can run.

    The project's venv is used as it is when the accounts can run it. When its base
    interpreter is not readable by them (pyenv under /root, say), a thin venv in ``workdir``
    on the system's Python of the same version borrows the project venv's site-packages,
    ``share`` and ``etc`` (Jupyter's data and config) by symbolic links."""
    if _runs_as_nobody(sys.executable):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    base = next((p for p in (f"/usr/bin/{version}", f"/usr/local/bin/{version}") if os.access(p, os.X_OK)), None)
    if base is None:
        raise RuntimeError(f"{sys.executable} is not readable by other accounts and there is no /usr/bin/{version}: "
                           "install rapportkit in a venv every account can read (e.g. /opt/rapportkit)")
    venv = Path(sys.prefix)
    overlay = workdir / "python"
    subprocess.run([base, "-m", "venv", "--without-pip", str(overlay)], check=True)
    site = overlay / "lib" / version / "site-packages"
    shutil.rmtree(site)
    site.symlink_to(venv / "lib" / version / "site-packages")
    for name in ("share", "etc"):
        if (venv / name).exists():
            (overlay / name).symlink_to(venv / name)
    shim = overlay / "bin" / "rapportkit"
    shim.write_text(f"#!{overlay / 'bin' / 'python'}\nimport sys\nfrom rapportkit.cli import main\nsys.exit(main())\n")
    shim.chmod(0o755)
    for p in [workdir, *overlay.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o005 | (0o010 if p.is_dir() else 0))
    python = str(overlay / "bin" / "python")
    if not _runs_as_nobody(python):
        raise RuntimeError(f"the accounts cannot import rapportkit with {python}: is {venv} readable by everyone?")
    return python


# ============================================================================ OS accounts


def create_accounts(accounts: list[Account]) -> None:
    """``useradd`` each account with a home of its own and its password (refuses existing ones)."""
    for a in accounts:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", "-K", "UMASK=0077",
                        a.login], check=True)
    subprocess.run(["chpasswd"], input="".join(f"{a.login}:{a.password}\n" for a in accounts), text=True, check=True)


def remove_accounts(accounts: list[Account]) -> None:
    """End whatever still runs as each account (pid by pid), then ``userdel --remove``."""
    for a in accounts:
        for _ in range(50):
            pids = subprocess.run(["pgrep", "-u", a.login], capture_output=True, text=True).stdout.split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.1)
        subprocess.run(["userdel", "--remove", a.login], capture_output=True)


# ============================================================================ the team database


def set_up_team(cluster, accounts: list[Account], python: str, specialists: int = 3, months: int = 6) -> str:
    """Create the team database, the demo team's records and the accounts' logins; returns
    the URL every account connects with (no user: peer authentication)."""
    installer = cluster.create_database(DATABASE)  # ...&user=postgres: root is the installer
    rk = [sys.executable, "-m", "rapportkit.cli"]

    def run(*args: str) -> None:
        subprocess.run(rk + list(args) + ["--db", installer], check=True, stdout=subprocess.DEVNULL)

    run("team", "init")
    run("demo", "--specialists", str(specialists), "--months", str(months))
    for a in accounts:
        listed = subprocess.run(rk + ["people", "list", "--db", installer], capture_output=True, text=True).stdout
        if any(line.startswith(a.person_id + " ") for line in listed.splitlines()):
            run("people", "edit", a.person_id, "--login", a.login)
        else:
            run("people", "add", a.person_id, "--name", a.name, "--role", a.role, "--login", a.login)
    return f"postgresql:///{DATABASE}?host={cluster.dir}"


# ============================================================================ the hub


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hub:
    """A running JupyterHub (its own process group); ``url`` is where people log in."""

    proc: subprocess.Popen
    url: str
    state: Path
    log: Path
    token: str = ""  # the check service's API token (read users, groups and servers)
    started_s: float = 0.0

    def api(self, path: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict | None]:
        req = urllib.request.Request(self.url + "/hub/api" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                text = r.read()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, None

    def stop(self, timeout: float = 60) -> float:
        """SIGTERM the hub (it stops every server it started and its proxy); seconds taken."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):  # the proxy, should it have outlived the hub
            os.killpg(self.proc.pid, signal.SIGKILL)
        return time.monotonic() - t0


def start_hub(db_url: str, accounts: list[Account], python: str, workdir: Path, port: int | None = None,
              timeout: float = 120) -> Hub:
    """Start JupyterHub with the shipped config; returns once it answers."""
    if not PROXY.exists():
        raise RuntimeError(f"configurable-http-proxy is not installed: npm ci --prefix {HERE}")
    state = workdir / "hub"
    state.mkdir(mode=0o700, exist_ok=True)
    groups = {}
    for a in accounts:
        groups.setdefault(a.group, []).append(a.login)
    (state / "groups.json").write_text(json.dumps(groups))
    port = port or free_port()
    env = dict(os.environ, RAPPORTKIT_DB=db_url, RAPPORTKIT_HUB_GROUPS=str(state / "groups.json"),
               RAPPORTKIT_HUB_PYTHON=python, RAPPORTKIT_HUB_STATE=str(state), RAPPORTKIT_HUB_PORT=str(port),
               RAPPORTKIT_HUB_API_PORT=str(free_port()), RAPPORTKIT_HUB_PROXY_API_PORT=str(free_port()),
               # a service token for the test and the demo's own checks, known to this process only
               RAPPORTKIT_HUB_CHECK_TOKEN=secrets.token_hex(24))
    log = state / "jupyterhub.log"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state, env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(proc, f"http://127.0.0.1:{port}", state, log, env["RAPPORTKIT_HUB_CHECK_TOKEN"])
    deadline = t0 + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterHub exited ({proc.returncode}); its log:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(hub.url + "/hub/health", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            hub.stop()
            raise RuntimeError(f"JupyterHub did not answer in {timeout:.0f} s; its log:\n{log.read_text()[-4000:]}")
        time.sleep(0.25)
    hub.started_s = time.monotonic() - t0
    return hub


# ============================================================================ make hub-demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("hub-demo creates OS accounts and runs PAM: run it as root (sudo make hub-demo)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from rapportkit.pgcluster import Cluster

    accounts = demo_accounts(password="rapportkit-demo")
    clash = [a.login for a in accounts if subprocess.run(["id", a.login], capture_output=True).returncode == 0]
    if clash:
        print(f"accounts {', '.join(clash)} exist already (a demo still running?): remove them with userdel -r",
              file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="rk-hub-"))
    workdir.chmod(0o711)
    cluster = hub = None
    created = False
    def interrupted(*_):
        raise KeyboardInterrupt

    # Ctrl-C or SIGTERM: stop and clean up (also when started in the background, where
    # a shell leaves SIGINT ignored)
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        python = readable_python(workdir)
        cluster = Cluster(auth="peer").start()
        create_accounts(accounts)
        created = True
        db = set_up_team(cluster, accounts, python)
        hub = start_hub(db, accounts, python, workdir, port=args.port)
        print(f"\nrapportkit demo hub on {hub.url}/  (started in {hub.started_s:.1f} s; log {hub.log})\n")
        print("Log in as (password for all: rapportkit-demo):")
        for a in accounts:
            print(f"  {a.login:<14} {a.name} ({a.role}, {a.person_id})")
        print(f"\nEach person's server runs as their OS account; their kernels reach {db} by peer "
              "authentication (no password anywhere).\nCtrl-C stops the hub and the database and removes the accounts.")
        while hub.proc.poll() is None:
            time.sleep(1)
        print(f"JupyterHub exited ({hub.proc.returncode}); see {hub.log}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hub is not None:
            print(f"stopped the hub in {hub.stop():.1f} s", file=sys.stderr)
        if created:
            remove_accounts(accounts)
            print("removed the demo accounts", file=sys.stderr)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
