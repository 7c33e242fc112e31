"""``rapportkit serve`` stays up under any client and any wait (no browser here).

- The limits read from the environment (``rapportkit.serve.settings``).
- The websocket guard's checks, one frame at a time (``rapportkit.serve.wsguard``): a
  frame's declared count, offsets and size must fit it, whatever it claims, in bounded time.
- The viewer's clock (``rapportkit.serve.poolclock``): a timeout does not run while the
  kernel waits in the pool, and runs in full once a viewer takes it.
- A real ``rapportkit serve`` on notebooks that wait for the viewer's query string, with
  the cell limit shortened to seconds: left idle past the limit they still render; a cell
  that truly hangs for a viewer still times out, counted from the viewer's arrival.
- A kernel that idled in the pool is not culled between a viewer taking it and the page
  opening its websocket (and is still culled when that viewer never comes).
- The home page over HTTP: three dashboards described, no file names, no script, token rules.

``test_browser_serve.py`` drives the same server with Chromium and hostile websockets.
"""

from __future__ import annotations

import asyncio
import html as htmlmod
import http.cookiejar
import json
import re
import secrets
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path
from queue import Empty

import nbformat
import pytest
from jupyter_server.services.kernels.connection.base import serialize_binary_message

from browser import encode_ws_v1, fresh_db, rapportkit_serve, voila_server, wait_until
from rapportkit.serve import ServeError, home, settings, voila_env
from rapportkit.serve.poolclock import ViewerClockChannel, kernel_is_pooled
from rapportkit.serve.wsguard import (
    MAX_BUFFERS, V1_PROTOCOL, TokenBucket, _outgoing_msg_type, frame_problem, kernel_bucket,
)

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "workbooks" / "dashboards"
TIMED_OUT = "Cell execution timed out"


def message(kind: str = "comm_msg", content: dict | None = None, channel: str = "shell") -> dict:
    return {"channel": channel,
            "header": {"msg_id": secrets.token_hex(8), "msg_type": kind, "username": "t", "session": "s",
                       "date": "2026-01-01T00:00:00Z", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content or {"comm_id": "c", "data": {}},
            "buffers": []}


# ============================================================================ settings


def test_limits_have_defaults_and_come_from_the_environment():
    assert settings.read("RAPPORTKIT_CELL_TIMEOUT", {}) == 120
    assert settings.read("RAPPORTKIT_WS_MAX_BYTES", {}) == 1024 * 1024
    assert settings.read("RAPPORTKIT_CELL_TIMEOUT", {"RAPPORTKIT_CELL_TIMEOUT": " 5 "}) == 5
    assert settings.read("RAPPORTKIT_WS_RATE", {"RAPPORTKIT_WS_RATE": "2.5"}) == 2.5


@pytest.mark.parametrize("name, value", [
    ("RAPPORTKIT_CELL_TIMEOUT", "soon"), ("RAPPORTKIT_CELL_TIMEOUT", "0"), ("RAPPORTKIT_CELL_TIMEOUT", "1.5"),
    ("RAPPORTKIT_CELL_TIMEOUT", "inf"), ("RAPPORTKIT_WS_MAX_BYTES", "10"), ("RAPPORTKIT_WS_BURST", "-3"),
])
def test_a_malformed_limit_is_refused_before_serving_and_never_breaks_the_config(name, value, tmp_path):
    with pytest.raises(ServeError, match=name):
        voila_env(tmp_path / "x.db", {name: value})
    # inside Voilà's configuration file a bad value must not raise (Voilà would skip the
    # whole file, hardening included): the default is used instead
    assert settings.read(name, {name: value}) == settings.SETTINGS[name].default


# ============================================================================ the websocket guard


def v1(count: int, offsets: list[int], tail: bytes = b"") -> bytes:
    return count.to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets) + tail


def test_well_formed_messages_pass_in_every_layout():
    msg = message()
    assert frame_problem(encode_ws_v1(msg), V1_PROTOCOL) is None
    assert frame_problem(encode_ws_v1({**msg, "buffers": [b"\x89PNG" * 10, b""]}), V1_PROTOCOL) is None
    legacy = {k: v for k, v in msg.items()}
    assert frame_problem(serialize_binary_message({**legacy, "buffers": [b"abc", b"de"]}), None) is None
    assert frame_problem(json.dumps({k: v for k, v in msg.items() if k != "buffers"}), None) is None


