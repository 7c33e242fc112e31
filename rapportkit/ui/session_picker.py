"""Choose the specialist and the session under review, or record a new session.

A session carries no client identifiers: a date, the modality, the duration, how it was
reviewed (observed, recording, the specialist's account, role play) and at most an
opaque code such as ``S-0142`` that the specialist can find in their own records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..errors import ValidationError
from ..model import Modality, PersonRole, Review, ReviewStatus, Session, Source, new_id
from .common import FormBase, css, esc

__all__ = ["SessionPicker", "session_label", "MODALITIES", "SOURCES"]

MODALITIES = {Modality.IN_PERSON: "In person", Modality.PHONE: "Phone", Modality.VIDEO: "Video",
              Modality.TEXT: "Text messages"}
SOURCES = {Source.OBSERVED: "Observed live", Source.RECORDING: "From a recording",
           Source.SELF_REPORT: "From the specialist's account", Source.ROLE_PLAY: "Role play"}
_STATUS = {None: "no review yet", ReviewStatus.DRAFT: "blind ratings started",
           ReviewStatus.REVEALED: "meeting in progress", ReviewStatus.AGREED: "meeting in progress",
           ReviewStatus.SIGNED: "signed", ReviewStatus.AMENDED: "being amended"}
_WIDE = {"description_width": "9em"}


def session_label(session: Session, status: ReviewStatus | None = None) -> str:
    """A one-line plain-text description of a session and its review's state."""
    parts = [session.date.strftime("%d %b %Y"), MODALITIES[session.modality], f"{session.duration_min} min",
             SOURCES[session.source]]
    if session.code:
        parts.append(session.code)
    text = " · ".join(parts)
    return f"{text} — {_STATUS[status]}"


