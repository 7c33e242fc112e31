"""What every form shares: HTML escaping, the status area, drafts, guarded actions, privacy.

Widget values are untrusted (a Voilà viewer can set any of them and click any button,
even a disabled one), so a form's buttons run through :meth:`FormBase.run`: the model
and the store validate, and every refusal becomes a sentence in the status area
instead of a traceback that Voilà would hide.
"""

from __future__ import annotations

import html
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets as W
from traitlets import Unicode

from ..errors import ConflictError, RapportkitError, ReadOnlyError, ValidationError
from ..model import Review
from ..privacy import Finding
from ..screen import identifier_findings, text_findings
from .not_running import STOPPED_STYLE

__all__ = ["esc", "css", "StatusArea", "DraftKeeper", "FormBase", "PrivacyBlocked", "READ_ONLY", "heading",
           "form_title", "labelled", "PlotImage", "StepChooser", "connected_id", "show_own_sign_buttons"]

READ_ONLY = "This database is open read-only: you can look, but nothing can be saved here."

_COLOURS = {  # kind -> (border, background)
    "info": ("#3b6ea5", "#eef4fb"),
    "ok": ("#2e7d32", "#edf7ee"),
    "warning": ("#b26a00", "#fff6e5"),
    "error": ("#b3261e", "#fdecea"),
}
#: A symbol beside each kind of message but plain information, so the colour is never the
#: only sign of success, a warning or an error (screen readers hear the message itself,
#: and an error as an alert).
SYMBOLS = {"ok": "✓", "warning": "⚠", "error": "✖"}


def esc(value: Any) -> str:
    """``value`` as text that is safe inside HTML (None becomes "")."""
    return html.escape("" if value is None else str(value), quote=True)


def css(widget: W.Widget, *classes: str) -> W.Widget:
    """Add stable CSS classes (for browser tests and styling) and return the widget."""
    for name in classes:
        widget.add_class(name)
    return widget


class PlotImage(W.Image):
    """A PNG plot whose ``tooltip`` is its text alternative (the ``<img>``'s ``title``,
    which screen readers announce).

    ipywidgets' front end sets an element's ``title`` from ``tooltip`` only when the
    model's ``description`` is empty, and reads that ``description`` without checking it
    exists: an ``Image`` has none, so a tooltip alone breaks its view ("Could not create
    a view for model id …"). This image has an empty one.
    """

    description = Unicode("").tag(sync=True)


class PrivacyBlocked(RapportkitError):
    """A save stopped because free text may identify someone (the status area lists it)."""


class StatusArea:
    """The one place a form tells the user what happened.

    ``kind`` ("", "info", "ok", "warning" or "error") and ``message`` (plain text) hold
    the last message for tests; the HTML shown is always escaped.
    """

    def __init__(self) -> None:
        self.html = css(W.HTML(), "rk-status")
        self.confirm = css(
            W.Checkbox(value=False, indent=False,
                       description="This is not about a client: save it anyway (this save only)",
                       layout=W.Layout(display="none", width="auto")),
            "rk-privacy-confirm",
        )
        # the rule that replaces a form whose kernel restarted by a sentence (not_running);
        # a <style> applies from inside a hidden element, and every form has a status area
        stopped = css(W.HTML(STOPPED_STYLE, layout=W.Layout(display="none")), "rk-stopped-style")
        self.widget = css(W.VBox([self.html, self.confirm, stopped]), "rk-status-area")
        self.kind = ""
        self.message = ""
        self.details: list[str] = []

    def show(self, kind: str, message: str, details: Iterable[str] = ()) -> None:
        self.kind, self.message, self.details = kind, str(message), [str(d) for d in details]
        border, background = _COLOURS.get(kind, _COLOURS["info"])
        items = "".join(f"<li>{esc(d)}</li>" for d in self.details)
        role = "alert" if kind == "error" else "status"
        symbol = (f"<span class='rk-status-symbol' aria-hidden='true' style='font-weight:bold;margin-right:6px'>"
                  f"{SYMBOLS[kind]}</span>") if kind in SYMBOLS else ""
        self.html.value = (
            f'<div role="{role}" class="rk-status-{esc(kind)}" style="border-left:5px solid {border};'
            f'background:{background};padding:8px 12px;margin:6px 0;font-size:1.05em">'
            f"{symbol}{esc(self.message)}{f'<ul style=margin:4px 0>{items}</ul>' if items else ''}</div>"
        )

    def info(self, message: str) -> None:
        self.show("info", message)

    def ok(self, message: str) -> None:
        self.show("ok", message)

    def error(self, message: str, details: Iterable[str] = ()) -> None:
        self.show("error", message, details)

    def ask_privacy(self, found: list[tuple[str, Finding]]) -> None:
        """List possible identifiers and offer the "not about a client" confirmation."""
        self.show(
            "warning",
            "Nothing was saved: these notes may identify someone. Edit them, or tick the box "
            "below if they are not about a client, and save again.",
            [f"{where}: {f.kind} “{f.text}” ({f.message})" for where, f in found],
        )
        self.confirm.value = False
        self.confirm.layout.display = "flex"

    @property
    def privacy_confirmed(self) -> bool:
        return self.confirm.value is True and self.confirm.layout.display != "none"

    def reset_privacy(self) -> None:
        self.confirm.value = False
        self.confirm.layout.display = "none"


