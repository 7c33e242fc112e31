"""``rapportkit serve`` under any client and any wait, checked with Chromium.

1. **The idle pool never fails a viewer.** A real ``rapportkit serve`` with the cell
   limit shortened to seconds (``RAPPORTKIT_CELL_TIMEOUT``) is left idle past it; every
   dashboard then shows its first plot and no "timed out".
2. **Frames from clients are bounded.** Hostile websockets on a dashboard's kernel, with
   the v1 subprotocol and without: a frame declaring 2×10⁸ offsets, offsets beyond the
   frame, a legacy frame declaring 2³¹ parts, an oversize frame, a widget's binary echo
   on the legacy protocol, a flood of comm messages. Each time the server refuses what it
   must (its close code is checked), its memory stays put (VmRSS of the Voilà process),
   it answers at once, the attacked kernel's real viewer still gets a redraw, and a new
   viewer's dashboard shows its first plot in the usual time.
3. **The home page**: three dashboards with a sentence each, one click to open each, no
   file names, nothing from another host.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import struct
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from browser import (  # noqa: F401  (chromium_browser is a fixture)
    chromium_browser, choose_and_time, encode_ws_v1, fresh_db, rapportkit_serve, recorded_context,
    wait_for_images, wait_until,
)
from rapportkit.serve import home

pytestmark = pytest.mark.browser

PLOT = "img.rk-explorer-plot"
V1 = "v1.kernel.websocket.jupyter.org"
NAMES = ("specialist_progress", "team_overview", "calibration")
FAILURE_TEXTS = ("timed out", "could not be shown", "Traceback")
#: The server may grow this much while it refuses a frame (the stock server grew by GBs).
RSS_GROWTH_MB = 200
#: A new viewer's first plot, after an attack (the usual time on a busy 2-core machine).
FIRST_PLOT_MS = 60_000


def render(name: str) -> str:
    return f"voila/render/{name}.ipynb"


def assert_clean(rec) -> None:
    assert rec.foreign() == [], f"requests to other hosts: {rec.foreign()}"
    assert rec.errors() == [], "\n".join(rec.errors())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@pytest.fixture
def page_of(chromium_browser):
    opened = []

    def make():
        cm = recorded_context(chromium_browser)
        context, rec = cm.__enter__()
        opened.append(cm)
        return context.new_page(), rec

    yield make
    for cm in reversed(opened):
        cm.__exit__(None, None, None)


# ============================================================================ 1. idle pool

LIMIT_S = 10


def test_a_pool_left_idle_past_the_cell_limit_renders_every_dashboard(demo_db, tmp_path, page_of, record_property):
    db = fresh_db(demo_db, tmp_path / "db")
    with rapportkit_serve(db, env={"RAPPORTKIT_CELL_TIMEOUT": str(LIMIT_S)}, log_dir=tmp_path) as server:
        server.wait_kernels_idle(3, timeout=180)  # each pooled kernel ran its cell 1
        time.sleep(LIMIT_S + 4)  # the waiting cells have now been waiting longer than the limit
        for name in NAMES:
            page, rec = page_of()
            page.goto(server.page(render(name)), wait_until="commit")
            first = wait_for_images(page, PLOT, 1, timeout=FIRST_PLOT_MS)
            text = page.locator("#rendered_cells").inner_text()
            for bad in FAILURE_TEXTS:
                assert bad not in text, f"{name}: {bad!r} on the page\n{server.tail()}"
            assert_clean(rec)
            record_property(f"{name}_first_plot_ms", round(first))
        log = server.log_text()
        assert "Timeout waiting for execute reply" not in log
        assert log.count("A viewer took a preheated kernel") >= 2  # the two that wait for the link


# ============================================================================ 2. frames


@pytest.fixture(scope="module")
def served(chromium_browser, demo_db, tmp_path_factory):
    """``rapportkit serve`` as shipped (preheated, default limits)."""
    db = fresh_db(demo_db, tmp_path_factory.mktemp("served"))
    with rapportkit_serve(db, log_dir=tmp_path_factory.mktemp("logs")) as server:
        server.wait_kernels_idle(3, timeout=180)
        yield server


def header(kind: str, session: str) -> dict:
    return {"msg_id": uuid.uuid4().hex, "msg_type": kind, "username": "attacker", "session": session,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(), "version": "5.3"}


def shell_msg(kind: str, content: dict, session: str, metadata: dict | None = None) -> dict:
    return {"channel": "shell", "header": header(kind, session), "parent_header": {},
            "metadata": metadata or {}, "content": content, "buffers": []}


def legacy_binary(msg: dict, buffers: list[bytes]) -> bytes:
    """``msg`` in the legacy binary layout (4-byte big-endian count and offsets)."""
    parts = [json.dumps({k: v for k, v in msg.items() if k != "buffers"}).encode(), *buffers]
    offsets = [4 * (len(parts) + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    return struct.pack("!" + "I" * (len(parts) + 1), len(parts), *offsets) + b"".join(parts)


class KernelSocket:
    """A raw websocket on a kernel, as a scripted client would open one."""

    def __init__(self, server, kernel_id: str, v1: bool) -> None:
        from websockets.sync.client import connect

        self.session = uuid.uuid4().hex
        url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={self.session}"
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(url, subprotocols=[V1] if v1 else None, open_timeout=30,
                                                    max_size=None, close_timeout=5))
        assert self.ws.subprotocol == (V1 if v1 else None)
        self.received: list = []

    def send(self, frame) -> bool:
        """Send ``frame``; False once the server has closed the connection."""
        from websockets.exceptions import ConnectionClosed

        try:
            self.ws.send(frame)
            return True
        except (ConnectionClosed, OSError):
            return False

    def close_code(self, within: float = 10) -> int | None:
        """The code the server closed with, reading (and keeping) whatever comes first;
        None if it is still open after ``within`` seconds."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + within
        try:
            while time.monotonic() < deadline:
                try:
                    self.received.append(self.ws.recv(timeout=max(0.05, deadline - time.monotonic())))
                except TimeoutError:
                    break
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    def close(self) -> None:
        try:
            self._stack.close()
        except Exception:  # noqa: BLE001 - already gone
            pass


