"""Which free text of a review is screened for client identifiers, and against whom.

One place for the store (every save, whatever path built the review), the import and
the forms: the same fields, the same roster, the same people left out.

- Screened: every rating's notes, the consensus rationales, goal texts and agreed
  actions, notes on earlier goals, the amendment reason and the session code.
- Only text that is new or changed since the stored version is screened, so a record
  saved earlier (perhaps with an identifier someone allowed) does not block later steps.
- The roster is everyone in the team; the people of the review itself (its specialist
  and its supervisor) are not identifiers and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import Person, Review
from .privacy import Finding, scan
from .rubric import Rubric

__all__ = ["review_texts", "changed_texts", "identifier_findings", "text_findings", "describe_findings"]


def review_texts(review: Review | None, rubric: Rubric | None = None) -> dict[str, str]:
    """Every free-text field of ``review``, keyed by a label a person understands."""
    if review is None:
        return {}
    titles = {p.id: p.title for p in rubric.practices} if rubric is not None else {}
    out: dict[str, str] = {}
    if review.session.code:
        out["Session code"] = review.session.code
    for rating, what in ((review.self_rating, "Self-rating note"), (review.supervisor_rating, "Supervisor's note"),
                         (review.consensus, "Consensus rationale")):
        for p, note in (rating.notes.items() if rating else ()):
            out[f"{what} on {titles.get(p, p)}"] = note
    for n, goal in enumerate(review.goals, 1):
        out[f"New goal {n}"] = goal.text
        out[f"New goal {n}, agreed actions"] = goal.actions
    for update in review.goal_updates:
        out[f"Note on earlier goal {update.goal_id}"] = update.note
    if review.amend_reason:
        out["Reason for the amendment"] = review.amend_reason
    return out


def changed_texts(now: Mapping[str, str], before: Mapping[str, str]) -> dict[str, str]:
    """The free-text fields of ``now`` that are new or differ from ``before``."""
    return {k: v for k, v in now.items() if v and before.get(k) != v}


def identifier_findings(
    review: Review,
    before: Review | None,
    people: Iterable[Person],
    rubric: Rubric | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[tuple[str, Finding]]:
    """Possible identifiers in the text of ``review`` that ``before`` did not hold.

    ``people`` is the team: their names are flagged (a note should not name another
    specialist's client, nor gossip about a colleague), except the review's own
    specialist and supervisor. ``texts`` replaces the review's own fields (the forms
    pass what the widgets hold).
    """
    now = dict(texts) if texts is not None else review_texts(review, rubric)
    fresh = changed_texts(now, review_texts(before, rubric))
    return text_findings(fresh, people, (review.specialist_id, review.supervisor_id))


def text_findings(texts: Mapping[str, str], people: Iterable[Person], own: Iterable[str]) -> list[tuple[str, Finding]]:
    """Possible identifiers in ``texts`` (label → text), flagging the team's names except
    those of the people with ids in ``own`` (the review's own specialist and supervisor)."""
    own = set(own)
    people = list(people)
    roster = [p.display_name for p in people if p.id not in own]
    exclude = [p.display_name for p in people if p.id in own]
    return [(where, f) for where, text in texts.items() if text
            for f in scan(text, roster=roster, exclude=exclude)]


def describe_findings(found: Iterable[tuple[str, Finding]]) -> str:
    """``"Self-rating note on Empathy (phone), Session code (mrn)"`` for a message or the audit log."""
    return ", ".join(f"{where} ({f.kind})" for where, f in found)
