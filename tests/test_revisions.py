"""The readable difference between revisions of a review (``rapportkit.revisions``):
each kind of change, both directions, nothing for no change, and the history of a
review with who signed each revision, when and why it was opened."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest

from conftest import SIGNED_AT, all_scores, goal
from rapportkit import model
from rapportkit.errors import ValidationError
from rapportkit.model import GoalUpdate, PersonRole, ReviewStatus, Signature
from rapportkit.revisions import EMPTY, NOT_RATED, Change, Signer, changes, revision_notes

EMPATHY = "Demonstrating empathy"
REASON = "The empathy consensus was entered as 3; we agreed 2."
LATER = dt.datetime(2026, 3, 20, 9, 15, tzinfo=dt.timezone.utc)


@pytest.fixture
def signed(make_review, rubric):
    """A signed review: self and supervisor 3 everywhere, the consensus the same; one goal, one verdict."""
    return make_review("signed", review_id="rv-diff", specialist="sp-1", supervisor="sv-1",
                       goals=[goal("g-new", "empathy", follow_up=dt.date(2026, 4, 10), text="Name the feeling",
                                   actions="Twice a session")],
                       goal_updates=[])


def corrected(review, rubric, *, reason=REASON, **edits):
    """``review`` amended with ``reason`` and changed through the model's own steps."""
    amended = model.amend(review, reason)
    consensus = amended.consensus
    for practice, (score, note) in edits.pop("consensus", {}).items():
        consensus = consensus.with_score(practice, score, note)
    if consensus != amended.consensus:
        amended = model.agree(amended, consensus, rubric)
    if edits:
        amended = model.with_details(amended, rubric, **edits)
    return amended


def signed_again(review):
    review = model.sign(review, PersonRole.SPECIALIST, at=LATER)
    return model.sign(review, PersonRole.SUPERVISOR, at=LATER + dt.timedelta(minutes=2))


# ============================================================================ changes()


def test_no_change_is_no_difference(signed, rubric):
    assert changes(signed, signed, rubric) == []
    # opening an amendment changes revision, status, reason and signatures: none of them content
    assert changes(signed, model.amend(signed, REASON), rubric) == []


def test_a_consensus_score_and_its_rationale_read_old_to_new(signed, rubric):
    after = corrected(signed, rubric, consensus={"empathy": (2, "Re-watched the recording together.")})
    assert changes(signed, after, rubric) == [
        Change(EMPATHY, "consensus score", "3", "2"),
        Change(EMPATHY, "consensus rationale", EMPTY, "Re-watched the recording together."),
    ]
    assert [c.line() for c in changes(signed, after, rubric)] == [
        f"{EMPATHY} · consensus score: 3 → 2",
        f"{EMPATHY} · consensus rationale: (none) → Re-watched the recording together.",
    ]


def test_the_other_direction_swaps_old_and_new(signed, rubric):
    after = corrected(signed, rubric, consensus={"empathy": (2, "Re-watched it."), "boundaries": (None, "Not seen.")})
    forward, backward = changes(signed, after, rubric), changes(after, signed, rubric)
    assert backward == [Change(c.practice, c.what, c.new, c.old) for c in forward]
    assert len(forward) == 4


def test_not_observed_and_not_rated_are_named(signed, rubric):
    after = corrected(signed, rubric, consensus={"boundaries": (None, "Not seen in this session.")})
    assert changes(signed, after, rubric)[0] == Change("Establishing boundaries", "consensus score", "3", "Not observed")
    draft = model.new_review(signed.session, "sv-1", rubric, review_date=signed.review_date, review_id=signed.id)
    rated = model.with_rating(draft, model.Rating("sv-1", "supervisor", {"empathy": 2}, {}, rubric.id,
                                                  rubric.version), rubric)
    assert changes(draft, rated, rubric) == [Change(EMPATHY, "supervisor's score", NOT_RATED, "2")]


def test_only_a_rationale_changed(make_review, rubric):
    moved = make_review("signed", review_id="rv-moved", supervisor_scores=all_scores(rubric, empathy=2))
    after = corrected(moved, rubric, consensus={"empathy": (2, "Clearer now: the feeling was never named.")})
    assert changes(moved, after, rubric) == [
        Change(EMPATHY, "consensus rationale", "Agreed after talking it through.",
               "Clearer now: the feeling was never named.")]


def test_blind_ratings_and_their_notes_are_compared_too(make_review, rubric):
    revealed = make_review("revealed", review_id="rv-blind")
    other = dataclasses.replace(revealed,
                                self_rating=revealed.self_rating.with_score("active_listening", 4, "Reflected."))
    assert changes(revealed, other, rubric) == [
        Change("Active listening", "self-rating score", "3", "4"),
        Change("Active listening", "self-rating note", EMPTY, "Reflected.")]


def test_a_trap_ticked_or_cleared(signed, rubric):
    after = corrected(signed, rubric, traps=["power_struggle"])
    assert changes(signed, after, rubric) == [
        Change("", "trap “Turning support into a power struggle”", "not ticked", "ticked")]
    assert changes(after, signed, rubric)[0].line() == (
        "trap “Turning support into a power struggle”: ticked → not ticked")


def test_goal_fields_added_and_removed(signed, rubric):
    old = signed.goals[0]
    moved = dataclasses.replace(old, follow_up=dt.date(2026, 5, 1), actions="Once a session", text="Name it")
    extra = goal("g-two", "boundaries", follow_up=dt.date(2026, 4, 20), text="Say when the call ends",
                 actions="")
    after = corrected(signed, rubric, goals=[moved, extra])
    assert changes(signed, after, rubric) == [
        Change(EMPATHY, "goal text", "Name the feeling", "Name it"),
        Change(EMPATHY, "goal “Name it” actions", "Twice a session", "Once a session"),
        Change(EMPATHY, "goal “Name it” follow-up date", "2026-04-10", "2026-05-01"),
        Change("Establishing boundaries", "goal", EMPTY,
               "“Say when the call ends”, actions: (none), follow up by 2026-04-20"),
    ]
    removed = changes(after, signed, rubric)[-1]
    assert (removed.what, removed.new) == ("goal", EMPTY) and removed.old.startswith("“Say when the call ends”")


