"""Serve the read-only dashboards with Voilà, hardened (``rapportkit serve``).

What the configuration in ``config/voila.py`` guarantees, and why:

- **Offline.** Pages use rapportkit's Voilà template, which drops the public-CDN font
  links of the stock template (the fonts ship inside Voilà's own bundle); viewers cannot
  switch templates; a Content-Security-Policy makes the browser refuse other origins.
- **Read-only.** Kernels get ``RAPPORTKIT_READONLY=1``, so every store they open is
  read-only at the database level whatever a notebook or a forged widget value asks;
  no file is served, so the database cannot be downloaded.
- **No leaks.** Sources are stripped and tracebacks stay in the server log.
- **Loopback unless a token is set.** Binding to any other address without a token is
  refused.
- **Reliable and fast.** A preheated kernel per dashboard runs the slow part (imports,
  loading the data) before anyone asks; idle kernels of viewers who left are culled;
  a kernel-client fix (``zmqfix``) stops pages hanging at "Running …"; a cell's time
  limit, and a kernel's idle time for the culler, count from the moment a viewer takes a
  preheated kernel, so a pool left idle for hours still renders (``poolclock``).
- **Bounded input.** What a page sends its kernel over the websocket is checked for size,
  shape and rate before anything is built from it (``wsguard``).
- **A home page.** ``/`` names each dashboard with a sentence on what it shows and for
  whom, one link each, and no file names (``home`` and the template's ``tree.html``).

The limits can be tuned through environment variables (``settings``): a cell's time
limit ``RAPPORTKIT_CELL_TIMEOUT`` and the websocket's ``RAPPORTKIT_WS_MAX_BYTES``,
``RAPPORTKIT_WS_RATE`` and ``RAPPORTKIT_WS_BURST``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import sys
from pathlib import Path

from ..errors import RapportkitError
from . import settings

__all__ = ["ServeError", "voila_command", "voila_env", "check_binding", "SHARE", "CONFIG_DIR"]

HERE = Path(__file__).resolve().parent
SHARE = HERE / "share" / "jupyter"
CONFIG_DIR = HERE / "config"


class ServeError(RapportkitError, ValueError):
    """The dashboards cannot be served as asked."""


def _is_loopback(ip: str) -> bool:
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        raise ServeError(f"--ip must be an IP address such as 127.0.0.1 (got {ip!r})") from None


def check_binding(ip: str, token: str | None) -> None:
    """Refuse to listen beyond this computer without a token."""
    if not _is_loopback(ip) and not token:
        raise ServeError(
            f"refusing to serve on {ip} without a token: anyone who can reach this computer "
            "could read the dashboards. Add --token followed by a long random secret "
            f"(for example {secrets.token_urlsafe(24)}), or keep the default --ip 127.0.0.1."
        )
    if token is not None and len(token) < 16:
        raise ServeError("the token must be at least 16 characters; use a long random secret")


def voila_env(db: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the Voilà server and, through it, every dashboard kernel.

    Raises :class:`ServeError` if a limit of :mod:`.settings` is set to something that is
    not one (Voilà's configuration would otherwise fall back to the default quietly)."""
    env = dict(os.environ if base is None else base)
    try:
        settings.check_environment(env)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(SHARE), env.get("JUPYTER_PATH", "")) if p)
    env["RAPPORTKIT_DB"] = str(Path(db).resolve())
    env["RAPPORTKIT_READONLY"] = "1"
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    return env


#: The most kernels kept ready per dashboard, and the seconds before a pool of more than
#: one replaces a kernel a viewer took (Voilà's ``fill_delay``; its default is 1 s).
MAX_POOL, POOL_REFILL_S = 16, 5


def voila_command(
    notebooks: Path,
    *,
    port: int,
    ip: str = "127.0.0.1",
    token: str | None = None,
    preheat: bool = True,
    pool_size: int = 1,
) -> list[str]:
    """The ``voila`` command line for serving the dashboards in ``notebooks``.

    With ``preheat``, ``pool_size`` kernels per dashboard wait ready for viewers (1–16;
    each holds the team's frames in memory). A pool of more than one is refilled
    :data:`POOL_REFILL_S` seconds after a kernel is taken, so a burst of viewers is not
    slowed by the refills it sets off.
    """
    check_binding(ip, token)
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or not 1 <= pool_size <= MAX_POOL:
        raise ServeError(f"--pool-size must be a whole number of kernels from 1 to {MAX_POOL} (got {pool_size!r})")
    if not Path(notebooks).is_dir():
        raise ServeError(f"there is no dashboards folder at {notebooks}; pass --dashboards DIR")
    if not 0 < port < 65536:
        raise ServeError(f"--port must be 1–65535 (got {port})")
    exe = shutil.which("voila", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if exe is None:
        raise ServeError("Voilà is not installed here (pip install voila)")
    cmd = [
        exe, str(notebooks), "--no-browser", f"--Voila.ip={ip}", f"--port={port}",
        "--Voila.port_retries=0", f"--Voila.config_file_paths={CONFIG_DIR}",
        f"--Voila.root_dir={notebooks}",
    ]
    if token:
        cmd.append(f"--token={token}")
    if preheat:
        cmd += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
        if pool_size > 1:
            cmd.append(f"--VoilaKernelManager.fill_delay={POOL_REFILL_S}")
    return cmd
