"""The supervision log for certification: one specialist's supervision meetings, each
with its date, length, kind (individual or group), supervisor and whether it is signed,
and the total hours, as a PDF or a CSV.

Many peer-specialist certifications ask for documented supervision hours. A meeting's
length and kind are recorded in its review (``Review.meeting_minutes`` and
``meeting_kind``) and signed with it. The log lists every review of the specialist once,
as of its latest signed revision (or, if it was never signed, its latest revision), and
gives two totals, each saying what it counts:

- the hours of **signed** meetings: the figure to put forward for a certification;
- the hours of **all** meetings, signed or not.

A meeting whose length was not recorded (records made before lengths were asked for) is
listed as "not recorded" and left out of both totals; the log says how many there are.

- :func:`supervision_log` — the rows and totals, as a :class:`SupervisionLog`;
- :func:`write_log` — writes it to ``.pdf`` or ``.csv`` (owner-only, whole or not at all).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
from pathlib import Path

from .errors import ValidationError
from .files import atomic_write
from .model import MeetingKind, Review, ReviewStatus
from .report import _period, _specialist, _who
from .report_layout import GREY, SMALL, Document
from .store import Store
from .transfer import neutralise

__all__ = ["LOG_CSV_COLUMNS", "NOT_RECORDED", "LogRow", "SupervisionLog", "supervision_log", "write_log"]

#: What the log says where a meeting's length or kind was not recorded.
NOT_RECORDED = "not recorded"

LOG_CSV_COLUMNS = ("date", "length_min", "hours", "kind", "supervisor_id", "supervisor", "signed", "status",
                   "review_id", "revision")

_SUFFIXES = (".pdf", ".csv")


@dataclasses.dataclass(frozen=True)
class LogRow:
    """One supervision meeting in the log."""

    date: dt.date
    minutes: int | None
    kind: MeetingKind | None
    supervisor_id: str
    supervisor_name: str
    signed: bool
    #: in words: "signed", "signed; revision 2 is being amended", "not signed (agreed)", …
    status: str
    review_id: str
    revision: int

    @property
    def length(self) -> str:
        """``"60 min"``, or "not recorded"."""
        return NOT_RECORDED if self.minutes is None else f"{self.minutes} min"

    @property
    def kind_text(self) -> str:
        return NOT_RECORDED if self.kind is None else self.kind.value


@dataclasses.dataclass(frozen=True)
class SupervisionLog:
    """A specialist's supervision meetings from ``since`` to ``until`` (None: open), oldest first."""

    specialist_id: str
    specialist_name: str
    since: dt.date | None
    until: dt.date | None
    rows: tuple[LogRow, ...]

    def minutes(self, *, signed_only: bool, kind: MeetingKind | None = None) -> int:
        """Recorded minutes of the signed meetings (or of all), of one kind or every kind."""
        return sum(r.minutes for r in self.rows if r.minutes is not None and (r.signed or not signed_only)
                   and (kind is None or r.kind is kind))

    @property
    def signed_hours(self) -> float:
        """Hours of signed meetings with a recorded length: the certification figure."""
        return self.minutes(signed_only=True) / 60

    @property
    def all_hours(self) -> float:
        """Hours of every meeting with a recorded length, signed or not."""
        return self.minutes(signed_only=False) / 60

    @property
    def not_recorded(self) -> int:
        """How many meetings have no recorded length (left out of both totals)."""
        return sum(r.minutes is None for r in self.rows)

    @property
    def period(self) -> str:
        return f"{self.since or 'the first meeting'} to {self.until or 'the latest meeting'}"

    def totals(self) -> list[tuple[str, str]]:
        """The totals as (label, value) lines, each saying what it counts."""
        signed = [r for r in self.rows if r.signed]
        counted = sum(r.minutes is not None for r in signed)
        meetings = f"{counted} signed meeting{'s' * (counted != 1)} with a recorded length"
        out = [("Total hours, signed meetings", f"{_hours(self.minutes(signed_only=True))} ({meetings})")]
        for kind in MeetingKind:
            out.append((f"  of which {kind.value}", _hours(self.minutes(signed_only=True, kind=kind))))
        unsigned = len(self.rows) - len(signed)
        out.append(("Total hours, all meetings",
                    f"{_hours(self.minutes(signed_only=False))} (signed or not; {unsigned} not signed yet)"))
        out.append(("Length not recorded",
                    f"{self.not_recorded} meeting{'s' * (self.not_recorded != 1)}: listed, but not counted in "
                    "either total" if self.not_recorded else "none: every meeting listed has its length"))
        return out


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f} hours"


def _row(review: Review, names: dict[str, str], latest: Review) -> LogRow:
    signed = review.status is ReviewStatus.SIGNED
    if not signed:
        status = f"not signed ({review.status.value})"
    elif latest.revision > review.revision:
        status = f"signed; revision {latest.revision} is being amended"
    else:
        status = "signed"
    return LogRow(review.review_date, review.meeting_minutes, review.meeting_kind, review.supervisor_id,
                  names.get(review.supervisor_id, review.supervisor_id), signed, status, review.id, review.revision)


