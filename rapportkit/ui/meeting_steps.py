"""The actions behind the meeting form's buttons: each takes the review as the database
holds it, applies one step of the model's state machine to what the widgets hold, checks
the free text for identifiers, and saves. Kept apart from the layout in ``meeting.py``.
"""

from __future__ import annotations

import datetime as dt

from ..errors import ConflictError, ReviewStateError, ValidationError
from ..model import (PersonRole, Rating, Review, ReviewStatus, agree, content, missing_rationales, reveal, sign,
                     with_details, with_rating)
from ..screen import changed_texts, review_texts

__all__ = ["MeetingSteps", "OPEN"]

#: States in which the consensus, traps and goals can still change.
OPEN = (ReviewStatus.REVEALED, ReviewStatus.AGREED, ReviewStatus.AMENDED)


def _keep(base: Review, candidate: Review) -> Review:
    """``base`` if ``candidate`` changes nothing but signatures (so they stay given)."""
    return base if content(base) == content(candidate) else candidate


class MeetingSteps:
    """Mixed into :class:`~rapportkit.ui.meeting.MeetingForm`, which owns the widgets."""

    @staticmethod
    def clock() -> dt.datetime:
        """When a signature is given (UTC, whole seconds); tests replace it."""
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def _base(self) -> Review:
        """The review as this form last loaded or saved it (or the new one, not saved yet).

        Not re-read: a step applied to a review someone else has saved since would
        replace their work, so the store refuses that save (:meth:`on_conflict`)."""
        if self.session is None:
            raise ValidationError("choose the specialist and the session first")
        if self.version is None:  # not saved from here yet: has someone else saved one since?
            latest = self._latest()
            found = self.store.version(latest.id, latest.revision) if latest is not None else None
            if found is not None:
                at = dt.datetime.fromisoformat(found.saved_at).strftime("%d %b %Y %H:%M UTC")
                raise ConflictError(
                    f"a review of this session was saved by {found.saved_by} at {at} since you opened it; "
                    "reload to see it, then make your change again",
                    saved_by=found.saved_by, saved_at=found.saved_at, version=found.number)
        return self.review

    def _track(self, review: Review | None) -> None:
        """Remember the version of ``review`` this form holds (None: not saved yet)."""
        found = self.store.version(review.id, review.revision) if review is not None else None
        self.version = found.number if found else None

    def _commit(self, candidate: Review, message: str) -> bool:
        saved = self.review if self.version is not None else None
        allowed = self.privacy_gate(candidate, saved)
        changed = self.store.save_review(candidate, expected=self.version, allow_identifiers=allowed)
        # a team database writes what is the database's to write (signature times, status):
        # hold the record as saved there
        self.review = self.store.review(candidate.id, candidate.revision) if self.store.team else candidate
        self._track(candidate)
        self.picker.refresh(select=candidate.session.id)  # the session list shows the new status
        self.saved(message if changed else "Already saved: nothing had changed.")
        self._show_record()
        self._autosave()
        return changed

    def on_conflict(self, exc: ConflictError) -> None:
        """Someone saved this review since the form loaded it: say who and when, keep
        everything typed, and offer to reload the saved record."""
        self.status.error(f"Not saved: {str(exc).rstrip('.')}. Everything you typed is still here; "
                          "“Reload the saved record” shows theirs and keeps yours as a draft to copy from.")
        self.reload_button.layout.display = "inline-flex"

    def _reload(self) -> None:
        """Show the record as saved now; what this form held is kept under its own draft key
        and its texts are listed, so nothing typed is lost."""
        mine, texts = self.state(), self.typed_texts()
        self.store.save_draft(f"meeting:{self.session.id}:unsaved", mine)
        self.drafts.clear()
        self.reload_button.layout.display = "none"
        self._open(self.session, None)
        lost = changed_texts(texts, review_texts(self.review, self.rubric))
        self.tell("Reloaded: this is the record as it was saved. What you had typed is kept as a draft"
                  + (" and its texts are listed here to copy from:" if lost else "."),
                  [f"{where}: {text}" for where, text in lost.items()], "warning")

    def _load_saved(self) -> None:
        latest = self._latest()
        if latest is not None:  # the specialist may have saved a self-rating since: take that version
            self.review = latest
            self._track(latest)
        latest = self._base()
        if latest.status is not ReviewStatus.DRAFT:
            raise ReviewStateError("the ratings are revealed already; blind ratings can no longer be loaded")
        loaded = []
        for panel, rating, who in ((self.self_panel, latest.self_rating, "self-rating"),
                                   (self.supervisor_panel, latest.supervisor_rating, "supervisor's rating")):
            if rating is not None:
                panel.set_rating(rating)
                panel.hide.value = True
                loaded.append(who)
        if not loaded:
            self.tell("No blind ratings have been saved for this session yet.")
            return
        self.status.ok(f"Loaded the {' and the '.join(loaded)} saved earlier; hidden until you reveal.")
        self._autosave()

    def _reveal(self) -> None:
        base = self._base()
        if base.status is not ReviewStatus.DRAFT:
            self.tell("The ratings are revealed already.")
            return
        if self.store.team and not self.store.installer:
            self._reveal_in_database(base)
            return
        gaps = [f"the {who} has not rated {self._named(panel.missing())}" for who, panel in
                (("specialist", self.self_panel), ("supervisor", self.supervisor_panel)) if panel.missing()]
        if gaps:
            raise ReviewStateError("; ".join(gaps) + ". Score each practice or mark it not observed, then reveal")
        own = self.self_panel.rating(base.specialist_id)
        theirs = self.supervisor_panel.rating(base.supervisor_id)
        candidate = reveal(with_rating(with_rating(base, own, self.rubric), theirs, self.rubric), self.rubric)
        self._commit(candidate, "Revealed. Talk through the highlighted practices first, then agree the consensus.")
        self.self_panel.hide.value = self.supervisor_panel.hide.value = False
        self._prefill_consensus()
        self.steps.selected_index = 2

    def _reveal_in_database(self, base: Review) -> None:
        """On a team database each blind rating is its rater's, and the database reveals them
        (neither can read the other's before): save the connected person's own rating, then
        ask the database to reveal; it refuses while the other rating is incomplete."""
        me = self.store.me()
        parties = {base.specialist_id: (self.self_panel, "self-rating"),
                   base.supervisor_id: (self.supervisor_panel, "supervisor's rating")}
        if me is None or me.id not in parties:
            raise ReviewStateError("only this review's specialist or supervisor can reveal its ratings")
        panel, what = parties[me.id]
        if panel.missing():
            raise ReviewStateError(f"your {what} does not cover {self._named(panel.missing())} yet. Score each "
                                   "practice or mark it not observed, then reveal")
        own = panel.rating(me.id)
        if own != base.rating(own.role):
            self._commit(with_rating(base, own, self.rubric), f"Saved your {what}.")
        revealed = self.store.reveal(base.id)
        self.review = revealed
        self._track(revealed)
        for rating, other in ((revealed.self_rating, self.self_panel), (revealed.supervisor_rating, self.supervisor_panel)):
            if rating is not None:
                other.set_rating(rating)
        self.picker.refresh(select=revealed.session.id)
        self.saved("Revealed. Talk through the highlighted practices first, then agree the consensus.")
        self._show_record()
        self.self_panel.hide.value = self.supervisor_panel.hide.value = False
        self._prefill_consensus()
        self.steps.selected_index = 2

    def _agree(self) -> None:
        base = self._base()
        if base.status is ReviewStatus.DRAFT:
            raise ReviewStateError("reveal both ratings before agreeing the consensus")
        consensus = self._consensus(base)
        candidate = _keep(base, agree(base, consensus, self.rubric))
        voided = [who for who in ("specialist", "supervisor")
                  if getattr(base, f"{who}_signed_at") and not getattr(candidate, f"{who}_signed_at")]
        cleared = (f" The {' and the '.join(voided)} had signed; the change voids that signature, so "
                   "both sign again." if voided else "")
        self._commit(candidate, f"Consensus agreed.{cleared} Next: traps and goals.")
        self.steps.selected_index = 4

    def _named(self, practice_ids: list[str]) -> str:
        titles = {p.id: p.title for p in self.rubric.practices}
        return ", ".join(titles.get(p, p) for p in practice_ids)

    def _consensus(self, base: Review) -> Rating:
        """The consensus from the panel, refused (by title) where a score or rationale is missing."""
        missing = self.consensus_panel.missing()
        if missing:
            raise ReviewStateError(f"choose a consensus score for {self._named(missing)}")
        rating = self.consensus_panel.rating(base.supervisor_id)
        moved = missing_rationales(base, rating, self.rubric.practice_ids)
        if moved:
            raise ReviewStateError(f"write a short rationale for {self._named(moved)}: "
                                   "the agreed score is not the one both of you gave")
        return rating

    def _with_details(self, base: Review) -> Review:
        details = with_details(base, self.rubric, traps=self.traps.selected(), goals=self.goals.goals(base.id),
                               goal_updates=self.goals.updates())
        return _keep(base, self.meeting_details.apply(details))  # the meeting's length and kind

    def _save_details(self) -> None:
        base = self._base()
        if base.status is ReviewStatus.DRAFT:
            raise ReviewStateError("reveal the ratings and agree the consensus before setting goals")
        self._commit(self._with_details(base), "Traps and goals saved. Next: both of you sign.")
        self.steps.selected_index = 5

    def _sign(self, role: PersonRole) -> None:
        base = self._base()
        field = f"{role.value}_signed_at"
        if base.status is ReviewStatus.SIGNED:
            self.tell(f"Already signed by the {role.value}; the review is signed and final.")
            return
        if base.status is ReviewStatus.DRAFT:
            raise ReviewStateError("reveal the ratings and agree the consensus before signing")
        candidate = _keep(base, agree(base, self._consensus(base), self.rubric))
        candidate = self._with_details(candidate)
        if getattr(candidate, field) is not None:
            self.tell(f"Already signed by the {role.value}.")
            return
        candidate = sign(candidate, role, at=self.clock())
        other = "supervisor" if role is PersonRole.SPECIALIST else "specialist"
        if candidate.status is ReviewStatus.SIGNED:
            self._commit(candidate, "Signed by both: the record is saved and final. The summary is below.")
            self.drafts.clear()
            self.store.delete_draft(f"self:{candidate.session.id}")
        else:
            self._commit(candidate, f"Signed by the {role.value}. Now the {other} signs.")
