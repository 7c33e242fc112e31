"""A programme on one JupyterHub, end to end with real parts only: PostgreSQL with *peer*
authentication on its socket, JupyterHub 6 with PAM and configurable-http-proxy (npm),
LocalProcessSpawner, operating-system accounts created here with ``useradd`` (and removed
after), and Debian's Chromium, one browser context per person.

What a person's own kernel can do is checked with the person's own code: a probe notebook
in their home, run by *their* server (as their OS account) and rendered by Voilà in their
browser context. Its raw SQL goes to the database as that account, and the database alone
decides. Timings land in ``tests/artifacts/hub/timings.json``; screenshots beside them.

Set-up is shared by the module (``programme``): ``deploy/jupyterhub/hubdemo.py`` does what
``make hub-demo`` does, with random logins and passwords.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from browser import CHROMIUM, chromium, recorded_context, require_chromium

ROOT = Path(__file__).resolve().parents[1]
HUB_DIR = ROOT / "deploy" / "jupyterhub"
ARTIFACTS = ROOT / "tests" / "artifacts" / "hub"
SPAWN_MS = 240_000  # a first server start on a busy 2-core machine

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the hub test creates OS accounts and runs PAM: it runs as root (CI does)"
    for tool in ("useradd", "userdel", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    if not (HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        return "configurable-http-proxy is not installed (npm ci --prefix deploy/jupyterhub; make test does it)"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed (pip install -e '.[test]')"
    from rapportkit.pgcluster import find_bin

    if find_bin() is None:
        return "PostgreSQL's server is not installed (apt-get install postgresql)"
    return None


# the supervisor rates a session of their specialist before the meeting, in their own
# process as their own OS account (peer authentication): the review the probes look at
_SUPERVISOR_RATES = """
import datetime as dt, os
from rapportkit import model
from rapportkit.model import Rating, RaterRole, Session
from rapportkit.store import Store
with Store(os.environ["RAPPORTKIT_DB"]) as store:
    assert store.me().id == "sv-01", store.me()
    rubric = store.rubric
    session = Session("se-hub-1", "sp-01", dt.date(2026, 11, 30), "video", 40, "observed", "S-0901")
    review = model.new_review(session, "sv-01", rubric, review_date=dt.date(2026, 12, 1), review_id="rv-hub-1")
    scores = {p: 2 for p in rubric.practice_ids}
    store.save_review(model.with_rating(review, Rating("sv-01", RaterRole.SUPERVISOR, scores, {}, rubric.id,
                                                       rubric.version), rubric))
print("rated")
"""

# what each person's probe notebook runs in their own kernel: raw SQL, as they are
_PROBE = r'''
import json, os, psycopg
url = os.environ["RAPPORTKIT_DB"]
def q(sql, conninfo=url):
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            return ["ok", [list(r) for r in conn.execute(sql).fetchall()]]
    except Exception as exc:
        return ["refused", type(exc).__name__, str(exc).strip().splitlines()[0]]
out = {"env_has_password": "password" in url or "PGPASSWORD" in os.environ, "pgpass": os.path.exists(os.path.expanduser("~/.pgpass"))}
out["whoami"] = q("SELECT session_user, current_user")
for key, sql in QUERIES.items():
    out[key] = q(sql)
for key, who in OTHERS.items():
    out[key] = q("SELECT session_user", url + "&user=" + who)
print("RKPROBE " + json.dumps(out, default=str))
'''


def _notebook(code: str) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(code)], metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    return nbformat.writes(nb)


def _probe_notebook(queries: dict[str, str], others: dict[str, str]) -> str:
    return _notebook(f"QUERIES = {queries!r}\nOTHERS = {others!r}\n" + _PROBE)


class Programme:
    def __init__(self, hub, accounts, db, workdir):
        self.hub, self.accounts, self.db, self.workdir = hub, accounts, db, workdir
        self.by_role = {}
        for a in accounts:
            self.by_role.setdefault(a.role, []).append(a)
        self.timings: dict[str, float] = {"hub_start_s": round(hub.started_s, 1)}

    def put_notebook(self, account, name: str, text: str) -> str:
        """Write a notebook into the person's workbooks folder, owned by them; its Voilà URL."""
        path = Path(f"/home/{account.login}/rapportkit") / name
        path.write_text(text)
        shutil.chown(path, account.login, account.login)
        path.chmod(0o600)
        return f"{self.hub.url}/user/{account.login}/voila/render/{name}"

    def put_probe(self, account, name: str, queries: dict[str, str], others: dict[str, str]) -> str:
        """Write a probe notebook into the person's workbooks folder, owned by them."""
        return self.put_notebook(account, name, _probe_notebook(queries, others))