def supervision_log(store: Store, specialist_id: str, *, since: dt.date | str | None = None,
                    until: dt.date | str | None = None) -> SupervisionLog:
    """The supervision meetings of ``specialist_id`` dated ``since``–``until`` (inclusive).

    Each review is one meeting, as of its latest signed revision; a review never signed
    is listed as of its latest revision, marked not signed.

    Raises
    ------
    ValidationError
        No such specialist, a date that is not a date, or ``since`` after ``until``.
    """
    person = _specialist(store, specialist_id)
    since, until = _period(since, until)
    names = {p.id: p.display_name for p in store.people()}
    rows = []
    for latest in store.reviews(person.id):
        shown = latest
        if latest.status is not ReviewStatus.SIGNED and latest.revision > 1:
            signed = [r for r in store.history(latest.id) if r.status is ReviewStatus.SIGNED]
            shown = signed[-1] if signed else latest
        if (since and shown.review_date < since) or (until and shown.review_date > until):
            continue
        rows.append(_row(shown, names, latest))
    rows.sort(key=lambda r: (r.date, r.review_id))
    return SupervisionLog(person.id, person.display_name, since, until, tuple(rows))


# --------------------------------------------------------------------------- writing


def _out_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    if out.suffix.lower() not in _SUFFIXES:
        raise ValidationError(f"the supervision log is written to a .pdf or a .csv file; --out must end in one "
                              f"of them (got {str(out)!r})")
    if out.is_dir():
        raise ValidationError(f"{out} is a folder; give a file name ending in .pdf or .csv")
    return out


def write_log(log: SupervisionLog, out: str | os.PathLike) -> Path:
    """Write ``log`` to ``out``: a PDF or a CSV, by its suffix; returns the path."""
    out = _out_path(out)
    return (_write_pdf if out.suffix.lower() == ".pdf" else _write_csv)(log, out)


def _write_csv(log: SupervisionLog, out: Path) -> Path:
    """One line per meeting (:data:`LOG_CSV_COLUMNS`), then the totals: their label in
    ``date``, minutes and hours in ``length_min`` and ``hours``, what they count in
    ``status``. Cells are guarded against spreadsheet formulas."""
    with atomic_write(out) as fh:  # whole or nothing, owner-only
        writer = csv.writer(fh)
        writer.writerow(LOG_CSV_COLUMNS)
        for r in log.rows:
            writer.writerow([neutralise(v) for v in (
                r.date.isoformat(), NOT_RECORDED if r.minutes is None else r.minutes,
                "" if r.minutes is None else f"{r.minutes / 60:.2f}", r.kind_text, r.supervisor_id,
                r.supervisor_name, "yes" if r.signed else "no", r.status, r.review_id, r.revision)])
        signed_n = sum(r.signed and r.minutes is not None for r in log.rows)
        all_n = sum(r.minutes is not None for r in log.rows)
        for label, minutes, what in (
            ("total, signed meetings", log.minutes(signed_only=True),
             f"{signed_n} signed meetings with a recorded length"),
            *((f"total, signed {k.value} meetings", log.minutes(signed_only=True, kind=k),
               f"signed {k.value} meetings with a recorded length") for k in MeetingKind),
            ("total, all meetings", log.minutes(signed_only=False),
             f"{all_n} meetings with a recorded length, signed or not"),
        ):
            writer.writerow([label, minutes, f"{minutes / 60:.2f}", "", "", "", "", what, "", ""])
        writer.writerow(["length not recorded", "", "", "", "", "", "",
                         f"{log.not_recorded} meetings listed without a length; not counted in the totals", "", ""])
    return out


def _write_pdf(log: SupervisionLog, out: Path) -> Path:
    doc = Document(f"Supervision log · specialist {log.specialist_id}")
    doc.title("Supervision log")
    signed = sum(r.signed for r in log.rows)
    doc.pairs([("Specialist", f"{log.specialist_name} ({log.specialist_id})"), ("Period", log.period),
               ("Meetings", f"{len(log.rows)} ({signed} signed, {len(log.rows) - signed} not signed yet)"),
               *log.totals()], key_w=2.3)
    doc.para("Each meeting's length and kind are as recorded in its review and signed with it; a review "
             "corrected after signing is listed as its last signed revision. Use the signed total for a "
             "certification: a meeting not signed yet may still change.", size=SMALL, color=GREY)
    doc.heading("Meetings")
    if log.rows:
        doc.table(["Date", "Length", "Kind", "Supervisor", "Signed", "Review"],
                  [[f"{r.date:%Y-%m-%d}", r.length, r.kind_text, _who({r.supervisor_id: r.supervisor_name},
                                                                      r.supervisor_id),
                    r.status, f"{r.review_id} (rev. {r.revision})"] for r in log.rows],
                  [0.12, 0.11, 0.11, 0.27, 0.2, 0.19], most=3)
    else:
        doc.para("There are no supervision meetings in this period.")
    return doc.save(out, f"Supervision log {log.specialist_id}, {log.since or 'start'} to {log.until or 'latest'}")
