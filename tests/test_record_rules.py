"""The record cannot lie: a review's rules hold in the model and the store whatever path
built it, every rating is checked against the rubric it names, a stale save never
replaces someone else's (two real processes), and free text is screened below the UI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import all_scores, raw_connect
from form_helpers import TODAY, fill_goal, rate, record_session
from rapportkit import model
from rapportkit.errors import ConflictError, PrivacyFindings, ReviewStateError, ValidationError
from rapportkit.model import Rating, RaterRole, ReviewStatus
from rapportkit.rubric import load_rubric
from rapportkit.store import Store

ROOT = Path(__file__).resolve().parents[1]
AGENCY = ROOT / "tests" / "data" / "rubrics" / "agency_three_practices.toml"


def _consensus(rubric, scores, notes=None, rater="sv-1"):
    return Rating(rater, RaterRole.CONSENSUS, scores, notes or {}, rubric.id, rubric.version)


# ============================================================================ invariants in the record


def test_a_signed_review_needs_both_signatures_whatever_built_it(make_review):
    agreed = make_review("agreed")
    with pytest.raises(ReviewStateError, match=r"needs both signatures \(the specialist and supervisor's"):
        dataclasses.replace(agreed, status=ReviewStatus.SIGNED)
    one = model.sign(agreed, "specialist")
    with pytest.raises(ReviewStateError, match="the supervisor's is missing"):
        dataclasses.replace(one, status=ReviewStatus.SIGNED)
    with pytest.raises(ReviewStateError, match="both have signed, so the review must be signed"):
        dataclasses.replace(one, supervisor_signed_at=one.specialist_signed_at)


def test_a_signed_review_without_a_consensus_cannot_be_built(make_review):
    signed = make_review("signed")
    with pytest.raises(ReviewStateError, match="there is no consensus"):
        dataclasses.replace(signed, consensus=None)


def test_a_consensus_missing_a_practice_cannot_be_signed(make_review, rubric):
    signed = make_review("signed")
    eight = dict(signed.consensus.scores)
    del eight["boundaries"]
    with pytest.raises(ReviewStateError, match="consensus has no score for boundaries"):
        dataclasses.replace(signed, consensus=_consensus(rubric, eight))


def test_an_incomplete_rating_on_every_side_is_refused_against_the_rubric(store, make_review, rubric):
    """8 of 9 practices everywhere passes the rubric-free rules; the store checks the rubric."""
    signed = make_review("signed")
    cut = {}
    for slot in ("self_rating", "supervisor_rating", "consensus"):
        r = getattr(signed, slot)
        cut[slot] = dataclasses.replace(r, scores={p: s for p, s in r.scores.items() if p != "empathy"})
    lying = dataclasses.replace(signed, **cut)  # builds: the three ratings agree on what they cover
    with pytest.raises(ReviewStateError, match="the self rating has no score for empathy"):
        store.save_review(lying)
    assert store.reviews() == []


def test_ratings_with_no_scores_at_all_cannot_be_signed(make_review, rubric):
    """The score column deleted from an export: every rating reads back empty."""
    signed = make_review("signed")
    empty = {slot: dataclasses.replace(getattr(signed, slot), scores={})
             for slot in ("self_rating", "supervisor_rating", "consensus")}
    with pytest.raises(ReviewStateError, match="the self rating scores no practice"):
        dataclasses.replace(signed, **empty)


def test_moving_a_score_both_gave_needs_a_rationale(make_review, rubric):
    revealed = make_review("revealed")  # both rated every practice 3
    moved = _consensus(rubric, all_scores(rubric, 3, empathy=2))
    assert model.needs_rationale(revealed, "empathy", moved)
    assert not model.needs_rationale(revealed, "boundaries", moved)
    with pytest.raises(ReviewStateError, match="rationale for empathy"):
        model.agree(revealed, moved, rubric)
    with pytest.raises(ReviewStateError, match="consensus needs a rationale for empathy"):
        dataclasses.replace(make_review("agreed"), consensus=moved)
    ok = model.agree(revealed, _consensus(rubric, all_scores(rubric, 3, empathy=2), {"empathy": "Replayed it."}),
                     rubric)
    assert ok.status is ReviewStatus.AGREED


def test_a_draft_takes_no_consensus(make_review, rubric):
    draft = make_review("draft")
    with pytest.raises(ReviewStateError, match="this step needs it revealed or agreed or amended"):
        model.with_rating(draft, _consensus(rubric, all_scores(rubric)), rubric)
    with pytest.raises(ReviewStateError, match="a draft has no consensus yet"):
        dataclasses.replace(draft, consensus=_consensus(rubric, all_scores(rubric)))


def test_a_revealed_review_is_not_signed_and_a_draft_not_revealed_half(make_review, rubric):
    revealed = make_review("revealed")
    with pytest.raises(ReviewStateError, match="only an agreed review can be signed"):
        dataclasses.replace(revealed, specialist_signed_at=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(ReviewStateError, match="the supervisor rating is missing"):
        dataclasses.replace(revealed, supervisor_rating=None)


def test_a_later_revision_is_an_amendment_with_a_reason(make_review):
    signed = make_review("signed")
    with pytest.raises(ReviewStateError, match="an amendment needs a reason"):
        dataclasses.replace(signed, revision=2)
    amended = model.amend(signed, "Corrected the session date.")
    with pytest.raises(ReviewStateError, match="revision 2 is an amendment, so it is amended or signed"):
        dataclasses.replace(amended, status=ReviewStatus.AGREED)


def test_a_kept_signature_over_changed_content_is_refused_by_the_store(store, make_review, rubric):
    agreed = make_review("agreed", self_scores=all_scores(rubric, 3, empathy=4))
    one = model.sign(agreed, "specialist")
    store.save_review(one)
    changed = dataclasses.replace(one, traps=frozenset({rubric.trap_ids[0]}))  # the signature left in place
    with pytest.raises(ReviewStateError, match="changed after it was signed by the specialist"):
        store.save_review(changed)
    assert store.review(one.id).traps == frozenset()


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_check_reports_a_review_edited_by_hand_into_a_lie(store, make_review):
    agreed = make_review("agreed")
    store.save_review(agreed)
    assert store.check() == []
    conn = raw_connect(store.path)
    conn.execute("UPDATE reviews SET status = 'signed' WHERE review_id = ?", (agreed.id,))
    conn.close()
    problems = store.check()
    assert any(f"review {agreed.id} revision 1 breaks the record's rules" in p and "needs both signatures" in p
               for p in problems), problems


@pytest.mark.sqlite_only  # PostgreSQL's own: tests/test_team_store.py
def test_the_database_refuses_to_change_a_signed_revisions_rows(store, make_review):
    signed = make_review("signed")
    store.save_review(signed)
    conn = raw_connect(store.path)
    try:
        for sql in ("UPDATE scores SET score = 1 WHERE review_id = ?", "DELETE FROM scores WHERE review_id = ?",
                    "UPDATE reviews SET status = 'agreed' WHERE review_id = ?",
                    "DELETE FROM ratings WHERE review_id = ?"):
            with pytest.raises(Exception, match="a signed revision never changes"):
                conn.execute(sql, (signed.id,))
        for sql in ("UPDATE sessions SET duration_min = 5 WHERE id = ?", "DELETE FROM sessions WHERE id = ?"):
            with pytest.raises(Exception, match="a session a signed review covers never changes"):
                conn.execute(sql, (signed.session.id,))
    finally:
        conn.close()
    assert store.check() == []


# ============================================================================ the rubric a rating names


def test_a_rubric_the_database_does_not_know_is_refused(store, make_review, rubric):
    review = make_review("draft")
    other = dataclasses.replace(
        review, rubric_version="9.9",
        self_rating=dataclasses.replace(review.self_rating, rubric_version="9.9"),
        supervisor_rating=dataclasses.replace(review.supervisor_rating, rubric_version="9.9"))
    with pytest.raises(ValidationError, match="rubric 'peer-rapport' version '9.9' is not known to this database"):
        store.save_review(other)


def test_practices_and_traps_are_checked_against_the_rubric_named(store, make_review, rubric):
    review = make_review("draft")
    warmth = dataclasses.replace(review.self_rating, scores={**review.self_rating.scores, "warmth": 3})
    with pytest.raises(ValidationError, match="not 'warmth'"):
        store.save_review(dataclasses.replace(review, self_rating=warmth))
    with pytest.raises(ValidationError, match="not 'bossiness'"):
        store.save_review(dataclasses.replace(review, traps=frozenset({"bossiness"})))


def test_the_rubric_a_rating_used_is_kept_and_used_later(tmp_path, rubric):
    """Ratings made with an agency's rubric stay checked against it after the default is loaded."""
    from conftest import build_review, team

    agency = load_rubric(AGENCY)
    path = tmp_path / "rk.db"
    with Store(path, actor="t", rubric=agency) as first:
        first.save_many(people=team())
        first.save_review(build_review(agency, stage="draft", review_id="rv-agency"))
    with Store(path, actor="t", rubric=rubric) as later:
        assert later.rubric_for(agency.id, agency.version) == agency
        review = later.review("rv-agency")
        assert set(review.self_rating.scores) == set(agency.practice_ids)
        with pytest.raises(ValidationError, match="not 'empathy'"):  # a default practice, not the agency's
            later.save_review(dataclasses.replace(review, self_rating=dataclasses.replace(
                review.self_rating, scores={**review.self_rating.scores, "empathy": 3})))
        later.save_review(model.reveal(review, agency))  # checked against the agency's rubric
        assert later.check() == []


