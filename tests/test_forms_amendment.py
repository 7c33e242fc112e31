"""Correcting a signed record (``rapportkit.ui.AmendmentForm``), driven without a browser
the way a person would: choose a signed record, give a reason, open the amendment,
correct the consensus, both sign again, and read the history.

Tests taking ``store`` run on SQLite and on PostgreSQL (as the installer, who may sign
for both, as the meeting form does). The PostgreSQL test at the end connects each person
as their own login: there only the supervisor opens an amendment and each signs only as
themselves.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pypdf import PdfReader

from conftest import all_scores, new_pg_database
from rapportkit.model import Person, ReviewStatus
from rapportkit.report import review_report
from rapportkit.store import Store
from rapportkit.ui import AmendmentForm

EMPATHY = "Demonstrating empathy"
REASON = "The empathy consensus was entered as 3; we agreed 2."
OPENED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
MARKUP = "<script>window.__x=1</script><b>bold</b>"


@pytest.fixture
def records(store, make_review, rubric):
    """Saved by the installer: a signed review of sp-1 with sv-1 (self, supervisor and consensus
    all 3) and a revealed one, not signed yet."""
    signed = make_review("signed", review_id="rv-am-1", specialist="sp-1", supervisor="sv-1")
    open_ = make_review("revealed", review_id="rv-am-2", specialist="sp-2", supervisor="sv-1",
                        supervisor_scores=all_scores(rubric, empathy=2))
    store.save_many(reviews=[signed, open_])
    return signed


def opened(store, review_id="rv-am-1", reason=REASON) -> AmendmentForm:
    """The form with ``review_id`` chosen from the list and an amendment opened with ``reason``."""
    form = AmendmentForm(store)
    form.choice.value = review_id
    form.reason.value = reason
    form.amend_button.click()
    assert form.status.kind == "ok", form.status.message
    return form


def ticking(form, start=OPENED):
    """Give the form's signatures whole minutes from ``start``, one after another."""
    times = iter(start + dt.timedelta(minutes=n) for n in range(100))
    form.clock = lambda: next(times)


# ============================================================================ both backends


def test_the_list_offers_signed_records_and_opening_one_shows_it(store, records):
    form = AmendmentForm(store)
    listed = [v for _, v in form.choice.options]
    assert listed == ["rv-am-1"]  # the revealed review is not signed: nothing to amend
    assert form.review is None and form.amend_button.disabled
    form.choice.value = "rv-am-1"
    assert form.review.id == "rv-am-1" and form.review.status is ReviewStatus.SIGNED
    assert "Supervision record · signed" in form.record.value
    assert "This record is signed. To correct it, write why and open an amendment" in form.status.message
    assert not form.amend_button.disabled and form.opening.layout.display == "flex"
    assert form.editing.layout.display == "none" and form.save_button.disabled
    assert "Revision 1 · signed · the original record" in form.history.value
    form.specialist.value = "sp-2"  # sp-2 has no signed record
    assert form.choice.options == ()
    form.specialist.value = "sp-1"
    assert [v for _, v in form.choice.options] == ["rv-am-1"]


def test_an_amendment_needs_a_reason(store, records):
    form = AmendmentForm(store)
    form.choice.value = "rv-am-1"
    for empty in ("", "   \n "):
        form.reason.value = empty
        form.amend_button.click()
        assert form.status.kind == "error"
        assert "write why the record needs correcting first: an amendment is opened with a reason" in (
            form.status.message)
        assert [r.revision for r in store.history("rv-am-1")] == [1]
    assert form.review.status is ReviewStatus.SIGNED


