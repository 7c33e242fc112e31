"""JupyterHub for a peer-support programme: rapportkit on one server.

Each person logs in with their operating-system account (PAM) and gets their own Jupyter
server running *as that account* (LocalProcessSpawner). Their kernels open the team's
PostgreSQL database over its Unix socket with *peer* authentication, so the OS account is
the database role: no password or token for the database sits anywhere, and what a person
sees and does is the database's decision (row-level security, grants), whatever code
they run. On first start (and every start after, adding only what is missing) the
workbooks of their role are copied into ``~/rapportkit``.

Run as root (PAM and switching to each account need it), from any folder::

    RAPPORTKIT_DB="postgresql:///rapportkit?host=/run/postgresql" \\
    RAPPORTKIT_HUB_GROUPS=/etc/rapportkit/groups.json \\
    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Settings, all from the environment (nothing secret among them):

- ``RAPPORTKIT_DB`` (required): the team database, ``postgresql:///NAME?host=SOCKETDIR``,
  with no user and no password: each server connects as its own OS account.
- ``RAPPORTKIT_HUB_GROUPS``: a JSON file ``{"specialists": [logins], "supervisors": [...],
  "leads": [...], "admins": [...]}``; only these logins may log in. (Groups only choose
  what the hub shows; the database decides what anyone may read or write.)
- ``RAPPORTKIT_HUB_PYTHON``: the Python that runs the single-user servers and kernels, with
  rapportkit and jupyterhub installed, readable by every account (default: the hub's own).
- ``RAPPORTKIT_HUB_IP`` / ``RAPPORTKIT_HUB_PORT`` (default 127.0.0.1 / 8000): where people
  connect; put TLS in front (or set ``c.JupyterHub.ssl_key``/``ssl_cert``) beyond this computer.
- ``RAPPORTKIT_HUB_API_PORT`` / ``RAPPORTKIT_HUB_PROXY_API_PORT`` (default 8081 / 8001).
- ``RAPPORTKIT_HUB_STATE``: the hub's own state (its SQLite file, cookie secret, proxy
  token), root-only (default ``/var/lib/rapportkit-hub``).
- ``RAPPORTKIT_HUB_PROXY``: the configurable-http-proxy command (default: the copy npm
  installed next to this file, ``npm ci --prefix deploy/jupyterhub``).
"""

import json
import os
import secrets
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub provides it)

HERE = Path(__file__).resolve().parent
DB = os.environ.get("RAPPORTKIT_DB", "")
if not DB.startswith("postgresql:"):
    sys.exit("jupyterhub_config.py: set RAPPORTKIT_DB=postgresql:///NAME?host=SOCKETDIR (the team database)")
if "password" in DB or "user=" in DB:
    sys.exit("jupyterhub_config.py: RAPPORTKIT_DB must name no user and no password: each person connects "
             "as their own OS account (peer authentication)")
PYTHON = os.environ.get("RAPPORTKIT_HUB_PYTHON") or sys.executable
STATE = Path(os.environ.get("RAPPORTKIT_HUB_STATE", "/var/lib/rapportkit-hub"))
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)

# ---------------------------------------------------------------- the hub and its proxy
c.JupyterHub.ip = os.environ.get("RAPPORTKIT_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("RAPPORTKIT_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("RAPPORTKIT_HUB_API_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops everyone's server
c.ConfigurableHTTPProxy.command = [os.environ.get(
    "RAPPORTKIT_HUB_PROXY", str(HERE / "node_modules" / ".bin" / "configurable-http-proxy"))]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('RAPPORTKIT_HUB_PROXY_API_PORT', '8001'))}"
_proxy_token = STATE / "proxy_auth_token"
if not _proxy_token.exists():
    _proxy_token.touch(mode=0o600)
    _proxy_token.write_text(secrets.token_hex(32))
c.ConfigurableHTTPProxy.auth_token = _proxy_token.read_text().strip()

