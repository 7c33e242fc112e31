"""What a workbook shows where a form is no longer running, in JupyterLab.

A form's picture can outlive the kernel that drew it, in two ways:

- **The kernel restarts** (or stops). ipywidgets' JupyterLab manager then marks every view
  of the old widgets with the class ``jupyter-widgets-disconnected`` (its
  ``_comm_live_update``, when a model's ``comm_live`` turns false) and draws a broken-link
  icon; the buttons still look usable but send to a kernel that no longer holds them, so
  a click does nothing. :data:`STOPPED_STYLE`, which every form's status area carries,
  hides such a form's insides and shows :data:`STOPPED` in their place. It is CSS only:
  the ``<style>`` element stays on the page with the dead views and needs no kernel.
- **The page is reloaded**, or the notebook is opened again later. JupyterLab shows what
  the file holds; a widget's saved output is only a reference to a model in the kernel
  that drew it, so it comes back as "Error displaying widget: model not found", or as an
  empty cell when the outputs were never saved. ``rapportkit lab`` therefore saves
  notebooks through :func:`pre_save_hook`, which writes :func:`placeholder` (the sentence
  :data:`NOT_RUNNING`) where a widget was, and the workbooks ship with the same
  placeholder as the stored output of each form's cell.

Nothing typed is lost either way: the forms keep what is typed as a draft in the database
(:class:`rapportkit.ui.common.DraftKeeper`), and choosing the same session again after
running the notebook brings it back.

A leaf module (the standard library only), so the Jupyter server can import the hook
without ipywidgets.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["NOT_RUNNING", "STOPPED", "STOPPED_STYLE", "WIDGET_VIEW", "placeholder", "pre_save_hook"]

#: Shown in place of a form whose kernel restarted or stopped.
STOPPED = ("This form stopped when the notebook's kernel restarted. Run the notebook again "
           "(Run ▸ Run All Cells) to continue — what you typed is kept as a draft.")

#: Stored where a form (or any widget) was: what a notebook shows until it runs.
NOT_RUNNING = ("This part of the workbook is not running. Run the notebook (Run ▸ Run All Cells) "
               "to show it — anything you typed into a form is kept as a draft.")

#: The MIME type of a widget's output in a notebook file.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Where ipywidgets would save every widget's state (typed text included) in a notebook.
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

_BOX = ("border-left:5px solid #b26a00; background:#fff6e5; color:#1f1f1f; "
        "padding:8px 12px; margin:6px 0; font-size:1.05em; line-height:1.4")


def _css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string (non-ASCII as escapes, safe in any page)."""
    out = []
    for ch in text:
        if ch in '"\\' or ord(ch) > 126 or ord(ch) < 32:
            out.append(f"\\{ord(ch):X} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


#: The forms' rule for a dead form: its children hidden (no button left to click), the
#: sentence :data:`STOPPED` shown instead of ipywidgets' broken-link icon.
STOPPED_STYLE = (
    "<style>"
    ".rk-form.jupyter-widgets-disconnected > * { display: none !important; }"
    ".rk-form.jupyter-widgets-disconnected::before {"
    f" content: {_css_string(STOPPED)}; display: block; {_BOX};"
    " font: inherit; font-family: var(--jp-ui-font-family, sans-serif); white-space: normal; }"
    "</style>"
)


def placeholder() -> dict[str, Any]:
    """The notebook output (nbformat 4) that stands where a form was: :data:`NOT_RUNNING`."""
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "text/html": f'<div class="rk-not-running" style="{_BOX}">{html.escape(NOT_RUNNING)}</div>',
            "text/plain": NOT_RUNNING,
        },
    }


def pre_save_hook(model: dict[str, Any], **_kwargs: Any) -> None:
    """Jupyter's ``ContentsManager.pre_save_hook``: in a notebook being saved, put
    :func:`placeholder` where each cell's widget outputs were (one per cell), and drop any
    saved widget state (typed notes belong in the database, not in notebook files).

    ``rapportkit lab`` passes ``--FileContentsManager.pre_save_hook=`` this function.
    """
    content = model.get("content")
    if model.get("type") != "notebook" or not isinstance(content, dict):
        return
    metadata = content.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("widgets"), dict):
        metadata["widgets"].pop(_WIDGET_STATE, None)
        if not metadata["widgets"]:
            del metadata["widgets"]
    for cell in content.get("cells") or []:
        outputs = cell.get("outputs") if isinstance(cell, dict) else None
        if not outputs:
            continue
        kept: list[Any] = []
        for output in outputs:
            if isinstance(output, dict) and WIDGET_VIEW in (output.get("data") or {}):
                if not any(_is_placeholder(o) for o in kept):
                    kept.append(placeholder())
            else:
                kept.append(output)
        cell["outputs"] = kept


def _is_placeholder(output: Any) -> bool:
    return isinstance(output, dict) and (output.get("data") or {}).get("text/plain") == NOT_RUNNING