@pytest.mark.parametrize("frame, protocol, wanted", [
    # the frame that froze the server: 24 bytes declaring 2×10⁸ offsets
    ((2 * 10**8).to_bytes(8, "little") + b"\0" * 16, V1_PROTOCOL, "declares 200000000 offsets"),
    ((2**64 - 1).to_bytes(8, "little"), V1_PROTOCOL, "offsets"),
    (v1(6, [56, 61, 10**12, 10**12 + 1, 10**12 + 2, 10**12 + 3], b"shell{}"), V1_PROTOCOL, "beyond"),
    (v1(6, [56, 61, 70, 65, 80, 90]), V1_PROTOCOL, "backwards"),
    (v1(6, [8, 13, 20, 30, 40, 50]), V1_PROTOCOL, "inside its table"),
    (v1(3, [32, 37, 40], b"shell{}{}"), V1_PROTOCOL, "at least 6"),
    (v1(7 + MAX_BUFFERS, [0] * (7 + MAX_BUFFERS)), V1_PROTOCOL, "at most"),
    (b"\0" * 5, V1_PROTOCOL, "no room"),
    (v1(6, [56, 61, 70, 72, 74, 76], b"hello" + b"x" * 20), V1_PROTOCOL, "no kernel channel"),
    (v1(6, [56, 61, 64, 66, 68, 70], b"shellnot{}{}{}"), V1_PROTOCOL, "not JSON"),
    (v1(6, [56, 61, 63, 65, 67, 69], b"shell{}{}{}{}"), V1_PROTOCOL, "no msg_type"),
    ("{}", V1_PROTOCOL, "binary only"),
    # legacy binary: a 4-byte count, trusted by jupyter_server's deserialize_binary_message
    (b"\x7f\xff\xff\xff" + b"\0" * 20, None, "declares 2147483647 parts"),
    (b"\xff\xff\xff\xff" + b"\0" * 20, None, "declares -1 parts"),
    (struct.pack("!III", 2, 12, 10**9) + b"{}", None, "beyond"),
    (struct.pack("!II", 1, 8) + b"not json", None, "not JSON"),
    (struct.pack("!II", 1, 8) + b'{"header": {}}', None, "header and a parent_header"),
    ("not json", None, "not JSON"),
    ('{"header": "x"}', None, "msg_type"),
    ('["shell"]', None, "msg_type"),
])
def test_a_frame_that_does_not_fit_its_claims_is_refused(frame, protocol, wanted):
    problem = frame_problem(frame, protocol)
    assert problem is not None and wanted in problem, problem


def test_checking_a_frame_allocates_nothing_for_what_it_claims():
    """The stock v1 reader built a list as long as the declared count (2×10⁸ → 3 GB); the
    check reads at most MAX_BUFFERS offsets, so its peak allocation stays tiny whatever
    the frame claims (measured by tracemalloc, not by a clock)."""
    import tracemalloc

    frames = [(2 * 10**8).to_bytes(8, "little") + b"\0" * 16, (2**63).to_bytes(8, "little") + b"\0" * 16,
              b"\x7f\xff\xff\xff" + b"\0" * 20, v1(70, list(range(568, 568 + 70)), b"x" * 100),
              v1(6 + MAX_BUFFERS, [8 * (7 + MAX_BUFFERS)] * (6 + MAX_BUFFERS), b"x" * 10)]
    tracemalloc.start()
    try:
        for frame in frames:
            for protocol in (V1_PROTOCOL, None):
                assert frame_problem(frame, protocol) is not None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"checking five small frames allocated {peak} bytes"


def test_outgoing_messages_are_read_in_the_layout_they_use():
    """Voilà read every outgoing binary message as v1; a legacy one (4-byte big-endian
    count) then declared ~10¹⁷ offsets and the server looped for ever."""
    for kind in ("execute_input", "comm_msg"):
        msg = message(kind, channel="iopub")
        legacy_binary = serialize_binary_message({**msg, "buffers": [b"png"]})
        assert int.from_bytes(legacy_binary[:8], "little") > 10**15  # what Voilà's reader saw
        assert _outgoing_msg_type(legacy_binary, None) == kind
        assert _outgoing_msg_type(encode_ws_v1(msg), V1_PROTOCOL) == kind
        assert _outgoing_msg_type(json.dumps(msg), None) == (kind if kind == "execute_input" else None)
        assert _outgoing_msg_type(msg, None) == kind


