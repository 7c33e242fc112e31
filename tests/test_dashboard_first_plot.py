"""What makes a dashboard's first plot quick: a plain first image in Voilà, and a wait for
the viewer that does not load Voilà's server modules into the kernel.

Browser checks of the same are in ``test_browser_first_plot.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import subprocess
import sys
import threading

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from rapportkit.store import Store  # noqa: E402
from rapportkit.ui import CalibrationDashboard, SpecialistProgress, TeamOverview, query_string  # noqa: E402
from rapportkit.ui import dashboards  # noqa: E402

TODAY = "2026-11-22"


@pytest.fixture(scope="module")
def demo(demo_db):
    s = Store(demo_db, readonly=True)
    yield s
    s.close()


def _src(html: str) -> bytes:
    found = re.search(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert found, html[:300]
    return base64.b64decode(found.group(1))


# ---------------------------------------------------------------- the plain first image


@pytest.mark.parametrize("make, image", [
    (lambda s: SpecialistProgress(s, today=TODAY), lambda d: d.trends.image),
    (lambda s: CalibrationDashboard(s), lambda d: d.explorer.image),
    (lambda s: TeamOverview(s, today=TODAY), lambda d: d.heatmap.image),
])
def test_the_first_image_is_the_first_plot_as_a_data_uri(demo, make, image):
    d = make(demo)
    html = d.first_plot_html()
    assert _src(html) == bytes(image(d).value)
    assert "class='rk-first-plot'" in html and "rk-explorer-plot'" not in html  # tests count live plots
    assert f"width='{image(d).width}'" in html
    assert dashboards.FIRST_PLOT_STYLE in html  # hidden once the live widget is on screen
    assert "<script" not in html and "://" not in html  # no script, nothing fetched (":" is not base64)


def test_the_first_image_follows_the_deep_link(demo):
    d = SpecialistProgress(demo, today=TODAY)
    d.apply_query("specialist=sp-03")
    assert _src(d.first_plot_html()) == bytes(d.trends.image.value)
    assert "Cedar Lanternfish (sp-03)" in d.trends.figure.get_suptitle()


def test_the_first_image_is_shown_in_voila_only(demo, monkeypatch):
    shown = []
    monkeypatch.setattr(dashboards, "_show_html", shown.append)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.delenv("VOILA_BASE_URL", raising=False)
    d, t = CalibrationDashboard(demo), TeamOverview(demo, today=TODAY)
    d.show_first_plot()
    t.show_first_plot()
    assert shown == []  # JupyterLab, nbval: the widget alone
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    d.show_first_plot()
    t.show_first_plot()
    assert shown == [d.first_plot_html(), t.first_plot_html()]


def test_no_first_image_without_specialists(tmp_path, monkeypatch):
    Store(tmp_path / "empty.db").close()
    shown = []
    monkeypatch.setattr(dashboards, "_show_html", shown.append)
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    with Store(tmp_path / "empty.db", readonly=True) as ro:
        SpecialistProgress(ro).show_first_plot()
    assert shown == []


def test_a_title_in_the_first_image_is_escaped():
    image = type("Image", (), {"value": b"\x89PNG", "width": "1", "height": "1"})()
    html = dashboards.first_plot_html("<b>x</b>'", image)
    assert "<b>" not in html and "&lt;b&gt;" in html and "alt='&lt;b&gt;x&lt;/b&gt;&#x27;'" in html


# ---------------------------------------------------------------- waiting for the viewer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeVoila:
    """Voilà's request-info websocket (``/voila/query/<kernel id>``) on 127.0.0.1: sends
    ``payload`` to whoever connects, and keeps the paths asked for."""

    def __init__(self, payload: dict) -> None:
        self.payload, self.paths, self.port = payload, [], _free_port()
        self._ready, self._stop = threading.Event(), None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        async def handler(connection):
            self.paths.append(connection.request.path)
            if self.payload is None:  # hangs up without an answer
                await connection.close()
                return
            await connection.send(json.dumps(self.payload))

        self._stop = asyncio.get_running_loop().create_future()
        async with serve(handler, "127.0.0.1", self.port):
            self._ready.set()
            await self._stop

    def __enter__(self) -> "FakeVoila":
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        loop = self._stop.get_loop()
        loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)


def _preheated(monkeypatch, port: int) -> None:
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.setenv("VOILA_APP_PORT", str(port))
    monkeypatch.setenv("VOILA_SERVER_URL", "/")
    monkeypatch.setenv("VOILA_KERNEL_ID", "k-1")
    monkeypatch.setenv("QUERY_STRING", "")
    for name in ("VOILA_APP_IP", "VOILA_WS_PROTOCOL", "VOILA_WS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_a_preheated_kernel_waits_for_the_viewer_without_loading_voila(monkeypatch):
    monkeypatch.delitem(sys.modules, "voila.utils", raising=False)
    with FakeVoila({"QUERY_STRING": "specialist=sp-04", "SERVER_NAME": "127.0.0.1"}) as voila:
        _preheated(monkeypatch, voila.port)
        monkeypatch.setenv("SERVER_NAME", "")
        assert query_string() == "specialist=sp-04"
    assert voila.paths == ["/voila/query/k-1"]
    import os

    assert os.environ["SERVER_NAME"] == "127.0.0.1"  # the rest of the request, as Voilà puts it
    assert "voila.utils" not in sys.modules


def test_without_voila_listening_the_page_still_renders(monkeypatch):
    monkeypatch.delitem(sys.modules, "voila.utils", raising=False)
    _preheated(monkeypatch, _free_port())
    with pytest.warns(UserWarning, match="Failed to connect"):
        assert query_string() == ""


def test_a_voila_that_hangs_up_without_an_answer_still_lets_the_page_render(monkeypatch):
    monkeypatch.delitem(sys.modules, "voila.utils", raising=False)
    with FakeVoila(None) as voila:
        _preheated(monkeypatch, voila.port)
        with pytest.warns(UserWarning, match="Failed to connect"):
            assert query_string() == ""
    assert voila.paths == ["/voila/query/k-1"]


def test_a_kernel_loads_neither_voila_nor_its_server_to_wait():
    code = ("import sys, rapportkit.ui.dashboards as d; "
            "print(sorted(m for m in ('voila', 'voila.utils', 'jupyter_server', 'jupyterlab_server') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
