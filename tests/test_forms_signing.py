"""Records waiting for my signature (``rapportkit.ui.SignatureList``), driven without a
browser the way a person would: choose a record, read it, sign.

Tests taking ``store`` or ``demo_store`` run on SQLite and on PostgreSQL. On PostgreSQL
each person works in a Store of their own connected as their own login (``as_person``),
so the database knows who signs; on SQLite the same code is another Store on the file,
and the form asks who is signing. The PostgreSQL-only tests at the end use a team with
logins, as ``test_team_store.py`` does: nobody can sign for anybody else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import psycopg
import pytest

from conftest import SIGNED_AT, all_scores, goal, new_pg_database, reopen
from form_helpers import TODAY, fill_goal, rate, record_session
from rapportkit import model
from rapportkit.model import MEANING, Person, PersonRole, ReviewStatus
from rapportkit.store import Store
from rapportkit.ui import MeetingForm, SelfRatingForm, SignatureList

MARKUP = "<script>window.__x=1</script><b>bold</b>"


def login_of(person_id: str) -> str:
    return "pt_sg_" + person_id.replace("-", "")


def as_person(store: Store, person_id: str) -> Store:
    """``person_id``'s own kernel: on PostgreSQL a Store connected as their own login (given
    them here by the installer), on SQLite another Store on the file acting as them."""
    if not store.team:
        return reopen(store, actor=person_id)
    if store.person(person_id).login != login_of(person_id):
        store.change_person(person_id, login=login_of(person_id), reason="a login for the test")
    return Store(store.url.replace("user=postgres", f"user={login_of(person_id)}"), rubric=store.rubric)


def signatures_for(store: Store, person_id: str) -> SignatureList:
    """The person's list: on SQLite they choose themselves, on PostgreSQL the database knows them."""
    form = SignatureList(store)
    if not store.team:
        form.who.value = person_id
    return form


def choose(form: SignatureList, review_id: str) -> None:
    assert review_id in [v for _, v in form.choice.options], (review_id, form.choice.options)
    form.choice.value = review_id
    assert form.review is not None and form.review.id == review_id


def listed(form: SignatureList) -> list[str]:
    return [v for _, v in form.choice.options]


@pytest.fixture
def records(store, make_review, rubric):
    """Agreed, half-signed, revealed and signed reviews of the small team, saved by the installer."""
    reviews = {
        "a": make_review("agreed", review_id="rv-sg-a", specialist="sp-1", supervisor="sv-1",
                         self_notes={"empathy": MARKUP}, goals=[goal("g-sg-a", text=f"Name it {MARKUP}")],
                         supervisor_scores=all_scores(rubric, empathy=2)),
        "b": model.sign(make_review("agreed", review_id="rv-sg-b", specialist="sp-1", supervisor="sv-1"),
                        PersonRole.SPECIALIST, at=SIGNED_AT),
        "c": make_review("agreed", review_id="rv-sg-c", specialist="sp-2", supervisor="sv-1"),
        "d": make_review("agreed", review_id="rv-sg-d", specialist="sp-3", supervisor="sv-2"),
        "e": make_review("revealed", review_id="rv-sg-e", specialist="sp-1", supervisor="sv-1"),
        "f": make_review("signed", review_id="rv-sg-f", specialist="sp-1", supervisor="sv-1"),
    }
    store.save_many(reviews=reviews.values())
    return reviews


# ============================================================================ both backends


def test_each_person_sees_only_what_waits_for_their_own_signature(store, records):
    expected = {"sp-1": ["rv-sg-a"], "sp-2": ["rv-sg-c"], "sp-3": ["rv-sg-d"],
                "sv-1": ["rv-sg-a", "rv-sg-b", "rv-sg-c"], "sv-2": ["rv-sg-d"]}
    for person, ids in expected.items():
        with as_person(store, person) as mine:
            form = signatures_for(mine, person)
            assert sorted(listed(form)) == ids, person
            n = len(ids)
            assert f"{n} record{'s' if n > 1 else ''} wait" in form.count.value
            assert form.sign_button.disabled  # nothing chosen yet


