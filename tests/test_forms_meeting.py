"""The supervision meeting form, driven without a browser on the demo team: the whole
flow to a signed record, every refusal on the way, drafts that survive a kernel restart,
and buttons that save once however often they are clicked."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from form_helpers import PRACTICES, TODAY, audit_count, fill_goal, rate, record_session
from rapportkit.frames import goals_frame
from rapportkit.model import ReviewStatus
from rapportkit.store import Store
from rapportkit.ui import MeetingForm, SelfRatingForm

ROOT = Path(__file__).resolve().parents[1]
SELF = {"empathy": "2", "boundaries": "n/o", "consistency": "4", "authenticity": "1"}
SUPERVISOR = {"empathy": "4", "boundaries": "n/o", "consistency": "3", "authenticity": "3"}


def revealed_meeting(store, specialist="sp-01"):
    """A meeting on a new session of ``specialist`` with both ratings revealed."""
    form = MeetingForm(store, today=TODAY)
    record_session(form, specialist)
    rate(form.self_panel, scores=SELF, notes={"empathy": "Named the feeling once."})
    rate(form.supervisor_panel, scores=SUPERVISOR, notes={"empathy": "Reflected feelings three times."})
    form.reveal_button.click()
    assert form.review.status is ReviewStatus.REVEALED, form.status.message
    return form


def agree_all(form, rationale="We replayed that part together."):
    for p, row in form.consensus_panel.rows.items():
        if row.score.value is None:
            row.score.value = "3"
            row.note.value = rationale
    form.agree_button.click()
    assert form.review.status is ReviewStatus.AGREED, form.status.message


def set_goals(form):
    for status, note in form.goals.verdicts.values():
        status.value = "met"
        note.value = "Did this every session."
    fill_goal(form, 1, "empathy", "Name the feeling behind the words", "Try it twice a session", TODAY + dt.timedelta(days=28))


# ============================================================================ the whole meeting


def test_a_whole_meeting_on_the_demo_team_ends_in_a_signed_review(demo_store):
    earlier = [g.id for g, _ in demo_store.open_goals("sp-01")]
    assert len(earlier) == 2
    form = revealed_meeting(demo_store)

    # reveal: side by side, agreement counts, the gaps of two or more as the agenda
    reveal = form.reveal_view.value
    assert "Same score on <b>5 of 8</b>" in reveal and "within one level on <b>6 of 8</b>" in reveal
    agenda = [p for p, row in form.consensus_panel.rows.items() if "rk-agenda-item" in row.widget._dom_classes]
    assert agenda == ["empathy", "authenticity"]
    # consensus is prefilled where they agree and left open where they differ
    cons = form.consensus_panel.rows
    assert cons["safe_environment"].score.value == "3" and cons["boundaries"].score.value == "n/o"
    assert cons["empathy"].score.value is None and cons["consistency"].score.value is None

    cons["empathy"].score.value, cons["empathy"].note.value = "3", "Moved after replaying the recording."
    cons["consistency"].score.value, cons["consistency"].note.value = "4", "Follow-up was on time."
    cons["authenticity"].score.value, cons["authenticity"].note.value = "2", "Self-disclosure went long."
    form.agree_button.click()
    assert form.status.kind == "ok", form.status.message

    form.traps.boxes["dominating"].value = True
    statuses = dict(zip(earlier, ["met", "dropped"]))
    for gid, (status, note) in form.goals.verdicts.items():
        status.value = statuses[gid]
    form.goals.verdicts[earlier[0]][1].value = "Reflects back every time now."
    fill_goal(form, 1, "empathy", "Name the feeling behind the words", "Try it twice a session", dt.date(2026, 12, 20))
    fill_goal(form, 2, "authenticity", "Keep self-disclosure short", "Hand the focus back", dt.date(2027, 1, 10))
    form.details_button.click()
    assert form.status.kind == "ok", form.status.message
    form.sign_specialist.click()
    assert form.review.status is ReviewStatus.AGREED and form.sign_specialist.disabled
    form.sign_supervisor.click()
    assert form.status.kind == "ok" and "Signed by both" in form.status.message

    saved = demo_store.review(form.review.id)
    assert saved.status is ReviewStatus.SIGNED and saved.specialist_signed_at and saved.supervisor_signed_at
    assert saved.session.specialist_id == "sp-01" and saved.supervisor_id == "sv-01"
    assert saved.review_date == TODAY
    assert saved.consensus.scores["empathy"] == 3 and saved.consensus.scores["boundaries"] is None
    assert saved.consensus.scores["consistency"] == 4 and saved.consensus.scores["authenticity"] == 2
    assert saved.consensus.notes["empathy"] == "Moved after replaying the recording."
    assert saved.self_rating.scores["authenticity"] == 1 and saved.supervisor_rating.scores["empathy"] == 4
    assert saved.self_rating.notes["empathy"] == "Named the feeling once."
    assert saved.traps == {"dominating"}
    assert [(g.practice_id, g.text, g.actions, g.follow_up) for g in saved.goals] == [
        ("empathy", "Name the feeling behind the words", "Try it twice a session", dt.date(2026, 12, 20)),
        ("authenticity", "Keep self-disclosure short", "Hand the focus back", dt.date(2027, 1, 10))]
    assert {(u.goal_id, u.status.value, u.note) for u in saved.goal_updates} == {
        (earlier[0], "met", "Reflects back every time now."), (earlier[1], "dropped", "")}
    frame = goals_frame(demo_store, specialist="sp-01").set_index("goal_id")
    assert frame.loc[earlier[0], "status"] == "met" and frame.loc[earlier[1], "status"] == "dropped"
    assert [g.id for g, _ in demo_store.open_goals("sp-01")] == [g.id for g in saved.goals]
    assert demo_store.load_draft(f"meeting:{saved.session.id}") is None
    assert demo_store.check() == []
    # the summary of the saved record
    assert "Keep self-disclosure short" in form.summary.value and "Supervision record · signed" in form.summary.value
    assert all(b.disabled for b in (form.reveal_button, form.agree_button, form.details_button,
                                     form.sign_specialist, form.sign_supervisor))
    assert form.steps.selected_index == 5 and form.steps.titles[-1].endswith("✓")


def test_the_self_rating_saved_before_the_meeting_loads_hidden_into_the_self_panel(demo_store):
    own = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(own, "sp-03")
    rate(own.panel, scores={"empathy": "4"}, notes={"empathy": "I named the feeling twice."})
    own.save_button.click()
    assert own.status.kind == "ok", own.status.message

    meeting = MeetingForm(demo_store, session=session.id, today=TODAY)
    panel = meeting.self_panel
    assert panel.rows["empathy"].score.value == "4" and panel.rows["safe_environment"].score.value == "3"
    assert panel.rows["empathy"].note.value == "I named the feeling twice."
    assert panel.hide.value is True and panel.body.layout.display == "none"  # blind until the reveal
    assert meeting.supervisor_panel.is_empty and meeting.steps.selected_index == 1
    rate(meeting.supervisor_panel)
    meeting.reveal_button.click()
    saved = demo_store.review(meeting.review.id)
    assert saved.status is ReviewStatus.REVEALED and saved.self_rating.scores["empathy"] == 4
    assert len(demo_store.reviews(session_id=session.id)) == 1  # the self form's review, not a second one


def test_a_self_rating_saved_during_the_meeting_is_loaded_on_request(demo_store):
    meeting = MeetingForm(demo_store, today=TODAY)
    session = record_session(meeting, "sp-05")
    rate(meeting.supervisor_panel, default="2")
    own = SelfRatingForm(demo_store, session=session.id, today=TODAY)
    rate(own.panel, default="4")
    own.save_button.click()
    meeting.load_saved.click()
    assert meeting.self_panel.rows["boundaries"].score.value == "4" and meeting.self_panel.hide.value
    assert meeting.supervisor_panel.rows["boundaries"].score.value == "2"  # what was typed stays
    meeting.reveal_button.click()
    assert demo_store.review(meeting.review.id).status is ReviewStatus.REVEALED
    assert len(demo_store.reviews(session_id=session.id)) == 1


def test_a_meeting_in_progress_opens_at_the_consensus(demo_store):
    form = MeetingForm(demo_store, session="se-02-0034", today=TODAY)
    assert form.review.status is ReviewStatus.REVEALED and form.steps.selected_index == 3
    assert form.self_panel.rows["empathy"].score.disabled  # blind ratings are fixed once revealed
    assert "Discussion agenda" in form.reveal_view.value
    agree_all(form)
    assert demo_store.review("rv-02-0034").status is ReviewStatus.AGREED


# ============================================================================ refusals


def test_reveal_is_refused_until_both_ratings_are_complete_and_names_the_gaps(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    record_session(form, "sp-04")
    rate(form.self_panel, scores={"empathy": None, "boundaries": None})
    rate(form.supervisor_panel)
    before = audit_count(demo_store)
    form.reveal_button.click()
    assert form.status.kind == "error"
    assert "the specialist has not rated Demonstrating empathy, Establishing boundaries" in form.status.message
    assert "the supervisor" not in form.status.message
    assert "still here" in form.status.message
    assert audit_count(demo_store) == before and demo_store.reviews(session_id=form.session.id) == []
    assert form.self_panel.rows["safe_environment"].score.value == "3"  # nothing typed is lost
    form.self_panel.rows["empathy"].score.value = "2"
    form.self_panel.rows["boundaries"].score.value = "n/o"
    form.reveal_button.click()
    assert form.status.kind == "ok" and form.review.status is ReviewStatus.REVEALED


def test_a_differing_consensus_needs_a_rationale(demo_store):
    form = revealed_meeting(demo_store)
    for p in ("empathy", "consistency", "authenticity"):
        form.consensus_panel.rows[p].score.value = "3"
    form.consensus_panel.rows["empathy"].note.value = "Moved after replaying it."
    form.agree_button.click()
    assert form.status.kind == "error"
    assert ("write a short rationale for Authenticity and transparency (including purposeful self-disclosure), "
            "Consistency and reliability (follow-through, follow-up)") in form.status.message
    assert demo_store.review(form.review.id).status is ReviewStatus.REVEALED


def test_every_earlier_goal_needs_a_verdict_and_at_least_one_new_goal_is_set(demo_store):
    form = revealed_meeting(demo_store)
    agree_all(form)
    fill_goal(form, 1, "empathy", "Name feelings", "", TODAY + dt.timedelta(days=30))
    form.details_button.click()
    assert form.status.kind == "error" and "every goal from earlier reviews" in form.status.message
    for status, _ in form.goals.verdicts.values():
        status.value = "carried"
    form.goals.slots[0].practice.value = ""
    form.goals.slots[0].text.value = ""
    form.details_button.click()
    assert form.status.kind == "error" and "at least one new goal" in form.status.message
    assert demo_store.review(form.review.id).goals == ()


def test_a_signed_review_is_not_signed_again_or_edited(demo_store):
    form = revealed_meeting(demo_store)
    agree_all(form)
    set_goals(form)
    form.sign_specialist.click()
    form.sign_supervisor.click()
    rid, count = form.review.id, audit_count(demo_store)
    form.sign_specialist.click()  # disabled in the page, but a viewer can still send the click
    assert form.status.kind == "info" and "signed and final" in form.status.message
    form.consensus_panel.rows["empathy"].score.value = "1"
    form.agree_button.click()
    assert form.status.kind == "error" and "is signed and cannot be changed" in form.status.message
    form.details_button.click()
    assert form.status.kind == "error" and "is signed and cannot be changed" in form.status.message
    assert audit_count(demo_store) == count and demo_store.review(rid).consensus.scores["empathy"] == 3
    reopened = MeetingForm(demo_store, session=form.session.id, today=TODAY)
    assert reopened.review.status is ReviewStatus.SIGNED and reopened.consensus_panel.rows["empathy"].score.disabled
    assert "signed and final" in reopened.status.message and "Supervision record" in reopened.summary.value


def test_a_content_change_after_one_signature_asks_for_it_again(demo_store):
    form = revealed_meeting(demo_store)
    agree_all(form)
    set_goals(form)
    form.sign_specialist.click()
    assert demo_store.review(form.review.id).specialist_signed_at is not None
    count = audit_count(demo_store)
    form.agree_button.click()  # nothing changed: the signature stays
    form.details_button.click()
    assert demo_store.review(form.review.id).specialist_signed_at is not None and audit_count(demo_store) == count
    form.traps.boxes["power_struggle"].value = True
    form.sign_supervisor.click()
    saved = demo_store.review(form.review.id)
    assert saved.status is ReviewStatus.AGREED and saved.specialist_signed_at is None
    assert saved.supervisor_signed_at is not None and saved.traps == {"power_struggle"}
    assert not form.sign_specialist.disabled


# ============================================================================ nothing lost


def test_a_kernel_restart_resumes_the_draft_before_the_reveal(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-06")
    rate(form.self_panel, scores={"empathy": None, "authenticity": "n/o"}, notes={"empathy": "Half done"})
    form.self_panel.hide.value = True
    form.supervisor_panel.rows["consistency"].score.value = "2"
    form.supervisor_panel.rows["consistency"].note.value = "Missed the follow-up call."
    state = form.state()

    with Store(demo_store.url or demo_store.path, actor="after-restart") as again:  # a new kernel, a new connection
        resumed = MeetingForm(again, session=session.id, today=TODAY)
        assert resumed.state() == state
        assert resumed.self_panel.rows["authenticity"].score.value == "n/o"
        assert resumed.self_panel.rows["empathy"].score.value is None
        assert resumed.self_panel.rows["empathy"].note.value == "Half done"
        assert resumed.self_panel.hide.value is True and resumed.supervisor_panel.hide.value is False
        assert resumed.supervisor_panel.rows["consistency"].note.value == "Missed the follow-up call."
        assert resumed.steps.selected_index == 1 and "where you left off" in resumed.status.message


def test_a_kernel_restart_resumes_consensus_traps_goals_and_the_step(demo_store):
    form = revealed_meeting(demo_store, "sp-07")
    form.consensus_panel.rows["empathy"].score.value = "3"
    form.consensus_panel.rows["empathy"].note.value = "Moved after replaying it."
    form.traps.boxes["less_follow_up"].value = True
    first = next(iter(form.goals.verdicts))
    form.goals.verdicts[first][0].value = "carried"
    form.goals.verdicts[first][1].value = "Halfway there."
    fill_goal(form, 1, "consistency", "Close every follow-up", "Keep a log", dt.date(2026, 12, 24))
    fill_goal(form, 2, "boundaries", "Say the limits early", "", dt.date(2027, 1, 7))
    form.steps.selected_index = 4
    state = form.state()

    with Store(demo_store.url or demo_store.path, actor="after-restart") as again:
        resumed = MeetingForm(again, session=form.session.id, today=TODAY)
        assert resumed.state() == state
        assert resumed.steps.selected_index == 4 and resumed.goals.shown == 2
        assert resumed.consensus_panel.rows["empathy"].note.value == "Moved after replaying it."
        assert resumed.traps.selected() == ["less_follow_up"]
        assert resumed.goals.verdicts[first][0].value == "carried"
        assert resumed.goals.slots[1].follow_up.value == dt.date(2027, 1, 7)
        assert resumed.review.status is ReviewStatus.REVEALED and resumed.review.id == form.review.id


def test_a_killed_kernel_loses_nothing_typed(demo_store, tmp_path):
    """SIGKILL a real Python process mid-meeting, then reopen the form on the same file."""
    script = textwrap.dedent(f"""
        import datetime as dt, os, signal, sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        from form_helpers import TODAY, rate
        from rapportkit.store import Store
        from rapportkit.ui import MeetingForm
        form = MeetingForm(Store({str(demo_store.url or demo_store.path)!r}, actor="kernel"), session="se-03-0035", today=TODAY)
        form.consensus_panel.rows["empathy"].score.value = "2"
        form.consensus_panel.rows["empathy"].note.value = "Typed just before the crash <b>!</b>"
        form.traps.boxes["judgement"].value = True
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr
    with Store(demo_store.url or demo_store.path, actor="after-restart") as again:
        resumed = MeetingForm(again, session="se-03-0035", today=TODAY)
        row = resumed.consensus_panel.rows["empathy"]
        assert row.score.value == "2" and row.note.value == "Typed just before the crash <b>!</b>"
        assert resumed.traps.selected() == ["judgement"]