def test_the_amendment_opens_the_next_revision_and_keeps_the_signed_one(store, records):
    form = opened(store)
    assert "Amendment opened: revision 2" in form.status.message
    first, second = store.history("rv-am-1")
    assert (first.revision, first.status, first.amend_reason) == (1, ReviewStatus.SIGNED, None)
    assert first == records  # the signed revision, exactly as signed
    assert (second.revision, second.status, second.amend_reason) == (2, ReviewStatus.AMENDED, REASON)
    assert second.specialist_signed_at is None and second.supervisor_signed_at is None
    assert form.review == second and form.editing.layout.display == "flex" and form.opening.layout.display == "none"
    assert not form.save_button.disabled and not form.sign_specialist.disabled and not form.sign_supervisor.disabled
    assert f"<b>Why it is being amended:</b> {REASON}" in form.record.value
    assert f"Revision 2 · amended · why: {REASON}" in form.history.value
    assert "Nothing changed yet against the revision before." in form.history.value
    # the list says it is being amended; a second click opens nothing more
    assert "being amended, revision 2 · rv-am-1" in {v: k for k, v in form.choice.options}["rv-am-1"]
    form.amend_button.click()
    assert form.status.kind == "error" and "only a signed review is amended" in form.status.message
    assert len(store.history("rv-am-1")) == 2


def test_a_changed_consensus_score_without_a_rationale_is_refused_with_the_models_message(store, records):
    form = opened(store)
    form.consensus_panel.rows["empathy"].score.value = "2"  # both rated 3; the consensus moves to 2
    form.save_button.click()
    assert form.status.kind == "error"
    assert "add a short rationale for empathy: someone moved there" in form.status.message
    assert store.review("rv-am-1").consensus.scores["empathy"] == 3  # nothing saved
    form.sign_supervisor.click()  # signing what the widgets hold is refused the same way
    assert "add a short rationale for empathy" in form.status.message
    assert store.review("rv-am-1").supervisor_signed_at is None
    form.consensus_panel.rows["empathy"].note.value = "Re-watched the recording: the feeling was never named."
    form.save_button.click()
    assert form.status.kind == "ok" and "Correction saved" in form.status.message
    saved = store.review("rv-am-1")
    assert saved.status is ReviewStatus.AMENDED and saved.revision == 2
    assert saved.consensus.scores["empathy"] == 2
    assert saved.consensus.notes["empathy"] == "Re-watched the recording: the feeling was never named."
    assert f"{EMPATHY} · consensus score: 3 → 2" in form.history.value


def test_both_sign_and_the_history_says_what_changed_who_when_and_why(store, records):
    form = opened(store)
    ticking(form)
    rows = form.consensus_panel.rows
    rows["empathy"].score.value, rows["empathy"].note.value = "2", "Re-watched it together."
    form.traps.boxes["dominating"].value = True
    form.sign_specialist.click()  # the correction is saved with the first signature
    assert form.status.kind == "ok" and "Signed by the specialist. Now the supervisor signs." in form.status.message
    assert store.review("rv-am-1").status is ReviewStatus.AMENDED and form.sign_specialist.disabled
    form.sign_supervisor.click()
    assert form.status.kind == "ok" and "Signed by both: revision 2 is the record now" in form.status.message
    first, second = store.history("rv-am-1")
    assert first.status is ReviewStatus.SIGNED and first.consensus.scores["empathy"] == 3 and not first.traps
    assert second.status is ReviewStatus.SIGNED and second.consensus.scores["empathy"] == 2
    assert second.traps == {"dominating"} and second.amend_reason == REASON
    assert second.specialist_signed_at == OPENED and second.supervisor_signed_at == OPENED + dt.timedelta(minutes=1)
    history = form.history.value
    # practice, old → new
    assert f"{EMPATHY} · consensus score: 3 → 2" in history
    assert f"{EMPATHY} · consensus rationale: (none) → Re-watched it together." in history
    assert "trap “Dominating the conversation”: not ticked → ticked" in history
    # why, who and when, for the new revision and the one it corrects
    assert f"Revision 2 · signed · why: {REASON}" in history
    assert ("signed by Tansy Millwheel (specialist), 23 Nov 2026 10:00 UTC" in history
            and "Wren Hollowbrook (supervisor), 23 Nov 2026 10:01 UTC" in history)
    assert "Tansy Millwheel (specialist), 10 Mar 2026 16:30 UTC" in history  # revision 1, as first signed
    assert history.index("Revision 2") < history.index("Revision 1")  # the newest first
    assert all(b.disabled for b in (form.save_button, form.sign_specialist, form.sign_supervisor))
    assert store.load_draft("amend:rv-am-1") is None
    assert store.check() == []


