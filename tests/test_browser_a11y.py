"""Accessibility of every dashboard and workbook form, in a real Chromium with axe-core.

axe-core comes from npm (``tests/a11y/package.json``, pinned by its lock file; ``make
test`` runs ``npm ci --prefix tests/a11y``). Its script is read from
``tests/a11y/node_modules`` and injected into each page with playwright's
``add_script_tag``: no page fetches anything from another host. Without it these tests
fail and say how to install it; they never skip.

- ``test_each_served_page_has_no_serious_violation``: the home page and the three
  dashboards of ``rapportkit serve``, audited whole (the document).
- ``test_each_workbook_form_has_no_serious_violation``: the self-rating (both steps), the
  roster, and the trends, calibration and goals explorers, rendered by Voilà with
  rapportkit's template, audited within the form's own widget (``.rk-form`` or
  ``.rk-explorer``). The rest of a workbook page is the notebook's text and its inline
  plots, which are not forms; they are audited too and their figures kept, not asserted.
- ``test_the_meeting_form_at_every_step_has_no_serious_violation``: the meeting form at
  each of its six steps, with an error shown and a panel hidden, and after both signed.
- ``test_a_whole_meeting_with_the_keyboard_alone``: the meeting from choosing the
  session to both signatures with key presses only (Tab, Shift+Tab, Space, Enter, the
  arrow keys and typing), on a fresh SQLite copy of the demo database; the review is
  then signed in the database.

Without a browser, the widgets are checked for what colour alone would otherwise say:
agenda rows of the reveal and highlighted consensus practices carry "◆" and words, every
kind of status message its symbol, an overdue earlier goal the word "overdue", and every
dashboard alert the name of its kind.

Every audit asks axe for the WCAG 2.0/2.1 A and AA rules and its best practices and
fails on any violation of impact "serious" or "critical". The figures per page (rules
and elements by impact) are printed and written to ``tests/artifacts/a11y.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import ROOT, WAIT_MS, Server, fresh_db, voila_server, wait_for_images
from browser import chromium_browser  # noqa: F401  (a fixture)
from test_browser_dashboards import PAGES, PLOT, assert_clean, page_of, render, served  # noqa: F401
from test_browser_dashboards import demo_copy  # noqa: F401  (the served copy, a fixture)
from test_browser_meeting import (
    N_O, PRACTICES, click, errors, expect_status, expect_text, note, score,
)


AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets asked for: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")
ARTIFACT = ROOT / "tests" / "artifacts" / "a11y.json"
WORKBOOKS = ROOT / "workbooks"

#: What each audit found, by page; written to ARTIFACT when the module is done.
FIGURES: dict[str, dict] = {}

RUN_AXE = """async ([scope, tags]) => {
  const context = scope ? {include: [...document.querySelectorAll(scope)]} : document;
  if (scope && !context.include.length) throw new Error('nothing on the page matches ' + scope);
  const result = await axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return {version: axe.version, violations: result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                                summary: (n.failureSummary || '').slice(0, 400)}))}))};
}"""


#: JavaScript: the visible inputs, text areas and selects within ``scope`` that have no
#: label a screen reader announces: no <label> with text, no aria-label(ledby), no title.
#: (axe also accepts a placeholder, which vanishes once something is typed; not here.)
UNLABELLED_JS = """(scope) => [...document.querySelectorAll(scope)].flatMap((root) =>
  [...root.querySelectorAll('input, textarea, select')]
    .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0)
    .filter((el) => !([...(el.labels || [])].some((l) => l.textContent.trim())
                      || (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby')
                      || (el.title || '').trim()))
    .map((el) => el.outerHTML.slice(0, 200)))"""


def axe_script() -> str:
    """The text of axe-core's script; fails (never skips) when it is not installed."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed ({AXE.relative_to(ROOT)} is missing): run `make test`, "
                    "which installs it with `npm ci --prefix tests/a11y`.", pytrace=False)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    """Write every audit's figures to ARTIFACT (adding to what other runs wrote)."""
    yield
    if not FIGURES:
        return
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    try:
        known = json.loads(ARTIFACT.read_text(encoding="utf-8")).get("pages", {})
    except (OSError, ValueError, AttributeError):
        known = {}
    version = next((f["axe"] for f in FIGURES.values()), None)
    ARTIFACT.write_text(json.dumps({"axe": version, "tags": list(TAGS), "pages": {**known, **FIGURES}},
                                   indent=1, sort_keys=True) + "\n", encoding="utf-8")