def legacy_decode(frame: bytes) -> dict:
    count = struct.unpack("!I", frame[:4])[0]
    offsets = list(struct.unpack("!" + "I" * count, frame[4:4 * (count + 1)])) + [len(frame)]
    msg = json.loads(frame[offsets[0]:offsets[1]])
    msg["buffers"] = [frame[offsets[i]:offsets[i + 1]] for i in range(1, count)]
    return msg


def watch_rss(server, seconds: float = 3.0) -> tuple[float, float]:
    """(before, peak) VmRSS in MB of the Voilà process over the next ``seconds``; stops
    early, failing, once it grew by more than RSS_GROWTH_MB (the stock server kept
    growing; the test must stay bounded)."""
    pid = server.voila_pid
    before = peak = rss_mb(pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, rss_mb(pid))
        assert peak - before < RSS_GROWTH_MB, f"the server grew from {before:.0f} to {peak:.0f} MB"
        time.sleep(0.1)
    return before, peak


def answers_quickly(server, kernel_id: str, within: float = 3.0) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(server.page(f"api/kernels/{kernel_id}"), timeout=within) as answer:
        assert answer.status == 200
    return time.monotonic() - started


def victim(server, page_of):
    """A real viewer on specialist progress: (page, its kernel id)."""
    page, rec = page_of()
    page.goto(server.page(render("specialist_progress")), wait_until="commit")
    wait_for_images(page, PLOT, 3)
    kernel_id = wait_until(lambda: rec.kernel_ids() and rec.kernel_ids()[-1], 30, "the page's kernel websocket")
    return page, kernel_id


def still_served(server, page, page_of, other: str) -> float:
    """The attacked kernel's viewer still gets a redraw, and a new viewer's dashboard
    shows its first plot in the usual time; that time in ms."""
    choose_and_time(page, ".rk-dashboard-specialist select", "Gale Nightjar (sp-07)", PLOT, timeout_ms=30_000)
    fresh, rec = page_of()
    fresh.goto(server.page(render(other)), wait_until="commit")
    first = wait_for_images(fresh, PLOT, 1, timeout=FIRST_PLOT_MS)
    text = fresh.locator("#rendered_cells").inner_text()
    assert not any(bad in text for bad in FAILURE_TEXTS)
    assert_clean(rec)
    return first