def test_an_unsigned_review_is_not_amended(store, records):
    form = AmendmentForm(store, review="rv-am-2")
    assert form.review.status is ReviewStatus.REVEALED
    assert "This review is revealed, not signed: finish it in the meeting" in form.status.message
    assert form.amend_button.disabled and form.opening.layout.display == "none"
    form.reason.value = "Trying anyway."
    form.amend_button.click()  # disabled in the page, but a viewer can still send the click
    assert form.status.kind == "error"
    assert "only a signed review is amended; review rv-am-2 is revealed and can be edited" in form.status.message
    assert [r.revision for r in store.history("rv-am-2")] == [1]
    form.save_button.click()
    assert form.status.kind == "error"
    assert store.review("rv-am-2").status is ReviewStatus.REVEALED


def test_a_signed_record_is_not_corrected_in_place(store, records):
    form = AmendmentForm(store, review="rv-am-1")
    form.consensus_panel.rows["empathy"].score.value = "2"  # the panel is disabled; a viewer sets it anyway
    form.consensus_panel.rows["empathy"].note.value = "Changed in place?"
    for button in (form.save_button, form.sign_supervisor):
        button.click()
        assert form.status.kind == "error" and "open an amendment first" in form.status.message
    assert store.history("rv-am-1") == [records]


def test_what_was_typed_comes_back_when_the_form_is_opened_again(store, records):
    form = AmendmentForm(store, review="rv-am-1")
    form.reason.value = "Half a reason"
    again = AmendmentForm(store, review="rv-am-1")
    assert again.reason.value == "Half a reason"
    again.reason.value = REASON
    again.amend_button.click()
    again.consensus_panel.rows["empathy"].score.value = "2"
    again.consensus_panel.rows["empathy"].note.value = "Typed, not saved yet."
    third = AmendmentForm(store, review="rv-am-1")  # a kernel restart, in effect
    assert third.consensus_panel.rows["empathy"].score.value == "2"
    assert third.consensus_panel.rows["empathy"].note.value == "Typed, not saved yet."
    assert "What you had typed is back." in third.status.message


def test_reasons_and_rationales_are_shown_as_text_never_markup(store, records):
    form = opened(store, reason=f"Fix {MARKUP}")
    form.consensus_panel.rows["empathy"].score.value = "2"
    form.consensus_panel.rows["empathy"].note.value = MARKUP
    form.save_button.click()
    assert form.status.kind == "ok", form.status.message
    for html in (form.history.value, form.record.value):
        assert "<script>" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;window.__x=1&lt;/script&gt;" in html


def test_a_reason_that_may_identify_a_client_is_held_until_confirmed(store, records):
    form = AmendmentForm(store, review="rv-am-1")
    form.reason.value = "Call her back on 555-201-0142 about the empathy score"
    form.amend_button.click()
    assert form.status.kind == "warning" and "may identify someone" in form.status.message
    assert [r.revision for r in store.history("rv-am-1")] == [1]  # nothing opened
    form.status.confirm.value = True  # "not about a client": this save only
    form.amend_button.click()
    assert form.status.kind == "ok", form.status.message
    assert store.review("rv-am-1").amend_reason == "Call her back on 555-201-0142 about the empathy score"
    assert form.status.confirm.layout.display == "none"


def test_a_save_over_someone_elses_is_refused_and_read_again(store, records):
    mine = opened(store)
    theirs = AmendmentForm(store, review="rv-am-1")
    theirs.consensus_panel.rows["safe_environment"].score.value = "4"
    theirs.consensus_panel.rows["safe_environment"].note.value = "Clearer on the recording."
    theirs.save_button.click()
    assert theirs.status.kind == "ok", theirs.status.message
    mine.consensus_panel.rows["empathy"].score.value = "2"
    mine.consensus_panel.rows["empathy"].note.value = "Mine."
    mine.save_button.click()
    assert mine.status.kind == "error" and "was changed by" in mine.status.message
    assert "what you typed is still in the form" in mine.status.message
    assert store.review("rv-am-1").consensus.scores["empathy"] == 3  # theirs stands; mine is not saved
    assert "Creating a safe and trusting environment · consensus score: 3 → 4" in mine.history.value


