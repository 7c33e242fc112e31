"""Messages that stay true: a refusal that no longer holds is replaced, the session list
follows the record, a voided signature is said, and the self-rating offers what needs it."""

from __future__ import annotations

import datetime as dt

from form_helpers import TODAY, fill_goal, rate, record_session
from rapportkit.model import ReviewStatus
from rapportkit.ui import MeetingForm, SelfRatingForm


def test_a_not_rated_refusal_is_replaced_once_both_panels_are_complete(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    record_session(form, "sp-05")
    rate(form.self_panel, "3")
    rate(form.supervisor_panel, "3")
    form.supervisor_panel.rows["empathy"].score.value = None
    form.reveal_button.click()
    assert form.status.kind == "error" and "has not rated" in form.status.message
    form.supervisor_panel.rows["empathy"].score.value = "2"
    assert form.status.kind == "info" and "Both ratings are complete" in form.status.message


def test_the_session_list_follows_the_record_and_a_voided_signature_is_said(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-06")
    rate(form.self_panel, "3")
    rate(form.supervisor_panel, "3")
    form.reveal_button.click()
    form.agree_button.click()
    for status, _note in form.goals.verdicts.values():
        status.value = "carried"
    fill_goal(form, 1, "empathy", "Name the feeling behind the words", "Twice a session", TODAY + dt.timedelta(days=28))
    form.details_button.click()
    form.sign_specialist.click()
    assert form.review.specialist_signed_at is not None, form.status.message
    form.consensus_panel.rows["boundaries"].score.value = "4"
    form.consensus_panel.rows["boundaries"].note.value = "Held the time boundary kindly."
    form.agree_button.click()
    assert "The specialist had signed; the change voids that signature, so both sign again" in form.status.message
    assert form.review.specialist_signed_at is None
    form.sign_specialist.click()
    form.sign_supervisor.click()
    assert form.review.status is ReviewStatus.SIGNED, form.status.message
    label = {v: k for k, v in form.picker.session.options}[session.id]
    assert label.endswith("signed") and "in progress" not in label


def test_the_self_rating_offers_the_sessions_that_need_one_first(demo_store):
    from rapportkit.model import Session

    older = Session("se-older", "sp-02", dt.date(2025, 1, 6), "phone", 30, "self_report")
    demo_store.save_session(older)  # older than every reviewed session of sp-02, and not rated yet
    form = SelfRatingForm(demo_store, today=TODAY)
    form.picker.select("sp-02")
    assert form.picker.session.value == "se-older"
    ids = [v for _, v in form.picker.session.options]
    assert ids[0] == "se-older" and len(ids) == len(demo_store.sessions("sp-02"))
    meeting = MeetingForm(demo_store, today=TODAY)
    meeting.picker.select("sp-02")
    # the meeting form lists by date (newest first) and picks the newest unsigned session
    unsigned = [s.id for s in demo_store.sessions("sp-02")
                if all(r.status is not ReviewStatus.SIGNED for r in demo_store.reviews(session_id=s.id))]
    assert meeting.picker.session.value == unsigned[0]