def test_the_token_bucket_allows_bursts_and_a_steady_rate():
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=5, clock=lambda: now[0])
    assert [bucket.take() for _ in range(7)] == [True] * 5 + [False] * 2
    assert bucket.refused_in_a_row == 2
    now[0] += 0.1  # one token back
    assert bucket.take() and not bucket.take()
    now[0] += 100  # never more than the burst saved up
    assert sum(bucket.take() for _ in range(50)) == 5


def test_every_websocket_on_a_kernel_draws_on_one_bucket_so_more_connections_buy_nothing():
    import gc

    first = kernel_bucket("k-shared", 10, 5)
    second = kernel_bucket("k-shared", 10, 5)
    other = kernel_bucket("k-other", 10, 5)
    assert second is first and other is not first
    spent = sum(b.take() for b in (first, second) for _ in range(10))
    assert spent <= 5 + 1  # one burst between both connections (and a token refilled meanwhile)
    del first, second
    gc.collect()
    fresh = kernel_bucket("k-shared", 10, 5)  # the kernel's connections all closed: nothing kept
    assert sum(fresh.take() for _ in range(10)) >= 5


def test_a_person_using_a_dashboard_stays_far_inside_the_default_limits():
    """Measured in Chromium with ``browser.KernelTap`` on each dashboard: a page sends its
    kernel 4 messages while it loads and 1 per change of the specialist, none over 400
    bytes; a meeting note typed key by key sends one per key."""
    rate = settings.read("RAPPORTKIT_WS_RATE", {})
    burst = settings.read("RAPPORTKIT_WS_BURST", {})
    assert burst >= 100 and rate >= 10
    now = [0.0]
    bucket = TokenBucket(rate, burst, clock=lambda: now[0])
    for step in range(10 * 60 * 20):  # ten minutes of 20 keys a second, plus a page load now and then
        now[0] = step / 20
        assert bucket.take()
        if step % 400 == 0:
            assert all(bucket.take() for _ in range(4))


# ============================================================================ the viewer's clock


class _Task:
    def __init__(self, kernel_id):
        self.kernel_id = kernel_id

    def done(self):
        return True

    def cancelled(self):
        return False

    def exception(self):
        return None

    def result(self):
        return {"kernel_id": self.kernel_id}


class _Manager:
    def __init__(self, kernel_id, parent):
        self.kernel_id, self.parent = kernel_id, parent


class _Pools:
    def __init__(self, **pools):
        self._pools = pools


def test_a_kernel_is_pooled_while_a_finished_pool_entry_names_it():
    voila = _Pools(**{"a.ipynb": [_Task("k1")], "b.ipynb": [_Task("k2")]})
    assert kernel_is_pooled(_Manager("k1", voila)) and kernel_is_pooled(_Manager("k2", voila))
    voila._pools["a.ipynb"].pop()  # a viewer took it
    assert not kernel_is_pooled(_Manager("k1", voila))
    assert not kernel_is_pooled(_Manager("k3", voila))
    assert not kernel_is_pooled(_Manager("k1", object()))  # no preheating: nothing is pooled
    assert not kernel_is_pooled(object())


class _QuietSocket:
    """A shell socket on which no reply ever arrives."""

    async def poll(self, timeout_ms):
        await asyncio.sleep((timeout_ms or 0) / 1000)
        return 0


def _channel(waiting) -> ViewerClockChannel:
    channel = object.__new__(ViewerClockChannel)  # no real zmq socket needed
    channel.socket = _QuietSocket()
    channel.waiting_for_viewer = waiting
    return channel


def test_a_timeout_does_not_run_while_no_viewer_waits_and_runs_in_full_after():
    arrives = time.monotonic() + 1.6  # the viewer comes after more than twice the timeout

    async def wait():
        channel = _channel(lambda: time.monotonic() < arrives)
        try:
            await channel.get_msg(timeout=0.6)
        except Empty:
            return time.monotonic()
        raise AssertionError("a reply came from a quiet socket")

    gave_up = asyncio.run(wait())
    assert gave_up - arrives >= 0.55, "the viewer did not get the whole timeout"
    assert gave_up - arrives < 1.5


