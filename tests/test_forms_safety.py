"""What is typed is treated as untrusted and kept safe: privacy findings block a save
until confirmed, tampered widget values are refused with a message, markup is shown as
text, and a read-only database says so instead of failing."""

from __future__ import annotations

import datetime as dt
import shutil

from form_helpers import TODAY, audit_count, rate, raw_draft, record_session
from rapportkit.model import ReviewStatus
from rapportkit.store import Store
from rapportkit.ui import MeetingForm, SelfRatingForm
from rapportkit.ui.common import READ_ONLY

XSS = "<img src=x onerror=alert(1)>"


def _tamper(toggle, value):
    """What a hostile page can do: put a value on a widget that its options never offered."""
    toggle.options = [*toggle.options, (str(value), value)]
    toggle.value = value


def test_a_possible_identifier_blocks_the_save_until_confirmed(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-01")
    rate(form.panel, notes={"empathy": "Call her back on 555-201-0142", "boundaries": "Ended on time."})
    form.save_button.click()
    assert form.status.kind == "warning" and form.status.message.startswith("Nothing was saved")
    assert any("Self-rating note on Demonstrating empathy: phone “555-201-0142”" in d for d in form.status.details)
    assert not any("Ended on time" in d for d in form.status.details)
    assert form.status.confirm.layout.display != "none"
    assert demo_store.reviews(session_id=session.id) == []
    assert form.panel.rows["empathy"].note.value == "Call her back on 555-201-0142"  # kept

    form.status.confirm.value = True
    form.save_button.click()
    assert form.status.kind == "ok", form.status.message
    [review] = demo_store.reviews(session_id=session.id)
    assert review.self_rating.notes["empathy"] == "Call her back on 555-201-0142"
    assert form.status.confirm.value is False and form.status.confirm.layout.display == "none"  # one save only


def test_roster_names_and_client_names_are_found_in_meeting_rationales(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    record_session(form, "sp-02")
    rate(form.self_panel, scores={"empathy": "2"})
    rate(form.supervisor_panel)
    form.reveal_button.click()
    row = form.consensus_panel.rows["empathy"]
    # Tamsin Rookwood supervises this review (not an identifier); Sage Lanternby is a colleague
    row.score.value, row.note.value = "3", "client Maria said Tamsin and Sage helped"
    form.agree_button.click()
    assert form.status.kind == "warning"
    found = " ".join(form.status.details)
    assert "name “Maria”" in found and "name “Sage”" in found
    assert "Tamsin" not in found
    assert demo_store.review(form.review.id).status is ReviewStatus.REVEALED
    row.note.value = "Settled on 3 after replaying it."  # edited: no confirmation needed
    form.agree_button.click()
    assert form.status.kind == "ok" and demo_store.review(form.review.id).status is ReviewStatus.AGREED


def test_goal_text_and_goal_update_notes_are_scanned_too(demo_store):
    form = MeetingForm(demo_store, session="se-02-0034", today=TODAY)
    for p, r in form.consensus_panel.rows.items():
        if r.score.value is None:
            r.score.value, r.note.value = "3", "Agreed together."
    form.agree_button.click()
    for status, note in form.goals.verdicts.values():
        status.value, note.value = "met", "see jo@example.org"
    slot = form.goals.slots[0]
    slot.practice.value, slot.text.value, slot.actions.value = "empathy", "Reflect feelings", "Visit 12 Oak Street"
    form.details_button.click()
    kinds = " ".join(form.status.details)
    assert form.status.kind == "warning" and "email “jo@example.org”" in kinds and "New goal 1, agreed actions" in kinds
    assert demo_store.review(form.review.id).goals == ()


def test_a_score_outside_the_scale_is_refused_with_a_message(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    record_session(form, "sp-03")
    rate(form.self_panel)
    rate(form.supervisor_panel)
    _tamper(form.supervisor_panel.rows["empathy"].score, "7")
    assert "7 is not a score on this scale" in form.supervisor_panel.rows["empathy"].anchor.value
    before = audit_count(demo_store)
    form.reveal_button.click()
    assert form.status.kind == "error"
    assert "'score' must be 1–4 or None for not observed (got 7) for practice 'empathy'" in form.status.message
    assert audit_count(demo_store) == before and demo_store.reviews(session_id=form.session.id) == []


def test_non_numbers_and_unknown_practices_are_refused(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    record_session(form, "sp-04")
    rate(form.panel)
    _tamper(form.panel.rows["empathy"].score, "lots")
    form.save_button.click()
    assert form.status.kind == "error" and "(got 'lots')" in form.status.message
    form.panel.rows["empathy"].score.value = "3"

    meeting = MeetingForm(demo_store, session="se-02-0034", today=TODAY)
    for r in meeting.consensus_panel.rows.values():
        if r.score.value is None:
            r.score.value, r.note.value = "3", "Agreed together."
    meeting.agree_button.click()
    for status, _ in meeting.goals.verdicts.values():
        status.value = "carried"
    slot = meeting.goals.slots[0]
    _tamper(slot.practice, "empathyy")
    slot.text.value = "Reflect feelings"
    meeting.details_button.click()
    assert meeting.status.kind == "error" and "not 'empathyy'" in meeting.status.message
    assert demo_store.review("rv-02-0034").goals == ()


def test_an_unknown_practice_in_a_draft_is_left_out_with_a_message(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-05")
    demo_store.save_draft(f"self:{session.id}", {"scores": {"empathy": "2", "telepathy": "4"},
                                                 "notes": {"telepathy": "x"}, "hidden": False})
    again = SelfRatingForm(demo_store, session=session.id, today=TODAY)
    assert again.status.kind == "warning" and any("'telepathy'" in d for d in again.status.details)
    assert again.panel.rows["empathy"].score.value == "2" and "telepathy" not in again.panel.state()["scores"]


def test_a_one_megabyte_note_is_refused_and_kept_on_screen(demo_store):
    form = SelfRatingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-06")
    rate(form.panel)
    huge = "x" * 1_000_000
    form.panel.rows["empathy"].note.value = huge
    form.save_button.click()
    assert form.status.kind == "error"
    assert "'note for empathy' is 1,000,000 characters; keep it to 1,000 or fewer" in form.status.message
    assert demo_store.reviews(session_id=session.id) == [] and form.panel.rows["empathy"].note.value == huge
    form.panel.rows["empathy"].note.value = "y" * 2_100_000  # too big even for a draft: said, not crashed
    assert form.status.kind == "error" and "could not be kept as a draft" in form.status.message


def test_markup_in_notes_is_shown_as_text_in_the_reveal_and_the_summary(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    record_session(form, "sp-07")
    rate(form.self_panel, notes={"empathy": XSS})
    rate(form.supervisor_panel, scores={"empathy": "2"}, notes={"boundaries": "<script>alert(2)</script>"})
    form.reveal_button.click()
    assert XSS not in form.reveal_view.value and "<script>" not in form.reveal_view.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in form.reveal_view.value
    row = form.consensus_panel.rows["empathy"]
    row.score.value, row.note.value = "2", f"Moved {XSS}"
    form.agree_button.click()
    for status, _ in form.goals.verdicts.values():
        status.value = "carried"
    slot = form.goals.slots[0]
    slot.practice.value, slot.text.value, slot.actions.value = "empathy", "<b>bold</b> goal", XSS
    form.sign_specialist.click()
    form.sign_supervisor.click()
    assert demo_store.review(form.review.id).status is ReviewStatus.SIGNED, form.status.message
    summary = form.summary.value
    assert "<img" not in summary and "<b>bold</b>" not in summary
    assert "Moved &lt;img src=x onerror=alert(1)&gt;" in summary and "&lt;b&gt;bold&lt;/b&gt; goal" in summary


def test_status_messages_escape_what_the_user_typed(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    form.picker.new_code.value = "<script>x</script>"
    form.picker.record.click()
    assert form.status.kind == "error" and "<script>x</script>" in form.status.message
    assert "<script>" not in form.status.html.value and "&lt;script&gt;" in form.status.html.value
    assert form.session is None


def test_a_read_only_database_says_so_and_writes_nothing(demo_store, tmp_path):
    demo_store.close()
    if demo_store.url:  # PostgreSQL: a read-only connection to the same database
        path = demo_store.url
    else:
        path = tmp_path / "copy.db"
        shutil.copyfile(demo_store.path, path)
    with Store(path, readonly=True) as ro:
        counts = ro.counts()
        form = MeetingForm(ro, session="se-02-0034", today=TODAY)
        assert READ_ONLY in form.status.message
        assert form.agree_button.disabled and form.sign_specialist.disabled and form.picker.record.disabled
        for r in form.consensus_panel.rows.values():
            r.score.value, r.note.value = "3", "Agreed together."
        form.agree_button.click()  # clicked anyway (a viewer can): refused by the database, said plainly
        assert form.status.kind == "error" and form.status.message == READ_ONLY
        form.picker.record.click()
        assert form.status.message == READ_ONLY
        own = SelfRatingForm(ro, session="se-02-0034", today=TODAY)
        assert READ_ONLY in own.status.message
        assert ro.counts() == counts and raw_draft(path, "meeting:se-02-0034") is None


def test_a_session_id_that_is_not_in_the_database_is_refused(demo_store):
    form = MeetingForm(demo_store, session="se-nope", today=TODAY)
    assert form.status.kind == "error" and "no session with id 'se-nope'" in form.status.message
    form.picker.select("sp-01")
    _tamper(form.picker.session, "se-02-0034")  # someone else's session
    form.picker.use.click()
    assert form.status.kind == "error" and "belongs to another specialist" in form.status.message
    assert form.session is None


def test_a_garbled_draft_does_not_stop_the_meeting(demo_store):
    form = MeetingForm(demo_store, today=TODAY)
    session = record_session(form, "sp-08")
    demo_store.save_draft(f"meeting:{session.id}", {"self": {"scores": ["3"], "notes": 7}, "step": "x",
                                                    "review_id": "../../etc", "supervisor_id": "sv-02"})
    again = MeetingForm(demo_store, session=session.id, today=TODAY)
    assert again.status.kind == "warning" and "could not be read" in again.status.details[0]
    assert again.review.supervisor_id == "sv-02" and again.review.id != "../../etc"
    rate(again.self_panel)
    rate(again.supervisor_panel)
    again.reveal_button.click()
    assert again.status.kind == "ok" and demo_store.review(again.review.id).status is ReviewStatus.REVEALED


def test_an_unknown_supervisor_is_refused_with_a_message(demo_store):
    form = MeetingForm(demo_store, session="se-01-0032", supervisor="sv-99", today=TODAY)
    assert form.status.kind == "error" and "no supervisor with id 'sv-99'" in form.status.message
    assert form.session is None