# ---------------------------------------------------------------- who may log in
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login session per server (systemd-logind is not needed)
GROUPS = ("specialists", "supervisors", "leads", "admins")
_members = {g: [] for g in GROUPS}
if os.environ.get("RAPPORTKIT_HUB_GROUPS"):
    _given = json.loads(Path(os.environ["RAPPORTKIT_HUB_GROUPS"]).read_text())
    unknown = set(_given) - set(GROUPS)
    if unknown:
        sys.exit(f"jupyterhub_config.py: unknown groups {sorted(unknown)} (use {', '.join(GROUPS)})")
    _members.update({g: sorted(set(v)) for g, v in _given.items()})
c.JupyterHub.load_groups = {g: {"users": users} for g, users in _members.items()}
c.Authenticator.allowed_users = {u for users in _members.values() for u in users}
c.Authenticator.admin_users = set()  # the hub's admin page is not the roster; keep it off
# The demo and its test read users, groups and servers through the hub's API with a token
# only the process that started the hub knows (never in anyone's server: see env_keep).
if os.environ.get("RAPPORTKIT_HUB_CHECK_TOKEN"):
    c.JupyterHub.services = [{"name": "rapportkit-check", "api_token": os.environ["RAPPORTKIT_HUB_CHECK_TOKEN"]}]
    c.JupyterHub.load_roles = [{"name": "rapportkit-check", "services": ["rapportkit-check"],
                                "scopes": ["list:users", "read:users", "read:groups", "read:servers"]}]

# ---------------------------------------------------------------- each person's server
c.JupyterHub.spawner_class = "localprocess"
# lay out the role's workbooks (as the person: their files, their home), then become the server
c.Spawner.cmd = [
    "/bin/sh", "-c",
    'cd "$HOME" && "$0" -m rapportkit.cli workbooks --into "$HOME/rapportkit" || '
    'echo "rapportkit: no workbooks laid out (see above)" >&2; exec "$0" -m jupyterhub.singleuser "$@"',
    PYTHON,
]
c.Spawner.notebook_dir = "~/rapportkit"
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    # no request beyond this server: no news, no update check, no extension manager
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
    # an idle kernel (and a Voilà page's) is collected
    "--MappingKernelManager.cull_idle_timeout=3600",
    "--MappingKernelManager.cull_interval=300",
    # each person's dashboards (/user/NAME/voila/render/…) use rapportkit's offline template
    "--VoilaConfiguration.template=rapportkit",
    "--VoilaConfiguration.allow_template_override=NO",
    # Voilà as a server extension would point every page at MathJax on a public CDN
    # (voila.utils' default); the workbooks use no LaTeX, so it loads nothing instead
    "--ServerApp.tornado_settings=mathjax_url=data:text/javascript,//",
    # a saved notebook keeps a sentence where each form was ("run the notebook again"), never
    # an empty cell after a reload, and no widget state (typed notes stay in the database)
    "--ContentsManager.pre_save_hook=rapportkit.ui.not_running.pre_save_hook",
]
try:  # rapportkit's Voilà template (no public CDN), found where the hub's rapportkit is
    from rapportkit.serve import SHARE as _SHARE
except ImportError:
    _SHARE = None
if _SHARE:  # its settings overrides answer "no" to JupyterLab's pop-up asking about news
    c.Spawner.args.append(f"--LabApp.app_settings_dir={_SHARE / 'lab' / 'settings'}")
c.Spawner.environment = {
    "RAPPORTKIT_DB": DB,
    "MPLBACKEND": "Agg",
    **({"JUPYTER_PATH": str(_SHARE)} if _SHARE else {}),
    "PATH": os.pathsep.join([str(Path(PYTHON).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
}
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]  # nothing of the hub's own environment
c.Spawner.start_timeout = 180  # a busy 2-core server
c.Spawner.http_timeout = 180
