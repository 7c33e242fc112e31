"""The supervision meeting end to end in a real Chromium, served by rapportkit's hardened
Voilà set-up (template, config and kernel-client fix from ``rapportkit.serve``), on a
fresh copy of the demo database.

- ``test_a_whole_meeting_in_voila_ends_in_a_signed_review``: record a session, rate
  both sides blind (one hidden while the other rates), reveal, agree, tick a trap, give
  earlier goals a verdict, set a goal, sign twice; then find exactly that review in the
  database. Markup typed into notes must show as text; the page may ask nothing of any
  host but 127.0.0.1 and may log no console errors. Writes the README screenshots
  ``docs/img/meeting_{hidden,revealed,signed}.png``.
- ``test_killing_the_kernel_mid_meeting_loses_nothing``: half a meeting, SIGKILL the
  page's kernel, reload, open the same session: every score and the note are back.
- ``test_double_clicks_in_the_browser_save_once``: real double clicks on "Record",
  "Reveal" and "Agree"; the database holds one session and the audit log each step once.

``start_server`` (servers on this suite's ports) is also used by ``test_browser_lab.py``.
Unlike ``rapportkit serve``, the meeting server does not set ``RAPPORTKIT_READONLY``:
the meeting writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

import browser
from browser import Recorder, Server, WAIT_MS, chromium, recorded_context, require_chromium, wait_until

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
MEETING_NB = ROOT / "workbooks" / "02_supervision_meeting.ipynb"

# ============================================================================ helpers
# The shared browser helpers (tests/browser.py) provide the server process, Chromium and
# the request/console recorder. This suite keeps to its own ports (19500–19999; the
# shared helpers' servers use 19000–19499), so it starts its servers itself.

PORTS = range(19500, 20000)

#: Console errors that do not fail these tests, as ``(pattern, reason)``; a pattern is
#: searched in the message followed by its source URL.
IGNORED_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"status of 403 .*/voila/api/shutdown/[0-9a-f-]{36}"),
     "On a page reload or close, Voilà's frontend posts /voila/api/shutdown/<kernel> with "
     "navigator.sendBeacon, taking the XSRF token from an _xsrf cookie that Voilà never sets; "
     "the server answers 403 and the idle culler ends the kernel later instead "
     "(voila-dashboards/voila#1458, open upstream; the same with the stock template)."),
)


def start_server(make_cmd, env: dict[str, str], log_dir: Path, name: str, **options) -> Server:
    """The shared starter, on this suite's own ports (19500–19999)."""
    return browser.start_server(make_cmd, env, log_dir, name, ports=PORTS, **options)


def meeting_server(db: Path, log_dir: Path) -> Server:
    """Voilà on the meeting workbook with rapportkit's template and config, writable."""
    from rapportkit.serve import voila_command, voila_env

    def cmd(port: int) -> list[str]:
        base = voila_command(MEETING_NB.parent / "dashboards", port=port, preheat=False)
        # the one meeting notebook instead of the dashboards folder (root: its own folder)
        base = [str(MEETING_NB) if i == 1 else a for i, a in enumerate(base)]
        return [a for a in base if not a.startswith("--Voila.root_dir=")]

    env = voila_env(db)
    env.pop("RAPPORTKIT_READONLY", None)  # the meeting writes
    env["RAPPORTKIT_USER"] = "browser-test"
    return start_server(cmd, env, log_dir, "voila-meeting")


def errors(rec: Recorder, *also: tuple[re.Pattern[str], str]) -> list[str]:
    """Console and page errors less the documented harmless ones (``also``: more of them,
    which here may match page errors too)."""
    found = rec.errors(ignore=IGNORED_ERRORS + also)
    real = [e for e in found if not e.startswith("(HTTP ") and not any(p.search(e) for p, _ in also)]
    return real + [e for e in found if e.startswith("(HTTP ")] if real else []


