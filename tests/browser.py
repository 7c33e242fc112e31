"""Shared helpers for tests that drive a real Chromium against a local Voilà or Jupyter server.

Import from a test module (pytest puts ``tests/`` on ``sys.path``)::

    from browser import chromium, recorded_context, voila_server, require_chromium

What is here, and the promises each part keeps:

- :func:`require_chromium` skips a test when ``/usr/bin/chromium`` or the ``playwright``
  package is missing, except under CI (``$CI`` set), where it fails instead: CI must
  never go green by skipping the browser.
- :class:`Server` runs any server command in its own process group with its log in a
  file; :meth:`Server.stop` ends the group and every descendant (kernels run in sessions
  of their own, so they are collected first and killed by pid).
- :func:`voila_server` serves a notebook or a folder with rapportkit's hardened Voilà
  set-up (``rapportkit.serve``) plus any ``extra_args``; :func:`rapportkit_serve` runs the
  real ``rapportkit serve`` command line. Both pick a free port in 19000–19499 on
  127.0.0.1 and yield a started :class:`Server` (``.url``, ``.pid``, ``.voila_pid``).
- :func:`chromium` launches Debian's Chromium through playwright and always closes it
  (:func:`chromium_browser` is the same as a module-scoped fixture);
  :func:`recorded_context` opens a browser context whose every request, websocket,
  console message and page error is kept by a :class:`Recorder`.
- :class:`KernelTap` sits on a page's kernel websocket, decodes every message both ways
  and can send forged ones, as a hostile viewer could.
- :func:`fresh_db`, :func:`db_sha256` and :func:`audit_count` copy a database and prove
  afterwards that nothing wrote to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: This suite's ports (another suite on the same machine uses 19500–19999).
PORTS = range(19000, 19500)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
#: Generous default wait for the browser: the machine has 2 cores and is often busy.
WAIT_MS = 90_000

#: Console errors that do not fail a test, each as ``(pattern, reason)``; a pattern is
#: searched in the message text followed by its source URL. Keep it short: add a line only
#: for a message that is understood and harmless. (Nothing is filtered so far.)
IGNORED_CONSOLE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = ()

#: Console *warnings* are recorded but never fail a test. Voilà 0.5.13 ships JupyterLab
#: 4.2 core packages while jupyterlab_widgets asks for ^4.6, so module federation warns
#: "Unsatisfied version … of shared singleton module"; the widgets work regardless.


# ============================================================================ prerequisites


def require_chromium() -> None:
    """Skip the calling test when Chromium or playwright is missing; fail under CI."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (pip install -e '.[test]')"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {problem}", pytrace=False)
        pytest.skip(problem)


def free_port(ports: Sequence[int] = PORTS) -> int:
    """A port from ``ports`` that nobody listens on right now (tried in random order,
    since other sessions on the machine may race for the same range)."""
    candidates = list(ports)
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports[0]}–{ports[-1]}")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Callable[[], object], timeout: float = 60, what: str = "condition",
               every: float = 0.2):
    """Poll ``predicate`` until it returns something true (returned); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# ============================================================================ databases


def fresh_db(source: Path, folder: Path, name: str = "rapportkit.db") -> Path:
    """Copy the SQLite database ``source`` (and its WAL, if any) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    shutil.copyfile(source, dest)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{dest}-wal"))
    return dest