def test_the_pdf_of_an_amended_record_says_which_revision_it_prints(store, records, tmp_path):
    form = opened(store)
    ticking(form)
    form.consensus_panel.rows["empathy"].score.value = "2"
    form.consensus_panel.rows["empathy"].note.value = "Re-watched it."
    form.sign_specialist.click()
    form.sign_supervisor.click()

    def text(path) -> str:
        return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())

    latest = text(review_report(store, "rv-am-1", tmp_path / "latest.pdf"))
    assert "Status signed · revision 2 of 2 (earlier revisions are kept; see Revisions below)" in latest
    assert f"Reason for amending {REASON}" in latest
    first = text(review_report(store, "rv-am-1", tmp_path / "first.pdf", revision=1))
    assert "Status signed · revision 1 of 2 (a later revision replaces this one)" in first


def test_a_read_only_store_amends_nothing(store, records):
    with Store(store.url or store.path, readonly=True, rubric=store.rubric) as ro:
        form = AmendmentForm(ro, review="rv-am-1")
        assert form.amend_button.disabled and form.reason.disabled
        form.reason.value = REASON
        form.amend_button.click()
        assert form.status.kind == "error" and "read-only" in form.status.message
    assert [r.revision for r in store.history("rv-am-1")] == [1]


# ============================================================================ PostgreSQL, with real logins

TEAM = [
    Person("sv-a", "Wren Hollowbrook", "supervisor", login="pt_am_sva"),
    Person("sp-a", "Tansy Millwheel", "specialist", "sv-a", login="pt_am_spa"),
]


@pytest.fixture
def team_db(pg_cluster, rubric, make_review):
    """A team database with logins and one review of sp-a with sv-a, signed, saved by the installer."""
    url = new_pg_database(pg_cluster)
    with Store(url, rubric=rubric) as installer:
        installer.save_many(people=TEAM)
        installer.save_review(make_review("signed", review_id="rv-am-t", specialist="sp-a", supervisor="sv-a"))
    return url


def login(url: str, who: str, rubric) -> Store:
    return Store(url.replace("user=postgres", f"user={who}"), rubric=rubric)


def test_on_a_team_database_the_supervisor_amends_and_each_signs_only_as_themselves(team_db, rubric):
    with login(team_db, "pt_am_sva", rubric) as sup, login(team_db, "pt_am_spa", rubric) as spec:
        theirs = AmendmentForm(spec, review="rv-am-t")
        assert theirs.amend_button.disabled  # only the record's supervisor opens an amendment
        assert "Only its supervisor, Wren Hollowbrook, opens an amendment" in theirs.status.message
        mine = AmendmentForm(sup, review="rv-am-t")
        assert not mine.amend_button.disabled
        mine.reason.value = REASON
        mine.amend_button.click()
        assert mine.status.kind == "ok", mine.status.message
        assert mine.sign_specialist.layout.display == "none" and mine.sign_supervisor.layout.display is None
        mine.consensus_panel.rows["empathy"].score.value = "2"
        mine.consensus_panel.rows["empathy"].note.value = "Re-watched it."
        mine.sign_supervisor.click()
        assert mine.status.kind == "ok" and "Now the specialist signs" in mine.status.message

        theirs = AmendmentForm(spec, review="rv-am-t")
        assert theirs.review.status is ReviewStatus.AMENDED
        assert theirs.sign_supervisor.layout.display == "none" and theirs.sign_specialist.layout.display is None
        theirs.sign_specialist.click()
        assert theirs.status.kind == "ok" and "Signed by both" in theirs.status.message, theirs.status.message
        final = spec.review("rv-am-t")
        assert final.revision == 2 and final.status is ReviewStatus.SIGNED
        assert [(s.role.value, s.signer_login) for s in spec.signatures("rv-am-t", 2)] == [
            ("specialist", "pt_am_spa"), ("supervisor", "pt_am_sva")]
        history = theirs.history.value
        assert f"{EMPATHY} · consensus score: 3 → 2" in history and f"why: {REASON}" in history
        assert "signed in the team database by login pt_am_spa" in history
        assert "last saved by pt_am_spa" in history
