"""Helpers for the form tests: drive ipywidgets forms the way a person (or a hostile
Voilà viewer) would, by setting widget values and clicking buttons."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping

from rapportkit.store import Store

#: The forms' "today" in tests: after the demo team's last review (2026-10-31).
TODAY = dt.date(2026, 11, 22)
PRACTICES = ("safe_environment", "active_listening", "empathy", "non_judgment", "authenticity",
             "collaborative_goals", "individuality_culture", "consistency", "boundaries")


def rate(panel, default: str | None = "3", scores: Mapping[str, str | None] | None = None,
         notes: Mapping[str, str] | None = None) -> None:
    """Choose a score on every practice of ``panel`` (widget values: "1".."4" or "n/o")."""
    scores = scores or {}
    for p, row in panel.rows.items():
        row.score.value = scores.get(p, default)
    for p, text in (notes or {}).items():
        panel.rows[p].note.value = text


def record_session(form, specialist: str = "sp-01", code: str = "", minutes: int = 50):
    """Record a new session through the form's picker and return it (opened in the form)."""
    form.picker.select(specialist)
    form.picker.new_toggle.value = True
    form.picker.new_date.value = TODAY - dt.timedelta(days=3)
    form.picker.new_modality.value = "video"
    form.picker.new_duration.value = minutes
    form.picker.new_source.value = "recording"
    form.picker.new_code.value = code
    form.picker.record.click()
    assert form.session is not None, form.status.message
    return form.session


def audit_count(store: Store, entity: str = "review") -> int:
    return len(store.audit_log(entity))


def raw_draft(path, key: str):
    """The draft row as stored, read through a separate connection."""
    assert path is not None
    if str(path).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(path), autocommit=True) as pconn:
            row = pconn.execute("SELECT payload FROM drafts WHERE key = %s", (key,)).fetchone()
            return row[0] if row else None
    conn = sqlite3.connect(str(path))
    try:
        row = conn.execute("SELECT payload FROM drafts WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def fill_goal(form, n: int, practice: str, text: str, actions: str, follow_up: dt.date) -> None:
    if form.goals.shown < n:
        form.goals.add.click()
    slot = form.goals.slots[n - 1]
    slot.practice.value, slot.text.value, slot.actions.value, slot.follow_up.value = practice, text, actions, follow_up