def snapshot(page, selector: str, path: Path, max_height: int = 4000) -> None:
    """A screenshot of ``selector``, whole (up to ``max_height`` CSS pixels from its top).

    Voilà's page scrolls inside a container, not the document, so Chromium clips an
    element screenshot to the viewport; the viewport is made tall enough first."""
    before = page.viewport_size
    page.mouse.move(0, 0)  # no hover highlight in the picture
    page.locator(selector).evaluate(
        "el => { for (let e = el; e; e = e.parentElement) e.scrollTop = 0; window.scrollTo(0, 0); }")
    box = page.locator(selector).bounding_box()
    height = min(max_height, int(box["y"] + box["height"]) + 20)
    page.set_viewport_size({"width": before["width"], "height": max(before["height"], height)})
    try:
        box = page.locator(selector).bounding_box()
        page.screenshot(path=str(path), clip={"x": box["x"], "y": box["y"], "width": box["width"],
                                             "height": min(box["height"], max_height)})
    finally:
        page.set_viewport_size(before)


def kill_kernel(server: Server, kernel_id: str) -> int:
    """SIGKILL the server's ipykernel child running ``kernel_id``; returns its pid."""
    for proc in server.descendants():
        try:
            cmdline = " ".join(proc.cmdline())
        except Exception:
            continue
        if "ipykernel" in cmdline and kernel_id in cmdline:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return proc.pid
    raise AssertionError(f"no kernel process for {kernel_id} under the server")


# ============================================================================ the meeting, as a person drives it

PRACTICES = ("safe_environment", "active_listening", "empathy", "non_judgment", "authenticity",
             "collaborative_goals", "individuality_culture", "consistency", "boundaries")
N_O = "Not%20observed"  # a ToggleButtons button's data-value is its (URL-encoded) label
MARKUP = '<img src=x onerror="window.__xss=1"><b>bold</b>'
SELF = {"safe_environment": "3", "active_listening": "3", "empathy": "2", "non_judgment": "4", "authenticity": "1",
        "collaborative_goals": "3", "individuality_culture": "3", "consistency": "4", "boundaries": N_O}
SUPERVISOR = {"safe_environment": "3", "active_listening": "2", "empathy": "4", "non_judgment": "4",
              "authenticity": "3", "collaborative_goals": "3", "individuality_culture": "3", "consistency": "3",
              "boundaries": N_O}
SELF_NOTES = {"empathy": "I named the feeling once.",
              "authenticity": "Shared too much of my own story."}
SUPERVISOR_NOTES = {"empathy": "Reflected the feeling three times and checked it landed.",
                    "active_listening": "Interrupted twice near the end."}
CONSENSUS = {"empathy": ("3", "Replayed the recording together."),
             "authenticity": ("2", "Self-disclosure was purposeful but went long."),
             "active_listening": ("2", "Agreed the interruptions mattered."),
             "consistency": ("4", "Follow-up call happened as promised.")}
# The same meeting twice: once as the README's pictures show it (plain notes), once with
# markup typed into a self-rating note and a consensus rationale, which must stay text.
MEETINGS = {
    "pictures": ("sp-02", "S-7301", SELF_NOTES, CONSENSUS),
    "markup": ("sp-05", "S-7304", {**SELF_NOTES, "empathy": f"I named the feeling once. {MARKUP}"},
               {**CONSENSUS, "empathy": ("3", f"Replayed the recording together. {MARKUP}")}),
}


def status(page) -> str:
    return page.locator(".rk-meeting-form .rk-status").inner_text()


def expect_status(page, text: str, timeout: float = WAIT_MS) -> None:
    from playwright.sync_api import expect

    try:
        expect(page.locator(".rk-meeting-form .rk-status")).to_contain_text(text, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"expected the status to say {text!r}; it says {status(page)!r}") from None


def expect_text(locator, text: str, timeout: float = WAIT_MS) -> None:
    """Wait for ``text`` in what the kernel renders (it arrives after a round trip)."""
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


def click(page, selector: str) -> None:
    """Click in the meeting form (the page also holds the amendment form, whose classes repeat)."""
    page.locator(".rk-meeting-form").locator(selector).click()


def score(page, role: str, practice: str, value: str) -> None:
    from playwright.sync_api import expect

    button = page.locator(f".rk-meeting-form .rk-{role}-{practice} .rk-score button[data-value='{value}']")
    button.click()
    expect(button).to_have_class(re.compile(r"\bmod-active\b"))


def active_score(page, role: str, practice: str) -> str | None:
    active = page.locator(f".rk-meeting-form .rk-{role}-{practice} .rk-score button.mod-active")
    return active.get_attribute("data-value") if active.count() else None


def note(page, role: str, practice: str, text: str) -> None:
    page.locator(f".rk-meeting-form .rk-{role}-{practice} .rk-note textarea").fill(text)