class DraftKeeper:
    """Keeps what has been typed under one key, writing only when it changed."""

    def __init__(self, store, key: str, status: StatusArea) -> None:
        self.store, self.key, self.status = store, key, status
        self._last: str | None = None
        self._clean: str | None = None

    @staticmethod
    def _typed(payload: dict[str, Any]) -> str:
        # which step a form shows is not something typed
        return json.dumps({k: v for k, v in payload.items() if k != "step"}, sort_keys=True, default=str)

    def mark_clean(self, payload: dict[str, Any]) -> None:
        """Remember the form as opened: until something differs from it, there is no draft to keep."""
        self._clean = self._typed(payload)

    def load(self) -> dict[str, Any] | None:
        payload = self.store.load_draft(self.key)
        self._last = json.dumps(payload, sort_keys=True, default=str) if payload else None
        return payload if isinstance(payload, dict) else None

    def save(self, payload: dict[str, Any]) -> None:
        if self.store.readonly:
            return
        text = json.dumps(payload, sort_keys=True, default=str)
        if text == self._last or (self._last is None and self._typed(payload) == self._clean):
            return
        try:
            self.store.save_draft(self.key, payload)
        except ValidationError as exc:
            self.status.error(f"What you just typed could not be kept as a draft: {exc}")
            return
        except sqlite3.Error as exc:
            self.status.error(f"The draft could not be written ({exc}); keep this page open and try again.")
            return
        self._last = text

    def clear(self) -> None:
        if not self.store.readonly:
            self.store.delete_draft(self.key)
        self._last = None


class FormBase:
    """Buttons that cannot double-fire, a status area, a privacy gate and a read-only notice."""

    def __init__(self, store) -> None:
        self.store = store
        self.rubric = store.rubric
        self.status = StatusArea()
        self.busy = False
        self._buttons: list[W.Button] = []
        if store.readonly:
            self.status.show("warning", READ_ONLY)

    def button(self, label: str, cls: str, action: Callable[[], None], style: str = "primary") -> W.Button:
        b = css(W.Button(description=label, button_style=style, layout=W.Layout(width="auto")), "rk-button", cls)
        b.on_click(lambda _b: self.run(action))
        self._buttons.append(b)
        return b

    def run(self, action: Callable[[], None]) -> None:
        """Run a button's action once at a time; every refusal goes to the status area."""
        if self.busy:  # a second click while the first is still saving
            return
        self.busy = True
        enabled = [b for b in self._buttons if not b.disabled]
        for b in enabled:
            b.disabled = True
        try:
            action()
        except PrivacyBlocked:
            pass  # the status area already lists what was found
        except ReadOnlyError:
            self.status.error(READ_ONLY)
        except ConflictError as exc:
            self.on_conflict(exc)
        except RapportkitError as exc:
            self.status.error(f"Not saved: {str(exc).rstrip('.')}. Everything you typed is still here.")
        except sqlite3.Error as exc:
            self.status.error(f"The database refused the change ({exc}); nothing was saved. "
                              "Everything you typed is still here: try again in a moment.")
        except Exception as exc:
            self.status.error(f"Something unexpected went wrong ({type(exc).__name__}: {exc}). "
                              "Nothing more was saved; everything you typed is still here.")
            raise
        finally:
            for b in enabled:
                b.disabled = False
            self.busy = False
            self.sync()

    def tell(self, message: str, details: Iterable[str] = (), kind: str = "info") -> None:
        """An informational message; on a read-only database the read-only notice stays first."""
        if self.store.readonly:
            self.status.show("warning", READ_ONLY, [message, *details])
        else:
            self.status.show(kind, message, details)

    def sync(self) -> None:
        """Bring buttons and sections in line with the record's state (forms override)."""

    def privacy_gate(self, candidate: Review | None = None, before: Review | None = None, *,
                     texts: Mapping[str, str] | None = None, own: Iterable[str] = ()) -> bool:
        """Raise PrivacyBlocked (after listing the findings) unless the new or changed
        free text of ``candidate`` (or ``texts``, said by the people with ids ``own``)
        looks clean or the user ticked the confirmation for this save. Returns whether
        the save must allow identifiers (the store screens again and audits it)."""
        people = self.store.people()
        if candidate is not None:
            found = identifier_findings(candidate, before, people, self.rubric)
        else:
            found = text_findings(texts or {}, people, own)
        if found and not self.status.privacy_confirmed:
            self.status.ask_privacy(found)
            raise PrivacyBlocked("possible identifiers in the notes")
        return bool(found)

    def on_conflict(self, exc: ConflictError) -> None:
        """Someone saved the record since this form opened it (forms offer a reload)."""
        self.status.error(f"Not saved: {str(exc).rstrip('.')}. Everything you typed is still here.")

    def saved(self, message: str) -> None:
        """After a successful save: the confirmation was for that save only."""
        self.status.reset_privacy()
        self.status.ok(message)


