"""My supervision log: each supervision meeting with its length, and the hours to report.

Many peer-specialist certifications ask for documented supervision hours. This view lists
a specialist's supervision meetings (date, length, kind, supervisor, signed or not) with
the totals of :mod:`rapportkit.supervision_log`, and saves the same log as a PDF or a CSV
beside the notebook (``rapportkit report --log`` writes the same files).

On a team database a specialist sees their own log only (the database shows them no one
else's reviews); a supervisor picks one of their specialists.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ipywidgets as W

from ..errors import ValidationError
from ..model import PersonRole
from ..supervision_log import SupervisionLog, supervision_log, write_log
from .common import FormBase, css, form_title
from .workbook import Table

__all__ = ["SupervisionLogView"]


def log_html(log: SupervisionLog) -> str:
    """The log as two readable tables (escaped): the meetings, then the totals."""
    rows = [[f"{r.date:%d %b %Y}", r.length, r.kind_text, r.supervisor_name, ("✓ " if r.signed else "") + r.status]
            for r in log.rows]
    if not rows:
        rows = [[f"No supervision meetings from {log.period}.", "", "", "", ""]]
    meetings = Table(["Date", "Length", "Kind", "Supervisor", "Signed"], rows, [False, True, False, False, False],
                     caption=f"Supervision meetings of {log.specialist_name}, {log.period}")
    totals = Table(["Total", "Hours"], [[label.strip(), value] for label, value in log.totals()], [False, False])
    return ("<style>.rk-log table { border-collapse: collapse; margin: 4px 0 10px 0; }"
            ".rk-log th, .rk-log td { padding: 3px 10px; border-bottom: 1px solid #ddd; }</style>"
            + meetings._repr_html_() + totals._repr_html_())


class SupervisionLogView(FormBase):
    """A specialist's supervision log with its total hours; display ``view.widget``.

    Parameters
    ----------
    store
        The :class:`~rapportkit.store.Store`. On a team database a specialist is shown
        their own log.
    specialist
        The specialist to show first (default: the connected specialist, else the first
        by name).
    folder
        Where *Save as PDF* and *Save as CSV* write (default: the current folder, which in
        a notebook is the notebook's own).
    """

    def __init__(self, store, *, specialist: str | None = None, folder: str | Path = ".") -> None:
        super().__init__(store)
        self.folder = Path(folder)
        me = store.me() if store.team else None
        people = ([me] if me is not None and me.role is PersonRole.SPECIALIST
                  else sorted(store.people(PersonRole.SPECIALIST), key=lambda p: (p.display_name, p.id)))
        self.log: SupervisionLog | None = None
        self.specialist = css(W.Dropdown(options=[(f"{p.display_name} ({p.id})", p.id) for p in people],
                                         description="Specialist", layout=W.Layout(width="24em")),
                              "rk-log-specialist")
        if specialist in [p.id for p in people]:
            self.specialist.value = specialist
        self.since = css(W.DatePicker(description="From", value=None), "rk-log-since")
        self.until = css(W.DatePicker(description="To", value=None), "rk-log-until")
        self.table = css(W.HTML(), "rk-log")
        self.save_pdf = self.button("Save as PDF", "rk-log-pdf", lambda: self._save(".pdf"), "")
        self.save_csv = self.button("Save as CSV", "rk-log-csv", lambda: self._save(".csv"), "")
        self.widget = css(W.VBox([form_title("My supervision log"), self.specialist,
                                  W.HBox([self.since, self.until]), self.table,
                                  W.HBox([self.save_pdf, self.save_csv]), self.status.widget]),
                          "rk-form", "rk-supervision-log")
        for control in (self.specialist, self.since, self.until):
            control.observe(lambda _c: self.run(self.show), "value")
        self.run(self.show)

    def show(self) -> None:
        """Read the log for the chosen specialist and dates and show it."""
        if self.specialist.value is None:
            self.log, self.table.value = None, "<p>There are no specialists to show a log for.</p>"
            return
        try:
            self.log = supervision_log(self.store, self.specialist.value, since=self.since.value,
                                       until=self.until.value)
        except ValidationError as exc:  # e.g. the dates the wrong way round
            self.log, self.table.value = None, ""
            self.status.show("warning", f"{str(exc).rstrip('.')}. Change the dates to see the log.")
            return
        self.table.value = log_html(self.log)
        self.status.html.value, self.status.kind, self.status.message = "", "", ""

    def _save(self, suffix: str) -> None:
        if self.log is None:
            self.show()
        if self.log is None:
            return
        stamp = dt.date.today().isoformat()
        path = write_log(self.log, self.folder / f"supervision-log-{self.log.specialist_id}-{stamp}{suffix}")
        self.status.ok(f"Saved {path.name} beside this notebook (readable by you only).")

    def sync(self) -> None:
        for b in (self.save_pdf, self.save_csv):
            b.disabled = self.log is None
