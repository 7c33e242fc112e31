"""The read-only dashboards in a real Chromium, served by ``rapportkit serve``.

One ``rapportkit serve`` (preheated, the shipped configuration) on a fresh copy of the
demo database serves most tests; the token test and the load test start their own.
Every page of every test is checked for requests to other hosts and console errors
(``browser.IGNORED_CONSOLE_ERRORS`` lists what may be filtered, with reasons: nothing so
far). Screenshots for the README go to ``docs/img/dashboard_*.png``.

Timings measured here (first plot, specialist change) are printed with ``-s`` and kept
as ``record_property`` entries; ``bench/bench_dashboards.py`` measures them properly.
"""

from __future__ import annotations

import re
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser import (  # noqa: F401  (chromium_browser is a fixture)
    ROOT, KernelTap, audit_count, choose_and_time, chromium_browser, db_sha256, fresh_db, rapportkit_serve,
    recorded_context, voila_screenshot, voila_server, wait_for_images, wait_until,
)

pytestmark = pytest.mark.browser

DASHBOARDS = ROOT / "workbooks" / "dashboards"
IMG = ROOT / "docs" / "img"
PLOT = "img.rk-explorer-plot"
#: name -> (plots on the page, text that must be shown)
PAGES = {
    "specialist_progress": (3, ["Practice by practice, over time", "Worth a conversation",
                                "The latest review against the one before", "Goals and their follow-ups",
                                "Aster Moonwhistle (sp-01): 32 reviews"]),
    "team_overview": (1, ["Where each specialist is now", "Follow-ups (as of", "Hollis Marzipan (sp-08)",
                          "Calibration: self-ratings against the supervisor's"]),
    "calibration": (1, ["Self-rating against the supervisor's, over time", "Practice by practice",
                        "Everyone, in name order", "Agreement beyond chance"]),
}
#: What Voilà shows when a cell fails (config/voila.py) and what a traceback would show.
FAILURE_TEXTS = ("could not be shown", "Traceback", "Error")


def render(name: str, query: str = "") -> str:
    return f"voila/render/{name}.ipynb" + (f"?{query}" if query else "")


def assert_clean(rec) -> None:
    """No request to another host, no console error, no page error."""
    assert rec.foreign() == [], f"requests to other hosts: {rec.foreign()}"
    assert rec.errors() == [], "\n".join(rec.errors())


def body_text(page) -> str:
    return page.locator("#rendered_cells").inner_text()


