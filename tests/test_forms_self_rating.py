"""The specialist's self-rating form: a blind rating saved into the session's draft
review, a draft of what is typed, and no change once the ratings are revealed."""

from __future__ import annotations

import pytest

from form_helpers import TODAY, audit_count, rate, raw_draft, record_session
from rapportkit.model import ReviewStatus
from rapportkit.store import Store
from rapportkit.ui import MeetingForm, SelfRatingForm


def test_saving_puts_a_blind_self_rating_into_a_draft_review(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-02", code="S-5150")
    assert form.steps.selected_index == 1 and "Bramble Otterby" in form.context.value
    rate(form.panel, scores={"empathy": "2", "boundaries": "n/o"}, notes={"empathy": "Rushed the feeling part."})
    form.save_button.click()
    assert form.status.kind == "ok" and form.status.message == "Saved your blind rating.", form.status.message
    [review] = demo_store.reviews(session_id=session.id)
    assert review.status is ReviewStatus.DRAFT and review.supervisor_id == "sv-02"  # the specialist's own
    assert review.self_rating.rater_id == "sp-02" and review.supervisor_rating is None
    assert review.self_rating.scores == {**{p: 3 for p in form.panel.rows}, "empathy": 2, "boundaries": None}
    assert review.self_rating.notes == {"empathy": "Rushed the feeling part."}
    assert review.session.code == "S-5150" and review.review_date == TODAY
    assert demo_store.load_draft(f"self:{session.id}") is None  # saved: the draft has done its job


def test_a_partial_rating_is_saved_and_says_what_is_left(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-04")
    form.panel.rows["empathy"].score.value = "3"
    form.save_button.click()
    assert form.status.kind == "ok" and "Still to rate before the meeting: safe_environment" in form.status.message
    assert dict(demo_store.reviews(session_id=session.id)[0].self_rating.scores) == {"empathy": 3}


def test_saving_twice_saves_once(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    record_session(form, "sp-05")
    rate(form.panel)
    form.save_button.click()
    count = audit_count(demo_store)
    form.save_button.click()
    assert audit_count(demo_store) == count and form.status.message == "Already saved: nothing had changed."
    form.panel.rows["empathy"].score.value = "4"  # a real change is saved again, into the same review
    form.save_button.click()
    assert audit_count(demo_store) == count + 1
    [review] = demo_store.reviews(session_id=form.session.id)
    assert review.self_rating.scores["empathy"] == 4


def test_a_kernel_restart_resumes_what_was_typed(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-06")
    rate(form.panel, scores={"consistency": None}, notes={"boundaries": "Ended on time <and> said why."})
    assert raw_draft(demo_store.url or demo_store.path, f"self:{session.id}") is not None  # already on disk
    with Store(demo_store.url or demo_store.path, actor="after-restart") as again:
        resumed = SelfRatingForm(again, session=session.id, today=TODAY)
        assert resumed.state() == form.state()
        assert resumed.panel.rows["consistency"].score.value is None
        assert resumed.panel.rows["boundaries"].note.value == "Ended on time <and> said why."
        assert "where you left off" in resumed.status.message


def test_reopening_after_a_save_shows_the_saved_rating(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-07")
    rate(form.panel, default="2")
    form.save_button.click()
    again = SelfRatingForm(demo_store, session=session.id, today=TODAY)
    assert all(row.score.value == "2" for row in again.panel.rows.values())
    assert "saved earlier" in again.status.message


def test_choosing_a_score_shows_its_anchor_and_the_definition_is_there_on_demand(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    row = form.panel.rows["empathy"]
    rubric = demo_store.rubric
    assert row.anchor.value == ""
    row.score.value = "2"
    assert "2 · Developing." in row.anchor.value
    assert rubric.anchor("empathy", 2).split("(")[0][:40].replace("'", "&#x27;") in row.anchor.value
    row.score.value = "n/o"
    assert "Not observed" in row.anchor.value
    header = row.header.value
    assert "<details" in header and "About this practice" in header
    assert rubric.practice("empathy").indicators[0][:30].replace("'", "&#x27;") in header


def test_once_revealed_the_self_rating_cannot_change(demo_store):
    form = SelfRatingForm(demo_store, session="se-02-0034", today=TODAY)  # a meeting in progress
    assert form.panel.rows["empathy"].score.disabled and form.save_button.disabled
    assert "revealed already" in form.status.message
    before = demo_store.review("rv-02-0034")
    form.panel.rows["empathy"].score.disabled = False  # a viewer can still send values and clicks
    form.panel.rows["empathy"].score.value = "1" if before.self_rating.scores["empathy"] != 1 else "4"
    form.save_button.click()
    assert form.status.kind == "error" and "revealed already" in form.status.message
    assert demo_store.review("rv-02-0034") == before


def test_the_meeting_resumes_with_the_self_rating_still_hidden(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-08")
    rate(form.panel)
    form.save_button.click()
    meeting = MeetingForm(demo_store, session=session.id, today=TODAY)
    meeting.supervisor_panel.rows["empathy"].score.value = "2"
    with Store(demo_store.url or demo_store.path) as again:
        resumed = MeetingForm(again, session=session.id, today=TODAY)
        assert resumed.self_panel.hide.value is True
        assert resumed.self_panel.rows["empathy"].score.value == "3"
        assert resumed.supervisor_panel.rows["empathy"].score.value == "2"


@pytest.mark.sqlite_only  # on PostgreSQL the login is the database role: tests/test_team_store.py
def test_the_specialist_logged_in_is_chosen_by_default(demo_store):
    with Store(demo_store.url or demo_store.path, actor="sp-03") as mine:
        assert SelfRatingForm(mine, today=TODAY).picker.specialist.value == "sp-03"