def test_a_goal_moved_to_another_practice_or_target(signed, rubric):
    other = dataclasses.replace(signed.goals[0], practice_id="consistency", target=4)
    after = corrected(signed, rubric, goals=[other])
    assert changes(signed, after, rubric) == [
        Change("Consistency and reliability (follow-through, follow-up)", "goal “Name the feeling” practice",
               EMPATHY, "Consistency and reliability (follow-through, follow-up)"),
        Change("Consistency and reliability (follow-through, follow-up)", "goal “Name the feeling” target level",
               "3", "4")]


def test_a_verdict_on_an_earlier_goal_named_by_its_text(signed, rubric):
    before = dataclasses.replace(signed, goal_updates=(GoalUpdate("g-old", "carried", ""),))
    after = dataclasses.replace(signed, goal_updates=(GoalUpdate("g-old", "met", "Did it every time."),))
    assert changes(before, after, rubric, earlier={"g-old": "Reflect back"}) == [
        Change("", "verdict on earlier goal “Reflect back”", "carried", "met"),
        Change("", "note on earlier goal “Reflect back”", EMPTY, "Did it every time.")]
    assert changes(before, after, rubric)[0].what == "verdict on earlier goal g-old"


def test_the_review_date_and_supervisor(signed, rubric):
    after = dataclasses.replace(signed, review_date=dt.date(2026, 3, 11), supervisor_id="sv-2")
    assert changes(signed, after, rubric)[:2] == [Change("", "review date", "2026-03-10", "2026-03-11"),
                                                  Change("", "supervisor", "sv-1", "sv-2")]


def test_the_meeting_length_and_kind(signed, rubric):
    if "meeting_minutes" not in {f.name for f in dataclasses.fields(signed)}:
        pytest.skip("this model does not record the meeting's length and kind yet")
    after = dataclasses.replace(signed, meeting_minutes=45, meeting_kind="group")
    assert changes(signed, after, rubric) == [Change("", "meeting length", EMPTY, "45 min"),
                                              Change("", "meeting kind", EMPTY, "group")]


def test_two_different_reviews_are_not_compared(signed, make_review, rubric):
    with pytest.raises(ValidationError, match="'after' must be a revision of review rv-diff"):
        changes(signed, make_review("signed", review_id="rv-other"), rubric)


# ============================================================================ revision_notes()


def test_the_history_says_what_changed_who_signed_when_and_why(signed, rubric):
    second = signed_again(corrected(signed, rubric, consensus={"empathy": (2, "Re-watched it.")}))
    names = {"sp-1": "Tansy Millwheel", "sv-1": "Wren Hollowbrook"}
    first, then = revision_notes([second, signed], rubric, names=names)  # any order in, oldest first out
    assert (first.revision, first.status, first.reason, first.changes) == (1, ReviewStatus.SIGNED, None, ())
    assert first.heading() == "Revision 1 · signed · the original record"
    assert first.signers == (Signer("Tansy Millwheel", "specialist", SIGNED_AT),
                             Signer("Wren Hollowbrook", "supervisor", SIGNED_AT + dt.timedelta(minutes=5)))
    assert then.heading() == f"Revision 2 · signed · why: {REASON}"
    assert [c.line() for c in then.changes] == [f"{EMPATHY} · consensus score: 3 → 2",
                                                f"{EMPATHY} · consensus rationale: (none) → Re-watched it."]
    assert then.who() == ("signed by Tansy Millwheel (specialist), 20 Mar 2026 09:15 UTC; "
                          "Wren Hollowbrook (supervisor), 20 Mar 2026 09:17 UTC")


def test_an_amendment_in_progress_is_not_signed_yet(signed, rubric):
    opened = model.amend(signed, REASON)
    note = revision_notes([signed, opened], rubric)[1]
    assert note.status is ReviewStatus.AMENDED and note.signers == () and note.changes == ()
    assert note.who() == "not signed yet"
    saved = {2: SimpleNamespace(saved_by="sv-1", saved_at="2026-03-20T09:00:00+00:00")}
    assert revision_notes([signed, opened], rubric, saved=saved)[1].who() == (
        "last saved by sv-1 on 20 Mar 2026 09:00 UTC · not signed yet")


def test_the_signatures_the_store_keeps_are_used_when_given(signed, rubric):
    given = [Signature("rv-diff", 1, PersonRole.SUPERVISOR, "sv-1", "Wren Hollowbrook", LATER, model.MEANING,
                       "signed", "wren"),
             Signature("rv-diff", 1, PersonRole.SPECIALIST, "sp-1", "Tansy Millwheel", LATER, model.MEANING, "local")]
    note = revision_notes([signed], rubric, signatures={1: given})[0]
    assert [s.line() for s in note.signers] == [
        "Tansy Millwheel (specialist), 20 Mar 2026 09:15 UTC (recorded on this computer, not verified)",
        "Wren Hollowbrook (supervisor), 20 Mar 2026 09:15 UTC (signed in the team database by login wren)"]


def test_a_history_of_two_reviews_or_a_repeated_revision_is_refused(signed, make_review, rubric):
    with pytest.raises(ValidationError, match="revisions of one review"):
        revision_notes([signed, make_review("signed", review_id="rv-other")], rubric)
    with pytest.raises(ValidationError, match="each revision once"):
        revision_notes([signed, signed], rubric)
