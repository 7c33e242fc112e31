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


def _probe_notebook(queries: dict[str, str], others: dict[str, str]) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    code = f"QUERIES = {queries!r}\nOTHERS = {others!r}\n" + _PROBE
    nb = new_notebook(cells=[new_code_cell(code)], metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    return nbformat.writes(nb)


class Programme:
    def __init__(self, hub, accounts, db, workdir):
        self.hub, self.accounts, self.db, self.workdir = hub, accounts, db, workdir
        self.by_role = {}
        for a in accounts:
            self.by_role.setdefault(a.role, []).append(a)
        self.timings: dict[str, float] = {"hub_start_s": round(hub.started_s, 1)}

    def put_probe(self, account, name: str, queries: dict[str, str], others: dict[str, str]) -> str:
        """Write a probe notebook into the person's workbooks folder, owned by them."""
        folder = Path(f"/home/{account.login}/rapportkit")
        path = folder / name
        path.write_text(_probe_notebook(queries, others))
        shutil.chown(path, account.login, account.login)
        path.chmod(0o600)
        return f"{self.hub.url}/user/{account.login}/voila/render/{name}"


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

        # the lead's own dashboard, rendered by Voilà on their server, as their role
        t0 = time.monotonic()
        page.goto(f"{programme.hub.url}/user/{lead.login}/voila/render/1_team_dashboard.ipynb")
        page.get_by_text("Aster Moonwhistle").first.wait_for(timeout=SPAWN_MS)
        programme.timings["lead_dashboard_s"] = round(time.monotonic() - t0, 1)
        body = page.locator("body").inner_text()
        assert "empathy" in body and "Cedar Lanternfish" in body
        assert "Traceback" not in body and "Error" not in body
        page.screenshot(path=str(ARTIFACTS / "lead_dashboard.png"), full_page=True)

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