def audit(page, name: str, scope: str | None = None, *, blocking: bool = True) -> dict:
    """Run axe on ``page`` (within the elements matching ``scope``, else the whole
    document), keep and print the figures under ``name``, and fail on any serious or
    critical violation (unless ``blocking`` is False)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_script())
    result = page.evaluate(RUN_AXE, [scope, list(TAGS)])
    violations = result["violations"]
    figures = {
        "axe": result["version"], "scope": scope or "document",
        "rules": {i: sum(v["impact"] == i for v in violations) for i in IMPACTS},
        "elements": {i: sum(len(v["nodes"]) for v in violations if v["impact"] == i) for i in IMPACTS},
        "violations": sorted(f"{v['impact']}: {v['id']} ({len(v['nodes'])}, e.g. {v['nodes'][0]['target']})"
                             for v in violations),
    }
    FIGURES[name] = figures
    counts = ", ".join(f"{figures['rules'][i]} {i}" for i in IMPACTS)
    print(f"\naxe {name} [{figures['scope']}]: {counts} rules violated"
          + "".join(f"\n    {line}" for line in figures["violations"]))
    if scope and blocking:
        unlabelled = page.evaluate(UNLABELLED_JS, scope)
        figures["unlabelled"] = len(unlabelled)
        assert not unlabelled, f"{name}: inputs without a label a screen reader announces:\n" + "\n".join(unlabelled)
    if blocking:
        bad = [v for v in violations if v["impact"] in BLOCKING]
        assert not bad, f"{name}: axe found serious or critical violations:\n" + "\n".join(
            f"- {v['impact']} {v['id']}: {v['help']}\n" + "\n".join(
                f"    {n['target']}: {n['html'][:160]}\n      {n['summary']}" for n in v["nodes"][:5])
            for v in bad)
    return result


# ============================================================================ servers


@pytest.fixture(scope="module")
def writable_db(demo_db, tmp_path_factory) -> Path:
    """A fresh SQLite copy of the demo database that the workbook forms may write."""
    return fresh_db(demo_db, tmp_path_factory.mktemp("a11y"), "workbooks.db")


@pytest.fixture(scope="module")
def workbooks(chromium_browser, writable_db, tmp_path_factory) -> Iterator[Server]:  # noqa: F811
    """Voilà with rapportkit's template on the workbooks folder, writable (as ``rapportkit
    lab`` would be); each workbook at ``voila/render/<name>.ipynb``."""
    with voila_server(WORKBOOKS, writable_db, readonly=False, env={"RAPPORTKIT_USER": "browser-test"},
                      log_dir=tmp_path_factory.mktemp("logs")) as server:
        yield server


def open_workbook(page, server: Server, name: str, form: str) -> None:
    """Load workbook ``name`` and wait for the widget matching ``form``."""
    page.goto(server.page(f"voila/render/{name}.ipynb"), timeout=WAIT_MS * 2, wait_until="commit")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator(form).first.wait_for(state="visible", timeout=WAIT_MS * 2)
    except PlaywrightTimeout:
        raise AssertionError(f"{name}: {form} never showed.\nServer log:\n{server.tail()}") from None


def _specialist_name(db: Path, specialist_id: str) -> str:
    from rapportkit.store import Store

    with Store(db, readonly=True) as store:
        return store.person(specialist_id).display_name


# ============================================================================ pages served by rapportkit serve


@pytest.mark.browser
@pytest.mark.parametrize("name", ["home", *PAGES])
def test_each_served_page_has_no_serious_violation(served, page_of, name):  # noqa: F811
    page, rec = page_of()
    if name == "home":
        page.goto(served.page(""), wait_until="load")
        page.locator("a[href*='voila/render/']").first.wait_for()
    else:
        page.goto(served.page(render(name)), wait_until="commit")
        wait_for_images(page, PLOT, PAGES[name][0])
        page.locator(".rk-dashboard").first.wait_for()
    audit(page, f"serve: {name}")
    assert_clean(rec)


# ============================================================================ workbook forms

EXPLORERS = {"03_trends": "trends explorer", "04_calibration": "calibration explorer",
             "05_goals_and_followups": "goals explorer"}


@pytest.mark.browser
@pytest.mark.parametrize("name", list(EXPLORERS))
def test_each_explorer_has_no_serious_violation(workbooks, page_of, name):  # noqa: F811
    page, rec = page_of()
    open_workbook(page, workbooks, name, ".rk-explorer")
    wait_for_images(page, ".rk-explorer img.rk-explorer-plot", 1)
    page.locator(".rk-explorer .rk-status [role=status]").first.wait_for()
    audit(page, f"workbook {name}: page (not asserted)", None, blocking=False)
    audit(page, f"workbook {name}: {EXPLORERS[name]}", ".rk-explorer")
    assert errors(rec) == []


@pytest.mark.browser
def test_the_self_rating_form_has_no_serious_violation(workbooks, writable_db, page_of):  # noqa: F811
    from playwright.sync_api import expect

    page, rec = page_of()
    open_workbook(page, workbooks, "01_self_rating", ".rk-self-rating-form")
    form = page.locator(".rk-self-rating-form")
    audit(page, "workbook 01_self_rating: page (not asserted)", None, blocking=False)
    audit(page, "workbook 01_self_rating: step 1, session", ".rk-form")
    form.locator(".rk-specialist select").select_option(value=_specialist_name(writable_db, "sp-05"))
    form.locator(".rk-new-session-toggle").click()
    form.locator(".rk-new-code input").fill("S-8101")
    form.locator(".rk-record-session").click()
    for practice, value in (("empathy", "3"), ("boundaries", N_O)):
        button = form.locator(f".rk-self-{practice} .rk-score button[data-value='{value}']")
        button.click()
        expect(button).to_have_class(re.compile(r"\bmod-active\b"))
    form.locator(".rk-self-empathy .rk-note textarea").fill("Named the feeling once.")
    form.locator(".rk-self-empathy details summary").press("Enter")  # the practice's definition, open
    form.locator(".rk-save-self").click()
    expect_text(form.locator(".rk-status"), "Saved your blind rating")
    audit(page, "workbook 01_self_rating: step 2, rating", ".rk-form")
    assert errors(rec) == []


@pytest.mark.browser
def test_the_roster_form_has_no_serious_violation(workbooks, page_of):  # noqa: F811
    page, rec = page_of()
    open_workbook(page, workbooks, "06_roster", ".rk-roster-form")
    expect_text(page.locator(".rk-roster-table"), "sp-01")
    audit(page, "workbook 06_roster: page (not asserted)", None, blocking=False)
    audit(page, "workbook 06_roster", ".rk-form")
    page.locator(".rk-roster-form .rk-roster-add").click()  # nothing filled in: the error message shows
    page.locator(".rk-roster-form .rk-status [role=alert]").wait_for()
    audit(page, "workbook 06_roster: with an error", ".rk-form")
    assert errors(rec) == []


@pytest.mark.browser
def test_the_supervision_log_and_the_amendment_form_have_no_serious_violation(workbooks, page_of):  # noqa: F811
    page, rec = page_of()
    open_workbook(page, workbooks, "07_supervision_log", ".rk-supervision-log")
    expect_text(page.locator(".rk-supervision-log .rk-log"), "Total hours, signed meetings")
    audit(page, "workbook 07_supervision_log", ".rk-form")
    audit(page, "workbook 07_supervision_log: page", None)
    open_workbook(page, workbooks, "02_supervision_meeting", ".rk-amendment-form")
    audit(page, "workbook 02_supervision_meeting: the amendment form", ".rk-amendment-form")
    assert errors(rec) == []


@pytest.mark.browser
def test_the_meeting_form_at_every_step_has_no_serious_violation(workbooks, writable_db, page_of):  # noqa: F811
    page, rec = page_of((1400, 1000))
    open_workbook(page, workbooks, "02_supervision_meeting", ".rk-meeting-form")
    form = page.locator(".rk-meeting-form")  # the page also holds the amendment form
    audit(page, "workbook 02_supervision_meeting: page (not asserted)", None, blocking=False)
    step = "workbook 02_supervision_meeting: step"
    form.locator(".rk-specialist select").select_option(value=_specialist_name(writable_db, "sp-06"))
    click(page, ".rk-new-session-toggle")
    form.locator(".rk-new-code input").fill("S-8201")
    audit(page, f"{step} 1, session", ".rk-form")
    click(page, ".rk-record-session")
    expect_status(page, "Rate the session")

    for p in PRACTICES[:3]:
        score(page, "self", p, "2")
    note(page, "self", "empathy", "Named the feeling once.")
    click(page, ".rk-reveal")  # too early: an error
    form.locator(".rk-status [role=alert]").wait_for()
    audit(page, f"{step} 2, blind ratings with an error", ".rk-form")
    for p in PRACTICES:
        score(page, "self", p, "2" if p != "boundaries" else N_O)
    click(page, ".rk-hide-self")
    form.locator(".rk-panel-self .rk-hidden-note").wait_for(state="visible")
    for p in PRACTICES:
        score(page, "supervisor", p, "4" if p == "empathy" else "2" if p != "boundaries" else N_O)
    audit(page, f"{step} 2, blind ratings, one panel hidden", ".rk-form")

    click(page, ".rk-reveal")
    expect_status(page, "Revealed")
    form.locator(".rk-reveal-view .rk-agreement").wait_for(state="visible")
    audit(page, f"{step} 3, reveal", ".rk-form")

    click(page, ".rk-to-consensus")
    form.locator(".rk-consensus-empathy .rk-score button").first.wait_for(state="visible")
    score(page, "consensus", "empathy", "3")
    note(page, "consensus", "empathy", "Replayed the recording together.")
    audit(page, f"{step} 4, consensus", ".rk-form")

    click(page, ".rk-agree")
    expect_status(page, "Consensus agreed")
    form.locator(".rk-trap-dominating input").check()
    goal = form.locator(".rk-goal-1")
    goal.locator(".rk-goal-practice select").select_option(value="Demonstrating empathy")
    goal.locator(".rk-goal-text input").fill("Name the feeling behind the words")
    earlier = form.locator(".rk-earlier-goal")
    for i in range(earlier.count()):
        earlier.nth(i).locator("button[data-value='Met']").click()
    audit(page, f"{step} 5, traps and goals", ".rk-form")

    click(page, ".rk-save-goals")
    expect_status(page, "Traps and goals saved")
    audit(page, f"{step} 6, sign-off", ".rk-form")
    click(page, ".rk-sign-specialist")
    expect_status(page, "Now the supervisor signs")
    click(page, ".rk-sign-supervisor")
    expect_status(page, "Signed by both")
    form.locator(".rk-summary .rk-summary-record").wait_for(state="visible")
    audit(page, f"{step} 6, signed, with the summary", ".rk-form")
    assert errors(rec) == []


# ============================================================================ the keyboard alone

#: JavaScript, only to look (never to act): where the element matching a selector lies
#: from the focused one: "here", "after", "before", or "missing" (none visible and enabled).
WHERE_JS = """(sel) => {
  const target = [...document.querySelectorAll(sel)].find(
    (e) => e.getClientRects().length > 0 && !e.disabled);
  if (!target) return 'missing';
  const now = document.activeElement;
  if (now === target) return 'here';
  if (!now || now === document.body) return 'after';
  return now.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_FOLLOWING ? 'after' : 'before';
}"""
#: A description of the focused element, for messages.
FOCUSED_JS = """() => { const a = document.activeElement;
  return a ? (a.outerHTML || a.tagName).slice(0, 160) : 'nothing'; }"""


def focus(page, selector: str, most: int = 300) -> None:
    """Move the focus to the element matching ``selector`` with Tab or Shift+Tab only."""
    import time

    deadline = time.monotonic() + WAIT_MS / 1000
    while page.evaluate(WHERE_JS, selector) == "missing":  # shown or enabled after a kernel round trip
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never became visible and enabled")
        page.wait_for_timeout(100)
    seen = []
    for _ in range(most):
        where = page.evaluate(WHERE_JS, selector)
        if where == "here":
            return
        page.keyboard.press("Tab" if where in ("after", "missing") else "Shift+Tab")
        seen.append(page.evaluate(FOCUSED_JS))
    raise AssertionError(f"the keyboard cannot reach {selector} in {most} presses of Tab; the focus went "
                         f"through: {seen[-6:]}")


def press(page, selector: str, key: str = "Enter") -> None:
    focus(page, selector)
    page.keyboard.press(key)


def type_into(page, selector: str, text: str) -> None:
    """Type ``text`` into the field matching ``selector``, then give the page a moment:
    ipywidgets holds a field's updates back while earlier ones are on their way to the
    kernel, but sends a button's click at once, so a key press on a button straight after
    the last keystroke could reach the kernel before the text does."""
    focus(page, selector)
    page.keyboard.type(text, delay=2)
    page.wait_for_timeout(500)


def choose(page, selector: str, label: str) -> None:
    """Choose the first option of a <select> whose text starts with ``label``, with the
    arrow keys."""
    from playwright.sync_api import expect

    focus(page, selector)
    labels = page.locator(selector).evaluate(
        "(s) => [...s.options].map((o) => o.textContent.replace(/\\u00a0/g, ' '))")
    found = [i for i, text in enumerate(labels) if text.startswith(label)]
    assert found, f"no option of {selector} starts with {label!r}: {labels}"
    now = page.locator(selector).evaluate("(s) => s.selectedIndex")
    for _ in range(abs(found[0] - now)):
        page.keyboard.press("ArrowDown" if found[0] > now else "ArrowUp")
    expect(page.locator(selector)).to_have_js_property("selectedIndex", found[0])


def rate(page, role: str, practice: str, value: str) -> None:
    from playwright.sync_api import expect

    button = f".rk-meeting-form .rk-{role}-{practice} .rk-score button[data-value='{value}']"
    press(page, button, "Space")
    expect(page.locator(button)).to_have_class(re.compile(r"\bmod-active\b"))


@pytest.mark.browser
def test_a_whole_meeting_with_the_keyboard_alone(workbooks, writable_db, page_of):  # noqa: F811
    """Every control the meeting needs is reached with Tab / Shift+Tab and operated with
    Space, Enter, the arrow keys or typing; the page is read (where the focus is, the
    status) but never clicked."""
    from rapportkit.model import ReviewStatus
    from rapportkit.store import Store

    spec_id = "sp-07"
    with Store(writable_db, readonly=True) as store:
        spec_name = store.person(spec_id).display_name
        n_earlier = len(store.open_goals(spec_id))
    assert n_earlier > 0  # the demo team leaves goals open: their verdicts are part of the meeting
    page, rec = page_of((1400, 1000))
    open_workbook(page, workbooks, "02_supervision_meeting", ".rk-meeting-form")
    form = page.locator(".rk-meeting-form")
    m = ".rk-meeting-form"

    # 1 · the session: a new one, recorded here
    choose(page, f"{m} .rk-specialist select", spec_name)
    press(page, f"{m} .rk-new-session-toggle", "Space")
    type_into(page, f"{m} .rk-new-code input", "S-8301")
    press(page, f"{m} .rk-record-session")
    expect_status(page, "Rate the session")
    expect_text(form.locator(".rk-context"), spec_name)

    # 2 · blind ratings: the specialist rates and hides, then the supervisor rates
    mine = {p: "3" for p in PRACTICES} | {"empathy": "2", "boundaries": N_O}
    theirs = {p: "3" for p in PRACTICES} | {"empathy": "4", "boundaries": N_O, "consistency": "4"}
    for p, v in mine.items():
        rate(page, "self", p, v)
    type_into(page, f"{m} .rk-self-empathy .rk-note textarea", "Named the feeling once.")
    press(page, f"{m} .rk-hide-self", "Space")
    form.locator(".rk-panel-self .rk-hidden-note").wait_for(state="visible")
    for p, v in theirs.items():
        rate(page, "supervisor", p, v)

    # 3 · reveal, then on to the consensus
    press(page, f"{m} .rk-reveal")
    expect_status(page, "Revealed")
    press(page, f"{m} .rk-to-consensus")
    form.locator(".rk-consensus-empathy .rk-score button").first.wait_for(state="visible")

    # 4 · consensus: where they differ, a score and a rationale
    rate(page, "consensus", "empathy", "3")
    type_into(page, f"{m} .rk-consensus-empathy .rk-note textarea", "Replayed the recording together.")
    rate(page, "consensus", "consistency", "4")
    type_into(page, f"{m} .rk-consensus-consistency .rk-note textarea", "The follow-up call happened.")
    press(page, f"{m} .rk-agree")
    expect_status(page, "Consensus agreed")

    # 5 · a trap, a verdict on every earlier goal, a new goal
    press(page, f"{m} .rk-trap-dominating input", "Space")
    for i in range(n_earlier):
        press(page, f"{m} .rk-earlier-goal:nth-child({i + 1}) button[data-value='Carried%20forward']", "Space")
    choose(page, f"{m} .rk-goal-1 .rk-goal-practice select", "Demonstrating empathy")
    type_into(page, f"{m} .rk-goal-1 .rk-goal-text input", "Name the feeling behind the words")
    type_into(page, f"{m} .rk-goal-1 .rk-goal-actions textarea", "Try it twice a session.")
    press(page, f"{m} .rk-save-goals")
    expect_status(page, "Traps and goals saved")

    # 6 · both sign
    press(page, f"{m} .rk-sign-specialist")
    expect_status(page, "Now the supervisor signs")
    press(page, f"{m} .rk-sign-supervisor")
    expect_status(page, "Signed by both")

    # any step opens again from "Go to step" (the accordion's titles take no focus): the reveal
    choose(page, f"{m} .rk-step-chooser select", "3 · Reveal")
    form.locator(".rk-reveal-view .rk-agreement").wait_for(state="visible")
    assert errors(rec) == []

    with Store(writable_db, readonly=True) as store:
        found = [r for r in store.reviews(spec_id) if r.session.code == "S-8301"]
        assert len(found) == 1, [(r.session.code, r.session.date, r.status) for r in store.reviews(spec_id)][-3:]
        review = found[0]
        assert review.status is ReviewStatus.SIGNED
        assert review.specialist_signed_at and review.supervisor_signed_at
        assert review.consensus.scores["empathy"] == 3 and review.consensus.scores["consistency"] == 4
        assert review.consensus.notes["empathy"] == "Replayed the recording together."
        assert review.self_rating.notes == {"empathy": "Named the feeling once."}
        assert set(review.traps) == {"dominating"}
        assert [(g.practice_id, g.text) for g in review.goals] == [("empathy", "Name the feeling behind the words")]
        assert {u.status.value for u in review.goal_updates} <= {"carried"}
        assert len(review.goal_updates) == n_earlier


# ============================================================================ colour is never the only signal


def test_agenda_rows_of_the_reveal_say_so_in_words(demo_db):
    from rapportkit.store import Store
    from rapportkit.ui.record_html import agreement, reveal_html

    with Store(demo_db, readonly=True) as store:
        review = next(r for r in store.reviews() if r.self_rating and r.supervisor_rating
                      and agreement(r, store.rubric).agenda)
        html = reveal_html(review, store.rubric, {})
        agenda = agreement(review, store.rubric).agenda
    rows = re.findall(r"<tr class='rk-reveal-row( rk-agenda-item)?' data-practice='([^']+)'>(.*?)</tr>", html)
    assert len(rows) == 9
    for flagged, practice, cells in rows:
        assert bool(flagged) == (practice in agenda)
        assert ("◆ discuss" in cells) == (practice in agenda), practice  # the coloured rows, in words too


def test_a_highlighted_consensus_practice_says_why_in_words(rubric):
    from rapportkit.ui.rating_panel import AGENDA_CUE, RatingPanel

    panel = RatingPanel(rubric, "consensus", "Consensus", hideable=False)
    panel.set_hint("empathy", "<small>Self 2 · Supervisor 4</small>", highlight=True)
    panel.set_hint("authenticity", "<small>Self 3 · Supervisor 3</small>", highlight=False)
    assert AGENDA_CUE in panel.rows["empathy"].header.value
    assert "◆" in AGENDA_CUE and "two or more levels apart" in AGENDA_CUE
    assert AGENDA_CUE not in panel.rows["authenticity"].header.value
    panel.set_hint("empathy", "", highlight=False)  # off the agenda again: the words go too
    assert AGENDA_CUE not in panel.rows["empathy"].header.value


def test_each_kind_of_status_message_has_its_own_symbol():
    from rapportkit.ui.common import StatusArea

    status, seen = StatusArea(), {}
    for kind in ("ok", "warning", "error", "info"):
        status.show(kind, "Something happened.")
        found = re.findall(r"<span class='rk-status-symbol' aria-hidden='true'[^>]*>([^<]+)</span>", status.html.value)
        seen[kind] = found[0] if found else None
    assert seen["info"] is None  # plain information needs no sign
    symbols = [seen[k] for k in ("ok", "warning", "error")]
    assert all(symbols) and len(set(symbols)) == 3, seen
    status.error("Not saved.")
    assert 'role="alert"' in status.html.value  # and a screen reader hears an error as one


def test_an_overdue_earlier_goal_says_overdue(rubric):
    from rapportkit.model import Goal
    from rapportkit.ui.goals_panel import GoalsPanel

    today = dt.date(2026, 11, 22)
    panel = GoalsPanel(rubric, today)
    panel.set_earlier([Goal("rv-1.g1", "empathy", "Name the feeling", "", today - dt.timedelta(days=3)),
                       Goal("rv-1.g2", "boundaries", "Say what I can offer", "", today + dt.timedelta(days=3))], today)
    late, on_time = (row.children[0].value for row in panel.earlier.children)
    assert "(overdue)" in late and "overdue" not in on_time


def test_every_dashboard_alert_names_its_kind_in_words(demo_db):
    from rapportkit.store import Store
    from rapportkit.ui.dashboards import ALERT_KINDS, SpecialistProgress

    named = re.compile("<b>({})</b>: ".format("|".join(map(re.escape, ALERT_KINDS.values()))))
    kinds = set()
    with Store(demo_db, readonly=True) as store:
        for specialist in ("sp-01", "sp-02", "sp-03"):
            progress = SpecialistProgress(store, specialist=specialist, today="2026-11-22")
            items = re.findall(r"<li>(.*?)</li>", progress.alerts.value)
            for item in items:
                assert named.match(item), item
                kinds.add(named.match(item).group(1))
    assert "Follow-up overdue" in kinds  # overdue, in words (and in the follow-ups table's header)


def test_go_to_step_and_the_accordion_follow_each_other():
    import ipywidgets as W

    from rapportkit.ui.common import StepChooser

    steps = W.Accordion(children=[W.HTML("a"), W.HTML("b"), W.HTML("c")], titles=("1 · One", "2 · Two", "3 · Three"))
    steps.selected_index = 0
    chooser = StepChooser(steps)
    assert chooser.widget.description == "Go to step"
    assert chooser.widget.value == 0
    chooser.widget.value = 2  # what the arrow keys on the dropdown do
    assert steps.selected_index == 2
    steps.selected_index = 1  # a click on a title, or the form moving on
    assert chooser.widget.value == 1
    steps.titles = ("1 · One  ✓", "2 · Two", "3 · Three")
    assert chooser.widget.label == "2 · Two" and chooser.widget.options[0] == ("1 · One  ✓", 0)
    assert steps.selected_index == 1