@pytest.fixture(scope="module")
def programme():
    problem = _missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"the hub test cannot run under CI: {problem}", pytrace=False)
        pytest.skip(problem)
    require_chromium()
    sys.path.insert(0, str(HUB_DIR))
    import hubdemo
    from rapportkit.pgcluster import Cluster

    prefix = "t" + os.urandom(2).hex() + "_"
    accounts = hubdemo.demo_accounts(prefix=prefix)
    workdir = Path(tempfile.mkdtemp(prefix="rk-hubtest-"))
    workdir.chmod(0o711)
    cluster = hub = prog = None
    created = False
    try:
        python = hubdemo.readable_python(workdir)
        cluster = Cluster(auth="peer").start()
        hubdemo.create_accounts(accounts)
        created = True
        db = hubdemo.set_up_team(cluster, accounts, python, specialists=3, months=6)
        sage = next(a for a in accounts if a.role == "supervisor")
        done = subprocess.run([shutil.which("runuser"), "-u", sage.login, "--", python, "-c", _SUPERVISOR_RATES], cwd="/",
                              env={"RAPPORTKIT_DB": db, "PATH": "/usr/bin:/bin", "HOME": f"/home/{sage.login}"},
                              capture_output=True, text=True)
        assert done.returncode == 0 and "rated" in done.stdout, done.stderr
        hub = hubdemo.start_hub(db, accounts, python, workdir)
        prog = Programme(hub, accounts, db, workdir)
        prog.installer_url = cluster.url(hubdemo.DATABASE)  # root connects as the superuser (peer map)
        yield prog
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if hub is not None:
            stop_s = hub.stop()
            if prog is not None:
                prog.timings["hub_stop_s"] = round(stop_s, 1)
            shutil.copyfile(hub.log, ARTIFACTS / "jupyterhub.log")
        if prog is not None:
            (ARTIFACTS / "timings.json").write_text(json.dumps(prog.timings, indent=2) + "\n")
        if created:
            hubdemo.remove_accounts(accounts)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    left = [a.login for a in accounts if subprocess.run(["id", a.login], capture_output=True).returncode == 0]
    assert not left, f"accounts left behind: {left}"


@pytest.fixture(scope="module")
def browser(programme):
    with chromium() as b:
        yield b


def _log_in(page, hub_url: str, login: str, password: str) -> None:
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", login)
    page.fill("#password_input", password)
    page.click("#login_submit")


def _lab_ready(page, login: str, first_workbook: str) -> None:
    page.wait_for_url(re.compile(rf"/user/{re.escape(login)}/lab"), timeout=SPAWN_MS)
    page.locator(".jp-DirListing-content").get_by_text(first_workbook).first.wait_for(timeout=SPAWN_MS)


def _probe_result(page, url: str) -> dict:
    page.goto(url)
    page.get_by_text("RKPROBE").first.wait_for(timeout=SPAWN_MS)
    text = page.locator("body").inner_text()
    return json.loads(re.search(r"RKPROBE (\{.*\})", text).group(1))