def test_without_a_pool_the_timeout_runs_from_the_start():
    async def wait():
        started = time.monotonic()
        with pytest.raises(Empty):
            await _channel(lambda: False).get_msg(timeout=0.3)
        return time.monotonic() - started

    assert 0.25 < asyncio.run(wait()) < 1.2


# ============================================================================ a real server


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def _get(url: str, timeout: float = 120, opener=None) -> tuple[float, str]:
    started = time.monotonic()
    with (opener or urllib.request.build_opener()).open(url, timeout=timeout) as answer:
        body = answer.read().decode(errors="replace")
    return time.monotonic() - started, body


LIMIT_S = 3


@pytest.fixture(scope="module")
def waiting_server(demo_db, tmp_path_factory):
    """``rapportkit serve`` (preheated) on two notebooks that wait for the viewer's query
    string, with ``RAPPORTKIT_CELL_TIMEOUT`` of 3 s; both kernels have reached that wait."""
    folder = tmp_path_factory.mktemp("waiting")
    imports = "from rapportkit.ui.dashboards import query_string"
    _notebook(folder / "waits.ipynb", imports,
              "q = query_string()\nprint('rk-served-' + q.replace('=', '-'))")
    _notebook(folder / "hangs.ipynb", imports,
              "q = query_string()\nimport time\ntime.sleep(3600)\nprint('rk-never')")
    db = fresh_db(demo_db, tmp_path_factory.mktemp("db"))
    with rapportkit_serve(db, dashboards=folder, env={"RAPPORTKIT_CELL_TIMEOUT": str(LIMIT_S)},
                          log_dir=tmp_path_factory.mktemp("logs")) as server:
        server.wait_kernels_idle(2, timeout=180)
        server.idle_at = time.monotonic()
        yield server


def _idle_past_the_limit(server) -> None:
    time.sleep(max(0.0, server.idle_at + 2 * LIMIT_S + 1 - time.monotonic()))


def test_a_preheated_kernel_left_idle_past_the_cell_limit_still_renders(waiting_server):
    _idle_past_the_limit(waiting_server)
    took, page = _get(waiting_server.page("voila/render/waits.ipynb", "who=sp-03"))
    assert TIMED_OUT not in page, waiting_server.tail()
    assert "rk-served-who-sp-03" in page
    assert "A viewer took a preheated kernel" in waiting_server.log_text()


def test_a_cell_that_hangs_for_a_viewer_still_times_out_counted_from_the_arrival(waiting_server):
    _idle_past_the_limit(waiting_server)
    took, page = _get(waiting_server.page("voila/render/hangs.ipynb"), timeout=90)
    assert TIMED_OUT in page
    assert "rk-never" not in page
    assert took >= LIMIT_S - 0.5, f"timed out {took:.1f} s after the viewer came: the clock ran in the pool"
    assert took < 60


def test_the_home_page_lists_a_sites_own_notebooks_by_name_in_words(waiting_server):
    _, page = _get(waiting_server.page(""))
    text = visible_text(page)
    assert "Hangs" in text and "Waits" in text
    assert ".ipynb" not in text


def _kernel_alive(server, kernel_id: str) -> bool:
    try:
        with urllib.request.urlopen(server.page(f"api/kernels/{kernel_id}"), timeout=30) as answer:
            return answer.status == 200
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def test_a_kernel_that_idled_in_the_pool_is_not_culled_before_its_viewer_connects(demo_db, tmp_path):
    """A pooled kernel whose cells all ran (like team_overview's) looked idle for its whole
    wait; once a viewer took it, the next culler pass shut it down before the page opened
    its websocket ("Kernel does not exist"). Culling after 6 s, checked every second."""
    folder = tmp_path / "done"
    folder.mkdir()
    _notebook(folder / "done.ipynb", "print('rk-done')")
    cull = ["--MappingKernelManager.cull_idle_timeout=6", "--MappingKernelManager.cull_interval=1"]
    with voila_server(folder, fresh_db(demo_db, tmp_path / "db"), preheat=True, extra_args=cull,
                      log_dir=tmp_path) as server:
        server.wait_kernels_idle(1, timeout=120)
        time.sleep(8)  # idle in the pool for longer than the culler allows a viewer's kernel
        _, page = _get(server.page("voila/render/done.ipynb"))
        assert "rk-done" in page
        kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', page).group(1)
        time.sleep(3)  # a slow browser still loading the page's scripts: no websocket yet
        assert _kernel_alive(server, kernel_id), f"the viewer's kernel was culled\n{server.tail()}"
        # …and the culler still ends a kernel whose viewer never came
        wait_until(lambda: not _kernel_alive(server, kernel_id), 30, "the abandoned kernel culled", every=0.5)