ATTACKS = {
    # name: (v1 subprotocol?, frame, close code the server must answer with, log text)
    "v1 frame declaring 2x10^8 offsets": (True, (2 * 10**8).to_bytes(8, "little") + b"\0" * 16, 1007,
                                          "declares 200000000 offsets"),
    "v1 offsets beyond the frame": (True, b"".join(n.to_bytes(8, "little") for n in
                                                   (6, 56, 61, 10**12, 10**12 + 2, 10**12 + 4, 10**12 + 6))
                                    + b"shell{}", 1007, "beyond its"),
    "legacy frame declaring 2^31 parts": (False, b"\x7f\xff\xff\xff" + b"\0" * 20, 1007, "declares 2147483647 parts"),
    "legacy offsets beyond the frame": (False, struct.pack("!III", 2, 12, 10**9) + b"{}", 1007, "beyond its"),
    "oversize v1 frame (2 MiB)": (True, (6).to_bytes(8, "little") + b"\0" * (2 * 1024 * 1024), 1009,
                                  "over the 1048576-byte limit"),
    "oversize legacy frame (2 MiB)": (False, b"\0" * (2 * 1024 * 1024), 1009, "over the 1048576-byte limit"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_malformed_frame_is_refused_without_growing_or_stalling_the_server(served, page_of, attack,
                                                                             record_property):
    v1, frame, code, logged = ATTACKS[attack]
    page, kernel_id = victim(served, page_of)
    sock = KernelSocket(served, kernel_id, v1)
    try:
        sock.send(frame)
        before, peak = watch_rss(served)  # the server neither grows…
        answered = answers_quickly(served, kernel_id)  # …nor stalls,
        assert sock.close_code() == code  # and it closed the attacker's connection
    finally:
        sock.close()
    wait_until(lambda: logged in served.log_text(), 10, f"the refusal in the server log ({logged!r})")
    first = still_served(served, page, page_of, "calibration" if v1 else "team_overview")
    record_property("rss_mb", [round(before), round(peak)])
    print(f"\n{attack}: RSS {before:.0f} → {peak:.0f} MB, answered in {answered * 1000:.0f} ms, "
          f"a new viewer's first plot in {first:.0f} ms")


def test_a_legacy_client_gets_a_widgets_binary_echo_without_the_server_looping(served, page_of):
    """Without a subprotocol, a binary comm message after opening a comm made the kernel
    echo it with a buffer; Voilà read that legacy binary reply as v1 (a count of ~10¹⁷)
    and the server grew ~45 MB/s for ever. Now the echo arrives, in the legacy layout."""
    page, kernel_id = victim(served, page_of)
    sock = KernelSocket(served, kernel_id, v1=False)
    comm = uuid.uuid4().hex
    state = {"_model_name": "ImageModel", "_model_module": "@jupyter-widgets/controls",
             "_model_module_version": "2.0.0", "_view_name": "ImageView",
             "_view_module": "@jupyter-widgets/controls", "_view_module_version": "2.0.0", "format": "png"}
    meta = {"version": "2.1.0"}
    try:
        sock.send(legacy_binary(shell_msg("comm_open", {"comm_id": comm, "target_name": "jupyter.widget",
                                                        "data": {"state": state, "buffer_paths": [["value"]]}},
                                          sock.session, meta), [b"\x89PNG-one"]))
        time.sleep(0.5)
        sock.send(legacy_binary(shell_msg("comm_msg", {"comm_id": comm, "data": {
            "method": "update", "state": {}, "buffer_paths": [["value"]]}}, sock.session, meta), [b"\x89PNG-two"]))
        before, peak = watch_rss(served)
        answers_quickly(served, kernel_id)
        assert sock.close_code(within=3) is None  # a well-formed client is not disconnected
        echoes = [legacy_decode(m) for m in sock.received if isinstance(m, bytes)]
        assert any(e["content"].get("comm_id") == comm and e["buffers"] == [b"\x89PNG-two"] for e in echoes), \
            "the widget's echo with its buffer should reach the client"
    finally:
        sock.close()
    still_served(served, page, page_of, "team_overview")


def test_a_flood_of_comm_messages_is_cut_to_the_rate_and_the_rest_are_served(served, page_of):
    page, kernel_id = victim(served, page_of)
    watcher = KernelSocket(served, kernel_id, v1=True)  # counts what the kernel really handled
    flood = KernelSocket(served, kernel_id, v1=True)
    handled = []

    def watch():
        from websockets.exceptions import ConnectionClosed

        end = time.monotonic() + 8
        while time.monotonic() < end:
            try:
                frame = watcher.ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            if isinstance(frame, bytes):
                count = int.from_bytes(frame[:8], "little")
                offsets = [int.from_bytes(frame[8 * (i + 1): 8 * (i + 2)], "little") for i in range(count)]
                hdr, parent = (json.loads(frame[offsets[i]:offsets[i + 1]]) for i in (1, 2))
                if hdr["msg_type"] == "status" and parent.get("session") == flood.session:
                    handled.append(parent.get("msg_id"))

    thread = threading.Thread(target=watch)
    thread.start()
    sent, started = 0, time.monotonic()
    frame = encode_ws_v1(shell_msg("comm_msg", {"comm_id": "no-such-comm", "data": {"method": "custom"}},
                                   flood.session))
    try:
        for _ in range(5000):
            if not flood.send(frame):
                break
            sent += 1
        code = flood.close_code()
        elapsed = time.monotonic() - started
        before, peak = watch_rss(served)
        answers_quickly(served, kernel_id)
    finally:
        flood.close()
        thread.join()
        watcher.close()
    reached = len(set(handled))
    print(f"\nflood: {sent} sent in {elapsed:.1f} s, {reached} reached the kernel, closed with {code}; "
          f"RSS {before:.0f} → {peak:.0f} MB")
    assert code == 1008
    assert 0 < reached <= 200 + 20 * elapsed + 10, f"{reached} of {sent} flood messages reached the kernel"
    wait_until(lambda: "Dropping messages from a page" in served.log_text(), 10, "the drops in the log")
    still_served(served, page, page_of, "calibration")


# ============================================================================ 3. home page


def test_the_home_page_offers_each_dashboard_with_a_sentence_and_one_click(served, page_of):
    page, rec = page_of()
    page.goto(served.page(""))
    links = page.locator("main a")
    assert links.count() == 3
    for i, d in enumerate(home.DASHBOARDS):
        link = links.nth(i)
        assert link.locator(".rk-home-title").inner_text() == d.title
        assert link.locator(".rk-home-summary").inner_text() == d.summary
    body = page.locator("body").inner_text()
    assert ".ipynb" not in body
    assert page.title() == home.TITLE
    page.get_by_role("link", name=re.compile("^Calibration")).click()
    wait_for_images(page, PLOT, 1, timeout=FIRST_PLOT_MS)
    assert page.url.endswith("/voila/render/calibration.ipynb")
    assert "Self-rating against the supervisor's, over time" in page.locator("#rendered_cells").inner_text()
    assert_clean(rec)


def test_with_a_token_the_home_page_and_its_links_work_through_the_cookie(demo_db, tmp_path, page_of):
    import secrets

    token = secrets.token_urlsafe(24)
    db = fresh_db(demo_db, tmp_path / "db")
    with rapportkit_serve(db, token=token, preheat=False, log_dir=tmp_path) as server:
        page, rec = page_of()
        page.goto(server.page("", token=False))
        assert "/login" in page.url and page.locator("main a").count() == 0
        page.goto(server.page(""))
        assert page.locator("main a").count() == 3
        assert token not in page.content()
        page.get_by_role("link", name=re.compile("^Team overview")).click()
        wait_for_images(page, PLOT, 1, timeout=FIRST_PLOT_MS)
        assert token not in page.url
        assert "Where each specialist is now" in page.locator("#rendered_cells").inner_text()
        assert_clean(rec)
