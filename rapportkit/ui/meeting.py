"""The supervision meeting on a shared screen, step by step.

Session → blind ratings (self and supervisor, each can be hidden) → reveal side by side
→ consensus → traps and goals → sign-off by both → summary. Every step calls the
model's state machine and saves through the store; everything typed is kept as a draft
under ``meeting:<session id>`` and comes back when the form is opened again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets as W

from ..errors import ValidationError
from ..model import MEANING, PersonRole, Review, ReviewStatus, Session, check_id, new_review
from .common import (DraftKeeper, FormBase, StepChooser, connected_id, css, esc, form_title, heading,
                     show_own_sign_buttons)
from .goals_panel import GoalsPanel, TrapsPanel
from .meeting_details import MeetingDetails
from .rating_panel import RatingPanel, widget_score
from .record_html import agreement, reveal_html, summary_html
from .meeting_steps import OPEN as _OPEN
from .meeting_steps import MeetingSteps
from .session_picker import SessionPicker, session_label

__all__ = ["MeetingForm", "STEPS"]

STEPS = ("Session", "Blind ratings", "Reveal", "Consensus", "Traps and goals", "Sign-off")

def _p(text: str) -> W.HTML:
    return W.HTML(f"<p style='max-width:60em'>{text}</p>")


class MeetingForm(MeetingSteps, FormBase):
    """The supervision meeting form; display ``form.widget``.

    Parameters
    ----------
    store
        The :class:`~rapportkit.store.Store` to read and save.
    specialist, session
        Optional ids to preselect; with ``session`` the meeting opens straight away.
    supervisor
        The supervisor of a new review (default: the specialist's own supervisor).
    today
        The review date (default: today).
    """

    def __init__(self, store, *, specialist: str | None = None, session: str | None = None,
                 supervisor: str | None = None, today: dt.date | None = None) -> None:
        super().__init__(store)
        self.today = today or dt.date.today()
        self.session: Session | None = None
        self.review: Review | None = None  # as saved, or a new review not saved yet
        self.version: int | None = None  # the stored version of ``review`` this form holds
        self.drafts: DraftKeeper | None = None
        self.names = {p.id: p.display_name for p in store.people()}
        self._earlier: dict[str, str] = {}
        self._loading = False
        r = self.rubric
        self.picker = SessionPicker(self, self._open, choose_supervisor=True, today=self.today)
        self.context = css(W.HTML("<i>Choose the specialist and the session to review.</i>"), "rk-context")
        self.self_panel = RatingPanel(r, "self", "Specialist's self-rating", on_change=self._changed)
        self.supervisor_panel = RatingPanel(r, "supervisor", "Supervisor's rating", on_change=self._changed)
        for panel in (self.self_panel, self.supervisor_panel):  # side by side, wrapping on narrow screens
            panel.widget.layout.flex, panel.widget.layout.min_width = "1 1 420px", "360px"
        self.load_saved = self.button("Load blind ratings saved earlier", "rk-load-saved", self._load_saved, "")
        self.reveal_button = self.button("Reveal both ratings", "rk-reveal", self._reveal)
        self.reveal_view = css(W.HTML(), "rk-reveal-view")
        self.to_consensus = css(W.Button(description="Continue to the consensus", button_style="primary",
                                         layout=W.Layout(width="auto")), "rk-to-consensus")
        self.to_consensus.on_click(lambda _b: setattr(self.steps, "selected_index", 3))
        self.consensus_panel = RatingPanel(r, "consensus", "Consensus", hideable=False, on_change=self._changed,
                                           note_placeholder="Rationale: why this score? Needed where the ratings differed.")
        self.agree_button = self.button("Agree the consensus", "rk-agree", self._agree)
        self.traps = TrapsPanel(r, self._changed)
        self.goals = GoalsPanel(r, self.today, self._changed)
        self.details_button = self.button("Save traps and goals", "rk-save-goals", self._save_details)
        self.sign_specialist = self.button("Sign as the specialist", "rk-sign-specialist",
                                           lambda: self._sign(PersonRole.SPECIALIST), "success")
        self.sign_supervisor = self.button("Sign as the supervisor", "rk-sign-supervisor",
                                           lambda: self._sign(PersonRole.SUPERVISOR), "success")
        self.signatures = css(W.HTML(), "rk-signatures")
        self.meeting_details = MeetingDetails(on_change=self._changed)  # applied with traps and goals
        self.summary = css(W.HTML(), "rk-summary")
        self.reload_button = self.button("Reload the saved record", "rk-reload", self._reload, "warning")
        self.reload_button.layout.display = "none"  # shown when someone else saved since
        waiting = "<i>This step opens when the one before it is done.</i>"
        self._sections = [
            W.VBox([self.picker.widget]),
            W.VBox([_p("Each of you rates the session on every practice, blind. Hide your ratings while the "
                       "other person rates. Ratings saved earlier in the self-rating workbook load here, hidden."),
                    css(W.Box([self.self_panel.widget, self.supervisor_panel.widget],
                              layout=W.Layout(display="flex", flex_flow="row wrap", align_items="flex-start")),
                        "rk-blind-ratings"),
                    W.HBox([self.load_saved, self.reveal_button])]),
            W.VBox([self.reveal_view, W.HBox([self.to_consensus])]),
            W.VBox([_p("Agree one score per practice. Where you already agree it is filled in; where you "
                       "differ, choose together and write a short rationale. Highlighted practices were two "
                       "or more levels apart."), self.consensus_panel.widget, W.HBox([self.agree_button])]),
            W.VBox([heading("Traps", 3), self.traps.widget, self.goals.widget, W.HBox([self.details_button])]),
            W.VBox([self.meeting_details.widget, self.signatures, W.HBox([self.sign_specialist, self.sign_supervisor]),
                    self.summary]),
        ]
        self._waiting = [W.HTML(waiting) for _ in STEPS]
        self.steps = css(W.Accordion(children=self._sections, titles=self._titles()), "rk-steps")
        self.steps.selected_index = 0
        self.steps.observe(self._changed, "selected_index")
        self.step_chooser = StepChooser(self.steps)  # the accordion's titles take no keyboard focus
        self.widget = css(W.VBox([form_title("Supervision meeting"), self.context, self.step_chooser.widget, self.steps,
                                  self.status.widget,
                                  W.HBox([self.reload_button])],
                                 layout=W.Layout(max_width="1400px")), "rk-form", "rk-meeting-form")
        if session is not None or specialist is not None:
            self.run(lambda: self._preselect(specialist, session, supervisor))
        self.sync()

    # ------------------------------------------------------------------ opening a session

    def _preselect(self, specialist: str | None, session_id: str | None, supervisor: str | None) -> None:
        session = self.picker.preselect(specialist, session_id)
        if session is None:
            return
        if supervisor is not None:
            if supervisor not in {v for _, v in self.picker.supervisor.options}:
                raise ValidationError(f"there is no supervisor with id {supervisor!r}")
            self.picker.supervisor.value = supervisor
        self._open(session, supervisor)  # None: the draft's supervisor, else the specialist's own

    def _latest(self) -> Review | None:
        found = self.store.reviews(session_id=self.session.id) if self.session else []
        return found[-1] if found else None

    def _open(self, session: Session, supervisor_id: str | None) -> None:
        self.session = self.review = self.drafts = None  # until this session is fully loaded
        self._loading = True
        try:
            drafts = DraftKeeper(self.store, f"meeting:{session.id}", self.status)
            payload = drafts.load() or {}
            found = self.store.reviews(session_id=session.id)
            review = found[-1] if found else None
            if review is None:
                supervisor_id = (supervisor_id or payload.get("supervisor_id")
                                 or self.store.person(session.specialist_id).supervisor_id)
                if not supervisor_id:
                    raise ValidationError("choose the supervisor for this review")
                rid = payload.get("review_id")
                rid = rid if isinstance(rid, str) and _valid_id(rid) else None
                review = new_review(session, supervisor_id, self.rubric, review_date=self.today, review_id=rid)
            if review.supervisor_id in {v for _, v in self.picker.supervisor.options}:
                self.picker.supervisor.value = review.supervisor_id
            earlier = self.store.open_goals(session.specialist_id, exclude_review=review.id)
            self.session, self.review, self.drafts = session, review, drafts
            self._track(review if found else None)
            self._earlier = {g.id: g.text for g, _ in earlier}
            self.goals.set_earlier([g for g, _ in earlier], self.today)
            for panel, rating in ((self.self_panel, review.self_rating), (self.supervisor_panel, review.supervisor_rating)):
                panel.set_rating(rating)
                panel.hide.value = rating is not None and review.status is ReviewStatus.DRAFT
            self.consensus_panel.set_rating(review.consensus)
            self.traps.set(review.traps)
            self.goals.set_record(review.goals, review.goal_updates)
            self.meeting_details.set(review)
            problems = self._apply_draft(payload) if payload and review.status is not ReviewStatus.SIGNED else []
            if review.status in _OPEN:
                self._prefill_consensus()
            step = payload.get("step")
            natural = self._natural_step()
            self._show_record()
            self.drafts.mark_clean(self.state())
        finally:
            self._loading = False
        self.sync()
        furthest = 1 if review.status is ReviewStatus.DRAFT else len(STEPS) - 1
        self.steps.selected_index = step if isinstance(step, int) and 0 < step <= furthest else natural
        if review.status is ReviewStatus.SIGNED:
            self.drafts.clear()
            self.tell("This review is signed and final; its summary is below.")
        elif problems:
            self.tell("Picked up the draft, with some parts left out:", problems, "warning")
        elif payload:
            self.tell("Picked up where you left off: everything typed so far is back.")
        elif review.status in _OPEN:
            self.tell("This meeting is under way: the ratings are revealed. Continue with the consensus.")
        elif review.self_rating is not None:
            self.tell("Loaded the self-rating saved before the meeting. It stays hidden until you reveal.")
        else:
            self.tell("Rate the session, each on your own panel; then reveal both ratings.")
        self._autosave()

    def _apply_draft(self, payload: dict[str, Any]) -> list[str]:
        try:
            return self._restore(payload)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            return [f"the draft could not be read ({exc}); what the database holds is shown instead"]

    def _restore(self, payload: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        status = self.review.status
        for panel, key in ((self.self_panel, "self"), (self.supervisor_panel, "supervisor")):
            state = payload.get(key)
            if status is ReviewStatus.DRAFT and isinstance(state, dict):
                if state.get("scores") or state.get("notes"):
                    problems += panel.load_state(state)
                else:
                    panel.hide.value = bool(state.get("hidden"))
        if status in _OPEN:
            if isinstance(payload.get("consensus"), dict):
                problems += self.consensus_panel.load_state(payload["consensus"])
            if isinstance(payload.get("traps"), list):
                problems += self.traps.set(payload["traps"])
            if isinstance(payload.get("goals"), dict):
                problems += self.goals.load_state(payload["goals"])
            if isinstance(payload.get("meeting"), dict):
                problems += self.meeting_details.load_state(payload["meeting"])
        return problems

    def _natural_step(self) -> int:
        status = self.review.status if self.review else None
        if status is None:
            return 0
        if status is ReviewStatus.DRAFT:
            return 1
        if status is ReviewStatus.SIGNED or (status is ReviewStatus.AGREED and self.review.goals):
            return 5
        return 4 if status is ReviewStatus.AGREED else 3

    # ------------------------------------------------------------------ drafts

    def state(self) -> dict[str, Any]:
        """Everything typed so far (what the draft keeps)."""
        return {
            "version": 1, "session_id": self.session.id if self.session else None,
            "review_id": self.review.id if self.review else None,
            "supervisor_id": self.review.supervisor_id if self.review else None,
            "self": self.self_panel.state(), "supervisor": self.supervisor_panel.state(),
            "consensus": self.consensus_panel.state(), "traps": self.traps.selected(),
            "goals": self.goals.state(), "meeting": self.meeting_details.state(), "step": self.steps.selected_index,
        }

    def typed_texts(self) -> dict[str, str]:
        """The free text the widgets hold now, labelled as :func:`~rapportkit.screen.review_texts` labels it."""
        titles = {p.id: p.title for p in self.rubric.practices}
        out: dict[str, str] = {}
        for panel, what in ((self.self_panel, "Self-rating note"), (self.supervisor_panel, "Supervisor's note"),
                            (self.consensus_panel, "Consensus rationale")):
            for p, row in panel.rows.items():
                out[f"{what} on {titles[p]}"] = row.note.value
        for slot in self.goals.slots[:self.goals.shown]:
            out[f"New goal {slot.n}"], out[f"New goal {slot.n}, agreed actions"] = slot.text.value, slot.actions.value
        for goal_id, (_status, note) in self.goals.verdicts.items():
            out[f"Note on earlier goal {goal_id}"] = note.value
        return {k: v.strip() for k, v in out.items() if isinstance(v, str) and v.strip()}

    def _changed(self, _change: Any = None) -> None:
        if not self._loading:
            self._autosave()
            self._clear_stale_gap_message()

    def _clear_stale_gap_message(self) -> None:
        """A "not rated" refusal says what was missing; once both panels are complete it
        no longer holds, so say what to do next instead of leaving it in red."""
        if (self.status.kind == "error" and "has not rated" in self.status.message
                and not self.self_panel.missing() and not self.supervisor_panel.missing()):
            self.tell("Both ratings are complete: reveal them when you are both ready.")

    def _autosave(self) -> None:
        if self.drafts is not None and self.review is not None and self.review.status is not ReviewStatus.SIGNED:
            self.drafts.save(self.state())

    # ------------------------------------------------------------------ display

    def _prefill_consensus(self) -> None:
        review, rubric = self.review, self.rubric
        agenda = set(agreement(review, rubric).agenda)

        def label(rating, p):
            if rating is None or p not in rating.scores:
                return "—"
            return rubric.not_observed_label if rating.scores[p] is None else str(rating.scores[p])

        for p, row in self.consensus_panel.rows.items():
            a, b = review.self_rating, review.supervisor_rating
            same = a is not None and b is not None and p in a.scores and p in b.scores and a.scores[p] == b.scores[p]
            verdict = "same score (a rationale only if you change it)" if same else "<b>they differ: choose together and give a rationale</b>"
            self.consensus_panel.set_hint(
                p, f"<small>Self {label(a, p)} · Supervisor {label(b, p)} · {verdict}</small>", highlight=p in agenda)
            if same and row.score.value is None:
                row.score.value = widget_score(a.scores[p])

    def _show_record(self) -> None:
        review, session = self.review, self.session
        if review is None or session is None:
            return
        self.context.value = (f"{self.picker.describe(session, review.status)} · supervisor "
                              f"<b>{esc(self.names.get(review.supervisor_id, review.supervisor_id))}</b>")
        self.reveal_view.value = reveal_html(review, self.rubric, self.names) if review.status is not ReviewStatus.DRAFT else ""
        given = []
        if review.specialist_signed_at or review.supervisor_signed_at:
            try:
                given = self.store.signatures(review.id, review.revision)
            except ValidationError:  # not saved yet
                given = []
        by_role = {s.role.value: s for s in given}
        signed = [f"{who}: {esc(by_role[role].describe()) if role in by_role else 'not signed yet'}"
                  for who, role in (("Specialist", "specialist"), ("Supervisor", "supervisor"))]
        self.signatures.value = (f"<p>Signing says: “{esc(MEANING)}”.</p><p>" + "<br>".join(signed) + "</p>")
        self.summary.value = (summary_html(review, self.rubric, self.names, session_label(session, review.status),
                                           self._earlier, given) if review.status is ReviewStatus.SIGNED else "")

    def _titles(self) -> tuple[str, ...]:
        st = self.review.status if self.review else None
        done = [self.session is not None, st not in (None, ReviewStatus.DRAFT), st not in (None, ReviewStatus.DRAFT),
                st in (ReviewStatus.AGREED, ReviewStatus.SIGNED),
                bool(self.review and self.review.goals) and st in (ReviewStatus.AGREED, ReviewStatus.SIGNED),
                st is ReviewStatus.SIGNED]
        return tuple(f"{n} · {name}{'  ✓' if ok else ''}" for n, (name, ok) in enumerate(zip(STEPS, done), 1))

    def sync(self) -> None:
        review = self.review
        st = review.status if review else None
        ro = self.store.readonly
        draft, open_, signed = st is ReviewStatus.DRAFT, st in _OPEN, st is ReviewStatus.SIGNED
        for panel in (self.self_panel, self.supervisor_panel):
            panel.set_disabled(not draft)
            panel.set_hideable(draft)
        self.consensus_panel.set_disabled(not open_)
        self.traps.set_disabled(not open_)
        self.goals.set_disabled(not open_)
        self.load_saved.disabled = self.reveal_button.disabled = ro or not draft
        self.agree_button.disabled = self.details_button.disabled = ro or not open_
        self.sign_specialist.disabled = ro or not open_ or bool(review and review.specialist_signed_at)
        self.sign_supervisor.disabled = ro or not open_ or bool(review and review.supervisor_signed_at)
        me = self._me()
        show_own_sign_buttons(me, review, self.sign_specialist, self.sign_supervisor)
        # the supervisor records the meeting's length and kind (on a team database, only they may)
        self.meeting_details.set_disabled(ro or not open_ or (me is not None and review is not None
                                                              and me != review.supervisor_id))
        self.picker.record.disabled = ro
        reached = [True, st is not None, st not in (None, ReviewStatus.DRAFT), open_ or signed, open_ or signed,
                   open_ or signed]
        children = tuple(s if ok else w for s, w, ok in zip(self._sections, self._waiting, reached))
        if children != tuple(self.steps.children):
            index = self.steps.selected_index
            self.steps.children = children
            self.steps.selected_index = index
        self.steps.titles = self._titles()


    def _me(self) -> str | None:
        """The connected person's id on a team database (asked once), else None."""
        if not hasattr(self, "_me_id"):
            self._me_id = connected_id(self.store)
        return self._me_id


def _valid_id(value: str) -> bool:
    try:
        check_id(value, "review id")
    except ValidationError:
        return False
    return True