@pytest.fixture(scope="module")
def demo_copy(demo_db, tmp_path_factory):
    return fresh_db(demo_db, tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def served(chromium_browser, demo_copy, tmp_path_factory):
    """``rapportkit serve`` as shipped (preheated pool of one per dashboard), with the
    database's fingerprint taken before it started."""
    before = (db_sha256(demo_copy), audit_count(demo_copy))
    with rapportkit_serve(demo_copy, log_dir=tmp_path_factory.mktemp("logs")) as server:
        server.before = before
        server.wait_kernels_idle(3, timeout=180)  # the three pooled kernels ran their cell 1
        yield server


@pytest.fixture
def page_of(chromium_browser):
    """``page, rec = page_of()``: a fresh context's page and its recorder; closed after."""
    opened = []

    def make(viewport=(1280, 900)):
        cm = recorded_context(chromium_browser, viewport)
        context, rec = cm.__enter__()
        opened.append(cm)
        return context.new_page(), rec

    yield make
    for cm in reversed(opened):
        cm.__exit__(None, None, None)


# ============================================================================ rendering


@pytest.mark.parametrize("name", list(PAGES))
def test_each_dashboard_renders_its_plots_and_text(served, page_of, name, record_property):
    page, rec = page_of()
    page.goto(served.page(render(name)), wait_until="commit")
    first = wait_for_images(page, PLOT, 1)
    plots, texts = PAGES[name]
    wait_for_images(page, PLOT, plots)
    text = body_text(page)
    for wanted in texts:
        assert wanted in text
    for bad in FAILURE_TEXTS:
        assert bad not in text
    record_property("first_plot_ms", round(first))
    print(f"\n{name}: first plot {first:.0f} ms after navigation started")
    voila_screenshot(page, IMG / f"dashboard_{name}.png")
    assert_clean(rec)


def choose(page, label: str, timeout_ms: int = 60_000) -> float:
    """Pick ``label`` in the dashboard's specialist dropdown as a person would; the ms
    until the first plot shows a new picture."""
    return choose_and_time(page, ".rk-dashboard-specialist select", label, PLOT, timeout_ms)


def test_changing_the_specialist_redraws_the_plots(served, page_of, record_property):
    page, rec = page_of()
    page.goto(served.page(render("specialist_progress")), wait_until="commit")
    wait_for_images(page, PLOT, 3)
    before = page.locator(PLOT).evaluate_all("els => els.map((e) => e.src)")
    alerts = page.locator(".rk-dashboard-alerts").inner_text()
    times = [choose(page, label) for label in ("Fable Puddleby (sp-06)", "Dune Quillfeather (sp-04)",
                                                "Gale Nightjar (sp-07)")]
    page.wait_for_function("() => document.querySelector('#rendered_cells').innerText"
                           ".includes('Gale Nightjar (sp-07): 41 reviews')")
    wait_until(lambda: all(a != b for a, b in zip(before, page.locator(PLOT).evaluate_all(
        "els => els.map((e) => e.complete && e.naturalWidth > 0 ? e.src : null)"))), 60, "every plot redrawn")
    assert page.locator(".rk-dashboard-alerts").inner_text() != alerts
    times.sort()
    record_property("change_ms", [round(t) for t in times])
    print(f"\nspecialist change → new plot: {', '.join(f'{t:.0f}' for t in times)} ms")
    assert times[1] < 5000, "a specialist change should redraw within seconds even on a busy machine"
    assert_clean(rec)


@pytest.mark.parametrize("name, query, wanted", [
    ("specialist_progress", "specialist=sp-03", "Cedar Lanternfish (sp-03): 34 reviews"),
    ("calibration", "specialist=sp-04", "Dune Quillfeather (sp-04):"),
])
def test_the_deep_link_shows_that_specialist(served, page_of, name, query, wanted):
    page, rec = page_of()
    page.goto(served.page(render(name), query), wait_until="commit")
    wait_for_images(page, PLOT, PAGES[name][0])
    page.wait_for_function("(t) => document.querySelector('#rendered_cells').innerText.includes(t)", arg=wanted)
    label = wanted.split(":")[0]
    assert page.locator(".rk-dashboard-specialist select").evaluate(
        "(s) => s.options[s.selectedIndex].textContent.replace(/\u00a0/g, ' ')") == label
    assert page.locator(".rk-dashboard-status").inner_text().strip() == ""
    assert_clean(rec)


@pytest.mark.parametrize("query, message", [
    ("specialist=sp-99", "There is no specialist with the id “sp-99” in this database. Showing Aster "
                         "Moonwhistle (sp-01) instead; pick someone from the list."),
    ("specialist=%3Cimg%20src%3Dx%20onerror%3D%22window.__xss%3D1%22%3E",
     "The link asks for the specialist “<img src=x onerror=\"window.__xss=1\">”, which is not a specialist id"),
])
def test_an_unknown_or_malformed_specialist_shows_a_clear_message(served, page_of, query, message):
    page, rec = page_of()
    page.goto(served.page(render("specialist_progress"), query), wait_until="commit")
    wait_for_images(page, PLOT, 1)
    status = page.locator(".rk-dashboard-status")
    status.get_by_text(message[:40]).wait_for()
    assert message in status.inner_text()
    assert page.locator(".rk-dashboard-status img").count() == 0  # shown as text, not markup
    assert page.evaluate("() => window.__xss") is None
    assert page.locator(".rk-dashboard-specialist select").is_visible()  # the dropdown is the way on
    text = body_text(page)
    for bad in FAILURE_TEXTS:
        assert bad not in text
    assert_clean(rec)


# ============================================================================ read-only


def test_forged_widget_values_cannot_write(served, page_of):
    page, rec = page_of()
    tap = KernelTap(page)
    page.goto(served.page(render("specialist_progress")), wait_until="commit")
    wait_for_images(page, PLOT, 3)
    wait_until(lambda: tap.connected and tap.widget_states(), 30, "the page's widget models")
    assert_clean(rec)  # before any forgery, the page is clean

    # 1. A <select> option injected into the page's DOM and chosen: the page sends an
    #    index the kernel never offered.
    page.locator(".rk-dashboard-specialist select").evaluate("""(s) => {
        const o = document.createElement('option'); o.textContent = 'sp-99'; o.value = 'sp-99';
        s.appendChild(o); s.value = 'sp-99'; s.dispatchEvent(new Event('change', {bubbles: true})); }""")

    # 2. Comm messages the page never sent, straight into the kernel's websocket.
    picker = tap.find_widget("DropdownModel", "rk-dashboard-specialist")
    hidden = tap.find_widget("DropdownModel", "rk-explorer-specialist")
    since = tap.find_widget("DatePickerModel", "rk-explorer-since")
    practices = tap.find_widget("SelectMultipleModel", "rk-explorer-practices")
    status_box = tap.find_widget("CheckboxModel", "rk-privacy-confirm")
    for comm_id, state in [
        (picker, {"index": 10**6}), (picker, {"index": -1}), (picker, {"index": "sp-01'; DROP TABLE audit;--"}),
        (hidden, {"index": 7}),
        (since, {"value": {"year": 99999, "month": 13, "date": 40}}), (since, {"value": "yesterday"}),
        (practices, {"index": [0, 42]}), (practices, {"index": []}), (status_box, {"value": True}),
    ]:
        tap.set_state(comm_id, state)
    tap.send_comm(picker, {"method": "custom", "content": {"event": "click"}})
    # Well-formed forgeries simply choose: every practice again, then Ember Pennywort.
    tap.set_state(practices, {"index": list(range(9))})
    tap.set_state(picker, {"index": 4})
    page.wait_for_function("() => document.querySelector('#rendered_cells').innerText"
                           ".includes('Ember Pennywort (sp-05)')")

    # The page still answers a person, and the kernel is the same one.
    choose(page, "Bramble Otterby (sp-02)")
    page.wait_for_function("() => document.querySelector('#rendered_cells').innerText"
                           ".includes('Bramble Otterby (sp-02): 33 reviews')")
    assert len(set(rec.kernel_ids())) == 1

    # Last, forged labels: the kernel takes them (ipywidgets lets a frontend set even
    # read-only traits), which spoils this viewer's own dropdown and nothing else.
    tap.set_state(picker, {"_options_labels": ["<img src=x onerror=alert(1)>"]})
    tap.set_state(picker, {"index": 0})
    page.wait_for_timeout(1000)
    assert (db_sha256(served_db(served)), audit_count(served_db(served))) == served.before
    assert page.evaluate("() => window.__xss") is None
    assert rec.foreign() == []
    assert rec.errors(ignore=FORGERY_ECHOES) == [], "\n".join(rec.errors(ignore=FORGERY_ECHOES))


#: Console errors a forger's own page may log, and only in the forgery test: ipywidgets
#: echoes every update back to the page before checking it ("echo_update"), so the
#: forger's SelectMultiple is told to select option 42 of 9, which it cannot.
FORGERY_ECHOES = ((re.compile(r"^Error setting state: Cannot set properties of undefined \(setting 'selected'\)"),
                   "a forged out-of-range selection echoed back to the forger's own page"),)


def served_db(server) -> Path:
    return Path(server.cmd[server.cmd.index("--db") + 1])


# ============================================================================ access


def _status(url: str) -> tuple[int, str]:
    """HTTP status and Location of ``url`` without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=60) as answer:
            return answer.status, answer.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def test_with_a_token_the_page_without_it_is_refused(demo_copy, tmp_path, page_of):
    token = secrets.token_urlsafe(24)
    with rapportkit_serve(demo_copy, token=token, preheat=False, log_dir=tmp_path) as server:
        for path in ("", render("team_overview"), "voila/tree", "api/kernels"):
            code, location = _status(server.page(path, token=False))
            assert code in (302, 403, 404) and (code != 302 or "/login" in location), (path, code, location)
            assert code != 200
        assert _status(server.page(render("team_overview")))[0] == 200

        page, rec = page_of()
        page.goto(server.page(render("team_overview"), token=False))
        assert "/login" in page.url
        assert page.locator(PLOT).count() == 0
        page.goto(server.page(render("team_overview")), wait_until="commit")
        wait_for_images(page, PLOT, 1)
        assert "Where each specialist is now" in body_text(page)
        assert_clean(rec)


def _body(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as answer:
        return answer.read().decode(errors="replace")


def test_no_file_is_served_and_the_template_cannot_be_switched(served):
    db = served_db(served)
    for path in (f"voila/files/{name}.ipynb" for name in PAGES):
        assert _status(served.page(path))[0] == 403, path
    for path in ("voila/files/" + db.name, "voila/files/../" + db.name, "static/etc/passwd",
                 "voila/static/../../../../etc/passwd", f"voila/files/{'%2e%2e/' * 6}etc/passwd"):
        assert _status(served.page(path))[0] in (302, 403, 404), path
    # a viewer asking for Voilà's stock templates still gets rapportkit's, without CDN links
    html = _body(served.page(render("team_overview"), "template=lab"))
    assert "Where each specialist is now" in html
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html


# ============================================================================ many loads


def _loads(browser, sequential: int, concurrent: int, tmp_path: Path, demo_db: Path) -> None:
    db = fresh_db(demo_db, tmp_path / "db")
    names = list(PAGES)
    # Culled 20 s after the last activity (not 5: a kernel that finished its cells waits
    # idle, with no websocket yet, while a busy browser loads the page's scripts).
    cull = ["--MappingKernelManager.cull_idle_timeout=20", "--MappingKernelManager.cull_interval=4"]
    with voila_server(DASHBOARDS, db, preheat=True, extra_args=cull, log_dir=tmp_path) as server:
        pool = len(names)
        server.wait_kernels_idle(pool, timeout=180)
        hung = []
        with recorded_context(browser) as (context, rec):
            for n in range(sequential):
                page = context.new_page()
                name = names[n % len(names)]
                page.goto(server.page(render(name)), wait_until="commit")
                try:
                    wait_for_images(page, PLOT, 1, timeout=60_000)
                except Exception:
                    hung.append(f"sequential load {n + 1} of {name}")
                page.close()
            pages = [context.new_page() for _ in range(concurrent)]
            for n, page in enumerate(pages):  # start every load before waiting for any
                page.evaluate("(u) => { window.location.href = u; }", server.page(render(names[n % len(names)])))
            for n, page in enumerate(pages):
                try:
                    wait_for_images(page, PLOT, 1, timeout=90_000)
                except Exception:
                    hung.append(f"concurrent load {n + 1}")
            assert hung == [], f"{len(hung)} loads never rendered: {hung}\n{server.tail()}"
            kernels = len(set(rec.kernel_ids()))
            assert kernels == sequential + concurrent, "each load should have connected to its own kernel"
            for page in pages:
                page.close()
            assert_clean(rec)
        # Viewers gone: their kernels are culled, the preheated pool stays.
        wait_until(lambda: len(server.kernel_pids()) == pool, 90,
                   f"live kernels back to the pool size {pool} (now {len(server.kernel_pids())})")
        time.sleep(3)
        assert len(server.kernel_pids()) == pool


def test_repeated_and_concurrent_loads_all_render_and_kernels_return_to_the_pool(chromium_browser, tmp_path, demo_db):
    _loads(chromium_browser, sequential=6, concurrent=3, tmp_path=tmp_path, demo_db=demo_db)


@pytest.mark.slow
def test_thirty_sequential_and_five_concurrent_loads_all_render(chromium_browser, tmp_path, demo_db):
    _loads(chromium_browser, sequential=30, concurrent=5, tmp_path=tmp_path, demo_db=demo_db)


# ============================================================================ last: nothing was written


def test_the_served_database_is_unchanged_after_every_page_above(served):
    """The whole module's browsing, forgeries included, left the database byte for byte
    as it was (its -wal/-shm companions aside) and the audit log as long."""
    db = served_db(served)
    assert (db_sha256(db), audit_count(db)) == served.before