def db_sha256(path: Path) -> str:
    """SHA-256 of the database file itself (its -wal and -shm companions are not hashed:
    a reader may create them, and a write would show in the main file or the WAL count)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def audit_count(path: Path) -> int:
    """Entries in the audit log, read through a read-only connection."""
    conn = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    finally:
        conn.close()


# ============================================================================ servers


class Server:
    """A server process in its own process group, its output in ``log``.

    Attributes
    ----------
    url
        ``http://127.0.0.1:<port>/``.
    pid
        The process started (for :func:`rapportkit_serve`, the CLI; Voilà is its child).
    token
        The token the server requires, or None.
    """

    def __init__(self, cmd: list[str], env: dict[str, str], port: int, log: Path, *,
                 cwd: Path | None = None, token: str | None = None) -> None:
        self.cmd, self.port, self.log, self.token = cmd, port, log, token
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self._known: dict[int, object] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def page(self, path: str = "", query: str = "", *, token: bool = True) -> str:
        """The URL of ``path`` on this server, with the token when there is one."""
        parts = [query] if query else []
        if token and self.token:
            parts.append(f"token={self.token}")
        return self.url + path.lstrip("/") + ("?" + "&".join(parts) if parts else "")

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def wait_ready(self, timeout: float = 120, ready_text: str | None = "running at") -> bool:
        """True once the port accepts connections and ``ready_text`` is in the log; False
        if the process exited first (a lost port race, say)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if _listening(self.port) and (ready_text is None or ready_text in self.log_text()):
                return True
            time.sleep(0.25)
        raise TimeoutError(f"{self.cmd[0]} not ready on port {self.port} after {timeout:.0f} s:\n{self.tail()}")

    # ---------------------------------------------------------------- processes
    def descendants(self) -> list:
        import psutil

        try:
            found = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for p in found:
            self._known.setdefault(p.pid, p)
        return found

    @property
    def voila_pid(self) -> int:
        """The Voilà server process: this process, or its child running ``voila``."""
        import psutil

        for p in [psutil.Process(self.proc.pid), *self.descendants()]:
            try:
                cmdline = " ".join(p.cmdline())
            except psutil.Error:
                continue
            if "voila" in cmdline and "ipykernel" not in cmdline and "rapportkit.cli" not in cmdline:
                return p.pid
        raise AssertionError(f"no voila process under pid {self.proc.pid}")

    def kernel_pids(self) -> list[int]:
        """Live kernels (``ipykernel_launcher`` processes) started by this server."""
        import psutil

        pids = []
        for p in self.descendants():
            try:
                if p.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(p.cmdline()):
                    pids.append(p.pid)
            except psutil.NoSuchProcess:
                continue
        return pids

    def wait_kernels_idle(self, count: int | None = None, *, quiet: float = 1.0, timeout: float = 120) -> None:
        """Wait until ``count`` kernels are alive (any number when None) and none of them
        has used the CPU for ``quiet`` seconds: preheated kernels have then run every cell
        they can before a viewer arrives."""
        import psutil

        def settled() -> bool:
            pids = self.kernel_pids()
            if count is not None and len(pids) != count:
                return False
            try:
                before = [psutil.Process(p).cpu_times() for p in pids]
                time.sleep(quiet)
                after = [psutil.Process(p).cpu_times() for p in pids]
            except psutil.NoSuchProcess:
                return False
            used = sum(a.user + a.system - b.user - b.system for a, b in zip(after, before))
            return used < 0.02 * max(1, len(pids)) and len(self.kernel_pids()) == len(pids)

        wait_until(settled, timeout, f"{count if count is not None else 'all'} idle kernels", every=0)

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left, kernels included."""
        import psutil

        self.descendants()  # remember every child while the tree is intact
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(grace)
        for child in self._known.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.is_running():
                    child.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


def start_server(make_cmd: Callable[[int], list[str]], env: dict[str, str], log_dir: Path, name: str, *,
                 ports: Sequence[int] = PORTS, cwd: Path | None = None, ready_text: str | None = "running at",
                 token: str | None = None, attempts: int = 3, timeout: float = 120) -> Server:
    """Start ``make_cmd(port)`` on a free port of ``ports``; another port if the first lost a race."""
    server = None
    for _ in range(attempts):
        port = free_port(ports)
        server = Server(make_cmd(port), env, port, log_dir / f"{name}.{port}.log", cwd=cwd or log_dir, token=token)
        try:
            if server.wait_ready(timeout, ready_text):
                return server
        except BaseException:
            server.stop()
            raise
        server.stop()
    raise RuntimeError(f"{name} would not start:\n{server.tail() if server else ''}")


def _log_dir(log_dir: Path | None) -> Path:
    if log_dir is None:
        return Path(tempfile.mkdtemp(prefix="rk-browser-"))
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return Path(log_dir)


@contextlib.contextmanager
def voila_server(notebook_or_dir: Path, db: Path, *, readonly: bool = True, preheat: bool = False,
                 pool_size: int = 1, token: str | None = None, extra_args: Sequence[str] = (),
                 env: dict[str, str] | None = None, log_dir: Path | None = None,
                 timeout: float = 120) -> Iterator[Server]:
    """Voilà on ``notebook_or_dir`` with rapportkit's hardened set-up, on 127.0.0.1.

    Parameters
    ----------
    notebook_or_dir
        One notebook (served at ``/``) or a folder (each notebook at
        ``/voila/render/<name>.ipynb``).
    db
        The database the kernels read (``RAPPORTKIT_DB``).
    readonly
        Keep ``RAPPORTKIT_READONLY=1`` (as ``rapportkit serve`` does); False for forms
        that write.
    preheat, pool_size, token
        As for ``rapportkit serve``.
    extra_args
        More Voilà options, e.g. ``--MappingKernelManager.cull_idle_timeout=5``.
    env
        Extra environment variables for the server and its kernels.
    """
    from rapportkit.serve import voila_command, voila_env

    target = Path(notebook_or_dir).resolve()
    folder = target if target.is_dir() else target.parent

    def cmd(port: int) -> list[str]:
        base = voila_command(folder, port=port, token=token, preheat=preheat, pool_size=pool_size)
        if not target.is_dir():  # one notebook: serve it instead of the folder
            base = [str(target) if i == 1 else a for i, a in enumerate(base)]
            base = [a for a in base if not a.startswith("--Voila.root_dir=")]
        return [*base, *extra_args]

    environment = voila_env(Path(db))
    if not readonly:
        environment.pop("RAPPORTKIT_READONLY", None)
    environment.update(env or {})
    server = start_server(cmd, environment, _log_dir(log_dir), f"voila-{target.stem}", token=token, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def rapportkit_serve(db: Path, *, dashboards: Path | None = None, token: str | None = None,
                     preheat: bool = True, pool_size: int = 1, ip: str = "127.0.0.1",
                     env: dict[str, str] | None = None, log_dir: Path | None = None,
                     timeout: float = 120) -> Iterator[Server]:
    """The real ``rapportkit serve --db DB --port N`` as a subprocess (Voilà is its child)."""
    folder = dashboards or ROOT / "workbooks" / "dashboards"

    def cmd(port: int) -> list[str]:
        args = [sys.executable, "-m", "rapportkit.cli", "serve", "--db", str(db), "--port", str(port),
                "--ip", ip, "--dashboards", str(folder)]
        if token:
            args += ["--token", token]
        if not preheat:
            args.append("--no-preheat")
        if pool_size != 1:
            args += ["--pool-size", str(pool_size)]
        return args

    environment = {**os.environ, **(env or {})}
    server = start_server(cmd, environment, _log_dir(log_dir), "rapportkit-serve", token=token, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


# ============================================================================ the browser


class Recorder:
    """Every request, websocket, console message and page error of a browser context."""

    def __init__(self, context) -> None:
        self.requests: list[str] = []
        self.websockets: list[str] = []
        self.console: list[tuple[str, str, str]] = []  # (type, text, location url)
        self.page_errors: list[str] = []
        self.failed: list[tuple[int, str, str]] = []  # (status, method, url) of 4xx/5xx answers
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("response", lambda r: r.status >= 400 and self.failed.append((r.status, r.request.method, r.url)))
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def watch(self, page) -> None:
        page.on("websocket", lambda ws: self.websockets.append(ws.url))
        page.on("console", lambda m: self.console.append((m.type, m.text, (m.location or {}).get("url", ""))))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def foreign(self) -> list[str]:
        """Requests and websockets to any host but this computer."""
        out = []
        for url in self.requests + self.websockets:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about", "chrome-error"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out

    def errors(self, ignore: Sequence[tuple[re.Pattern[str], str]] = IGNORED_CONSOLE_ERRORS) -> list[str]:
        """Console errors and uncaught page errors, except the documented harmless ones."""
        found = [f"console.error: {text} ({where})" for kind, text, where in self.console
                 if kind == "error" and not any(p.search(f"{text} {where}") for p, _ in ignore)]
        found += [f"page error: {e}" for e in self.page_errors]
        if found and self.failed:  # "Failed to load resource" does not say which one
            found += [f"(HTTP {code} for {method} {url})" for code, method, url in self.failed]
        return found

    def kernel_ids(self) -> list[str]:
        return re.findall(r"/api/kernels/([0-9a-f-]{36})/channels", " ".join(self.websockets))


@contextlib.contextmanager
def chromium(headless: bool = True) -> Iterator[object]:
    """Debian's Chromium driven by playwright (a ``Browser``); always closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium_browser():
    """Fixture: one Chromium for a test module (import it into the module to use it);
    skips, or fails under CI, when Chromium or playwright is missing."""
    require_chromium()
    with chromium() as browser:
        yield browser


