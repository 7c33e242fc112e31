"""The meeting workbook in JupyterLab, started the way ``make run`` starts it
(``rapportkit lab --db PATH --port N``), driven in a real Chromium.

Widget version mismatches between JupyterLab's widget manager and the kernel's
ipywidgets only show up here ("Error displaying widget", "Failed to load model class"),
and so would a notebook without kernelspec metadata (a "Select Kernel" dialog).

Isolation: the server gets fresh Jupyter config, runtime, settings and workspace
folders (no tabs restored from an earlier session, no user settings), a known token
through ``JUPYTER_TOKEN`` (which jupyter_server reads), and its own copy of the workbooks
(``--into``, as ``rapportkit lab`` lays out for a person), so JupyterLab's autosave and
checkpoints never touch the repository. PATH does
not contain the virtual environment, as with ``make run``, which calls
``.venv/bin/rapportkit`` without activating anything.
"""

from __future__ import annotations

import re
import secrets
import shutil
import sys
from pathlib import Path

import pytest

from browser import chromium, recorded_context, require_chromium
from test_browser_meeting import ROOT, WAIT_MS, errors, expect_status, expect_text, start_server

RUN_ALL = ("Run", "Run All Cells")
WIDGET_FAILURES = ("Error displaying widget", "Failed to load model class", "Could not create a model",
                   "Error creating widget")


def _rapportkit_cmd() -> list[str]:
    script = Path(sys.executable).parent / "rapportkit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rapportkit.cli"]


@pytest.fixture
def lab(demo_db, tmp_path):
    require_chromium()
    db = tmp_path / "lab.db"
    shutil.copyfile(demo_db, db)
    books = tmp_path / "workbooks"  # the person's own copy, laid out by `rapportkit lab`
    token = secrets.token_hex(16)
    env = {
        "HOME": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
        "JUPYTER_TOKEN": token, "RAPPORTKIT_USER": "browser-test", "MPLBACKEND": "Agg",
        **{var: str(tmp_path / sub) for var, sub in (
            ("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"))},
    }

    def cmd(port: int) -> list[str]:
        return [*_rapportkit_cmd(), "lab", "--db", str(db), "--port", str(port), "--no-browser",
                "--workbooks", str(ROOT / "workbooks"), "--into", str(books)]

    server = start_server(cmd, env, tmp_path, "rapportkit-lab", cwd=ROOT, ready_text="is running at", token=token)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.browser
def test_the_meeting_workbook_runs_and_its_form_works_in_jupyterlab(lab):
    from playwright.sync_api import expect

    with chromium() as browser, recorded_context(browser, viewport=(1400, 1000)) as (context, rec):
        page = context.new_page()
        page.goto(lab.page("lab/tree/02_supervision_meeting.ipynb"), timeout=WAIT_MS * 2)
        page.locator(".jp-NotebookPanel").first.wait_for(state="visible", timeout=WAIT_MS * 2)

        # the notebook's kernelspec starts its kernel at once: no "Select Kernel" dialog
        kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"Python 3 \(ipykernel\) \| Idle"))
        try:
            kernel_idle.first.wait_for(state="visible", timeout=WAIT_MS)
        except Exception:
            raise AssertionError(f"the kernel never became idle:\n{lab.tail()}") from None
        assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()

        # the configuration rapportkit lab passes: nothing fetched from the internet
        config = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)")
        assert config.get("news", {}).get("disabled") is True, config.get("news")
        assert "Extension Manager is 'readonly'" in lab.log_text()

        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{RUN_ALL[0]}$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{RUN_ALL[1]}$")).click()
        form = page.locator(".rk-meeting-form")
        form.wait_for(state="visible", timeout=WAIT_MS * 2)
        expect(kernel_idle.first).to_be_visible(timeout=WAIT_MS)  # every cell has run

        text = page.locator(".jp-NotebookPanel").first.inner_text()
        for failure in WIDGET_FAILURES:
            assert failure not in text, failure
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert page.locator(".jp-Dialog").count() == 0

        # the widgets talk to the kernel both ways: record a session, choose a score
        page.locator(".rk-new-session-toggle").click()
        page.locator(".rk-new-code input").fill("S-7401")
        page.locator(".rk-record-session").click()
        expect_status(page, "Rate the session")
        button = page.locator(".rk-self-empathy .rk-score button[data-value='3']")
        button.click()
        expect(button).to_have_class(re.compile(r"\bmod-active\b"))
        expect_text(page.locator(".rk-panel-self .rk-progress"), "1 of 9 practices rated")
        expect_text(page.locator(".rk-self-empathy .rk-anchor"), "Proficient")

        foreign, problems = rec.foreign(), errors(rec)
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert problems == [], problems


def test_rapportkit_lab_finds_jupyterlab_beside_its_python_and_keeps_it_offline(tmp_path, monkeypatch):
    """What ``rapportkit lab`` runs (no browser needed): JupyterLab from this Python's own
    folder even when PATH lacks it (``make run`` does not activate the venv), bound to
    127.0.0.1, with the news feed, the update check and the PyPI extension manager off."""
    import subprocess

    from rapportkit import cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("RAPPORTKIT_DB", raising=False)  # the CLI sets it; restored afterwards
    books, mine = tmp_path / "workbooks", tmp_path / "mine"
    books.mkdir()
    assert cli.main(["lab", "--db", str(tmp_path / "x.db"), "--port", "19599", "--no-browser",
                     "--workbooks", str(books), "--into", str(mine)]) == 0
    (cmd,) = calls
    assert Path(cmd[0]).parent == Path(sys.executable).parent
    for flag in ("--ip=127.0.0.1", "--port=19599", f"--ServerApp.root_dir={mine}", "--no-browser",
                 "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                 "--LabApp.extension_manager=readonly"):
        assert flag in cmd, flag