# ============================================================================ the home page


def visible_text(page: str) -> str:
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    return htmlmod.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def plain_server(demo_db, tmp_path_factory):
    db = fresh_db(demo_db, tmp_path_factory.mktemp("db"))
    with rapportkit_serve(db, preheat=False, log_dir=tmp_path_factory.mktemp("logs")) as server:
        yield server


def test_the_home_page_describes_each_dashboard_with_one_link_and_no_file_names(plain_server):
    for path in ("", "?classic-tree=false", "voila/tree", "voila/tree/?classic-tree=false"):
        _, page = _get(plain_server.page(path))
        text = visible_text(page)
        positions = []
        for d in home.DASHBOARDS:
            assert d.title in text and d.summary in text, (path, d.title)
            links = re.findall(rf'href="([^"]*/voila/render/{d.name}\.ipynb)"', page)
            assert links == [f"/voila/render/{d.name}.ipynb"], (path, links)
            positions.append(text.index(d.title))
        assert positions == sorted(positions)
        assert ".ipynb" not in text
        assert "<script" not in page.lower()
        assert not re.search(r"(src|href)=\"(https?:)?//", page), "nothing may come from another host"
    for name, audience in (("specialist_progress", "supervisor and a specialist"),
                           ("team_overview", "programme leads"), ("calibration", "self-ratings agree")):
        assert audience in next(d.summary for d in home.DASHBOARDS if d.name == name)
    assert "never ranked" in next(d.summary for d in home.DASHBOARDS if d.name == "team_overview")
    assert "fewer than three reviews" in next(d.summary for d in home.DASHBOARDS if d.name == "team_overview")


def test_with_a_token_the_home_page_needs_it_and_its_links_rely_on_the_cookie(demo_db, tmp_path):
    token = secrets.token_urlsafe(24)
    db = fresh_db(demo_db, tmp_path / "db")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with rapportkit_serve(db, token=token, preheat=False, log_dir=tmp_path) as server:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.build_opener(NoRedirect).open(server.page("", token=False), timeout=60)
        assert refused.value.code == 302 and "/login" in refused.value.headers["Location"]

        jar = http.cookiejar.CookieJar()
        browser_like = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        _, page = _get(server.page(""), opener=browser_like)
        assert all(d.title in page for d in home.DASHBOARDS)
        assert token not in page, "the token must not be copied into the page"
        assert len(jar) >= 1  # Voilà's login cookie, set because the token came in the URL
        _, again = _get(server.page("", token=False), opener=browser_like)
        assert all(d.title in again for d in home.DASHBOARDS)
        link = re.search(r'href="([^"]*/voila/render/team_overview\.ipynb)"', page).group(1)
        status = browser_like.open(server.url.rstrip("/") + link, timeout=120).status
        assert status == 200


# ---------------------------------------------------------------------------- the pool's size


def test_the_pool_is_sized_by_the_administrator_and_a_bigger_one_refills_after_a_burst(tmp_path):
    from rapportkit.serve import MAX_POOL, POOL_REFILL_S, voila_command

    one = voila_command(tmp_path, port=8866)
    assert "--pool_size=1" in one and not any("fill_delay" in a for a in one)
    four = voila_command(tmp_path, port=8866, pool_size=4)
    assert "--pool_size=4" in four and f"--VoilaKernelManager.fill_delay={POOL_REFILL_S}" in four
    assert not any("pool_size" in a for a in voila_command(tmp_path, port=8866, preheat=False, pool_size=4))
    for bad in (0, MAX_POOL + 1, "4", True, 2.0):
        with pytest.raises(ServeError, match=r"--pool-size must be a whole number of kernels from 1 to 16"):
            voila_command(tmp_path, port=8866, pool_size=bad)