@contextlib.contextmanager
def recorded_context(browser, viewport: tuple[int, int] = (1280, 900)) -> Iterator[tuple[object, Recorder]]:
    """A fresh context (no cookies, no cache) and the :class:`Recorder` watching it."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(WAIT_MS)
    try:
        yield context, Recorder(context)
    finally:
        context.close()


def voila_screenshot(page, path: Path, width: int = 1280) -> Path:
    """Save the whole of a Voilà page as PNG. Voilà scrolls inside ``#rendered_cells``,
    not the document, so the viewport is stretched to the content for the shot."""
    before = page.viewport_size
    height = page.evaluate("() => { const el = document.getElementById('rendered_cells');"
                           " return Math.ceil(el ? el.scrollHeight : document.documentElement.scrollHeight); }")
    page.set_viewport_size({"width": width, "height": max(600, min(int(height) + 20, 12000))})
    page.wait_for_timeout(300)  # let the layout settle at the new size
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    if before:
        page.set_viewport_size(before)
    return Path(path)


#: JavaScript: ``performance.now()`` (ms since navigation started) once at least ``n``
#: images matching ``selector`` are loaded and have a size on screen, else null.
IMAGES_SHOWN_JS = """([selector, n]) => {
  const shown = [...document.querySelectorAll(selector)].filter(
    (i) => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().height > 0);
  return shown.length >= n ? performance.now() : null;
}"""


def wait_for_images(page, selector: str, n: int = 1, timeout: float = WAIT_MS) -> float:
    """Wait until ``n`` images matching ``selector`` are on screen; returns the page's
    ``performance.now()`` at that moment (ms since navigation started)."""
    handle = page.wait_for_function(IMAGES_SHOWN_JS, arg=[selector, n], polling=50, timeout=timeout)
    return float(handle.json_value())


CHOOSE_AND_TIME_JS = """async ([selectSel, label, imageSel, timeout]) => {
  const img = document.querySelector(imageSel);
  const select = document.querySelector(selectSel);
  const old = img.src;
  // ipywidgets shows spaces in option labels as no-break spaces
  const index = [...select.options].findIndex((o) => o.textContent.replace(/\\u00a0/g, ' ') === label);
  if (index < 0) throw new Error('no option ' + label);
  const started = performance.now();
  const changed = new Promise((resolve, reject) => {
    const seen = new MutationObserver(() => {
      if (img.src !== old) { seen.disconnect(); resolve(performance.now() - started); }
    });
    seen.observe(img, { attributes: true, attributeFilter: ['src'] });
    setTimeout(() => reject(new Error('the image did not change')), timeout);
  });
  select.selectedIndex = index;
  select.dispatchEvent(new Event('change', { bubbles: true }));
  return await changed;
}"""


def choose_and_time(page, select: str, label: str, image: str, timeout_ms: int = 60_000) -> float:
    """Choose the option shown as ``label`` in the ``<select>`` matching ``select`` the
    way a person does (a change event); milliseconds until the first image matching
    ``image`` shows a new picture."""
    return float(page.evaluate(CHOOSE_AND_TIME_JS, [select, label, image, timeout_ms]))


# ============================================================================ the kernel websocket


def decode_ws(message: str | bytes) -> dict:
    """A Jupyter kernel websocket message (legacy JSON text or the v1 binary protocol)
    as ``{"channel", "header", "parent_header", "metadata", "content", "buffers"}``."""
    if isinstance(message, str):
        msg = json.loads(message)
        msg.setdefault("buffers", [])
        return msg
    count = int.from_bytes(message[:8], "little")
    offsets = [int.from_bytes(message[8 * (i + 1): 8 * (i + 2)], "little") for i in range(count)]
    channel = message[offsets[0]:offsets[1]].decode()
    parts = [message[offsets[i]:offsets[i + 1]] for i in range(1, count - 1)]
    header, parent, metadata, content = (json.loads(p) for p in parts[:4])
    return {"channel": channel, "header": header, "parent_header": parent, "metadata": metadata,
            "content": content, "buffers": parts[4:]}


def encode_ws_v1(msg: dict) -> bytes:
    """``msg`` (as :func:`decode_ws` returns it) in the v1 binary protocol."""
    parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
    parts += [bytes(b) for b in msg.get("buffers", [])]
    channel = msg["channel"].encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(channel))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([len(offsets).to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets),
                     channel, *parts])


class KernelTap:
    """Listens on a page's kernel websocket(s) and can speak to the kernel as that page.

    Create it before the page navigates. Every message is decoded and kept
    (``to_kernel``, ``from_kernel``) and passed on unchanged; :meth:`send_comm` sends a
    comm message the page never asked for, exactly as a viewer with a scripted
    websocket could.
    """

    def __init__(self, page, pattern: re.Pattern[str] = re.compile(r"/api/kernels/[^/]+/channels")) -> None:
        self.to_kernel: list[dict] = []
        self.from_kernel: list[dict] = []
        self.binary: bool | None = None
        self._servers: list = []
        page.route_web_socket(pattern, self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()

        def up(message):
            if self.binary is None:
                self.binary = not isinstance(message, str)
            self.to_kernel.append(_safe_decode(message))
            server.send(message)

        def down(message):
            self.from_kernel.append(_safe_decode(message))
            ws.send(message)

        ws.on_message(up)
        server.on_message(down)
        self._servers.append(server)

    @property
    def connected(self) -> bool:
        return bool(self._servers) and self.binary is not None

    def widget_states(self) -> dict[str, dict]:
        """The latest known state of every widget model, by comm id, from what the kernel sent."""
        states: dict[str, dict] = {}
        for msg in self.from_kernel:
            kind = msg.get("header", {}).get("msg_type")
            content = msg.get("content", {})
            data = content.get("data", {}) or {}
            if kind == "comm_open":
                states.setdefault(content.get("comm_id"), {}).update(data.get("state", {}))
            elif kind == "comm_msg" and data.get("method") == "update" and "state" in data:
                states.setdefault(content.get("comm_id"), {}).update(data["state"])
            elif kind == "comm_msg" and data.get("method") == "update_states":
                for comm_id, entry in (data.get("states") or {}).items():
                    states.setdefault(comm_id, {}).update(entry.get("state", {}))
        return states

    def find_widget(self, model_name: str, dom_class: str) -> str:
        """The comm id of the widget whose model is ``model_name`` and which has CSS class
        ``dom_class``."""
        for comm_id, state in self.widget_states().items():
            if state.get("_model_name") == model_name and dom_class in (state.get("_dom_classes") or ()):
                return comm_id
        raise AssertionError(f"no {model_name} with class {dom_class!r} among the kernel's widgets")

    def send_comm(self, comm_id: str, data: dict) -> None:
        """Send ``data`` to the kernel as a comm message of widget ``comm_id``."""
        if not self.connected:
            raise AssertionError("the page has not talked to its kernel yet")
        msg = {
            "channel": "shell",
            "header": {"msg_id": uuid.uuid4().hex, "msg_type": "comm_msg", "username": "forger",
                       "session": uuid.uuid4().hex, "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": {"comm_id": comm_id, "data": data}, "buffers": [],
        }
        if self.binary:
            self._servers[-1].send(encode_ws_v1(msg))
        else:
            text = {k: v for k, v in msg.items() if k != "buffers"}
            self._servers[-1].send(json.dumps(text))

    def set_state(self, comm_id: str, state: dict) -> None:
        """Forge a widget value: what the page sends when a viewer changes a control."""
        self.send_comm(comm_id, {"method": "update", "state": state, "buffer_paths": []})


def _safe_decode(message) -> dict:
    try:
        return decode_ws(message)
    except Exception as exc:  # keep the traffic flowing whatever arrives
        return {"undecodable": repr(exc)}