def test_the_store_finds_what_waits_for_each_signature_in_one_query(store, records):
    """``Store.awaiting_signature``: agreed or amended, that person's signature missing,
    whether they are the specialist or the supervisor; signed and revealed never."""
    store.save_review(model.amend(records["f"], "a score was typed in the wrong row"))
    expected = {"sp-1": ["rv-sg-a", "rv-sg-f"], "sp-2": ["rv-sg-c"], "sp-3": ["rv-sg-d"],
                "sv-1": ["rv-sg-a", "rv-sg-b", "rv-sg-c", "rv-sg-f"], "sv-2": ["rv-sg-d"], "sv-9": []}
    assert {p: sorted(store.awaiting_signature(p)) for p in expected} == expected
    assert store.review("rv-sg-f").status is ReviewStatus.AMENDED
    with as_person(store, "sp-1") as mine:  # the amended revision is listed to sign again
        assert sorted(listed(signatures_for(mine, "sp-1"))) == ["rv-sg-a", "rv-sg-f"]


def test_choosing_a_record_shows_its_content_and_the_meaning_then_signing_records_it(store, records, rubric):
    with as_person(store, "sp-1") as mine:
        form = signatures_for(mine, "sp-1")
        choose(form, "rv-sg-a")
        shown = form.record.value
        assert "Supervision record · agreed" in shown and "review rv-sg-a revision 1" in shown
        assert "Demonstrating empathy" in shown and "rk-reveal" in shown  # consensus and both blind ratings
        assert "Tansy Millwheel: not signed yet" in shown and "Wren Hollowbrook: not signed yet" in shown
        # whatever anyone typed is text, never markup
        assert MARKUP not in shown and "&lt;script&gt;window.__x=1&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in shown
        assert MEANING in form.meaning.value and "specialist" in form.meaning.value
        if store.team:
            assert f"records your login (<b>{login_of('sp-1')}</b>)" in form.meaning.value
        else:
            assert "recorded on this computer, not verified" in form.meaning.value
        assert not form.sign_button.disabled and form.sign_button.description == "Sign as the specialist"

        form.sign_button.click()
        assert form.status.kind == "ok", form.status.message
        assert form.status.message == "Signed as the specialist. Now the supervisor signs."
        assert listed(form) == [] and form.sign_button.disabled
        assert form.choice.layout.display == "none"  # no empty box; the count says nothing waits
        assert "Nothing is waiting for your signature." in form.count.value
        how = (f"signed in the team database by login {login_of('sp-1')}" if store.team
               else "recorded on this computer, not verified")
        assert f"Tansy Millwheel (specialist)" in form.signed.value and how in form.signed.value
        assert MEANING in form.signed.value
        assert "Tansy Millwheel (specialist)" in form.record.value  # the record on screen shows it too

    with as_person(store, "sv-1") as theirs:
        form = signatures_for(theirs, "sv-1")
        assert sorted(listed(form)) == ["rv-sg-a", "rv-sg-b", "rv-sg-c"]
        choose(form, "rv-sg-a")
        assert "Tansy Millwheel (specialist)" in form.record.value  # the specialist's signature, as kept
        form.sign_button.click()
        assert form.status.message == "Signed as the supervisor. Both have signed: the record is final.", \
            form.status.message
        assert "Supervision record · signed" in form.record.value

    final = store.review("rv-sg-a")
    assert final.status is ReviewStatus.SIGNED
    given = store.signatures("rv-sg-a")
    assert [(s.role, s.person_id, s.meaning) for s in given] == [
        (PersonRole.SPECIALIST, "sp-1", MEANING), (PersonRole.SUPERVISOR, "sv-1", MEANING)]
    if store.team:
        assert [(s.kind, s.signer_login) for s in given] == [("signed", login_of("sp-1")), ("signed", login_of("sv-1"))]
        assert all(s.content_sha256 == model.content_digest(final) for s in given)
        actors = [e.actor for e in store.audit_log("review", "rv-sg-a#1")]
        assert actors[-2:] == [login_of("sp-1"), login_of("sv-1")]
    else:
        assert {s.kind for s in given} == {"local"}
        assert [e.actor for e in store.audit_log("review", "rv-sg-a#1")][-2:] == ["sp-1", "sv-1"]


