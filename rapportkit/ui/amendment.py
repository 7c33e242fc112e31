"""Correcting a signed record: an amendment, with a reason, signed again by both.

A signed review never changes in place. The supervisor chooses a signed record, writes
why it needs correcting and opens the next revision (:func:`~rapportkit.model.amend`);
they correct the consensus (and the traps), save, and both sign again, as in the
meeting. The earlier revision stays as it was signed, and the history under the form
shows every revision with what changed since the one before (practice, old → new), who
saved and signed it, when, and why (:mod:`rapportkit.revisions`).

On a team's PostgreSQL database each person signs only as themselves (``store.me()``),
so only their own Sign button shows, and only the record's supervisor opens an
amendment; on one computer both buttons show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ipywidgets as W

from ..errors import ConflictError, ReviewStateError, ValidationError
from ..model import (
    PersonRole,
    Review,
    ReviewStatus,
    agree,
    amend,
    content,
    sign,
    with_details,
)
from ..revisions import RevisionNote, revision_notes
from ..rubric import Rubric
from .common import DraftKeeper, FormBase, connected_id, css, esc, form_title, heading, show_own_sign_buttons
from .goals_panel import TrapsPanel
from .rating_panel import RatingPanel
from .record_html import summary_html
from .session_picker import session_label

__all__ = ["AmendmentForm", "history_html"]

#: The states a record can be listed in here: signed (to amend) or being amended.
LISTED = (ReviewStatus.SIGNED, ReviewStatus.AMENDED)
_LOCAL = ("On this computer a signature is the time it was given, recorded on this computer, not verified. "
          "A team database records who signed.")


def _p(text: str, cls: str = "rk-amend-text") -> W.HTML:
    return css(W.HTML(f"<p style='max-width:60em'>{text}</p>"), cls)


def _keep(base: Review, candidate: Review) -> Review:
    """``base`` if ``candidate`` changes nothing but signatures (so those given stay)."""
    return base if content(base) == content(candidate) else candidate


def history_html(notes: Sequence[RevisionNote]) -> str:
    """The history of a record as escaped HTML: each revision, who, when, why, and its changes."""
    blocks = []
    for note in reversed(notes):  # the newest first: what a reader asks about
        if note.revision == 1:
            listed = ""
        elif note.changes:
            listed = ("<ul class='rk-changes'>"
                      + "".join(f"<li class='rk-change'>{esc(c.line())}</li>" for c in note.changes) + "</ul>")
        else:
            listed = "<p class='rk-no-changes'><i>Nothing changed yet against the revision before.</i></p>"
        blocks.append(
            f"<div class='rk-revision' data-revision='{note.revision}' "
            "style='border-left:4px solid #3b6ea5;padding:2px 10px;margin:6px 0'>"
            f"<p style='margin:2px 0'><b>{esc(note.heading())}</b><br><small>{esc(note.who())}</small></p>"
            f"{listed}</div>")
    return "<div class='rk-history'>" + "".join(blocks) + "</div>"


class AmendmentForm(FormBase):
    """Correct a signed record with a new, dated revision and a reason; display ``form.widget``.

    Parameters
    ----------
    store
        The :class:`~rapportkit.store.Store` to read and save.
    review
        Optional id of the review to open straight away.
    """

    def __init__(self, store, *, review: str | None = None) -> None:
        super().__init__(store)
        self.names = {p.id: p.display_name for p in store.people()}
        #: the revision on screen (as saved), and the stored version of it this form holds
        self.review: Review | None = None
        self.version: int | None = None
        self.drafts: DraftKeeper | None = None
        self._loading = False
        self._quiet = False
        #: the connected person's id on a team database (each signs only as themselves), else None
        self.me: str | None = connected_id(store)
        self.intro = _p(
            "A signed record is never changed in place. To correct one, choose it, write why it needs "
            "correcting and open an amendment: a new revision, dated, with your reason. Correct the consensus, "
            "save, and both of you sign again. The signed revision stays as it was, and the history below shows "
            "every revision with what changed." + ("" if store.team else " " + _LOCAL), "rk-amend-intro")
        specialists = [p for p in store.people() if p.role is PersonRole.SPECIALIST]
        self.specialist = css(W.Dropdown(
            options=[("Every specialist", "")] + [(p.display_name, p.id) for p in specialists],
            value="", description="Specialist", layout=W.Layout(width="auto")), "rk-amend-specialist")
        self.choice = css(W.Select(options=[], value=None, rows=8, description="Record",
                                   layout=W.Layout(width="min(100%, 60em)")), "rk-amend-records")
        self.record = css(W.HTML(), "rk-record-content")
        self.reason = css(W.Textarea(placeholder="Why does this record need correcting? For example: the empathy "
                                     "consensus was entered as 3; we agreed 2.", rows=2, description="Reason",
                                     layout=W.Layout(width="min(100%, 60em)")), "rk-amend-reason")
        self.amend_button = self.button("Open an amendment", "rk-amend", self._amend)
        self.consensus_panel = self._panel(self.rubric)
        self.traps = TrapsPanel(self.rubric, self._changed)
        self.save_button = self.button("Save the correction", "rk-amend-save", self._save)
        self.sign_specialist = self.button("Sign as the specialist", "rk-sign-specialist",
                                           lambda: self._sign(PersonRole.SPECIALIST), "success")
        self.sign_supervisor = self.button("Sign as the supervisor", "rk-sign-supervisor",
                                           lambda: self._sign(PersonRole.SUPERVISOR), "success")
        self.history = css(W.HTML(), "rk-history-view")
        self.opening = css(W.VBox([heading("Open an amendment", 4), self.reason, W.HBox([self.amend_button])]),
                           "rk-amend-opening")
        self.editing = css(W.VBox([heading("Correct the record", 4), self.consensus_panel.widget,
                                   heading("Traps", 4), self.traps.widget, W.HBox([self.save_button]),
                                   heading("Both sign again", 4),
                                   W.HBox([self.sign_specialist, self.sign_supervisor])]), "rk-amend-editing")
        self.widget = css(W.VBox([form_title("Correct a signed record"), self.intro, self.specialist, self.choice,
                                  self.record, self.opening, self.editing, self.status.widget,
                                  heading("History of this record", 3), self.history],
                                 layout=W.Layout(max_width="1100px")), "rk-form", "rk-amendment-form")
        self.choice.observe(self._chosen, "value")
        self.specialist.observe(lambda _c: self.run(lambda: self.refresh(keep=self.choice.value)), "value")
        self.reason.observe(self._changed, "value")
        self.run(lambda: self.refresh(keep=review))
        if review is not None:
            self.run(lambda: self.open(review))
        elif not self.choice.options:
            self.tell("No record is signed yet, so there is nothing to amend.")
        else:
            self.tell("Choose a signed record to read it and its history.")

    def _panel(self, rubric: Rubric) -> RatingPanel:
        return RatingPanel(rubric, "consensus", "Corrected consensus", hideable=False, on_change=self._changed,
                           note_placeholder="Rationale: why this score? Needed wherever someone moved.")

    @staticmethod
    def clock() -> dt.datetime:
        """When a signature is given (UTC, whole seconds); tests replace it."""
        return dt.datetime.now(dt.UTC).replace(microsecond=0)

    # ------------------------------------------------------------------ the list

    def refresh(self, keep: str | None = None) -> None:
        """List the signed records and those being amended (of the specialist chosen), newest meeting first."""
        listed = [r for r in reversed(self.store.reviews(self.specialist.value or None)) if r.status in LISTED]
        self._quiet = True
        try:
            self.choice.options = [(self._label(r), r.id) for r in listed]
            self.choice.value = keep if keep in {r.id for r in listed} else None
        finally:
            self._quiet = False

    def _label(self, review: Review) -> str:
        """One line per record (an option's text: shown as text, never as markup)."""
        spec = self.names.get(review.specialist_id, review.specialist_id)
        sup = self.names.get(review.supervisor_id, review.supervisor_id)
        state = ("being amended" if review.status is ReviewStatus.AMENDED else "signed") + (
            f", revision {review.revision}" if review.revision > 1 else "")
        return (f"{review.review_date:%d %b %Y} · {spec} with {sup} · session of {review.session.date:%d %b %Y}"
                f" · {state} · {review.id}")

    def _chosen(self, _change: Any = None) -> None:
        if not self._quiet and self.choice.value:
            self.run(lambda: self.open(self.choice.value))

    # ------------------------------------------------------------------ one record

    def open(self, review_id: str) -> None:
        """Show the latest revision of ``review_id``, its history, and what can be done with it."""
        review = self.store.review(review_id)
        rubric = self.store.rubric_for(review.rubric_id, review.rubric_version)
        self._loading = True
        try:
            self.review, self.version = review, self.store.version(review.id, review.revision).number
            if (rubric.id, rubric.version) != (self.consensus_panel.rubric.id, self.consensus_panel.rubric.version):
                # an older record: its own rubric's practices
                self.consensus_panel = self._panel(rubric)
                self.editing.children = (self.editing.children[0], self.consensus_panel.widget,
                                         *self.editing.children[2:])
            self.consensus_panel.set_rating(review.consensus)
            self.traps.set(review.traps)
            self.drafts = DraftKeeper(self.store, f"amend:{review.id}", self.status)
            payload = self.drafts.load() or {}
            self.reason.value = ""
            problems = self._restore(payload) if payload else []
            self._show()
            self.drafts.mark_clean(self.state())
        finally:
            self._loading = False
        self.sync()
        if review.status is ReviewStatus.SIGNED and not self._may_open():
            who = self.names.get(review.supervisor_id, review.supervisor_id)
            self.tell(f"This record is signed. Only its supervisor, {who}, opens an amendment; once they have, "
                      "you sign the corrected record here or in your list of records waiting for your signature.")
        elif review.status is ReviewStatus.SIGNED:
            self.tell("This record is signed. To correct it, write why and open an amendment; "
                      "the signed revision stays as it is.")
        elif review.status is ReviewStatus.AMENDED:
            self.tell(f"This record is being amended (revision {review.revision}). Correct the consensus and save, "
                      "then both of you sign again." + (" What you had typed is back." if payload else ""),
                      problems, "warning" if problems else "info")
        else:
            self.tell(f"This review is {review.status.value}, not signed: finish it in the meeting, where it can "
                      "still be changed. Only a signed record is amended.")

    def _restore(self, payload: dict[str, Any]) -> list[str]:
        """Put back what was typed: the reason before the amendment is opened, the corrections after."""
        review, problems = self.review, []
        if review.status is ReviewStatus.SIGNED and isinstance(payload.get("reason"), str):
            self.reason.value = payload["reason"]
        if review.status is ReviewStatus.AMENDED and payload.get("revision") == review.revision:
            if isinstance(payload.get("consensus"), dict):
                problems += self.consensus_panel.load_state(payload["consensus"])
            if isinstance(payload.get("traps"), list):
                problems += self.traps.set(payload["traps"])
        return problems

    def state(self) -> dict[str, Any]:
        """Everything typed for the record on screen (what the draft keeps)."""
        review = self.review
        return {"version": 1, "review_id": review.id if review else None,
                "revision": review.revision if review else None, "reason": self.reason.value,
                "consensus": self.consensus_panel.state(), "traps": self.traps.selected()}

    def _changed(self, _change: Any = None) -> None:
        if not self._loading and self.drafts is not None and self.review is not None:
            self.drafts.save(self.state())

    def _show(self) -> None:
        review = self.review
        rubric = self.consensus_panel.rubric
        history = self.store.history(review.id)
        earlier = {g.id: g.text for r in self.store.reviews(review.specialist_id) for g in r.goals}
        given = {r.revision: self.store.signatures(review.id, r.revision) for r in history}
        saved = {r.revision: self.store.version(review.id, r.revision) for r in history}
        notes = revision_notes(history, rubric, names=self.names, signatures=given, saved=saved, earlier=earlier)
        self.history.value = history_html(notes)
        reason = (f"<p class='rk-amend-why'><b>Why it is being amended:</b> {esc(review.amend_reason)}</p>"
                  if review.status is ReviewStatus.AMENDED and review.amend_reason else "")
        session = session_label(review.session, review.status)
        self.record.value = reason + summary_html(review, rubric, self.names, session, earlier, given[review.revision])
        signed = history[-2] if review.status is ReviewStatus.AMENDED and len(history) > 1 else review
        for p in self.consensus_panel.rows:
            self.consensus_panel.set_hint(p, "<small>" + " · ".join(
                f"{who} {esc(self._score(rating, p, rubric))}" for who, rating in
                (("Self", review.self_rating), ("Supervisor", review.supervisor_rating),
                 (f"as signed in revision {signed.revision}", signed.consensus))) + "</small>")

    @staticmethod
    def _score(rating, practice: str, rubric: Rubric) -> str:
        if rating is None or practice not in rating.scores:
            return "—"
        score = rating.scores[practice]
        return rubric.not_observed_label if score is None else str(score)

    # ------------------------------------------------------------------ the steps

    def _editing(self) -> Review:
        """The amendment on screen, as this form last read or saved it."""
        review = self.review
        if review is None:
            raise ValidationError("choose a record from the list first")
        if review.status is ReviewStatus.SIGNED:
            raise ReviewStateError("this record is signed and is not changed in place; "
                                   "write why it needs correcting and open an amendment first")
        return review

    def _amend(self) -> None:
        base = self.review
        if base is None:
            raise ValidationError("choose a signed record from the list first")
        reason = (self.reason.value or "").strip()
        if base.status is ReviewStatus.SIGNED and not reason:
            raise ValidationError("write why the record needs correcting first: an amendment is opened with a "
                                  "reason, and the reason stays with the record")
        candidate = amend(base, reason)  # the model refuses anything but a signed record, with a sentence
        allowed = self.privacy_gate(candidate, base)
        self.store.save_review(candidate, allow_identifiers=allowed)
        self.drafts.clear()
        self.refresh(keep=base.id)
        self.open(base.id)
        self.saved(f"Amendment opened: revision {candidate.revision}. Correct the consensus below and save; then "
                   f"both of you sign again. Revision {base.revision} stays as it was signed.")

    def _corrected(self, base: Review) -> Review:
        """``base`` with the consensus and traps the widgets hold, by the model's rules."""
        rubric = self.consensus_panel.rubric
        rater = base.consensus.rater_id if base.consensus is not None else base.supervisor_id
        candidate = agree(base, self.consensus_panel.rating(rater), rubric)
        return _keep(base, with_details(candidate, rubric, traps=self.traps.selected()))

    def _commit(self, candidate: Review, message: str) -> None:
        before = self.review
        allowed = self.privacy_gate(candidate, before)
        changed = self.store.save_review(candidate, expected=self.version, allow_identifiers=allowed)
        # a team database writes what is the database's to write (signature times, status)
        self.review = self.store.review(candidate.id, candidate.revision) if self.store.team else candidate
        self.version = self.store.version(candidate.id, candidate.revision).number
        self.refresh(keep=candidate.id)
        self._show()
        self.saved(message if changed else "Already saved: nothing had changed.")

    def _save(self) -> None:
        base = self._editing()
        voided = [who for who in ("specialist", "supervisor") if getattr(base, f"{who}_signed_at")]
        candidate = self._corrected(base)
        cleared = [who for who in voided if not getattr(candidate, f"{who}_signed_at")]
        again = (f" The {' and the '.join(cleared)} had signed; the change voids that signature, so both sign "
                 "again." if cleared else " Now both of you sign the corrected record.")
        self._commit(candidate, "Correction saved." + again)

    def _sign(self, role: PersonRole) -> None:
        base = self._editing()
        field = f"{role.value}_signed_at"
        candidate = self._corrected(base)
        if getattr(candidate, field) is not None:
            self.tell(f"Already signed by the {role.value}.")
            return
        candidate = sign(candidate, role, at=self.clock())
        if candidate.status is ReviewStatus.SIGNED:
            self._commit(candidate, f"Signed by both: revision {candidate.revision} is the record now, final. "
                                    "The history below shows what changed.")
            self.drafts.clear()
        else:
            other = "supervisor" if role is PersonRole.SPECIALIST else "specialist"
            self._commit(candidate, f"Signed by the {role.value}. Now the {other} signs.")

    def on_conflict(self, exc: ConflictError) -> None:
        """Someone saved this record since it was opened here: nothing is saved; it is read
        again (what was typed stays in the form) so it can be checked and saved again."""
        review = self.review
        why = str(exc).split(";")[0].rstrip(".")
        if review is not None:
            self.review = self.store.review(review.id)
            self.version = self.store.version(review.id, self.review.revision).number
            self.refresh(keep=review.id)
            self._show()
        self.status.error(f"Not saved: {why}. Its history below is as saved now; what you typed is still in the "
                          "form: check it against theirs, then save or sign again.")

    def _may_open(self) -> bool:
        """Whether the person here may open an amendment of the record on screen: on a team
        database only its supervisor may (the database's rule, said here before it refuses)."""
        return self.me is None or (self.review is not None and self.me == self.review.supervisor_id)

    def sync(self) -> None:
        review = self.review
        st = review.status if review else None
        ro = self.store.readonly
        signed, amended = st is ReviewStatus.SIGNED, st is ReviewStatus.AMENDED
        self.reason.disabled = self.amend_button.disabled = ro or not signed or not self._may_open()
        self.opening.layout.display = "flex" if signed else "none"
        self.editing.layout.display = "flex" if amended else "none"
        self.consensus_panel.set_disabled(ro or not amended)
        self.traps.set_disabled(ro or not amended)
        self.save_button.disabled = ro or not amended
        self.sign_specialist.disabled = ro or not amended or bool(review and review.specialist_signed_at)
        self.sign_supervisor.disabled = ro or not amended or bool(review and review.supervisor_signed_at)
        show_own_sign_buttons(self.me, review, self.sign_specialist, self.sign_supervisor)