# ============================================================================ once only


def test_double_clicks_save_once(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    ticks = iter(range(100))  # every signature a minute later than the one before
    form.clock = lambda: dt.datetime(2026, 11, 22, 15, next(ticks), tzinfo=dt.timezone.utc)
    record_session(form, "sp-08")
    sessions = audit_count(demo_store, "session")
    form.picker.record.click()  # the same session again: nothing new is recorded
    assert audit_count(demo_store, "session") == sessions
    rate(form.self_panel)
    rate(form.supervisor_panel, default="2")
    counts = []
    for button, prepare in ((form.reveal_button, None), (form.agree_button, lambda: agree_all(form)),
                            (form.details_button, lambda: set_goals(form)), (form.sign_specialist, None)):
        if prepare:
            prepare()
        button.click()
        counts.append(audit_count(demo_store))
        button.click()
        assert audit_count(demo_store) == counts[-1], button.description
    form.sign_supervisor.click()
    form.sign_supervisor.click()
    entries = [e for e in demo_store.audit_log("review") if e.entity_id.startswith(form.review.id)]
    assert [e.action for e in entries] == ["create", "update", "update", "update", "sign"]


def test_a_click_while_a_save_is_running_is_ignored(demo_store):
    form = revealed_meeting(demo_store)
    agree_all(form)
    set_goals(form)
    form.busy = True  # as if the first click were still saving
    form.sign_specialist.click()
    assert demo_store.review(form.review.id).specialist_signed_at is None
    form.busy = False
    form.sign_specialist.click()
    assert demo_store.review(form.review.id).specialist_signed_at is not None


def test_reopening_an_untouched_session_does_not_claim_a_resumed_draft(tmp_path):
    """Opening a session autosaves its (empty) state; that is not 'everything typed'."""
    import shutil

    from rapportkit.demo import load_demo
    from rapportkit.store import Store
    from rapportkit.ui import MeetingForm

    store = Store(tmp_path / "d.db", actor="sv-01")
    load_demo(store)
    review = next(r for r in store.reviews() if r.status.value == "revealed")
    first = MeetingForm(store, session=review.session.id)
    first._autosave()
    again = MeetingForm(store, session=review.session.id)
    assert "Picked up where you left off" not in again.status.html.value
    again.consensus_panel.rows[store.rubric.practice_ids[0]].note.value = "typed before the restart"
    third = MeetingForm(Store(tmp_path / "d.db", actor="sv-01"), session=review.session.id)
    assert "Picked up where you left off" in third.status.html.value