class SessionPicker:
    """The specialist and session selectors, and a small form to record a new session.

    Parameters
    ----------
    form
        The form that owns the picker (its buttons, status area and privacy gate are used).
    on_pick
        Called with the chosen :class:`Session` and the chosen supervisor id (or None).
    choose_supervisor
        Show a supervisor selector (the meeting form), defaulting to the specialist's own.
    today
        The default date of a new session.
    needs
        Whether a session still needs this form, given its review (None: no review yet);
        those sessions are listed first, newest first, and the first is preselected
        (default: not signed yet).
    """

    def __init__(self, form: FormBase, on_pick: Callable[[Session, str | None], None], *,
                 choose_supervisor: bool = False, today: dt.date | None = None,
                 needs: Callable[[Review | None], bool] | None = None) -> None:
        self.form, self.store, self.on_pick = form, form.store, on_pick
        self.needs = needs or (lambda review: review is None or review.status is not ReviewStatus.SIGNED)
        people = self.store.people()
        self._people = {p.id: p for p in people}
        specialists = [(p.display_name, p.id) for p in people if p.role is PersonRole.SPECIALIST]
        supervisors = [(p.display_name, p.id) for p in people if p.role is PersonRole.SUPERVISOR]
        self.specialist = css(W.Dropdown(options=specialists, description="Specialist", style=_WIDE,
                                         layout=W.Layout(width="32em")), "rk-specialist")
        self.session = css(W.Dropdown(options=[], description="Session", style=_WIDE,
                                      layout=W.Layout(width="46em")), "rk-session")
        self.supervisor = css(W.Dropdown(options=supervisors, description="Supervisor", style=_WIDE,
                                         layout=W.Layout(width="32em", display="flex" if choose_supervisor else "none")),
                              "rk-supervisor")
        self.use = form.button("Use this session", "rk-use-session", self._use)
        self.new_toggle = css(W.ToggleButton(description="Record a new session instead", value=False,
                                             layout=W.Layout(width="auto")), "rk-new-session-toggle")
        self.new_date = css(W.DatePicker(description="Date", value=today or dt.date.today(), style=_WIDE), "rk-new-date")
        self.new_modality = css(W.Dropdown(options=[(v, k.value) for k, v in MODALITIES.items()],
                                           description="Modality", style=_WIDE), "rk-new-modality")
        self.new_duration = css(W.IntText(value=45, description="Minutes", style=_WIDE,
                                          layout=W.Layout(width="16em")), "rk-new-duration")
        self.new_source = css(W.Dropdown(options=[(v, k.value) for k, v in SOURCES.items()],
                                         description="Reviewed from", style=_WIDE), "rk-new-source")
        self.new_code = css(W.Text(description="Session code", placeholder="optional, e.g. S-0142",
                                   style=_WIDE), "rk-new-code")
        self.record = form.button("Record this session and use it", "rk-record-session", self._record)
        note = W.HTML("<small>Never a client's name or record number: the code is only a reference "
                      "you can look up in your own notes.</small>")
        self.new_box = css(W.VBox([self.new_date, self.new_modality, self.new_duration, self.new_source,
                                   self.new_code, note, W.HBox([self.record])],
                                  layout=W.Layout(display="none", border="1px solid #d0d7de", padding="8px")),
                           "rk-new-session")
        self.widget = css(W.VBox([self.specialist, self.supervisor, self.session,
                                  W.HBox([self.use, self.new_toggle]), self.new_box]), "rk-session-picker")
        self._last_recorded: tuple[Any, ...] | None = None
        self._last_session: Session | None = None
        self.specialist.observe(lambda _c: self.refresh(), "value")
        self.new_toggle.observe(self._toggle_new, "value")
        self.refresh()

    def preselect(self, specialist: str | None, session_id: str | None) -> Session | None:
        """Select what a form was opened with; returns the session to open, if one was named."""
        if session_id is None:
            self.select(specialist)
            return None
        session = self.store.session(session_id)
        if specialist is not None and specialist != session.specialist_id:
            raise ValidationError(f"session {session_id} belongs to {session.specialist_id}, not {specialist}")
        self.select(session.specialist_id, session.id)
        return session

    def select(self, specialist_id: str, session_id: str | None = None) -> None:
        """Preselect a specialist (and a session of theirs)."""
        if specialist_id not in self._people:
            raise ValidationError(f"there is no specialist with id {specialist_id!r}")
        self.specialist.value = specialist_id
        if session_id is not None:
            self.refresh(select=session_id)

    def refresh(self, select: str | None = None) -> None:
        """Reload the specialist's sessions, newest first; by default pick the newest one
        not yet signed."""
        spec = self.specialist.value
        if spec is None:
            self.session.options = []
            return
        reviews = {r.session.id: r for r in self.store.reviews(spec)}
        status = {sid: r.status for sid, r in reviews.items()}
        sessions = self.store.sessions(spec)  # newest first; those still needing this form first of all
        sessions = sorted(sessions, key=lambda s: not self.needs(reviews.get(s.id)))
        self.session.options = [(session_label(s, status.get(s.id)), s.id) for s in sessions]
        if select is None:
            open_ = [s.id for s in sessions if self.needs(reviews.get(s.id))]
            select = open_[0] if open_ else (sessions[0].id if sessions else None)
        self.session.value = select if select in {s.id for s in sessions} else None
        mentor = self._people[spec].supervisor_id
        if mentor in {v for _, v in self.supervisor.options}:
            self.supervisor.value = mentor

    def _toggle_new(self, change: dict) -> None:
        self.new_box.layout.display = "flex" if change["new"] else "none"

    def _use(self) -> None:
        sid = self.session.value
        if not sid:
            raise ValidationError("choose a session from the list, or record a new one")
        session = self.store.session(sid)
        if session.specialist_id != self.specialist.value:
            raise ValidationError("that session belongs to another specialist; choose it again from the list")
        self.on_pick(session, self.supervisor.value)

    def _record(self) -> None:
        fields = (self.specialist.value, self.new_date.value, self.new_modality.value, self.new_duration.value,
                  self.new_source.value, (self.new_code.value or "").strip())
        if fields == self._last_recorded and self._last_session is not None:
            session = self._last_session  # a second click records nothing new
        else:
            session = Session(new_id("se"), fields[0], fields[1], fields[2], fields[3], fields[4], fields[5] or None)
            allowed = self.form.privacy_gate(texts={"Session code": fields[5]}, own=(fields[0],))
            self.store.save_session(session, allow_identifiers=allowed)
            self._last_recorded, self._last_session = fields, session
            self.form.saved(f"Recorded the session of {session.date:%d %b %Y}.")
        self.new_toggle.value = False
        self.refresh(select=session.id)
        self.on_pick(session, self.supervisor.value)

    def describe(self, session: Session, status: ReviewStatus | None = None) -> str:
        """Escaped HTML naming the specialist and the session."""
        who = self._people.get(session.specialist_id)
        name = who.display_name if who else session.specialist_id
        return f"<b>{esc(name)}</b> · {esc(session_label(session, status))}"
