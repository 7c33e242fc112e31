"""What changed between two revisions of a review, in words a person reads.

A signed review never changes in place: a correction is a new revision opened with a
reason (:func:`rapportkit.model.amend`). :func:`changes` lists what differs between two
revisions, one :class:`Change` per practice and field (old → new); :func:`revision_notes`
walks every revision of a review and says for each why it was opened, who saved and
signed it and when, and what changed against the revision before.

Pure functions of the records (and the rubric, for practice and trap titles): the store
supplies the revisions (``Store.history``), their signatures and who saved them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import ValidationError
from .model import Goal, PersonRole, Rating, Review, ReviewStatus, Signature
from .rubric import Rubric

__all__ = ["EMPTY", "NOT_RATED", "Change", "RevisionNote", "Signer", "changes", "revision_notes"]

#: How a practice with no score (not even "not observed") reads.
NOT_RATED = "not rated"
#: How empty text (no rationale, no note, no goal) reads.
EMPTY = "(none)"

# rating slot -> (what its score is called, what its note is called)
_RATINGS = (
    ("consensus", "consensus score", "consensus rationale"),
    ("supervisor_rating", "supervisor's score", "supervisor's note"),
    ("self_rating", "self-rating score", "self-rating note"),
)


@dataclasses.dataclass(frozen=True)
class Change:
    """One difference between two revisions.

    Attributes
    ----------
    practice
        The practice's title ("" for what belongs to the review as a whole, such as a trap).
    what
        What changed: "consensus score", "consensus rationale", "trap “…”", "goal “…” follow-up date" …
    old, new
        The value before and after, as text (:data:`NOT_RATED`, :data:`EMPTY` where there was none).
    """

    practice: str
    what: str
    old: str
    new: str

    def line(self) -> str:
        """The change as one line: ``Demonstrating empathy · consensus score: 3 → 2``."""
        where = f"{self.practice} · " if self.practice else ""
        return f"{where}{self.what}: {self.old} → {self.new}"


@dataclasses.dataclass(frozen=True)
class Signer:
    """A signature on a revision: who (printed name), as what, when, and how far it is trusted."""

    name: str
    role: str
    at: dt.datetime
    how: str = ""

    def line(self) -> str:
        when = self.at.astimezone(dt.UTC).strftime("%d %b %Y %H:%M UTC")
        return f"{self.name} ({self.role}), {when}" + (f" ({self.how})" if self.how else "")


@dataclasses.dataclass(frozen=True)
class RevisionNote:
    """One revision of a review in its history.

    Attributes
    ----------
    revision, status
        Which revision, and its status (signed, or amended while it is being corrected).
    reason
        Why it was opened (the amendment's reason; None for the first revision).
    saved_by, saved_at
        Who last saved it and when (UTC), where the store said so; else None.
    signers
        The signatures it carries, specialist first.
    changes
        What differs from the revision before (empty for the first revision).
    """

    revision: int
    status: ReviewStatus
    reason: str | None
    saved_by: str | None
    saved_at: dt.datetime | None
    signers: tuple[Signer, ...]
    changes: tuple[Change, ...]

    def heading(self) -> str:
        """``Revision 2 · amended · why: …`` (the first revision says it is the original)."""
        why = f"why: {self.reason}" if self.reason else "the original record"
        return f"Revision {self.revision} · {self.status.value} · {why}"

    def who(self) -> str:
        """Who saved and who signed it, and when, in one line."""
        parts = []
        if self.saved_by:
            when = f" on {self.saved_at.astimezone(dt.UTC):%d %b %Y %H:%M UTC}" if self.saved_at else ""
            parts.append(f"last saved by {self.saved_by}{when}")
        parts.append("signed by " + "; ".join(s.line() for s in self.signers) if self.signers else "not signed yet")
        return " · ".join(parts)


# --------------------------------------------------------------------------- values as text


def _score(rating: Rating | None, practice: str, rubric: Rubric) -> str:
    if rating is None or practice not in rating.scores:
        return NOT_RATED
    score = rating.scores[practice]
    return rubric.not_observed_label if score is None else str(score)


def _text(value: str | None) -> str:
    return value if value else EMPTY


def _titles(rubric: Rubric) -> dict[str, str]:
    return {p.id: p.title for p in rubric.practices}


def _trap(rubric: Rubric, trap_id: str) -> str:
    return rubric.trap(trap_id).title if trap_id in rubric.trap_ids else trap_id


def _goal_text(goal: Goal) -> str:
    return f"“{goal.text}”, actions: {_text(goal.actions)}, follow up by {goal.follow_up.isoformat()}"


# --------------------------------------------------------------------------- the differences


def changes(before: Review, after: Review, rubric: Rubric, *,
            earlier: Mapping[str, str] | None = None) -> list[Change]:
    """Everything that differs from ``before`` to ``after``, two revisions of one review.

    In this order: the review's date, supervisor, meeting length and kind; per practice (rubric order, then any
    practice the rubric lacks) the consensus, supervisor's and self-rating scores and their
    notes; the traps; the goals set; the verdicts on earlier goals. Signatures, status and
    the amendment's reason are not content changes: :func:`revision_notes` reports them.

    Parameters
    ----------
    before, after
        Two revisions of the same review (either may be the later one).
    rubric
        The rubric the review uses, for practice and trap titles.
    earlier
        The text of earlier goals by goal id, to name the goals a verdict is about
        (default: their ids).

    Returns
    -------
    list of Change
        Empty when the two say the same.

    Raises
    ------
    ValidationError
        ``before`` and ``after`` are not revisions of the same review.
    """
    if before.id != after.id:
        raise ValidationError(f"'after' must be a revision of review {before.id} (got review {after.id})")
    titles = _titles(rubric)
    out: list[Change] = []

    def add(practice: str, what: str, old: Any, new: Any) -> None:
        if old != new:
            out.append(Change(practice, what, str(old), str(new)))

    add("", "review date", before.review_date.isoformat(), after.review_date.isoformat())
    add("", "supervisor", before.supervisor_id, after.supervisor_id)
    for field, what, unit in (("meeting_minutes", "meeting length", " min"), ("meeting_kind", "meeting kind", "")):
        old, new = getattr(before, field, None), getattr(after, field, None)  # not recorded in older records
        add("", what, EMPTY if old is None else f"{getattr(old, 'value', old)}{unit}",
            EMPTY if new is None else f"{getattr(new, 'value', new)}{unit}")

    rated: set[str] = set()
    for review in (before, after):
        for slot, _, _ in _RATINGS:
            rating = getattr(review, slot)
            if rating is not None:
                rated |= set(rating.scores) | set(rating.notes)
    practices = list(rubric.practice_ids) + sorted(rated - set(rubric.practice_ids))
    for p in practices:
        title = titles.get(p, p)
        for slot, score_name, note_name in _RATINGS:
            old, new = getattr(before, slot), getattr(after, slot)
            add(title, score_name, _score(old, p, rubric), _score(new, p, rubric))
            add(title, note_name, _text(old.notes.get(p) if old else None), _text(new.notes.get(p) if new else None))

    for t in [t for t in rubric.trap_ids if t in before.traps | after.traps] + sorted(
            (before.traps | after.traps) - set(rubric.trap_ids)):
        add("", f"trap “{_trap(rubric, t)}”", "ticked" if t in before.traps else "not ticked",
            "ticked" if t in after.traps else "not ticked")

    old_goals, new_goals = {g.id: g for g in before.goals}, {g.id: g for g in after.goals}
    for gid in list(old_goals) + [g for g in new_goals if g not in old_goals]:
        old, new = old_goals.get(gid), new_goals.get(gid)
        if old is None or new is None:
            goal = new or old
            add(titles.get(goal.practice_id, goal.practice_id), "goal",
                _goal_text(old) if old else EMPTY, _goal_text(new) if new else EMPTY)
            continue
        name = f"goal “{new.text}”"
        add(titles.get(new.practice_id, new.practice_id), "goal text", old.text, new.text)
        add(titles.get(new.practice_id, new.practice_id), f"{name} practice",
            titles.get(old.practice_id, old.practice_id), titles.get(new.practice_id, new.practice_id))
        add(titles.get(new.practice_id, new.practice_id), f"{name} actions", _text(old.actions), _text(new.actions))
        add(titles.get(new.practice_id, new.practice_id), f"{name} follow-up date",
            old.follow_up.isoformat(), new.follow_up.isoformat())
        add(titles.get(new.practice_id, new.practice_id), f"{name} target level", old.target, new.target)

    earlier = earlier or {}
    old_updates = {u.goal_id: u for u in before.goal_updates}
    new_updates = {u.goal_id: u for u in after.goal_updates}
    for gid in list(old_updates) + [g for g in new_updates if g not in old_updates]:
        old, new = old_updates.get(gid), new_updates.get(gid)
        goal = f"“{earlier[gid]}”" if gid in earlier else gid
        add("", f"verdict on earlier goal {goal}", old.status.value if old else EMPTY,
            new.status.value if new else EMPTY)
        add("", f"note on earlier goal {goal}", _text(old.note if old else None), _text(new.note if new else None))
    return out


def _signers(review: Review, given: Iterable[Signature] | None, names: Mapping[str, str]) -> tuple[Signer, ...]:
    if given is not None:
        return tuple(Signer(s.printed_name, s.role.value, s.signed_at, s.how)
                     for s in sorted(given, key=lambda s: s.role is not PersonRole.SPECIALIST))
    out = []
    for role, person in ((PersonRole.SPECIALIST, review.specialist_id), (PersonRole.SUPERVISOR, review.supervisor_id)):
        at = getattr(review, f"{role.value}_signed_at")
        if at is not None:
            out.append(Signer(names.get(person, person), role.value, at))
    return tuple(out)


def _when(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def revision_notes(
    history: Sequence[Review],
    rubric: Rubric,
    *,
    names: Mapping[str, str] | None = None,
    signatures: Mapping[int, Iterable[Signature]] | None = None,
    saved: Mapping[int, Any] | None = None,
    earlier: Mapping[str, str] | None = None,
) -> list[RevisionNote]:
    """Every revision of one review, oldest first, each with what changed since the one before.

    Parameters
    ----------
    history
        The revisions, as ``Store.history(review_id)`` returns them (any order).
    rubric
        The rubric the review uses, for practice and trap titles.
    names
        Display names by person id, for signatures read from the records themselves.
    signatures
        The signatures in force on each revision, by revision number (``Store.signatures``);
        where absent, the signature times the record holds, with ``names``.
    saved
        Who last saved each revision and when, by revision number: anything with
        ``saved_by`` and ``saved_at`` (``Store.version``), or None.
    earlier
        The text of earlier goals by goal id (see :func:`changes`).

    Raises
    ------
    ValidationError
        The revisions are not all of one review, or a revision number repeats.
    """
    revisions = sorted(history, key=lambda r: r.revision)
    if len({r.id for r in revisions}) > 1:
        raise ValidationError(f"'history' must hold revisions of one review (got {sorted({r.id for r in revisions})})")
    numbers = [r.revision for r in revisions]
    if len(set(numbers)) != len(numbers):
        raise ValidationError(f"'history' must hold each revision once (got revisions {numbers})")
    names, signatures, saved = names or {}, signatures or {}, saved or {}
    out, before = [], None
    for review in revisions:
        version = saved.get(review.revision)
        out.append(RevisionNote(
            revision=review.revision, status=review.status, reason=review.amend_reason,
            saved_by=getattr(version, "saved_by", None), saved_at=_when(getattr(version, "saved_at", None)),
            signers=_signers(review, signatures.get(review.revision), names),
            changes=tuple(changes(before, review, rubric, earlier=earlier)) if before is not None else (),
        ))
        before = review
    return out