def test_a_wrong_password_is_refused(programme, browser):
    aster = programme.by_role["specialist"][0]
    with recorded_context(browser) as (context, rec):
        page = context.new_page()
        _log_in(page, programme.hub.url, aster.login, aster.password + "x")
        page.get_by_text("Invalid username or password").wait_for()
        assert "/hub/login" in page.url
        assert not [c for c in context.cookies() if c["name"].startswith("jupyterhub-session")]
        assert rec.foreign() == []
    # and nobody can mint a token with it either
    req = urllib.request.Request(f"{programme.hub.url}/hub/api/users/{aster.login}/tokens", method="POST",
                                 data=json.dumps({"auth": {"username": aster.login,
                                                           "password": aster.password + "x"}}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=60)
    assert refused.value.code == 403
    status, user = programme.hub.api(f"/users/{aster.login}", programme.hub.token)
    assert status == 200 and user["servers"] == {}


def test_the_specialists_own_kernel_is_their_database_role_and_blind(programme, browser):
    aster, cedar = programme.by_role["specialist"]
    sage, lead = programme.by_role["supervisor"][0], programme.by_role["lead"][0]
    with recorded_context(browser) as (context, rec):
        page = context.new_page()
        t0 = time.monotonic()
        _log_in(page, programme.hub.url, aster.login, aster.password)
        _lab_ready(page, aster.login, "1_my_self_ratings.ipynb")
        programme.timings["specialist_login_to_lab_s"] = round(time.monotonic() - t0, 1)
        listing = page.locator(".jp-DirListing-content").inner_text()
        assert "2_waiting_for_my_signature.ipynb" in listing and "3_my_progress.ipynb" in listing
        assert "1_team_dashboard.ipynb" not in listing and "1_the_meeting.ipynb" not in listing
        page.screenshot(path=str(ARTIFACTS / "specialist_lab.png"))

        # the server runs as the person's OS account
        status, user = programme.hub.api(f"/users/{aster.login}", programme.hub.token)
        assert status == 200 and user["groups"] == ["specialists"]

        url = programme.put_probe(aster, "zz_probe.ipynb", {
            "own_sessions": "SELECT count(*) FROM sessions WHERE specialist_id = 'sp-01'",
            "others_sessions": "SELECT count(*) FROM sessions WHERE specialist_id <> 'sp-01'",
            "others_reviews": "SELECT count(*) FROM reviews r JOIN sessions s ON s.id = r.session_id "
                              "WHERE s.specialist_id <> 'sp-01'",
            "others_scores": "SELECT count(*) FROM scores WHERE review_id NOT LIKE 'rv-01-%' AND review_id <> 'rv-hub-1'",
            "the_review": "SELECT status FROM reviews WHERE review_id = 'rv-hub-1'",
            "supervisor_rating_before_reveal": "SELECT count(*) FROM scores WHERE review_id = 'rv-hub-1'",
            "supervisor_rating_row": "SELECT count(*) FROM ratings WHERE review_id = 'rv-hub-1'",
            "reveal_too_early": "SELECT rk_reveal('rv-hub-1', 1)",
            "team_summary": "SELECT count(*) FROM team_summary",
            "people": "SELECT id FROM people ORDER BY id",
            "set_role": f"SET ROLE {sage.login}",
            "session_authorization": f"SET SESSION AUTHORIZATION {sage.login}",
            "audit_update": "UPDATE audit SET actor = 'someone' WHERE seq = 1",
            "audit_delete": "DELETE FROM audit",
            "write_as_supervisor": "INSERT INTO ratings (review_id, revision, role, rater_id, rubric_id, "
                                   "rubric_version) VALUES ('rv-02-0001', 1, 'supervisor', 'sv-01', 'x', '1')",
        }, {"connect_as_supervisor": sage.login, "connect_as_postgres": "postgres", "connect_as_other": cedar.login})
        t0 = time.monotonic()
        out = _probe_result(page, url)
        programme.timings["specialist_first_kernel_voila_s"] = round(time.monotonic() - t0, 1)
        page.screenshot(path=str(ARTIFACTS / "specialist_probe.png"))

        # their progress dashboard reads as them: their own reviews, nobody else in the picker
        t0 = time.monotonic()
        page.goto(f"{programme.hub.url}/user/{aster.login}/voila/render/3_my_progress.ipynb", timeout=WAIT)
        page.locator("img.rk-explorer-plot").first.wait_for(state="visible", timeout=SPAWN_MS)
        programme.timings["specialist_progress_s"] = round(time.monotonic() - t0, 1)
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "javascript error" not in body
        options = [o.replace("\xa0", " ") for o in
                   page.locator(".rk-dashboard-specialist select option").all_inner_texts()]
        assert options == ["Aster Moonwhistle (sp-01)"], options
        assert "Cedar Lanternfish" not in body and "Bramble Otterby" not in body
        assert rec.foreign() == [], rec.foreign()

    assert out["whoami"] == ["ok", [[aster.login, aster.login]]]
    assert not out["env_has_password"] and not out["pgpass"]
    assert out["own_sessions"][0] == "ok" and out["own_sessions"][1][0][0] > 0
    for key in ("others_sessions", "others_reviews", "others_scores"):
        assert out[key] == ["ok", [[0]]], (key, out[key])
    # blind: the review is theirs, the supervisor's rating of it is not there for them
    assert out["the_review"] == ["ok", [["draft"]]]
    assert out["supervisor_rating_before_reveal"] == ["ok", [[0]]]
    assert out["supervisor_rating_row"] == ["ok", [[0]]]
    assert out["reveal_too_early"][0] == "refused"
    assert out["team_summary"][0] == "refused"
    assert out["people"] == ["ok", [["sp-01"], ["sv-01"]]]
    for key in ("set_role", "session_authorization", "audit_update", "audit_delete", "write_as_supervisor",
                "connect_as_supervisor", "connect_as_postgres", "connect_as_other"):
        assert out[key][0] == "refused", (key, out[key])
    assert "Peer authentication failed" in out["connect_as_supervisor"][2]


def test_the_lead_reads_team_aggregates_only(programme, browser):
    lead = programme.by_role["lead"][0]
    with recorded_context(browser) as (context, rec):
        page = context.new_page()
        t0 = time.monotonic()
        _log_in(page, programme.hub.url, lead.login, lead.password)
        _lab_ready(page, lead.login, "1_team_dashboard.ipynb")
        programme.timings["lead_login_to_lab_s"] = round(time.monotonic() - t0, 1)
        listing = page.locator(".jp-DirListing-content").inner_text()
        assert "1_my_self_ratings.ipynb" not in listing and "1_the_meeting.ipynb" not in listing

        # the lead's own dashboard, rendered by Voilà on their server, as their role: the
        # first plot against a do-nothing Voilà page on the same hub, interleaved, twice
        dashboard = f"{programme.hub.url}/user/{lead.login}/voila/render/1_team_dashboard.ipynb"
        nothing = programme.put_notebook(lead, "zz_nothing.ipynb", _notebook("print('RKNOTHING')"))
        firsts, blanks = [], []
        for _ in range(2):
            t0 = time.monotonic()
            page.goto(nothing)
            page.get_by_text("RKNOTHING").first.wait_for(timeout=SPAWN_MS)
            blanks.append(time.monotonic() - t0)
            t0 = time.monotonic()
            page.goto(dashboard)
            page.locator("img.rk-first-plot, .rk-heatmap-plot img, img.rk-heatmap-plot").first.wait_for(
                timeout=SPAWN_MS)
            firsts.append(time.monotonic() - t0)
        programme.timings["lead_first_plot_s"] = round(min(firsts), 2)
        programme.timings["do_nothing_voila_page_s"] = round(min(blanks), 2)
        programme.timings["lead_first_plot_ratio"] = round(min(firsts) / min(blanks), 2)
        page.get_by_text("Aster Moonwhistle").first.wait_for(timeout=SPAWN_MS)
        body = page.locator("body").inner_text()
        assert "empathy" in body and "Cedar Lanternfish" in body and "whole team per practice" in body
        assert "Traceback" not in body and "Error" not in body and "javascript error" not in body
        assert page.locator("img.rk-heatmap-plot").is_visible()  # the live widget drew, not only the still
        page.screenshot(path=str(ARTIFACTS / "lead_dashboard.png"), full_page=True)
        _picture(page, ".rk-dashboard-teamoverview", IMG / "hub_lead_dashboard.png")

        # a per-person page, had the lead a copy of it, says plainly it is not for their role
        progress = (ROOT / "workbooks" / "dashboards" / "specialist_progress.ipynb").read_text()
        page.goto(programme.put_notebook(lead, "zz_progress.ipynb", progress) + "?specialist=sp-01")
        page.get_by_text("not available to your role").first.wait_for(timeout=SPAWN_MS)
        body = page.locator("body").inner_text()
        assert "Specialist progress is not available to your role" in body and "Traceback" not in body
        assert page.locator("img.rk-first-plot, .rk-explorer-plot img, img.rk-explorer-plot").count() == 0

        url = programme.put_probe(lead, "zz_probe.ipynb", {
            "team_summary": "SELECT count(*) FROM team_summary",
            "team_followups": "SELECT count(*) FROM team_followups",
            "team_calibration": "SELECT count(*) FROM team_calibration",
            **{table: f"SELECT count(*) FROM {table}" for table in (
                "reviews", "sessions", "scores", "ratings", "goals", "signatures", "audit")},
            "drafts": "SELECT count(*) FROM drafts",  # a person's own form drafts only: the lead has none
            "a_note": "SELECT note FROM scores LIMIT 1",
        }, {})
        out = _probe_result(page, url)
        assert rec.foreign() == [], rec.foreign()

    assert out["whoami"] == ["ok", [[lead.login, lead.login]]]
    for view in ("team_summary", "team_followups", "team_calibration"):
        assert out[view][0] == "ok" and out[view][1][0][0] > 0, (view, out[view])
    for table in ("reviews", "sessions", "scores", "ratings", "goals", "signatures", "audit", "a_note"):
        assert out[table][0] == "refused" and "permission denied" in out[table][2], (table, out[table])
    assert out["drafts"] == ["ok", [[0]]]


def test_one_persons_login_does_not_open_anothers_server(programme, browser):
    aster, lead = programme.by_role["specialist"][0], programme.by_role["lead"][0]
    with recorded_context(browser) as (context, rec):
        page = context.new_page()
        _log_in(page, programme.hub.url, lead.login, lead.password)
        page.wait_for_url(re.compile(rf"/user/{re.escape(lead.login)}/"), timeout=SPAWN_MS)
        answer = page.goto(f"{programme.hub.url}/user/{aster.login}/api/contents")
        assert answer.status in (403, 404) or f"/user/{aster.login}/api/contents" not in page.url
        assert "1_my_self_ratings" not in page.content()
        assert rec.foreign() == []


# ============================================================================ the meeting across two browsers

IMG = ROOT / "docs" / "img"
WAIT = 120_000


def _voila(page, programme, account, notebook: str, form: str) -> None:
    """Open one of the person's workbooks as a Voilà page on their own server; wait for the form."""
    page.goto(f"{programme.hub.url}/user/{account.login}/voila/render/{notebook}", timeout=WAIT)
    page.locator(form).wait_for(state="visible", timeout=SPAWN_MS)


def _status(page, text: str, timeout: float = WAIT, within: str = "body") -> None:
    """Wait for ``text`` in the status line of the form ``within`` (a page can hold two forms)."""
    from playwright.sync_api import expect

    line = page.locator(within).locator(".rk-status")
    try:
        expect(line).to_contain_text(text, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"expected the status to say {text!r}; it says {line.inner_text()!r}") from None


def _score(page, role: str, practice: str, value: str, within: str = "body") -> None:
    from playwright.sync_api import expect

    button = page.locator(within).locator(f".rk-{role}-{practice} .rk-score button[data-value='{value}']")
    button.click()
    expect(button).to_have_class(re.compile(r"\bmod-active\b"))


def _picture(page, selector: str, path: Path, width: int = 900) -> None:
    """A small screenshot of ``selector`` (its top 1600 CSS pixels), scaled to ``width`` pixels."""
    from PIL import Image

    page.mouse.move(0, 0)
    page.locator(selector).evaluate(
        "el => { for (let e = el; e; e = e.parentElement) e.scrollTop = 0; window.scrollTo(0, 0); }")
    before = page.viewport_size
    box = page.locator(selector).bounding_box()
    page.set_viewport_size({"width": before["width"], "height": max(before["height"], int(box["y"] + min(box["height"], 1600)) + 20)})
    try:
        box = page.locator(selector).bounding_box()
        page.screenshot(path=str(path), clip={"x": box["x"], "y": box["y"], "width": box["width"],
                                             "height": min(box["height"], 1600)})
    finally:
        page.set_viewport_size(before)
    with Image.open(path) as im:
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
        im.convert("P", palette=Image.ADAPTIVE, colors=128).save(path, optimize=True)


def test_the_meeting_across_two_browsers_is_blind_then_signed_by_each(programme, browser):
    """Aster self-rates in her own server; Sage's meeting cannot load it before the reveal;
    reveal, consensus, a goal; Aster signs from her list, Sage's meeting sees it and signs.
    Both signatures and the audit log name both logins, in the database."""
    import psycopg

    aster, sage = programme.by_role["specialist"][0], programme.by_role["supervisor"][0]
    practices = ("safe_environment", "active_listening", "empathy", "non_judgment", "authenticity",
                 "collaborative_goals", "individuality_culture", "consistency", "boundaries")
    IMG.mkdir(parents=True, exist_ok=True)
    t_all = time.monotonic()
    with recorded_context(browser, viewport=(1200, 900)) as (spec_ctx, spec_rec), \
            recorded_context(browser, viewport=(1200, 900)) as (sup_ctx, sup_rec):
        mine, theirs = spec_ctx.new_page(), sup_ctx.new_page()
        # 1 · the specialist self-rates the session her supervisor rated before (rv-hub-1)
        _log_in(mine, programme.hub.url, aster.login, aster.password)
        mine.wait_for_url(re.compile(rf"/user/{re.escape(aster.login)}/"), timeout=SPAWN_MS)
        t0 = time.monotonic()
        _voila(mine, programme, aster, "1_my_self_ratings.ipynb", ".rk-self-rating-form")
        option = mine.locator(".rk-session select option", has_text="S-0901")
        mine.select_option(".rk-session select", value=option.get_attribute("value"))
        mine.locator(".rk-use-session").click()
        _status(mine, "Rate each practice")
        for p in practices:
            _score(mine, "self", p, "4" if p == "empathy" else "2")
        mine.locator(".rk-save-self").click()
        _status(mine, "Saved your blind rating")
        programme.timings["meeting_self_rating_s"] = round(time.monotonic() - t0, 1)

        # 2 · the supervisor's meeting: the self-rating is not there for him before the reveal
        _log_in(theirs, programme.hub.url, sage.login, sage.password)
        theirs.wait_for_url(re.compile(rf"/user/{re.escape(sage.login)}/"), timeout=SPAWN_MS)
        t0 = time.monotonic()
        _voila(theirs, programme, sage, "1_the_meeting.ipynb", ".rk-meeting-form")
        theirs.select_option(".rk-meeting-form .rk-specialist select", value=aster.name)
        option = theirs.locator(".rk-meeting-form .rk-session select option", has_text="S-0901")
        theirs.select_option(".rk-meeting-form .rk-session select", value=option.get_attribute("value"))
        theirs.locator(".rk-meeting-form .rk-use-session").click()
        _status(theirs, "Rate the session", within=".rk-meeting-form")
        theirs.locator(".rk-meeting-form .rk-load-saved").click()
        _status(theirs, "Loaded the supervisor's rating saved earlier", within=".rk-meeting-form")
        assert theirs.locator(".rk-meeting-form .rk-panel-self .rk-score button.mod-active").count() == 0  # blind
        _picture(theirs, ".rk-meeting-form", IMG / "hub_supervisor_blind.png")
        programme.timings["meeting_open_s"] = round(time.monotonic() - t0, 1)

        # 3 · reveal (the database's step), consensus, a goal
        t0 = time.monotonic()
        theirs.locator(".rk-meeting-form .rk-reveal").click()
        _status(theirs, "Revealed", within=".rk-meeting-form")
        theirs.locator(".rk-meeting-form .rk-reveal-view .rk-agenda").wait_for(state="visible")
        assert "Demonstrating empathy" in theirs.locator(".rk-meeting-form .rk-reveal-view .rk-agenda").inner_text()
        theirs.locator(".rk-meeting-form .rk-to-consensus").click()
        theirs.locator(".rk-meeting-form .rk-consensus-empathy .rk-score button").first.wait_for(state="visible")
        _score(theirs, "consensus", "empathy", "3", within=".rk-meeting-form")
        theirs.locator(".rk-meeting-form .rk-consensus-empathy .rk-note textarea").fill("Watched the recording together.")
        theirs.locator(".rk-meeting-form .rk-agree").click()
        _status(theirs, "Consensus agreed", within=".rk-meeting-form")
        verdicts = theirs.locator(".rk-meeting-form .rk-earlier-goal")  # the demo leaves goals open: each gets a verdict
        for i in range(verdicts.count()):
            verdicts.nth(i).locator("button[data-value='Met' i]").click()
            verdicts.nth(i).locator(".rk-goal-update-note input").fill("Happened in every session since.")
        goal = theirs.locator(".rk-meeting-form .rk-goal-1")
        goal.locator(".rk-goal-practice select").select_option(value="Demonstrating empathy")
        goal.locator(".rk-goal-text input").fill("Name the feeling behind the words")
        goal.locator(".rk-goal-actions textarea").fill("Try it twice a session.")
        goal.locator(".rk-goal-follow-up input").fill("2027-01-15")
        theirs.locator(".rk-meeting-form .rk-save-goals").click()
        _status(theirs, "Traps and goals saved", within=".rk-meeting-form")
        programme.timings["meeting_reveal_to_goals_s"] = round(time.monotonic() - t0, 1)

        # 4 · the specialist signs from her own list, in her own browser
        t0 = time.monotonic()
        _voila(mine, programme, aster, "2_waiting_for_my_signature.ipynb", ".rk-signature-list")
        assert "You can sign only as yourself" in mine.locator(".rk-signer-intro").inner_text()
        option = mine.locator(".rk-waiting select option", has_text="rv-hub-1")
        mine.select_option(".rk-waiting select", value=option.get_attribute("value"))
        mine.locator(".rk-record-content .rk-summary-record").wait_for(state="visible")
        assert "Name the feeling behind the words" in mine.locator(".rk-record-content").inner_text()
        assert "I took part in this review and agree this record is accurate" in \
            mine.locator(".rk-sign-meaning").inner_text()
        mine.locator(".rk-sign").click()
        _status(mine, "Signed as the specialist. Now the supervisor signs.")
        assert f"signed in the team database by login {aster.login}" in mine.locator(".rk-signed").inner_text()
        _picture(mine, ".rk-signature-list", IMG / "hub_specialist_signed.png")
        programme.timings["meeting_specialist_signs_s"] = round(time.monotonic() - t0, 1)

        # 5 · the supervisor's meeting sees her signature (after a reload: its copy is older) and signs
        t0 = time.monotonic()
        theirs.locator(".rk-meeting-form .rk-sign-supervisor").click()
        _status(theirs, f"changed by {aster.login}", within=".rk-meeting-form")
        theirs.locator(".rk-meeting-form .rk-reload").click()
        _status(theirs, "Reloaded", within=".rk-meeting-form")
        from playwright.sync_api import expect

        expect(theirs.locator(".rk-meeting-form .rk-signatures")).to_contain_text(f"by login {aster.login}", timeout=WAIT)
        theirs.locator(".rk-meeting-form .rk-sign-supervisor").click()
        _status(theirs, "Signed by both", within=".rk-meeting-form")
        theirs.locator(".rk-meeting-form .rk-summary .rk-summary-record").wait_for(state="visible")
        _picture(theirs, ".rk-meeting-form", IMG / "hub_supervisor_signed.png")
        programme.timings["meeting_supervisor_signs_s"] = round(time.monotonic() - t0, 1)
        foreign = spec_rec.foreign() + sup_rec.foreign()
    programme.timings["meeting_two_browsers_s"] = round(time.monotonic() - t_all, 1)
    assert foreign == [], foreign

    with psycopg.connect(programme.installer_url, autocommit=True) as conn:
        status = conn.execute("SELECT status FROM reviews WHERE review_id = 'rv-hub-1'").fetchone()[0]
        signed = conn.execute("SELECT role, person_id, signer_login, kind FROM signatures WHERE review_id = 'rv-hub-1'"
                              " AND voided_at IS NULL ORDER BY role").fetchall()
        actors = {r[0] for r in conn.execute("SELECT actor FROM audit WHERE entity = 'review' AND entity_id = 'rv-hub-1#1'")}
        digest_ok = conn.execute("SELECT bool_and(content_sha256 = rk_content_digest(review_id, revision))"
                                 " FROM signatures WHERE review_id = 'rv-hub-1'").fetchone()[0]
    assert status == "signed"
    assert signed == [("specialist", "sp-01", aster.login, "signed"), ("supervisor", "sv-01", sage.login, "signed")]
    assert {aster.login, sage.login} <= actors, actors
    assert digest_ok
