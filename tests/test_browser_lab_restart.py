"""The workbooks in JupyterLab after a kernel restart and a page reload, and what a
newcomer's ``make run`` leaves behind (issue 13, items 6, 9 and 11).

- A kernel restart leaves the old widgets on the page, marked by ipywidgets with the
  class ``jupyter-widgets-disconnected``; every form's style sheet then hides the form's
  insides (no button left to click) and shows :data:`~rapportkit.ui.not_running.STOPPED`.
- A reloaded page shows what the notebook file holds: ``rapportkit lab`` saves a sentence
  where each widget was (:func:`~rapportkit.ui.not_running.pre_save_hook`), and the
  workbooks ship with it, so a reload shows the sentence, never an empty cell or
  "Error displaying widget: model not found".
- ``rapportkit lab`` opens the person's own, owner-only copy of the workbooks and never
  writes to the tracked ones; JupyterLab asks nothing about news.
- The workbooks read like a workbook: tables without an index or NaN, human headers, a
  list to choose a person instead of an id to edit.

The browser test reuses ``test_browser_lab``'s server fixture (``rapportkit lab`` as
``make run`` starts it, in a fresh Jupyter set-up) and Chromium helpers.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from browser import chromium, recorded_context
from rapportkit.ui.not_running import NOT_RUNNING, STOPPED, STOPPED_STYLE, WIDGET_VIEW, placeholder, pre_save_hook
from rapportkit.ui.workbook import MISSING, SpecialistPlot, show_table
from test_browser_lab import RUN_ALL, WIDGET_FAILURES, lab  # noqa: F401 (lab is a fixture)
from test_browser_meeting import ROOT, WAIT_MS, drafts

WORKBOOKS = sorted((ROOT / "workbooks").glob("*.ipynb"))
HUB_WORKBOOKS = sorted((ROOT / "rapportkit" / "hub_workbooks").glob("*/*.ipynb"))
NEWS = re.compile(r"Jupyter news", re.I)
ARTIFACTS = ROOT / "tests" / "artifacts"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts}


def _shows_a_widget(cell) -> bool:
    lines = cell.source.rstrip().splitlines()
    return cell.cell_type == "code" and bool(lines) and lines[-1].rstrip().endswith(".widget")


# ============================================================================ rapportkit lab's own copy


def test_lab_opens_an_owner_only_copy_and_never_writes_the_tracked_workbooks(tmp_path, monkeypatch):
    from rapportkit import cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    monkeypatch.delenv("RAPPORTKIT_DB", raising=False)
    monkeypatch.chdir(tmp_path)  # the default copy is ./data/workbooks, as from the repository's root
    tracked = _digests(ROOT / "workbooks")
    argv = ["lab", "--db", str(tmp_path / "x.db"), "--no-browser", "--workbooks", str(ROOT / "workbooks")]

    assert cli.main(argv) == 0
    mine = tmp_path / "data" / "workbooks"
    (cmd,) = calls
    assert f"--ServerApp.root_dir={mine}" in cmd
    assert _digests(mine) == tracked  # every workbook, dashboards/ too, as shipped
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    assert stat.S_IMODE((mine / "dashboards").stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in mine.rglob("*.ipynb")} == {0o600}

    # a person's copy, run and changed, is theirs: the next start keeps it and adds what is missing
    mine_meeting = mine / "02_supervision_meeting.ipynb"
    mine_meeting.write_text(mine_meeting.read_text().replace("The supervision meeting", "Our meeting"))
    (mine / "03_trends.ipynb").unlink()
    assert cli.main(argv) == 0
    assert "Our meeting" in mine_meeting.read_text()
    assert (mine / "03_trends.ipynb").read_bytes() == (ROOT / "workbooks" / "03_trends.ipynb").read_bytes()
    assert _digests(ROOT / "workbooks") == tracked


def test_the_copy_is_ignored_by_git():
    probe = "data/workbooks/02_supervision_meeting.ipynb"
    done = subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT, capture_output=True)
    if done.returncode == 128:
        pytest.skip(f"not a git checkout: {done.stderr.decode().strip()}")
    assert done.returncode == 0, f"{probe} is not ignored by .gitignore"


def test_lab_saves_notebooks_through_the_hook_and_answers_no_to_news(tmp_path, monkeypatch):
    """The flags that hold items 6 and 11 (the browser test below shows their effect)."""
    from rapportkit import cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    monkeypatch.delenv("RAPPORTKIT_DB", raising=False)
    assert cli.main(["lab", "--db", str(tmp_path / "x.db"), "--no-browser", "--workbooks", str(ROOT / "workbooks"),
                     "--into", str(tmp_path / "mine")]) == 0
    (cmd,) = calls
    assert "--ContentsManager.pre_save_hook=rapportkit.ui.not_running.pre_save_hook" in cmd
    (settings,) = [a.split("=", 1)[1] for a in cmd if a.startswith("--LabApp.app_settings_dir=")]
    overrides = json.loads((Path(settings) / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_the_hub_answers_no_to_news_too():
    text = (ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py").read_text()
    assert "--LabApp.app_settings_dir={_SHARE / 'lab' / 'settings'}" in text


# ============================================================================ the sentence where a form was


def _widget_output(model_id: str = "abc") -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                     "text/plain": "VBox(children=(...))"}}


def test_the_save_hook_puts_the_sentence_where_each_widget_was_and_keeps_no_widget_state():
    printed = {"output_type": "stream", "name": "stdout", "text": "as of 2026-10-26\n"}
    model = {"type": "notebook", "content": {
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"x": {"notes": "typed"}}}}},
        "cells": [
            {"cell_type": "code", "source": "form.widget", "outputs": [_widget_output("a"), _widget_output("b")]},
            {"cell_type": "code", "source": "print(1)", "outputs": [printed]},
            {"cell_type": "markdown", "source": "# Title"},
        ]}}
    pre_save_hook(model=model, path="02_supervision_meeting.ipynb", contents_manager=None)
    cells = model["content"]["cells"]
    assert cells[0]["outputs"] == [placeholder()]
    assert cells[1]["outputs"] == [printed]
    assert "widgets" not in model["content"]["metadata"]
    nbformat.validate(nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a1", "metadata": {}, "execution_count": 1, "source": "", **cells[0]}]}))

    other = {"type": "file", "content": "form.widget"}
    pre_save_hook(model=other, path="notes.txt")
    assert other == {"type": "file", "content": "form.widget"}


@pytest.mark.parametrize("path", WORKBOOKS + HUB_WORKBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_form_cell_ships_with_the_sentence(path):
    nb = nbformat.read(path, as_version=4)
    shown = [c for c in nb.cells if _shows_a_widget(c)]
    for cell in shown:
        assert [dict(o) for o in cell.outputs] == [placeholder()], cell.source
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert WIDGET_VIEW not in output.get("data", {}), f"a dangling widget output in {cell.source!r}"


def test_every_form_carries_the_rule_for_a_stopped_kernel(demo_db, tmp_path):
    import shutil

    import ipywidgets as W

    from rapportkit.store import Store
    from rapportkit.ui import AmendmentForm, MeetingForm, RosterForm, SelfRatingForm

    db = tmp_path / "forms.db"
    shutil.copyfile(demo_db, db)

    def html_in(widget) -> list[str]:
        found = [widget.value] if isinstance(widget, W.HTML) else []
        for child in getattr(widget, "children", ()):
            found += html_in(child)
        return found

    with Store(db, actor="pytest") as store:
        for form_class in (MeetingForm, SelfRatingForm, AmendmentForm, RosterForm):
            form = form_class(store)
            assert "rk-form" in form.widget._dom_classes, form_class.__name__
            assert STOPPED_STYLE in html_in(form.widget), form_class.__name__
    assert ".rk-form.jupyter-widgets-disconnected > * { display: none !important; }" in STOPPED_STYLE


# ============================================================================ readable workbooks


def test_show_table_has_no_index_no_nan_and_human_headers():
    frame = pd.DataFrame({"specialist_name": ["Aster <b>Moon</b>", "Bramble"], "supervisor_id": [None, "sv-01"],
                          "mean_gap": [0.391, float("nan")], "active": [True, False],
                          "follow_up": pd.to_datetime(["2026-10-23", None]),
                          "definition": ["word " * 60, "short"]}, index=[7, 9])
    table = show_table(frame, {"specialist_name": "Specialist", "supervisor_id": "Supervisor", "mean_gap": "Mean gap",
                               "active": "Active", "follow_up": "Follow-up", "definition": "Definition",
                               "absent": "Not in the data"})
    assert table.headers == ["Specialist", "Supervisor", "Mean gap", "Active", "Follow-up", "Definition"]
    assert table.rows[0][:5] == ["Aster <b>Moon</b>", MISSING, "0.39", "yes", "2026-10-23"]
    assert table.rows[1][:5] == ["Bramble", "sv-01", MISSING, "no", MISSING]
    assert table.rows[0][5] == "word " * 60  # whole, never cut short
    html = table._repr_html_()
    assert "<b>Moon</b>" not in html and "&lt;b&gt;Moon&lt;/b&gt;" in html
    for word in ("NaN", "NaT", "None", "…", "specialist_name", ">7<", ">9<"):
        assert word not in html and word not in repr(table), word
    assert html.count("<tr>") == 3 and html.count('<th scope="col"') == 6
    assert show_table({"people": 10}, {"people": "People"}).rows == [["10"]]
    assert show_table(frame, {"active": "Active"}, others=True).headers[:2] == ["Active", "specialist_name"]


def test_workbooks_read_like_a_workbook():
    """No pandas print-outs (an index, NaN, snake_case headers, "…"), no raw dict, no id
    to edit in the code to see another person."""
    for path in WORKBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert not re.search(r"[Cc]hange `?\"?sp-\d", cell.source), (path.name, cell.source)
                continue
            assert not re.search(r"[\"']sp-\d\d[\"']", cell.source), (path.name, cell.source)
            assert ".to_string(" not in cell.source, (path.name, cell.source)
            for output in cell.outputs:
                text = output.get("text") or "".join(output.get("data", {}).get("text/plain", ""))
                text += "".join(output.get("data", {}).get("text/html", ""))
                for word in ("NaN", "specialist_name", "practice_title", "…", "{'"):
                    assert word not in text, (path.name, word, text[:200])


def test_a_specialist_is_chosen_from_a_list(demo_db):
    from rapportkit import frames, plots
    from rapportkit.store import Store

    with Store(demo_db, readonly=True) as store:
        ratings = frames.ratings_frame(store)
        chart = SpecialistPlot(store, plots.profile, ratings)
        first = chart.image.value
        names = [label for label, _id in chart.picker.options]
        assert names == sorted(names) and len(names) == 8
        assert chart.image.tooltip.endswith(names[0])
        chart.picker.value = chart.picker.options[3][1]
        assert chart.image.value != first and chart.image.tooltip.endswith(names[3])
        with pytest.raises(ValueError, match="'specialist' must be one of"):
            SpecialistPlot(store, plots.profile, ratings, specialist="sp-99")


# ============================================================================ in JupyterLab


def _run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{RUN_ALL[0]}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{RUN_ALL[1]}$")).click()


def _form_outputs(page) -> list[str]:
    """The text of the outputs of the notebook's cells that end in ``.widget``."""
    return page.locator(".jp-CodeCell").evaluate_all(
        """cells => cells.filter(c => /\\.widget\\s*$/.test(c.querySelector('.jp-InputArea').innerText))
                        .map(c => c.querySelector('.jp-OutputArea').innerText.trim())""")


