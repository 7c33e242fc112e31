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

from ..errors import ConflictError, RapportkitError, ReadOnlyError, ValidationError
from ..model import Review
from ..privacy import Finding
from ..screen import identifier_findings, text_findings

__all__ = ["esc", "css", "StatusArea", "DraftKeeper", "FormBase", "PrivacyBlocked", "READ_ONLY", "heading"]

READ_ONLY = "This database is open read-only: you can look, but nothing can be saved here."

_COLOURS = {  # kind -> (border, background)
    "info": ("#3b6ea5", "#eef4fb"),
    "ok": ("#2e7d32", "#edf7ee"),
    "warning": ("#b26a00", "#fff6e5"),
    "error": ("#b3261e", "#fdecea"),
}


def esc(value: Any) -> str:
    """``value`` as text that is safe inside HTML (None becomes "")."""
    return html.escape("" if value is None else str(value), quote=True)


def css(widget: W.Widget, *classes: str) -> W.Widget:
    """Add stable CSS classes (for browser tests and styling) and return the widget."""
    for name in classes:
        widget.add_class(name)
    return widget


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
        self.widget = css(W.VBox([self.html, self.confirm]), "rk-status-area")
        self.kind = ""
        self.message = ""
        self.details: list[str] = []

    def show(self, kind: str, message: str, details: Iterable[str] = ()) -> None:
        self.kind, self.message, self.details = kind, str(message), [str(d) for d in details]
        border, background = _COLOURS.get(kind, _COLOURS["info"])
        items = "".join(f"<li>{esc(d)}</li>" for d in self.details)
        role = "alert" if kind == "error" else "status"
        self.html.value = (
            f'<div role="{role}" class="rk-status-{esc(kind)}" style="border-left:5px solid {border};'
            f'background:{background};padding:8px 12px;margin:6px 0;font-size:1.05em">'
            f"{esc(self.message)}{f'<ul style=margin:4px 0>{items}</ul>' if items else ''}</div>"
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


def heading(text: str, level: int = 3, cls: str = "rk-heading") -> W.HTML:
    return css(W.HTML(f"<h{level} style='margin:6px 0'>{esc(text)}</h{level}>"), cls)