def note_value(page, role: str, practice: str) -> str:
    return page.locator(f".rk-meeting-form .rk-{role}-{practice} .rk-note textarea").input_value()


IOPUB_DROPPED = "Timeout waiting for IOPub output"


def open_meeting(page, server: Server, *, reload: bool = False) -> None:
    """Load (or reload) the meeting page until the form shows; fail with what the page and
    the server were doing if it does not (at once if the server dropped the form's output)."""
    import time

    dropped_before = server.log_text().count(IOPUB_DROPPED)
    if reload:
        page.reload(timeout=WAIT_MS * 2)
    else:
        page.goto(server.url, timeout=WAIT_MS * 2)
    form = page.locator(".rk-meeting-form")
    deadline = time.monotonic() + WAIT_MS * 2 / 1000
    while not form.is_visible():
        dropped = server.log_text().count(IOPUB_DROPPED) > dropped_before
        if dropped or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    else:
        return
    text = page.locator("body").inner_text()[-300:] if page.locator("body").count() else ""
    why = ""
    if dropped:
        why = ("\nThe server gave up waiting for the form cell's output: building the form sends over a "
               "thousand widget messages, and when the server needs longer than VoilaExecutor.iopub_timeout "
               "(nbclient's default: 4 s) to take them in after the cell's reply, the output is dropped and "
               "the page shows no form. This happens on a busy machine; rapportkit/serve/config/voila.py "
               "should set a longer iopub_timeout.")
    raise AssertionError(f"the meeting form never showed.{why}\nPage text: …{text}\nServer log:\n{server.tail()}")


def record_new_session(page, specialist_name: str, code: str) -> None:
    page.select_option(".rk-meeting-form .rk-specialist select", value=specialist_name)
    click(page, ".rk-new-session-toggle")
    page.locator(".rk-meeting-form .rk-new-code input").fill(code)
    page.locator(".rk-meeting-form .rk-new-duration input").fill("50")
    page.locator(".rk-meeting-form .rk-new-duration input").press("Enter")
    page.select_option(".rk-meeting-form .rk-new-modality select", value="Video")
    page.select_option(".rk-meeting-form .rk-new-source select", value="From a recording")
    click(page, ".rk-record-session")
    expect_status(page, "Rate the session")
    page.locator(".rk-meeting-form .rk-self-empathy .rk-score button").first.wait_for(state="visible")


def drafts(db: Path) -> dict[str, dict]:
    """The meeting drafts as the database holds them (a plain read-only connection)."""
    conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True)
    try:
        return {k: json.loads(v) for k, v in conn.execute("SELECT key, payload FROM drafts WHERE key LIKE 'meeting:%'")}
    finally:
        conn.close()


# ============================================================================ fixtures