def test_a_record_changed_after_it_was_listed_is_refused_and_shown_again(store, records, rubric):
    with as_person(store, "sp-1") as mine, as_person(store, "sv-1") as theirs:
        form = signatures_for(mine, "sp-1")
        choose(form, "rv-sg-a")
        assert "none</li>" in form.record.value.split("Traps observed")[1][:40]
        # the supervisor adds a trap in their own kernel after the list was made
        changed = model.with_details(theirs.review("rv-sg-a"), rubric, traps=[rubric.trap_ids[0]])
        theirs.save_review(changed)
        mine.reviews()  # anything else in the kernel reading the record does not make the old copy current
        form.sign_button.click()
        who = login_of("sv-1") if store.team else "sv-1"
        assert form.status.kind == "error"
        assert form.status.message.startswith(f"Not signed: review rv-sg-a (revision 1) was changed by {who} at ")
        assert "Nothing was signed. It is shown below as it is saved now: read it again, and sign if you agree." \
            in form.status.message
        assert mine.signatures("rv-sg-a") == [] and store.review("rv-sg-a").specialist_signed_at is None
        trap = rubric.trap(rubric.trap_ids[0]).title
        assert trap in form.record.value  # what is on screen now is the record as saved
        form.sign_button.click()  # having read it: signs what is shown
        assert form.status.kind == "ok", form.status.message
    signed = store.review("rv-sg-a")
    assert signed.specialist_signed_at is not None and signed.traps == {rubric.trap_ids[0]}


def test_a_record_signed_meanwhile_by_the_other_is_still_signed_once_read_again(store, records):
    """The supervisor signs after the specialist's list was made: a change all the same, so
    the specialist's click is refused once, then the record (now half signed) is signed."""
    with as_person(store, "sp-1") as mine, as_person(store, "sv-1") as theirs:
        form = signatures_for(mine, "sp-1")
        choose(form, "rv-sg-a")
        theirs.save_review(model.sign(theirs.review("rv-sg-a"), PersonRole.SUPERVISOR))
        form.sign_button.click()
        assert form.status.kind == "error" and "Nothing was signed" in form.status.message
        assert "Wren Hollowbrook (supervisor)" in form.record.value
        form.sign_button.click()
        assert form.status.message == "Signed as the specialist. Both have signed: the record is final."
    assert store.review("rv-sg-a").status is ReviewStatus.SIGNED