def test_an_edited_rubric_under_the_same_version_is_refused(tmp_path, store, make_review, rubric):
    store.save_review(make_review("draft"))
    edited = tmp_path / "edited.toml"
    edited.write_text(rubric.text.replace(rubric.title, rubric.title + " (edited)", 1), "utf-8")
    changed = load_rubric(edited)
    assert (changed.id, changed.version) == (rubric.id, rubric.version) and changed.digest != rubric.digest
    with Store(store.url or store.path, actor="t", rubric=changed) as other:
        with pytest.raises(ValidationError, match="give the edited rubric a new version number"):
            other.save_review(make_review("draft"))


# ============================================================================ no lost updates


def test_a_stale_save_is_refused_naming_who_saved_and_when(store, make_review, rubric):
    revealed = make_review("revealed", self_scores=all_scores(rubric, 3, empathy=4))
    store.save_review(revealed)
    with Store(store.url or store.path, actor="colleague", rubric=rubric) as other:
        theirs = other.review(revealed.id)
        mine = store.review(revealed.id)
        other.save_review(model.with_details(theirs, rubric, traps=[rubric.trap_ids[0]]))
        # the name the database knows the colleague by (on PostgreSQL their database role)
        with pytest.raises(ConflictError, match=rf"was changed by {other.actor} at .* UTC since you opened it; reload"):
            store.save_review(model.with_details(mine, rubric, traps=[rubric.trap_ids[1]]))
    assert store.review(revealed.id).traps == frozenset({rubric.trap_ids[0]})
    # after reloading, the change goes in on top of theirs
    fresh = store.review(revealed.id)
    assert store.save_review(model.with_details(fresh, rubric, traps=[*fresh.traps, rubric.trap_ids[1]]))
    assert store.version(revealed.id).number == 3


