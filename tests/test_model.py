"""The domain model: records validate themselves, and the review state machine."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from conftest import SIGNED_AT, all_scores, build_review, goal
from rapportkit import model
from rapportkit.errors import ReviewStateError, ValidationError
from rapportkit.model import (
    GoalUpdate, Person, PersonRole, Rating, RaterRole, Review, ReviewStatus, Session,
)


def rating(rubric, role, scores, notes=None, rater=None):
    rater = rater or {"self": "sp-1"}.get(str(role), "sv-1")
    return Rating(rater, role, scores, notes or {}, rubric.id, rubric.version)


def session(**kw):
    values = dict(id="se-1", specialist_id="sp-1", date=dt.date(2026, 3, 8), modality="phone",
                  duration_min=45, source="recording", code="S-0142")
    values.update(kw)
    return Session(**values)


@pytest.fixture
def draft(rubric):
    return model.new_review(session(), "sv-1", rubric, review_date=dt.date(2026, 3, 10), review_id="rv-1")


# ----------------------------------------------------------------------------- draft → revealed


def test_new_review_starts_as_revision_1_draft_with_the_rubric_recorded(draft, rubric):
    assert draft.status is ReviewStatus.DRAFT
    assert draft.revision == 1
    assert (draft.rubric_id, draft.rubric_version) == (rubric.id, rubric.version)
    assert draft.self_rating is None and draft.supervisor_rating is None and draft.consensus is None
    assert draft.specialist_id == "sp-1"


def test_reveal_needs_both_ratings(draft, rubric):
    only_self = model.with_rating(draft, rating(rubric, "self", all_scores(rubric)), rubric)
    with pytest.raises(ReviewStateError, match="supervisor rating is not entered"):
        model.reveal(only_self, rubric)
    only_sup = model.with_rating(draft, rating(rubric, "supervisor", all_scores(rubric)), rubric)
    with pytest.raises(ReviewStateError, match="self rating is not entered"):
        model.reveal(only_sup, rubric)


def test_reveal_needs_complete_ratings_and_names_the_missing_practices(draft, rubric):
    partial = all_scores(rubric)
    del partial["empathy"], partial["boundaries"]
    review = model.with_rating(draft, rating(rubric, "self", partial), rubric)
    review = model.with_rating(review, rating(rubric, "supervisor", all_scores(rubric)), rubric)
    with pytest.raises(ReviewStateError) as err:
        model.reveal(review, rubric)
    assert "self rating has no score for empathy, boundaries" in str(err.value)
    assert review.status is ReviewStatus.DRAFT


def test_not_observed_counts_as_rated_for_reveal(draft, rubric):
    review = model.with_rating(draft, rating(rubric, "self", all_scores(rubric, boundaries=None)), rubric)
    review = model.with_rating(review, rating(rubric, "supervisor", all_scores(rubric, None)), rubric)
    revealed = model.reveal(review, rubric)
    assert revealed.status is ReviewStatus.REVEALED
    assert revealed.self_rating.scores["boundaries"] is None
    assert revealed.self_rating.missing(rubric) == []


def test_self_rating_must_be_by_the_specialist(draft, rubric):
    with pytest.raises(ValidationError, match="sp-1"):
        model.with_rating(draft, rating(rubric, "self", {}, rater="sp-2"), rubric)


def test_blind_ratings_cannot_change_after_reveal(make_review, rubric):
    revealed = make_review("revealed")
    with pytest.raises(ReviewStateError, match="revealed"):
        model.with_rating(revealed, rating(rubric, "self", all_scores(rubric, 2)), rubric)


def test_agreement_agenda_lists_gaps_of_two_or_more(make_review, rubric):
    review = make_review("revealed", self_scores=all_scores(rubric, 3, empathy=4, boundaries=1, consistency=2),
                         supervisor_scores=all_scores(rubric, 3, empathy=2, boundaries=3, consistency=3))
    assert model.agreement_agenda(review, rubric) == ["empathy", "boundaries"]


# ----------------------------------------------------------------------------- agree


def test_agree_needs_every_practice_scored_or_not_observed(make_review, rubric):
    revealed = make_review("revealed")
    incomplete = all_scores(rubric)
    del incomplete["consistency"]
    with pytest.raises(ReviewStateError, match="consensus has no score for consistency"):
        model.agree(revealed, rating(rubric, "consensus", incomplete), rubric)
    agreed = model.agree(revealed, rating(rubric, "consensus", all_scores(rubric, consistency=None),
                                          {"consistency": "Not seen in this recording."}), rubric)
    assert agreed.status is ReviewStatus.AGREED
    assert agreed.consensus.scores["consistency"] is None


def test_agree_needs_a_rationale_where_self_and_supervisor_differed(make_review, rubric):
    revealed = make_review("revealed", self_scores=all_scores(rubric, 3, empathy=4, boundaries=2),
                           supervisor_scores=all_scores(rubric, 3))
    bare = rating(rubric, "consensus", all_scores(rubric))
    with pytest.raises(ReviewStateError) as err:
        model.agree(revealed, bare, rubric)
    assert "empathy, boundaries" in str(err.value)
    half = rating(rubric, "consensus", all_scores(rubric), {"empathy": "Heard the replay."})
    with pytest.raises(ReviewStateError, match="boundaries"):
        model.agree(revealed, half, rubric)
    full = rating(rubric, "consensus", all_scores(rubric),
                  {"empathy": "Heard the replay.", "boundaries": "Agreed on the anchor."})
    agreed = model.agree(revealed, full, rubric)
    assert agreed.status is ReviewStatus.AGREED
    assert dict(agreed.consensus.notes) == {"boundaries": "Agreed on the anchor.", "empathy": "Heard the replay."}


def test_agree_is_refused_before_reveal(make_review, rubric):
    with pytest.raises(ReviewStateError, match="draft"):
        model.agree(make_review("draft"), rating(rubric, "consensus", all_scores(rubric)), rubric)


def test_agree_takes_only_a_consensus_rating(make_review, rubric):
    with pytest.raises(ValidationError, match="consensus"):
        model.agree(make_review("revealed"), rating(rubric, "supervisor", all_scores(rubric)), rubric)


def test_incomplete_consensus_entered_after_agreeing_returns_to_revealed(make_review, rubric):
    agreed = make_review("agreed")
    partial = rating(rubric, "consensus", {"empathy": 2})
    back = model.with_rating(agreed, partial, rubric)
    assert back.status is ReviewStatus.REVEALED
    with pytest.raises(ReviewStateError):
        model.sign(back, "specialist")


# ----------------------------------------------------------------------------- sign


def test_sign_needs_both_signatures(make_review):
    agreed = make_review("agreed")
    once = model.sign(agreed, PersonRole.SPECIALIST, at=SIGNED_AT)
    assert once.status is ReviewStatus.AGREED
    assert once.specialist_signed_at == SIGNED_AT and once.supervisor_signed_at is None
    again = model.sign(once, PersonRole.SPECIALIST, at=SIGNED_AT)
    assert again.status is ReviewStatus.AGREED
    both = model.sign(once, "supervisor", at=SIGNED_AT + dt.timedelta(minutes=1))
    assert both.status is ReviewStatus.SIGNED
    assert both.supervisor_signed_at == SIGNED_AT + dt.timedelta(minutes=1)


def test_sign_in_either_order(make_review):
    agreed = make_review("agreed")
    signed = model.sign(model.sign(agreed, "supervisor"), "specialist")
    assert signed.status is ReviewStatus.SIGNED
    assert signed.specialist_signed_at.tzinfo is not None


def test_sign_is_refused_before_agreement_and_for_a_lead(make_review):
    with pytest.raises(ReviewStateError, match="revealed"):
        model.sign(make_review("revealed"), "specialist")
    with pytest.raises(ReviewStateError, match="specialist and its supervisor"):
        model.sign(make_review("agreed"), PersonRole.LEAD)
    with pytest.raises(ValidationError, match="signer role"):
        model.sign(make_review("agreed"), "client")


def test_content_change_after_one_signature_clears_it(make_review, rubric):
    once = model.sign(make_review("agreed"), "specialist", at=SIGNED_AT)
    changed = model.with_details(once, rubric, traps={"dominating"})
    assert changed.specialist_signed_at is None and changed.supervisor_signed_at is None
    assert changed.traps == frozenset({"dominating"})
    reagreed = model.agree(model.sign(changed, "supervisor"), once.consensus, rubric)
    assert reagreed.supervisor_signed_at is None
    # signing again after the change still needs both
    assert model.sign(reagreed, "supervisor").status is ReviewStatus.AGREED


# ----------------------------------------------------------------------------- signed is final


def test_signed_review_cannot_be_edited(make_review, rubric):
    signed = make_review("signed")
    assert signed.status is ReviewStatus.SIGNED
    attempts = [
        lambda: model.with_rating(signed, rating(rubric, "consensus", all_scores(rubric, 2)), rubric),
        lambda: model.with_rating(signed, rating(rubric, "self", all_scores(rubric, 2)), rubric),
        lambda: model.agree(signed, rating(rubric, "consensus", all_scores(rubric, 2)), rubric),
        lambda: model.with_details(signed, rubric, traps={"judgement"}),
        lambda: model.with_details(signed, rubric, goals=[goal("g-9")]),
        lambda: model.sign(signed, "supervisor"),
        lambda: model.reveal(signed, rubric),
    ]
    for attempt in attempts:
        with pytest.raises(ReviewStateError, match="signed and cannot be changed"):
            attempt()


def test_records_are_frozen(make_review):
    signed = make_review("signed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        signed.status = ReviewStatus.DRAFT  # type: ignore[misc]
    with pytest.raises(TypeError):
        signed.consensus.scores["empathy"] = 1  # type: ignore[index]


# ----------------------------------------------------------------------------- amend


def test_amend_needs_a_reason(make_review):
    signed = make_review("signed")
    for reason in ("", "   ", None):
        with pytest.raises(ValidationError, match="'reason' must not be empty"):
            model.amend(signed, reason)
    with pytest.raises(ValidationError, match="reason"):
        model.amend(signed, "x" * 501)


def test_amend_opens_a_new_revision_with_signatures_cleared(make_review, rubric):
    signed = make_review("signed")
    amended = model.amend(signed, "  Consensus for empathy was typed wrongly.  ")
    assert amended.revision == signed.revision + 1 == 2
    assert amended.status is ReviewStatus.AMENDED
    assert amended.specialist_signed_at is None and amended.supervisor_signed_at is None
    assert amended.amend_reason == "Consensus for empathy was typed wrongly."
    assert amended.consensus == signed.consensus and amended.id == signed.id
    # the signed value itself is untouched
    assert signed.status is ReviewStatus.SIGNED and signed.revision == 1

    edited = model.agree(amended, signed.consensus.with_score("empathy", 4, "Replayed it."), rubric)
    assert edited.status is ReviewStatus.AMENDED
    once = model.sign(edited, "specialist")
    assert once.status is ReviewStatus.AMENDED
    resigned = model.sign(once, "supervisor")
    assert resigned.status is ReviewStatus.SIGNED and resigned.revision == 2
    assert resigned.consensus.scores["empathy"] == 4


def test_only_a_signed_review_is_amended(make_review):
    for stage in ("draft", "revealed", "agreed"):
        with pytest.raises(ReviewStateError, match="only a signed review is amended"):
            model.amend(make_review(stage), "because")


def test_amendment_cannot_be_signed_with_an_incomplete_consensus(make_review, rubric):
    amended = model.amend(make_review("signed"), "Fix a score.")
    with pytest.raises(ReviewStateError, match="consensus has no score for active_listening"):
        partial = model.with_rating(amended, rating(rubric, "consensus", {"empathy": 2}), rubric)
        model.sign(model.sign(partial, "specialist"), "supervisor")


def test_consensus_swapped_in_after_agreeing_still_needs_its_rationale(make_review, rubric):
    agreed = make_review("agreed", self_scores=all_scores(rubric, 3, empathy=4))
    bare = rating(rubric, "consensus", all_scores(rubric))  # no rationale for empathy
    swapped = model.with_rating(agreed, bare, rubric)
    assert swapped.status is ReviewStatus.REVEALED  # no longer agreed: it is agreed again, with the rationale
    with pytest.raises(ReviewStateError, match="this step needs it agreed or amended"):
        model.sign(model.sign(swapped, "specialist"), "supervisor")
    with pytest.raises(ReviewStateError, match="rationale for empathy"):
        model.agree(swapped, bare, rubric)


# ----------------------------------------------------------------------------- validation messages


def test_score_out_of_range_names_field_value_and_practice(rubric):
    with pytest.raises(ValidationError) as err:
        rating(rubric, "self", {"empathy": 7})
    message = str(err.value)
    assert "'score'" in message and "7" in message and "empathy" in message


@pytest.mark.parametrize("bad", [0, 5, -1, True, "3", 2.5])
def test_scores_must_be_whole_numbers_1_to_4(rubric, bad):
    with pytest.raises(ValidationError, match="'score' must be 1–4"):
        rating(rubric, "supervisor", {"active_listening": bad})


def test_unknown_practice_is_named_with_a_suggestion(draft, rubric):
    bad = rating(rubric, "self", {"empathyy": 3})
    with pytest.raises(ValidationError) as err:
        model.with_rating(draft, bad, rubric)
    assert "'practice'" in str(err.value) and "'empathyy'" in str(err.value)
    with pytest.raises(ValidationError, match="did you mean 'empathy'"):
        rubric.practice("empathyy")


def test_unknown_trap_and_goal_practice_are_named(make_review, rubric):
    review = make_review("revealed")
    with pytest.raises(ValidationError, match="'trap'.*'bullying'"):
        model.with_details(review, rubric, traps={"bullying"})
    with pytest.raises(ValidationError, match="goal practice.*'empathyy'"):
        model.with_details(review, rubric, goals=[goal("g-1", "empathyy")])


def test_duration_zero_is_refused_with_field_and_value():
    with pytest.raises(ValidationError) as err:
        session(duration_min=0)
    assert "'duration_min'" in str(err.value) and "(got 0)" in str(err.value)
    for bad in (4, 481, 30.0, True):
        with pytest.raises(ValidationError, match="duration_min"):
            session(duration_min=bad)
    assert session(duration_min=5).duration_min == 5 and session(duration_min=480).duration_min == 480


@pytest.mark.parametrize("name", ["Maria", "maria-lopez", "Jo", "M"])
def test_session_code_that_is_a_name_is_refused(name):
    with pytest.raises(ValidationError) as err:
        session(code=name)
    assert "'code'" in str(err.value) and repr(name) in str(err.value)
    assert "never a client's name" in str(err.value)


def test_opaque_session_codes_are_accepted_and_empty_means_none():
    assert session(code="S-0142").code == "S-0142"
    assert session(code="A7").code == "A7" and session(code="2024-0007").code == "2024-0007"
    assert session(code="").code is None and session(code=None).code is None


def test_note_over_1000_characters_is_refused(rubric):
    assert rating(rubric, "self", {}, {"empathy": "x" * 1000}).notes["empathy"] == "x" * 1000
    with pytest.raises(ValidationError) as err:
        rating(rubric, "self", {}, {"empathy": "x" * 1001})
    assert "'note for empathy'" in str(err.value) and "1,001 characters" in str(err.value)
    assert "1,000" in str(err.value)


@pytest.mark.parametrize("bad", ["bell\x07", "nul\x00here", "esc\x1b[31m", "del\x7f", "ff\x0c"])
def test_control_characters_are_refused(rubric, bad):
    with pytest.raises(ValidationError) as err:
        rating(rubric, "self", {}, {"boundaries": f"Note {bad} end"})
    assert "'note for boundaries'" in str(err.value) and "control characters" in str(err.value)


def test_tabs_and_newlines_are_kept_and_text_is_stripped(rubric):
    r = rating(rubric, "self", {}, {"empathy": "  line one\n\tline two  ", "boundaries": "   "})
    assert dict(r.notes) == {"empathy": "line one\n\tline two"}


def test_other_record_checks_name_the_field():
    with pytest.raises(ValidationError, match="'modality'.*'carrier pigeon'"):
        session(modality="carrier pigeon")
    with pytest.raises(ValidationError, match="session date.*1999-12-31"):
        session(date=dt.date(1999, 12, 31))
    with pytest.raises(ValidationError, match="session date.*'31/12/2025'"):
        session(date="31/12/2025")
    with pytest.raises(ValidationError, match="'id'.*'has space'"):
        Person("has space", "Someone", "specialist")
    with pytest.raises(ValidationError, match="'display_name' must not be empty"):
        Person("sp-9", "  ", "specialist")
    with pytest.raises(ValidationError, match="'role'.*'boss'"):
        Person("sp-9", "Someone", "boss")
    with pytest.raises(ValidationError, match="'target' must be 1–4"):
        goal("g-1", target=5)
    with pytest.raises(ValidationError, match="goal text"):
        goal("g-1", text="")
    with pytest.raises(ValidationError, match="goal status.*'finished'"):
        GoalUpdate("g-1", "finished")


def test_a_review_sets_at_most_three_unique_goals(make_review, rubric):
    review = make_review("revealed")
    with pytest.raises(ValidationError, match="at most 3 goals"):
        model.with_details(review, rubric, goals=[goal(f"g-{i}") for i in range(4)])
    with pytest.raises(ValidationError, match="unique"):
        model.with_details(review, rubric, goals=[goal("g-1"), goal("g-1", "boundaries")])


def test_rating_must_sit_in_its_slot(draft, rubric):
    with pytest.raises(ValidationError, match="'self_rating' must be a self rating"):
        dataclasses.replace(draft, self_rating=rating(rubric, "supervisor", {}))


def test_rating_made_with_another_rubric_version_is_refused(draft, rubric):
    old = Rating("sp-1", "self", {}, {}, rubric.id, "0.9")
    with pytest.raises(ValidationError, match="0.9"):
        model.with_rating(draft, old, rubric)


# ----------------------------------------------------------------------------- serialising


def full_review(rubric):
    signed = build_review(
        rubric, review_id="rv-full", self_scores=all_scores(rubric, 3, empathy=4, boundaries=None),
        supervisor_scores=all_scores(rubric, 3, empathy=2, boundaries=None),
        self_notes={"empathy": 'Said "that makes sense" — <b>twice</b> ✓'},
        supervisor_notes={"active_listening": "Paraphrased; let a pause sit."},
        traps={"dominating", "less_follow_up"},
        goals=[goal("g-2", "empathy", "2026-04-01", target=4), goal("g-1", "consistency", "2026-05-01")],
    )
    return model.amend(signed, "Goal follow-up date was wrong.")


def test_to_dict_from_dict_round_trip(rubric):
    review = full_review(rubric)
    data = review.to_dict()
    assert data["status"] == "amended" and data["revision"] == 2
    assert data["traps"] == ["dominating", "less_follow_up"]
    assert data["goals"][0]["follow_up"] == "2026-04-01"
    assert Review.from_dict(data) == review
    # JSON-ready: survives a trip through text
    assert Review.from_dict(json.loads(json.dumps(data))) == review


def test_round_trip_keeps_signature_times_and_not_observed(rubric):
    review = build_review(rubric, self_scores=all_scores(rubric, 2, empathy=None),
                          supervisor_scores=all_scores(rubric, 2, empathy=None))
    back = Review.from_dict(json.loads(json.dumps(review.to_dict())))
    assert back == review
    assert back.specialist_signed_at == SIGNED_AT and back.specialist_signed_at.tzinfo is not None
    assert back.consensus.scores["empathy"] is None and "empathy" in back.consensus.scores


def test_from_dict_rejects_what_is_not_a_review(rubric):
    with pytest.raises(ValidationError, match="not a review record"):
        Review.from_dict({"id": "rv-1"})
    data = full_review(rubric).to_dict()
    data["self_rating"]["scores"]["empathy"] = 9
    with pytest.raises(ValidationError, match="'score'.*9"):
        Review.from_dict(data)


def test_a_review_gives_one_verdict_per_earlier_goal(rubric):
    import dataclasses

    from rapportkit.errors import ValidationError
    from rapportkit.model import GoalUpdate

    review = build_review(rubric, stage="draft")
    with pytest.raises(ValidationError, match="one verdict per earlier goal"):
        dataclasses.replace(review, goal_updates=(GoalUpdate("go-1", "met"), GoalUpdate("go-1", "carried")))