def test_the_meeting_then_each_signs_from_their_own_kernel(demo_store):
    """The specialist self-rates; the supervisor's meeting reveals, agrees, sets a goal; the
    specialist signs from their list; the supervisor's meeting sees that signature appear
    (after a reload: its copy is older) and the supervisor signs there."""
    with as_person(demo_store, "sp-01") as spec, as_person(demo_store, "sv-01") as sup:
        own = SelfRatingForm(spec, today=TODAY)
        session = record_session(own, "sp-01")
        rate(own.panel, scores={"empathy": "2"})
        own.save_button.click()
        assert own.status.kind == "ok", own.status.message
        assert listed(signatures_for(spec, "sp-01")) == []  # nothing to sign before the meeting

        meeting = MeetingForm(sup, session=session.id, today=TODAY)
        meeting.load_saved.click()
        rate(meeting.supervisor_panel, "3")
        meeting.reveal_button.click()
        assert meeting.status.kind == "ok" and "Revealed" in meeting.status.message, meeting.status.message
        for row in meeting.consensus_panel.rows.values():
            row.score.value, row.note.value = "3", "Agreed together."
        meeting.agree_button.click()
        assert meeting.status.kind == "ok", meeting.status.message
        for status, note in meeting.goals.verdicts.values():
            status.value, note.value = "met", "Done."
        fill_goal(meeting, 1, "empathy", "Name the feeling behind the words", "Twice a session",
                  TODAY + dt.timedelta(days=28))
        meeting.details_button.click()
        assert meeting.status.kind == "ok", meeting.status.message
        review_id = meeting.review.id

        form = signatures_for(spec, "sp-01")
        assert listed(form) == [review_id]
        choose(form, review_id)
        assert "Name the feeling behind the words" in form.record.value
        form.sign_button.click()
        assert form.status.message == "Signed as the specialist. Now the supervisor signs.", form.status.message

        how = (f"signed in the team database by login {login_of('sp-01')}" if demo_store.team
               else "recorded on this computer, not verified")
        meeting.sign_supervisor.click()  # the meeting holds the record from before the specialist signed
        assert meeting.status.kind == "error" and "changed by" in meeting.status.message, meeting.status.message
        meeting.reload_button.click()
        assert how in meeting.signatures.value  # the specialist's signature, as the store keeps it
        meeting.sign_supervisor.click()
        assert "Signed by both" in meeting.status.message, meeting.status.message
        assert "Supervision record · signed" in meeting.summary.value
    assert demo_store.review(review_id).status is ReviewStatus.SIGNED


@pytest.mark.sqlite_only
def test_on_one_computer_you_choose_who_signs_and_are_told_it_is_not_verified(store, records):
    form = SignatureList(store)
    assert "recorded on this computer, not verified" in form.intro.value
    assert form.who.layout.display == "flex" and form.who.value == ""
    assert listed(form) == [] and "Choose who you are" in form.count.value and form.sign_button.disabled
    assert [label for label, _ in form.who.options][1:] == [
        "Corvin Bracken (specialist)", "Odile Fernsby (specialist)", "Perrin Ashgrove (supervisor)",
        "Tansy Millwheel (specialist)", "Wren Hollowbrook (supervisor)"]
    form.who.value = "sv-2"
    assert listed(form) == ["rv-sg-d"]
    form.who.value = "sp-1"
    assert listed(form) == ["rv-sg-a"] and form.review is None
    # the actor (``$RAPPORTKIT_USER``) is preselected when it is someone who signs
    with reopen(store, actor="sv-1") as theirs:
        assert SignatureList(theirs).who.value == "sv-1"
    form.sign_button.click()  # nothing chosen: a sentence, nothing signed
    assert form.status.kind == "error" and "choose a record from the list first" in form.status.message


def test_a_read_only_store_signs_nothing(store, records):
    path = store.url or store.path
    with Store(path, readonly=True, rubric=store.rubric) as ro:
        form = SignatureList(ro, signer="sp-1")
        if ro.team:
            assert "nobody on the team's roster" in form.intro.value  # the installer
        else:
            choose(form, "rv-sg-a")
        assert form.sign_button.disabled and form.status.kind == "warning"
        form.sign_button.click()
        assert store.review("rv-sg-a").specialist_signed_at is None


# ============================================================================ PostgreSQL, with real logins

TEAM = (
    Person("sv-a", "Wren Hollowbrook", "supervisor", login="pt_sva"),
    Person("sv-b", "Perrin Ashgrove", "supervisor", login="pt_svb"),
    Person("sp-a", "Tansy Millwheel", "specialist", "sv-a", login="pt_spa"),
    Person("sp-b", "Corvin Bracken", "specialist", "sv-b", login="pt_spb"),
    Person("ld-a", "Isolde Fernwhistle", "lead", login="pt_lead"),
)


@pytest.fixture
def team_db(pg_cluster, rubric, make_review):
    """A team database with logins and one agreed review of sp-a with sv-a, saved by the installer."""
    url = new_pg_database(pg_cluster)
    with Store(url, rubric=rubric) as installer:
        installer.save_many(people=TEAM[:2])
        installer.save_many(people=TEAM[2:])
        installer.save_review(make_review("agreed", review_id="rv-pt-1", specialist="sp-a", supervisor="sv-a"))
    return url