def test_an_explicit_expected_version_is_held_to(store, make_review, rubric):
    draft = make_review("draft")
    store.save_review(draft)
    v1 = store.version(draft.id).number
    store.save_review(model.reveal(draft, rubric), expected=v1)
    with pytest.raises(ConflictError, match=f"was changed by {store.actor}"):
        store.save_review(model.with_details(model.reveal(draft, rubric), rubric, traps=[rubric.trap_ids[0]]),
                          expected=v1)


_WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from rapportkit import model
    from rapportkit.errors import ConflictError
    from rapportkit.store import Store
    db, review_id, trap, folder = sys.argv[1:5]
    store = Store(db, actor="second-kernel")
    opened = store.review(review_id)
    Path(folder, "opened").write_text("1")
    while not Path(folder, "go").exists():
        time.sleep(0.05)
    try:
        store.save_review(model.with_details(opened, store.rubric, traps=[trap]))
        print(json.dumps({"saved": True}))
    except ConflictError as exc:
        print(json.dumps({"saved": False, "message": str(exc), "by": exc.saved_by}))
""")


def test_two_processes_saving_one_review_lose_nothing(store, make_review, rubric, tmp_path):
    revealed = make_review("revealed")
    store.save_review(revealed)
    store.close()
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(store.url or store.path), revealed.id, rubric.trap_ids[1],
                             str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not (tmp_path / "opened").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the second process did not start"
        time.sleep(0.05)
    with Store(store.url or store.path, actor="first-kernel", rubric=rubric) as first:  # saves while the other has it open
        first.save_review(model.with_details(first.review(revealed.id), rubric, traps=[rubric.trap_ids[0]]))
    (tmp_path / "go").write_text("1")
    out, _ = proc.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    first_actor = "first-kernel" if store.dialect == "sqlite" else store.actor  # PostgreSQL: the role
    assert result["saved"] is False and result["by"] == first_actor, result
    assert f"changed by {first_actor}" in result["message"]
    with Store(store.url or store.path, readonly=True, rubric=rubric) as after:
        assert after.review(revealed.id).traps == frozenset({rubric.trap_ids[0]})


def test_two_meeting_forms_on_one_review_refuse_the_stale_save_and_keep_what_was_typed(demo_store, rubric):
    from rapportkit.ui import MeetingForm

    a = MeetingForm(demo_store, today=TODAY)
    record_session(a, "sp-01")
    rate(a.self_panel, "3")
    rate(a.supervisor_panel, "3")
    a.reveal_button.click()
    assert a.review.status is ReviewStatus.REVEALED, a.status.message
    with Store(demo_store.url or demo_store.path, actor="other-kernel", rubric=rubric) as other:
        b = MeetingForm(other, today=TODAY, session=a.session.id)  # opened on the revealed review
        a.agree_button.click()  # consensus prefilled: all 3
        assert a.review.status is ReviewStatus.AGREED, a.status.message
        b.traps.boxes[rubric.trap_ids[0]].value = True
        for status, _note in b.goals.verdicts.values():
            status.value = "carried"
        fill_goal(b, 1, "empathy", "Name the feeling behind the words", "Try it twice", TODAY + dt.timedelta(days=28))
        b.details_button.click()
        assert f"was changed by {demo_store.actor} at" in b.status.message and "Everything you typed is still here" in b.status.message
        assert b.reload_button.layout.display != "none"
        assert demo_store.review(a.review.id).traps == frozenset()  # A's record stands
        assert b.traps.boxes[rubric.trap_ids[0]].value is True  # B's typing is still on screen
        b.reload_button.click()
        assert b.review.status is ReviewStatus.AGREED  # now showing A's save
        kept = demo_store.load_draft(f"meeting:{a.session.id}:unsaved")
        assert kept["traps"] == [rubric.trap_ids[0]]
        assert "New goal 1: Name the feeling behind the words" in b.status.details


# ============================================================================ privacy below the UI


def test_the_store_screens_free_text_whatever_path_saves_it(store, make_review, rubric):
    review = make_review("draft", self_notes={"empathy": "Called her back on 555-010-0142 after the session."})
    with pytest.raises(PrivacyFindings) as err:
        store.save_review(review)
    assert "Self-rating note on Demonstrating empathy" in str(err.value) or "empathy" in str(err.value)
    assert [f.kind for f in err.value.findings] == ["phone"]
    assert store.reviews() == []
    assert store.save_review(review, allow_identifiers=True)
    entry = store.audit_log("review")[-1]
    assert entry.reason.startswith(f"identifiers allowed by {store.actor}: ") and "(phone)" in entry.reason
    # text saved earlier is not screened again on the next step
    assert store.save_review(model.reveal(review, rubric))


def test_the_reviews_own_people_are_not_identifiers_but_colleagues_are(store, make_review):
    own = make_review("draft", self_notes={"empathy": "Wren Hollowbrook modelled this for Tansy Millwheel."})
    assert store.save_review(own)  # the review's supervisor and specialist by name
    other = make_review("draft", self_notes={"empathy": "Borrowed the opening that Odile Fernsby uses."})
    with pytest.raises(PrivacyFindings):
        store.save_review(other)


def test_the_session_code_is_screened(store, make_review):
    review = make_review("draft")
    phone_code = dataclasses.replace(review, session=dataclasses.replace(review.session, code="555-0142"))
    with pytest.raises(PrivacyFindings, match="Session code"):
        store.save_review(phone_code)
    with pytest.raises(PrivacyFindings, match="Session code"):
        store.save_session(phone_code.session)
    assert store.sessions() == []


def test_a_goal_is_followed_up_after_the_review_that_sets_it(make_review):
    from conftest import goal

    with pytest.raises(ReviewStateError, match=r"goal g-late is followed up on 2026-02-10, not after this review"):
        make_review("draft", goals=[goal("g-late", follow_up=dt.date(2026, 2, 10))])  # reviewed 2026-03-10
    assert make_review("draft", goals=[goal("g-ok", follow_up=dt.date(2026, 3, 11))]).goals


def test_the_meeting_form_refuses_a_moved_score_without_a_rationale_and_a_past_follow_up(demo_store):
    from rapportkit.ui import MeetingForm

    form = MeetingForm(demo_store, today=TODAY)
    record_session(form, "sp-03")
    rate(form.self_panel, "3")
    rate(form.supervisor_panel, "3")
    form.reveal_button.click()
    form.consensus_panel.rows["empathy"].score.value = "2"  # both gave 3
    form.agree_button.click()
    assert form.status.kind == "error" and "rationale for Demonstrating empathy" in form.status.message
    assert demo_store.review(form.review.id).status is ReviewStatus.REVEALED
    form.consensus_panel.rows["empathy"].note.value = "Two reflections were missed on the replay."
    form.agree_button.click()
    assert demo_store.review(form.review.id).status is ReviewStatus.AGREED, form.status.message
    for status, _note in form.goals.verdicts.values():
        status.value = "carried"
    fill_goal(form, 1, "empathy", "Reflect the feeling first", "Twice a session", TODAY - dt.timedelta(days=30))
    form.details_button.click()
    assert form.status.kind == "error" and "choose a date after the meeting" in form.status.message
    assert demo_store.review(form.review.id).goals == ()