@pytest.fixture(scope="module")
def demo_copy(demo_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("voila-meeting") / "meeting.db"
    shutil.copyfile(demo_db, path)
    return path


@pytest.fixture(scope="module")
def voila(demo_copy) -> Iterator[Server]:
    require_chromium()
    server = meeting_server(demo_copy, demo_copy.parent)
    try:
        yield server
    finally:
        server.stop()


def _specialist(db: Path, specialist_id: str) -> tuple[str, int]:
    """The name of a demo specialist and how many open goals they have now. Each test
    uses its own specialist, so the tests do not depend on one another's order."""
    from rapportkit.store import Store

    with Store(db, readonly=True) as store:
        return store.person(specialist_id).display_name, len(store.open_goals(specialist_id))


# ============================================================================ tests


@pytest.mark.browser
@pytest.mark.parametrize("meeting", list(MEETINGS))
def test_a_whole_meeting_in_voila_ends_in_a_signed_review(voila, demo_copy, meeting):
    spec_id, code, self_notes, consensus = MEETINGS[meeting]
    pictures = meeting == "pictures"  # the README's, without any test payload in them
    spec_name, n_earlier = _specialist(demo_copy, spec_id)
    assert n_earlier > 0  # the demo team leaves goals open: their verdicts are part of the meeting
    follow_up = dt.date.today() + dt.timedelta(days=42)
    IMG.mkdir(parents=True, exist_ok=True)

    with chromium() as browser, recorded_context(browser, viewport=(1400, 1000)) as (context, rec):
        page = context.new_page()
        open_meeting(page, voila)

        # 1 · session: a new one, recorded here
        record_new_session(page, spec_name, code)
        assert spec_name in page.locator(".rk-meeting-form .rk-context").inner_text()

        # 2 · blind ratings: the specialist rates, hides; the supervisor rates
        for p, v in SELF.items():
            score(page, "self", p, v)
        for p, text in self_notes.items():
            note(page, "self", p, text)
        click(page, ".rk-hide-self")
        page.locator(".rk-meeting-form .rk-panel-self .rk-hidden-note").wait_for(state="visible")
        assert not page.locator(".rk-meeting-form .rk-self-empathy").is_visible()
        for p, v in SUPERVISOR.items():
            score(page, "supervisor", p, v)
        for p, text in SUPERVISOR_NOTES.items():
            note(page, "supervisor", p, text)
        expect_text(page.locator(".rk-meeting-form .rk-panel-supervisor .rk-progress"), "9 of 9 practices rated")
        expect_text(page.locator(".rk-meeting-form .rk-panel-self .rk-hidden-note"), "9 of 9 practices rated")
        if pictures:
            snapshot(page, ".rk-meeting-form", IMG / "meeting_hidden.png", max_height=1500)

        # 3 · reveal: side by side, agreement, the agenda
        click(page, ".rk-reveal")
        expect_status(page, "Revealed")
        agreement = page.locator(".rk-meeting-form .rk-reveal-view .rk-agreement")
        agreement.wait_for(state="visible")
        # both scored 8 practices (boundaries not observed): same on 4, within one on 6
        assert re.search(r"Same score on 4 of 8 practices both scored; within one level on 6 of 8",
                         agreement.inner_text()), agreement.inner_text()
        agenda = page.locator(".rk-meeting-form .rk-reveal-view .rk-agenda").inner_text()
        assert "Demonstrating empathy" in agenda and "Authenticity" in agenda, agenda
        assert page.locator(".rk-meeting-form .rk-reveal-view tr.rk-agenda-item").count() == 2
        if pictures:
            snapshot(page, ".rk-meeting-form", IMG / "meeting_revealed.png")

        # 4 · consensus: prefilled where they agreed, chosen with a rationale where not
        click(page, ".rk-to-consensus")
        page.locator(".rk-meeting-form .rk-consensus-empathy .rk-score button").first.wait_for(state="visible")
        for p in PRACTICES:
            expected = SELF[p] if SELF[p] == SUPERVISOR[p] else None
            assert active_score(page, "consensus", p) == expected, p
        for p, (v, why) in consensus.items():
            score(page, "consensus", p, v)
            note(page, "consensus", p, why)
        click(page, ".rk-agree")
        expect_status(page, "Consensus agreed")

        # 5 · traps and goals, with a verdict on every earlier goal
        page.locator(".rk-meeting-form .rk-trap-dominating input").check()
        verdicts = page.locator(".rk-meeting-form .rk-earlier-goal")
        assert verdicts.count() == n_earlier
        for i in range(n_earlier):
            verdicts.nth(i).locator("button[data-value='Met' i]").click()
            verdicts.nth(i).locator(".rk-goal-update-note input").fill("Happened in every session since.")
        goal = page.locator(".rk-meeting-form .rk-goal-1")
        goal.locator(".rk-goal-practice select").select_option(value="Demonstrating empathy")
        goal.locator(".rk-goal-text input").fill("Name the feeling behind the words")
        goal.locator(".rk-goal-actions textarea").fill("Try it twice a session; bring one example.")
        goal.locator(".rk-goal-follow-up input").fill(follow_up.isoformat())
        click(page, ".rk-save-goals")
        expect_status(page, "Traps and goals saved")

        # 6 · sign-off by both, then the summary
        click(page, ".rk-sign-specialist")
        expect_status(page, "Now the supervisor signs")
        click(page, ".rk-sign-supervisor")
        expect_status(page, "Signed by both")
        summary = page.locator(".rk-meeting-form .rk-summary .rk-summary-record")
        summary.wait_for(state="visible")
        assert "Supervision record · signed" in summary.inner_text()
        if pictures:
            snapshot(page, ".rk-meeting-form", IMG / "meeting_signed.png")
            assert "<" not in page.locator(".rk-meeting-form").inner_text()  # no payload in a picture

        # markup typed into notes is text on the page, never markup
        assert page.evaluate("typeof window.__xss") == "undefined"
        for where in (".rk-reveal-view", ".rk-summary"):
            assert page.locator(f"{where} .rk-note-text").count() >= 1
            assert page.locator(f"{where} .rk-note-text b, {where} .rk-note-text img").count() == 0, where
        assert page.locator("img[src='x']").count() == 0
        if not pictures:
            assert "<b>bold</b>" in page.locator("body").inner_text()
            assert summary.inner_text().count(MARKUP) == 1  # the consensus rationale on empathy

        foreign, problems = rec.foreign(), errors(rec)
        assert len(rec.kernel_ids()) == 1
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert problems == [], problems

    # the database holds exactly what was entered, signed
    from rapportkit.model import ReviewStatus
    from rapportkit.store import Store

    with Store(demo_copy, readonly=True) as store:
        mine = [r for r in store.reviews(spec_id) if r.session.code == code]
        assert len(mine) == 1
        review = mine[0]
        session = review.session
        assert (session.modality.value, session.duration_min, session.source.value) == ("video", 50, "recording")
        assert review.status is ReviewStatus.SIGNED
        assert review.specialist_signed_at and review.supervisor_signed_at
        widget = {"1": 1, "2": 2, "3": 3, "4": 4, N_O: None}
        assert review.self_rating.scores == {p: widget[v] for p, v in SELF.items()}
        assert review.supervisor_rating.scores == {p: widget[v] for p, v in SUPERVISOR.items()}
        assert review.self_rating.notes == self_notes  # exact, markup included
        assert review.supervisor_rating.notes == SUPERVISOR_NOTES
        agreed = {p: (consensus[p][0] if p in consensus else SELF[p]) for p in PRACTICES}
        assert review.consensus.scores == {p: widget[v] for p, v in agreed.items()}
        assert review.consensus.notes == {p: why for p, (_, why) in consensus.items()}
        assert set(review.traps) == {"dominating"}
        assert [(g.practice_id, g.text, g.actions, g.follow_up) for g in review.goals] == [
            ("empathy", "Name the feeling behind the words", "Try it twice a session; bring one example.", follow_up)]
        assert len(review.goal_updates) == n_earlier
        assert {u.status.value for u in review.goal_updates} == {"met"}
        assert not [k for k in drafts(demo_copy) if k == f"meeting:{review.session.id}"]  # cleared once signed


@pytest.mark.browser
def test_killing_the_kernel_mid_meeting_loses_nothing(voila, demo_copy):
    spec_name, _ = _specialist(demo_copy, "sp-03")
    typed = "Kept eye contact & let silences be; asked one question at a time."
    with chromium() as browser, recorded_context(browser, viewport=(1400, 1000)) as (context, rec):
        page = context.new_page()
        open_meeting(page, voila)
        record_new_session(page, spec_name, "S-7302")
        for p, v in (("empathy", "2"), ("boundaries", N_O), ("consistency", "4")):
            score(page, "self", p, v)
        score(page, "supervisor", "empathy", "3")
        page.locator(".rk-meeting-form .rk-self-active_listening .rk-note textarea").press_sequentially(typed, delay=5)

        # what reached the kernel is in the draft (saved on every change) before the kill
        def drafted():
            found = [d for d in drafts(demo_copy).values()
                     if d.get("self", {}).get("notes", {}).get("active_listening") == typed]
            return found[0] if found else None

        draft = wait_until(drafted, what="the note in the meeting draft")
        session_id = draft["session_id"]
        assert errors(rec) == []
        kernel = rec.kernel_ids()[-1]
        kill_kernel(voila, kernel)

        open_meeting(page, voila, reload=True)
        assert rec.kernel_ids()[-1] != kernel  # a new kernel ran the notebook again
        page.select_option(".rk-meeting-form .rk-specialist select", value=spec_name)
        session = page.locator(".rk-meeting-form .rk-session select")
        option = session.locator("option", has_text="S-7302")
        wait_until(lambda: option.count() == 1, what="the new session in the list")
        session.select_option(value=option.get_attribute("value"))
        click(page, ".rk-use-session")
        expect_status(page, "Picked up where you left off")

        assert active_score(page, "self", "empathy") == "2"
        assert active_score(page, "self", "boundaries") == N_O
        assert active_score(page, "self", "consistency") == "4"
        assert active_score(page, "self", "safe_environment") is None
        assert active_score(page, "supervisor", "empathy") == "3"
        assert note_value(page, "self", "active_listening") == typed
        expect_text(page.locator(".rk-meeting-form .rk-panel-self .rk-progress"), "3 of 9 practices rated")
        # losing the kernel makes the old page's kernel connection reject with
        # "Kernel connection disconnected": that is the kill itself, not a fault
        foreign, problems = rec.foreign(), errors(rec, (re.compile(r"\bKernel connection disconnected\b"),
                                                        "the kill itself: the old page's kernel connection is gone"))
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert problems == [], problems
    assert f"meeting:{session_id}" in drafts(demo_copy)


@pytest.mark.browser
def test_double_clicks_in_the_browser_save_once(voila, demo_copy):
    """A real double click sends two clicks, which the kernel handles one after the other
    (the form's busy guard never sees them overlap): each must still save once.

    The kernel handles a page's widget messages in order, so after each double click the
    test waits for the effect of a later message that is not a save (every score shown as
    rated; the consensus step opened by "Continue"; a second goal slot shown) before it
    looks at the database or clicks the next saving button: both clicks are done by then.
    (While an action runs the form disables its buttons, so a click on one of them landing
    at that moment is lost; hence the wait before each saving click.)"""
    from playwright.sync_api import expect

    from rapportkit.store import Store

    spec_id = "sp-04"
    spec_name, n_earlier = _specialist(demo_copy, spec_id)

    def saved_actions() -> tuple[int, list[str]]:
        with Store(demo_copy, readonly=True) as store:
            sessions = [s for s in store.sessions(spec_id) if s.code == "S-7303"]
            reviews = store.reviews(session_id=sessions[0].id) if len(sessions) == 1 else []
            actions = [e.action for e in store.audit_log("review") if reviews and e.entity_id.startswith(reviews[0].id)]
        return len(sessions), actions

    with chromium() as browser, recorded_context(browser, viewport=(1400, 1000)) as (context, rec):
        page = context.new_page()
        open_meeting(page, voila)
        page.select_option(".rk-meeting-form .rk-specialist select", value=spec_name)
        click(page, ".rk-new-session-toggle")
        page.locator(".rk-meeting-form .rk-new-code input").fill("S-7303")
        page.locator(".rk-meeting-form .rk-record-session").dblclick()
        for p in PRACTICES:
            score(page, "self", p, "3")
            score(page, "supervisor", p, "3")
        expect_text(page.locator(".rk-meeting-form .rk-panel-supervisor .rk-progress"), "9 of 9 practices rated")
        assert saved_actions() == (1, [])  # one session; no review saved before the reveal

        page.locator(".rk-meeting-form .rk-reveal").dblclick()
        click(page, ".rk-to-consensus")
        page.locator(".rk-meeting-form .rk-consensus-empathy .rk-score button").first.wait_for(state="visible")
        assert saved_actions() == (1, ["create"])

        page.locator(".rk-meeting-form .rk-agree").dblclick()  # every score agreed already: prefilled
        click(page, ".rk-add-goal")
        page.locator(".rk-meeting-form .rk-goal-2").wait_for(state="visible")
        assert saved_actions() == (1, ["create", "update"])
        click(page, ".rk-remove-goal")
        expect(page.locator(".rk-meeting-form .rk-goal-2")).to_be_hidden()

        for i in range(n_earlier):
            page.locator(".rk-meeting-form .rk-earlier-goal").nth(i).locator("button[data-value='Carried%20forward']").click()
        goal = page.locator(".rk-meeting-form .rk-goal-1")
        goal.locator(".rk-goal-practice select").select_option(value="Active listening")
        goal.locator(".rk-goal-text input").fill("Let silences run before answering")
        click(page, ".rk-save-goals")
        expect_status(page, "Traps and goals saved")
        click(page, ".rk-sign-specialist")
        expect_status(page, "Now the supervisor signs")
        click(page, ".rk-sign-supervisor")
        expect_status(page, "Signed by both")
        problems = errors(rec)
    assert problems == [], problems
    # created at the reveal, then agreed, traps and goals, the first signature, the second
    assert saved_actions() == (1, ["create", "update", "update", "update", "sign"])