def login(url: str, who: str, rubric) -> Store:
    return Store(url.replace("user=postgres", f"user={who}"), rubric=rubric)


def signature_rows(url: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT role, signer_login FROM signatures WHERE voided_at IS NULL ORDER BY role").fetchall()


def test_nobody_sees_or_signs_anybody_elses_record(team_db, rubric):
    for who in ("pt_spb", "pt_svb"):  # the other specialist, the other supervisor
        with login(team_db, who, rubric) as other:
            form = SignatureList(other)
            assert listed(form) == [] and "Nothing is waiting for your signature." in form.count.value
            assert form.who.layout.display == "none"  # nobody chooses who they are here
    with login(team_db, "pt_lead", rubric) as lead:
        form = SignatureList(lead)
        assert listed(form) == [] and "as a lead, nothing waits for your signature" in form.count.value
    with Store(team_db, rubric=rubric) as installer:
        form = SignatureList(installer)
        assert listed(form) == [] and "nobody on the team's roster" in form.intro.value
    assert signature_rows(team_db) == []


def test_a_form_that_claims_someone_else_is_refused_by_the_database(team_db, rubric):
    """Were the form to sign as the supervisor in the specialist's kernel (a bug, or code
    the specialist runs), the database refuses, and the form says so in a sentence."""
    with login(team_db, "pt_spa", rubric) as spec:
        form = SignatureList(spec)
        assert "Tansy Millwheel" in form.intro.value and "pt_spa" in form.intro.value
        form.me = spec.person("sv-a")  # pretend to be the supervisor
        form.refresh()
        choose(form, "rv-pt-1")
        assert form.sign_button.description == "Sign as the supervisor"
        form.sign_button.click()
        assert form.status.kind == "error", form.status.message
        assert form.status.message == ("Not signed: only Wren Hollowbrook (the review's supervisor) may sign as its "
                                       "supervisor. Each person signs only as themselves, from their own login.")
    assert signature_rows(team_db) == []
    with login(team_db, "pt_sva", rubric) as sup:
        form = SignatureList(sup)
        choose(form, "rv-pt-1")
        form.sign_button.click()
        assert form.status.kind == "ok", form.status.message
    assert signature_rows(team_db) == [("supervisor", "pt_sva")]


def test_a_change_after_listing_is_refused_across_logins(team_db, rubric):
    with login(team_db, "pt_spa", rubric) as spec, login(team_db, "pt_sva", rubric) as sup:
        form = SignatureList(spec)
        choose(form, "rv-pt-1")
        sup.save_review(model.with_details(sup.review("rv-pt-1"), rubric, traps=[rubric.trap_ids[1]]))
        form.sign_button.click()
        assert form.status.kind == "error"
        assert "was changed by pt_sva" in form.status.message and "Nothing was signed" in form.status.message
        assert signature_rows(team_db) == []
        form.sign_button.click()
        assert form.status.kind == "ok", form.status.message
    assert signature_rows(team_db) == [("specialist", "pt_spa")]
    with Store(team_db, rubric=rubric) as installer:
        assert installer.check() == []
        assert [e.actor for e in installer.audit_log("review", "rv-pt-1#1")][-2:] == ["pt_sva", "pt_spa"]


@pytest.mark.sqlite_only
def test_names_are_text_never_markup(store, records):
    store.change_person("sp-1", display_name="Tansy <i>M</i> & Co")
    form = SignatureList(store, signer="sp-1")
    assert "Tansy <i>M</i> & Co (specialist)" in [label for label, _ in form.who.options]  # an option's text
    choose(form, "rv-sg-a")
    form.sign_button.click()
    assert form.status.kind == "ok", form.status.message
    for html in (form.record.value, form.signed.value):
        assert "Tansy &lt;i&gt;M&lt;/i&gt; &amp; Co" in html and "<i>M</i>" not in html