def connected_id(store) -> str | None:
    """The id of the person connected to a team database (each signs only as themselves);
    None on one computer, for the installer, or for a login that is nobody on the roster."""
    found = store.me() if store.team and not store.installer else None
    return found.id if found else None


def show_own_sign_buttons(me: str | None, review: Review | None, specialist: W.Button, supervisor: W.Button) -> None:
    """On a team database show only the connected person's own Sign button (``me`` from
    :func:`connected_id`); the database refuses the other's, should anyone press it."""
    if me is not None and review is not None:
        specialist.layout.display = None if me == review.specialist_id else "none"
        supervisor.layout.display = None if me == review.supervisor_id else "none"


def heading(text: str, level: int = 3, cls: str = "rk-heading") -> W.HTML:
    return css(W.HTML(f"<h{level} style='margin:6px 0'>{esc(text)}</h{level}>"), cls)


#: What every form changes in ipywidgets' looks, for contrast (WCAG AA, 4.5:1): the
#: titles of closed accordion steps are grey on grey (``--jp-ui-font-color2`` on
#: ``--jp-layout-color2``, 4.45:1) and take the body text colour instead; white text on
#: the green of "success" buttons (4.11:1) and the orange of "warning" ones (2.8:1) gets
#: darker shades of both.
FORM_STYLE = ("<style>.rk-form .jupyter-widget-Collapse-header { color: var(--jp-ui-font-color1); }"
              ".rk-form .jupyter-button.mod-success { background-color: #2e7d32; }"
              ".rk-form .jupyter-button.mod-success:hover:enabled { background-color: #1b5e20; }"
              ".rk-form .jupyter-button.mod-warning { background-color: #b45309; }"
              ".rk-form .jupyter-button.mod-warning:hover:enabled { background-color: #8a3f06; }</style>")


class StepChooser:
    """A keyboard's way to open any step of a form's accordion: "Go to step", a dropdown.

    ipywidgets' accordion opens a step only when its title is clicked, and its titles
    take no focus, so without a mouse an earlier step could never be opened again. The
    dropdown is reached with Tab and changed with the arrow keys; it and the accordion
    follow each other (titles and the open step). Display ``.widget``.
    """

    def __init__(self, steps: W.Accordion) -> None:
        self.steps = steps
        self._syncing = False
        self.widget = css(W.Dropdown(description="Go to step", options=self._options(), value=steps.selected_index,
                                     layout=W.Layout(width="26em")), "rk-step-chooser")
        steps.observe(self._follow_steps, names=["selected_index", "titles"])
        self.widget.observe(self._open_step, names="value")

    def _options(self) -> list[tuple[str, int]]:
        return [(title or f"Step {i + 1}", i) for i, title in enumerate(self.steps.titles)]

    def _follow_steps(self, _change: Any = None) -> None:
        self._syncing = True
        try:
            options = self._options()
            if list(self.widget.options) != options:
                self.widget.options = options
            self.widget.value = self.steps.selected_index
        finally:
            self._syncing = False

    def _open_step(self, change: dict) -> None:
        if not self._syncing and change["new"] is not None:
            self.steps.selected_index = change["new"]


#: Hides text from the eye but not from screen readers (the usual "visually hidden" rules).
_UNSEEN = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap"


def labelled(shown: str, unseen: str = "") -> dict[str, Any]:
    """Keyword arguments giving an input a visible label, ``shown``, that screen readers
    announce followed by ``unseen`` (context the eye gets from the layout, such as which
    practice a note belongs to). Both are plain text."""
    if not unseen:
        return {"description": shown, "style": {"description_width": "initial"}}
    return {"description": f"{esc(shown)}<span style='{_UNSEEN}'> {esc(unseen)}</span>",
            "description_allow_html": True, "style": {"description_width": "initial"}}


def form_title(text: str) -> W.HTML:
    """A form's title (a level-2 heading) with the forms' style sheet (:data:`FORM_STYLE`)."""
    return css(W.HTML(f"{FORM_STYLE}<h2 style='margin:6px 0'>{esc(text)}</h2>"), "rk-heading", "rk-form-title")
