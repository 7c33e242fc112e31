"""The plain first plot in Chromium: on screen before the widgets are live, the very
picture of the live plot (the deep link's specialist included), and out of sight once
the live widget is there. Served by ``rapportkit serve`` as shipped."""

from __future__ import annotations

import pytest

from browser import (  # noqa: F401  (chromium_browser is a fixture)
    chromium_browser, fresh_db, rapportkit_serve, recorded_context, wait_for_images,
)

pytestmark = pytest.mark.browser

LIVE = "img.rk-explorer-plot"
FIRST = "img.rk-first-plot"
#: In every page from its first byte: when the plain first image, and when a live plot
#: widget, was first on screen (ms since navigation started).
TIMES_JS = """(() => {
  const shown = (sel) => [...document.querySelectorAll(sel)].some(
    (i) => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().height > 0);
  const t = window.__rk_times = { first: null, live: null };
  const timer = setInterval(() => {
    if (t.first === null && shown('%s')) t.first = performance.now();
    if (t.live === null && shown('%s')) t.live = performance.now();
    if (t.live !== null) clearInterval(timer);
  }, 10);
})();""" % (FIRST, LIVE)
#: The pixels of an image (drawn on a canvas) as a short fingerprint.
PIXELS_JS = """(img) => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 1) h = (h * 31 + d[i]) >>> 0;
  return [c.width, c.height, h];
}"""


@pytest.fixture(scope="module")
def served(chromium_browser, demo_db, tmp_path_factory):
    db = fresh_db(demo_db, tmp_path_factory.mktemp("served"))
    with rapportkit_serve(db, log_dir=tmp_path_factory.mktemp("logs")) as server:
        server.wait_kernels_idle(3, timeout=180)
        yield server


@pytest.mark.parametrize("name, query", [
    ("specialist_progress", ""), ("specialist_progress", "specialist=sp-03"),
    ("team_overview", ""), ("calibration", "specialist=sp-04"),
])
def test_the_first_plot_shows_before_the_widgets_and_gives_way_to_them(served, chromium_browser, name, query):
    with recorded_context(chromium_browser) as (context, rec):
        context.add_init_script(TIMES_JS)
        page = context.new_page()
        served.wait_kernels_idle(quiet=1.0, timeout=180)
        page.goto(served.page(f"voila/render/{name}.ipynb", query), wait_until="commit")
        wait_for_images(page, LIVE, 1)
        page.wait_for_timeout(300)  # a frame or two for the style rule to apply
        times = page.evaluate("() => window.__rk_times")
        assert times["first"] is not None and times["first"] <= times["live"], times
        first = page.locator(FIRST)
        assert first.count() == 1
        assert first.evaluate("(i) => i.src.startsWith('data:image/png;base64,')")
        assert first.evaluate("(i) => i.getBoundingClientRect().height") == 0  # out of sight now
        live = page.locator(LIVE).first  # the dashboard's first plot
        assert first.evaluate(PIXELS_JS) == live.evaluate(PIXELS_JS)  # the same picture
        assert rec.foreign() == [], rec.foreign()
        assert rec.errors() == [], "\n".join(rec.errors())