@pytest.mark.browser
def test_a_restart_shows_the_sentence_instead_of_dead_forms_and_a_reload_never_an_empty_cell(lab, tmp_path):
    from playwright.sync_api import expect

    db = tmp_path / "lab.db"  # the lab fixture's database and copy of the workbooks
    mine = tmp_path / "workbooks" / "02_supervision_meeting.ipynb"
    with chromium() as browser, recorded_context(browser, viewport=(1400, 1000)) as (context, rec):
        page = context.new_page()
        page.goto(lab.page("lab/tree/02_supervision_meeting.ipynb"), timeout=WAIT_MS * 2)
        page.locator(".jp-NotebookPanel").first.wait_for(state="visible", timeout=WAIT_MS * 2)
        idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"Python 3 \(ipykernel\) \| Idle"))
        idle.first.wait_for(state="visible", timeout=WAIT_MS)

        # before it runs, each form's cell says what to do
        assert _form_outputs(page) == [NOT_RUNNING, NOT_RUNNING]

        _run_all(page)
        form = page.locator(".rk-meeting-form")
        form.wait_for(state="visible", timeout=WAIT_MS * 2)
        expect(idle.first).to_be_visible(timeout=WAIT_MS)
        assert page.locator(".rk-form").count() == 2

        # type something: it becomes a draft in the database
        page.locator(".rk-new-session-toggle").click()
        page.locator(".rk-new-code input").fill("S-7402")
        page.locator(".rk-record-session").click()
        expect(page.locator(".rk-meeting-form .rk-status")).to_contain_text("Rate the session", timeout=WAIT_MS)
        page.locator(".rk-self-empathy .rk-score button[data-value='3']").click()

        # saved (Ctrl+S) through the hook: the file holds the sentence, not a dangling widget
        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=WAIT_MS)
        saved = nbformat.read(mine, as_version=4)
        assert [[dict(o) for o in c.outputs] for c in saved.cells if _shows_a_widget(c)] == [[placeholder()]] * 2

        # no pop-up asked about Jupyter news at any point
        assert page.locator(".Toastify__toast", has_text=NEWS).count() == 0
        assert NEWS.search(page.locator("body").inner_text()) is None

        # restart the kernel from the menu
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel…$")).click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        expect(page.locator(".rk-form.jupyter-widgets-disconnected")).to_have_count(2, timeout=WAIT_MS)
        for i in range(2):
            dead = page.locator(".rk-form").nth(i)
            assert dead.evaluate("e => getComputedStyle(e, '::before').content") == json.dumps(STOPPED, ensure_ascii=False)
            assert dead.bounding_box()["height"] > 20  # the sentence takes room on the page
        # no button of a dead form can be reached or clicked
        assert page.locator(".rk-form button").count() > 5
        assert page.locator(".rk-form button:visible, .rk-form input:visible, .rk-form select:visible").count() == 0
        assert not page.locator(".rk-record-session").is_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lab_after_restart.png"))

        # what was typed is kept as a draft for the next run
        kept = [d for d in drafts(db).values() if d.get("self", {}).get("scores", {}).get("empathy") == "3"]
        assert len(kept) == 1, drafts(db)

        # a reload shows the sentence where each form was: no empty cell, no widget error
        page.reload()
        page.locator(".jp-NotebookPanel").first.wait_for(state="visible", timeout=WAIT_MS * 2)
        expect(page.locator(".jp-CodeCell .rk-not-running")).to_have_count(2, timeout=WAIT_MS)
        assert _form_outputs(page) == [NOT_RUNNING, NOT_RUNNING]
        text = page.locator(".jp-NotebookPanel").first.inner_text()
        for failure in WIDGET_FAILURES:
            assert failure not in text, failure
        assert page.locator(".rk-form").count() == 0

        # and running it again brings the live form back
        idle.first.wait_for(state="visible", timeout=WAIT_MS)
        _run_all(page)
        form.wait_for(state="visible", timeout=WAIT_MS * 2)
        assert page.locator(".rk-form.jupyter-widgets-disconnected").count() == 0
        assert page.locator(".Toastify__toast", has_text=NEWS).count() == 0
