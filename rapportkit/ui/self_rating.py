"""The specialist's blind self-rating, usually before the meeting, in their own notebook.

Saving puts the rating into the session's review while it is still a draft, so the
meeting form loads it (hidden) and the supervisor cannot see it before the reveal.
What is typed is kept under ``self:<session id>`` until it is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets as W

from ..errors import ReviewStateError, ValidationError
from ..model import Review, ReviewStatus, Session, new_review, with_rating
from .common import DraftKeeper, FormBase, StepChooser, css, form_title
from .rating_panel import RatingPanel
from .session_picker import SessionPicker

__all__ = ["SelfRatingForm"]


class SelfRatingForm(FormBase):
    """Rate your own session on every practice, blind; display ``form.widget``.

    Parameters
    ----------
    store
        The :class:`~rapportkit.store.Store` to read and save.
    specialist, session
        Optional ids to preselect; with ``session`` the form opens it straight away. With
        neither, a specialist whose id is the store's actor (``$RAPPORTKIT_USER``) is chosen.
    today
        The review date of a review this form starts (default: today).
    """

    def __init__(self, store, *, specialist: str | None = None, session: str | None = None,
                 today: dt.date | None = None) -> None:
        super().__init__(store)
        self.today = today or dt.date.today()
        self.session: Session | None = None
        self.drafts: DraftKeeper | None = None
        self._loading = False
        self.picker = SessionPicker(self, self._open, today=self.today, needs=self._needs)
        self.context = css(W.HTML("<i>Choose yourself and the session you want to rate.</i>"), "rk-context")
        self.panel = RatingPanel(self.rubric, "self", "Your self-rating", hideable=False, on_change=self._changed)
        self.save_button = self.button("Save my blind rating", "rk-save-self", self._save)
        intro = W.HTML(
            "<p style='max-width:60em'>Score each practice from 1 to 4, or <i>Not observed</i>, and note what you "
            "saw or heard. Choosing a score shows what that level looks like. Your supervisor will not see "
            "this until you reveal the ratings together in the meeting.</p>")
        self._rate = W.VBox([intro, self.panel.widget, W.HBox([self.save_button])])
        self._waiting = W.HTML("<i>Choose the session first.</i>")
        self.steps = css(W.Accordion(children=[self.picker.widget, self._waiting],
                                     titles=("1 · Session", "2 · Rate the session")), "rk-steps")
        self.steps.selected_index = 0
        self.step_chooser = StepChooser(self.steps)  # the accordion's titles take no keyboard focus
        self.widget = css(W.VBox([form_title("Self-rating"), self.context, self.step_chooser.widget, self.steps,
                                  self.status.widget],
                                 layout=W.Layout(max_width="1100px")), "rk-form", "rk-self-rating-form")
        if specialist is None and session is None:
            me = store.me()  # on a team database: the person whose database role is connected
            mine = me.id if me is not None else store.actor  # else ``$RAPPORTKIT_USER``
            if mine in {v for _, v in self.picker.specialist.options}:
                specialist = mine
        if session is not None or specialist is not None:
            self.run(lambda: self._preselect(specialist, session))
        self.sync()

    def _preselect(self, specialist: str | None, session_id: str | None) -> None:
        session = self.picker.preselect(specialist, session_id)
        if session is not None:
            self._open(session, None)

    def _latest(self) -> Review | None:
        found = self.store.reviews(session_id=self.session.id) if self.session else []
        return found[-1] if found else None

    def _open(self, session: Session, _supervisor: str | None = None) -> None:
        self._loading = True
        try:
            self.session = session
            self.drafts = DraftKeeper(self.store, f"self:{session.id}", self.status)
            payload = self.drafts.load()
            review = self._latest()
            self.panel.set_rating(review.self_rating if review else None)
            problems = self._restore(payload) if payload and self._editable(review) else []
            self.drafts.mark_clean(self.state())
        finally:
            self._loading = False
        self.context.value = self.picker.describe(session, review.status if review else None)
        self.steps.children = [self.picker.widget, self._rate]
        self.steps.selected_index = 1
        self.sync()
        if not self._editable(review):
            self.tell("The ratings of this session have been revealed already, so this self-rating "
                             "is part of the review now and cannot change here.")
        elif problems:
            self.tell("Picked up your draft, with some parts left out:", problems, "warning")
        elif payload:
            self.tell("Picked up where you left off: everything typed so far is back.")
        elif review is not None and review.self_rating is not None:
            self.tell("This is the self-rating you saved earlier; you can still change it before the meeting.")
        else:
            self.tell("Rate each practice, then save. Your supervisor will not see it before the meeting.")

    def _restore(self, payload: dict[str, Any]) -> list[str]:
        try:
            return self.panel.load_state(payload)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            return [f"the draft could not be read ({exc}); what the database holds is shown instead"]

    def _needs(self, review: Review | None) -> bool:
        """A session still to self-rate: no review yet, or a draft without a complete self-rating."""
        return review is None or (review.status is ReviewStatus.DRAFT and (
            review.self_rating is None or bool(review.self_rating.missing(self.rubric))))

    @staticmethod
    def _editable(review: Review | None) -> bool:
        return review is None or review.status is ReviewStatus.DRAFT

    def state(self) -> dict[str, Any]:
        """Everything typed so far (what the draft keeps)."""
        return self.panel.state()

    def _changed(self) -> None:
        if not self._loading and self.drafts is not None:
            self.drafts.save(self.state())

    def _save(self) -> None:
        if self.session is None:
            raise ValidationError("choose the session first")
        session, base = self.session, self._latest()
        rating = self.panel.rating(session.specialist_id)
        if base is None:
            supervisor = self.store.person(session.specialist_id).supervisor_id
            if not supervisor:
                raise ValidationError("you have no supervisor in the team yet; ask for one to be set, "
                                      "or rate the session in the meeting workbook")
            base = new_review(session, supervisor, self.rubric, review_date=self.today)
        elif not self._editable(base):
            raise ReviewStateError("the ratings of this session have been revealed already; "
                                   "the self-rating can no longer change")
        candidate = with_rating(base, rating, self.rubric)
        allowed = self.privacy_gate(candidate, self._latest())
        changed = self.store.save_review(candidate, allow_identifiers=allowed)
        self.drafts.clear()
        missing = rating.missing(self.rubric)
        more = f" Still to rate before the meeting: {', '.join(missing)}." if missing else ""
        self.saved(("Saved your blind rating." if changed else "Already saved: nothing had changed.") + more)

    def sync(self) -> None:
        review = self._latest() if self.session else None
        editable = self.session is not None and self._editable(review)
        self.panel.set_disabled(not editable)
        self.save_button.disabled = self.store.readonly or not editable
        self.picker.record.disabled = self.store.readonly
