"""The domain: people, sessions, ratings, goals and the supervision review.

Every record is a frozen dataclass; a change is a new value (``dataclasses.replace``
or one of the review steps below). Values are validated where they are made, so a
record that exists is a record that may be stored.

The review's life is a state machine::

    draft ──reveal──► revealed ──agree──► agreed ──sign×2──► signed
                                                               │ amend(reason)
                                             signed ◄──sign×2── amended (revision + 1)

- ``draft``: self and supervisor ratings are being entered (blind).
- ``revealed``: both ratings are complete and shown side by side; the consensus is
  being agreed.
- ``agreed``: every practice has a consensus score (or "not observed"); traps and goals
  are set; both people may sign.
- ``signed``: both signatures are present. A signed review never changes in place.
- ``amended``: a new revision of a signed review, opened with a reason; it is edited
  and signed again. The earlier revision stays as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .errors import ReviewStateError, ValidationError
from .rubric import Rubric

__all__ = [
    "PersonRole",
    "Modality",
    "Source",
    "RaterRole",
    "ReviewStatus",
    "GoalStatus",
    "MeetingKind",
    "Person",
    "Session",
    "Rating",
    "Goal",
    "GoalUpdate",
    "Review",
    "new_id",
    "new_review",
    "with_rating",
    "reveal",
    "agree",
    "with_details",
    "with_meeting",
    "meeting_words",
    "sign",
    "amend",
    "agreement_agenda",
    "needs_rationale",
    "missing_rationales",
    "review_problems",
    "content",
    "content_digest",
    "SIGNATURE_FIELDS",
    "AWAITING_SIGNATURES",
    "COUNTED",
    "Signature",
    "MEANING",
    "content_lines",
    "LIMITS",
    "to_plain",
]

#: Longest accepted free text, in characters, per field.
LIMITS = MappingProxyType(
    {"note": 1000, "goal_text": 300, "actions": 1000, "reason": 500, "display_name": 80}
)
MAX_GOALS = 3

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CODE = re.compile(r"(?=[A-Za-z-]*\d)[A-Za-z0-9-]{2,16}")
_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,62}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PersonRole(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    LEAD = "lead"
    ADMIN = "admin"


class Modality(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    TEXT = "text"


class Source(StrEnum):
    OBSERVED = "observed"
    RECORDING = "recording"
    SELF_REPORT = "self_report"
    ROLE_PLAY = "role_play"


class RaterRole(StrEnum):
    SELF = "self"
    SUPERVISOR = "supervisor"
    CONSENSUS = "consensus"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    REVEALED = "revealed"
    AGREED = "agreed"
    SIGNED = "signed"
    AMENDED = "amended"


class GoalStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    CARRIED = "carried"
    DROPPED = "dropped"


class MeetingKind(StrEnum):
    """Whether a supervision meeting was one-to-one or held with a group."""

    INDIVIDUAL = "individual"
    GROUP = "group"


# --------------------------------------------------------------------------- checks


def _enum(cls: type[StrEnum], value: Any, name: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValidationError(f"'{name}' must be one of {allowed} (got {value!r})") from None


def check_id(value: Any, name: str) -> str:
    """Return ``value`` if it is a usable identifier, else raise ValidationError."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationError(
            f"'{name}' must be 1–64 letters, digits, '.', '_' or '-' (got {value!r})"
        )
    return value


def check_text(value: Any, name: str, limit: str, *, required: bool = False) -> str:
    """Return ``value`` stripped if it is acceptable free text, else raise ValidationError."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be text (got {type(value).__name__})")
    value = value.strip()
    most = LIMITS[limit]
    if len(value) > most:
        raise ValidationError(
            f"'{name}' is {len(value):,} characters; keep it to {most:,} or fewer"
        )
    if _CONTROL.search(value):
        raise ValidationError(f"'{name}' contains control characters; remove them")
    if required and not value:
        raise ValidationError(f"'{name}' must not be empty")
    return value


def _check_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"'{name}' must be a date like 2026-03-14 (got {value!r})") from None
    if not isinstance(value, dt.date):
        raise ValidationError(f"'{name}' must be a date (got {value!r})")
    if not dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31):
        raise ValidationError(f"'{name}' must be between 2000 and 2100 (got {value.isoformat()})")
    return value


def _check_minutes(value: Any, name: str, *, optional: bool = False) -> int | None:
    """Return ``value`` if it is whole minutes from 5 to 480 (or None when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 480:
        unset = ", or None if not recorded" if optional else ""
        raise ValidationError(f"'{name}' must be whole minutes from 5 to 480{unset} (got {value!r})")
    return value


def _check_score(value: Any, practice: str, role: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise ValidationError(
            f"'score' must be 1–4 or None for not observed (got {value!r}) "
            f"for practice {practice!r} in the {role} rating"
        )
    return value


def new_id(prefix: str) -> str:
    """A fresh random identifier such as ``rv-3f9a1c2b7d4e``."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class Person:
    """Someone who uses rapportkit, known by a pseudonymous id and a display name."""

    id: str
    display_name: str
    role: PersonRole
    supervisor_id: str | None = None
    active: bool = True
    #: the person's login: on a team's PostgreSQL store, their database role (with peer
    #: authentication, their operating-system account); None on one computer
    login: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "id")
        object.__setattr__(
            self, "display_name", check_text(self.display_name, "display_name", "display_name", required=True)
        )
        object.__setattr__(self, "role", _enum(PersonRole, self.role, "role"))
        if self.supervisor_id is not None:
            check_id(self.supervisor_id, "supervisor_id")
        if self.login is not None and (not isinstance(self.login, str) or not _LOGIN.fullmatch(self.login)):
            raise ValidationError(
                f"'login' must be 1–63 lower-case letters, digits, '_', '.' or '-', starting with a letter or '_' "
                f"(got {self.login!r}) for person {self.id!r}"
            )


@dataclasses.dataclass(frozen=True)
class Session:
    """The peer-support encounter under review.

    ``code`` is an optional opaque reference (letters, digits and dashes with at least
    one digit, such as ``S-0142``) that lets the specialist find the session in their
    own records. It must never be a client's name; no client identifier is stored.
    """

    id: str
    specialist_id: str
    date: dt.date
    modality: Modality
    duration_min: int
    source: Source
    code: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "session id")
        check_id(self.specialist_id, "specialist_id")
        object.__setattr__(self, "date", _check_date(self.date, "session date"))
        object.__setattr__(self, "modality", _enum(Modality, self.modality, "modality"))
        object.__setattr__(self, "source", _enum(Source, self.source, "source"))
        _check_minutes(self.duration_min, "duration_min")
        if self.code in ("", None):
            object.__setattr__(self, "code", None)
        elif not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise ValidationError(
                f"'code' must be an opaque reference such as S-0142 (2–16 letters, digits or "
                f"dashes, at least one digit), never a client's name (got {self.code!r})"
            )


@dataclasses.dataclass(frozen=True)
class Rating:
    """One rater's scores and evidence notes for one session.

    ``scores`` maps practice id to 1–4, or to ``None`` for "not observed"; a practice
    absent from ``scores`` has not been rated yet. ``notes`` maps practice id to a short
    evidence note (for the consensus: the rationale where someone moved).
    """

    rater_id: str
    role: RaterRole
    scores: Mapping[str, int | None]
    notes: Mapping[str, str]
    rubric_id: str
    rubric_version: str

    def __post_init__(self) -> None:
        check_id(self.rater_id, "rater_id")
        role = _enum(RaterRole, self.role, "role")
        object.__setattr__(self, "role", role)
        if not isinstance(self.scores, Mapping) or not isinstance(self.notes, Mapping):
            raise ValidationError("'scores' and 'notes' must be mappings of practice id to value")
        scores = {check_id(p, "practice"): _check_score(s, p, role.value) for p, s in self.scores.items()}
        notes = {}
        for p, n in self.notes.items():
            text = check_text(n, f"note for {p}", "note")
            if text:
                notes[check_id(p, "practice")] = text
        object.__setattr__(self, "scores", MappingProxyType(dict(sorted(scores.items()))))
        object.__setattr__(self, "notes", MappingProxyType(dict(sorted(notes.items()))))

    @classmethod
    def empty(cls, rater_id: str, role: RaterRole | str, rubric: Rubric) -> "Rating":
        """A rating with nothing scored yet, made against ``rubric``."""
        return cls(rater_id, role, {}, {}, rubric.id, rubric.version)

    def with_score(self, practice: str, score: int | None, note: str | None = None) -> "Rating":
        """A copy with one practice scored (and its note replaced when given)."""
        notes = dict(self.notes)
        if note is not None:
            notes[practice] = note
        return dataclasses.replace(self, scores={**self.scores, practice: score}, notes=notes)

    def missing(self, rubric: Rubric) -> list[str]:
        """Practice ids of ``rubric`` that have no score and no "not observed" mark."""
        return [p for p in rubric.practice_ids if p not in self.scores]

    def check(self, rubric: Rubric) -> None:
        """Raise ValidationError if the rating names a practice the rubric lacks."""
        unknown = sorted((set(self.scores) | set(self.notes)) - set(rubric.practice_ids))
        if unknown:
            raise ValidationError(
                f"'practice' must be one of {', '.join(rubric.practice_ids)}, not {unknown[0]!r}"
            )
        if (self.rubric_id, self.rubric_version) != (rubric.id, rubric.version):
            raise ValidationError(
                f"rating was made with rubric {self.rubric_id} {self.rubric_version}, "
                f"but this review uses {rubric.id} {rubric.version}"
            )


@dataclasses.dataclass(frozen=True)
class Goal:
    """A development goal agreed in a review, tied to one practice."""

    id: str
    practice_id: str
    text: str
    actions: str
    follow_up: dt.date
    target: int = 3

    def __post_init__(self) -> None:
        check_id(self.id, "goal id")
        check_id(self.practice_id, "goal practice")
        object.__setattr__(self, "text", check_text(self.text, "goal text", "goal_text", required=True))
        object.__setattr__(self, "actions", check_text(self.actions, "goal actions", "actions"))
        object.__setattr__(self, "follow_up", _check_date(self.follow_up, "follow-up date"))
        if self.target not in (1, 2, 3, 4):
            raise ValidationError(f"'target' must be 1–4 (got {self.target!r})")


@dataclasses.dataclass(frozen=True)
class GoalUpdate:
    """A later review's verdict on an earlier goal."""

    goal_id: str
    status: GoalStatus
    note: str = ""

    def __post_init__(self) -> None:
        check_id(self.goal_id, "goal id")
        object.__setattr__(self, "status", _enum(GoalStatus, self.status, "goal status"))
        object.__setattr__(self, "note", check_text(self.note, "goal update note", "note"))


@dataclasses.dataclass(frozen=True)
class Review:
    """A supervision review of one session: ratings, consensus, traps, goals, signatures.

    ``meeting_minutes`` and ``meeting_kind`` record how long the supervision meeting
    itself took and whether it was individual or group supervision (the supervision
    log's hours); None when not recorded, as in records made before they were asked for.
    """

    id: str
    revision: int
    session: Session
    supervisor_id: str
    review_date: dt.date
    rubric_id: str
    rubric_version: str
    status: ReviewStatus = ReviewStatus.DRAFT
    self_rating: Rating | None = None
    supervisor_rating: Rating | None = None
    consensus: Rating | None = None
    traps: frozenset[str] = frozenset()
    goals: tuple[Goal, ...] = ()
    goal_updates: tuple[GoalUpdate, ...] = ()
    specialist_signed_at: dt.datetime | None = None
    supervisor_signed_at: dt.datetime | None = None
    amend_reason: str | None = None
    # left out of to_plain() while None, so records made before these fields existed keep
    # their plain form (and their audit entries) unchanged
    meeting_minutes: int | None = dataclasses.field(default=None, metadata={"omit_if_none": True})
    meeting_kind: MeetingKind | None = dataclasses.field(default=None, metadata={"omit_if_none": True})

    def __post_init__(self) -> None:
        check_id(self.id, "review id")
        check_id(self.supervisor_id, "supervisor_id")
        if not isinstance(self.revision, int) or self.revision < 1:
            raise ValidationError(f"'revision' must be a whole number from 1 (got {self.revision!r})")
        object.__setattr__(self, "status", _enum(ReviewStatus, self.status, "status"))
        object.__setattr__(self, "review_date", _check_date(self.review_date, "review date"))
        _check_minutes(self.meeting_minutes, "meeting_minutes", optional=True)
        if self.meeting_kind is not None:
            object.__setattr__(self, "meeting_kind", _enum(MeetingKind, self.meeting_kind, "meeting_kind"))
        object.__setattr__(self, "traps", frozenset(self.traps))
        object.__setattr__(self, "goals", tuple(self.goals))
        object.__setattr__(self, "goal_updates", tuple(self.goal_updates))
        for slot, role in (
            ("self_rating", RaterRole.SELF),
            ("supervisor_rating", RaterRole.SUPERVISOR),
            ("consensus", RaterRole.CONSENSUS),
        ):
            rating = getattr(self, slot)
            if rating is not None and rating.role != role:
                raise ValidationError(f"'{slot}' must be a {role.value} rating (got {rating.role.value})")
        if len(self.goals) > MAX_GOALS:
            raise ValidationError(f"a review sets at most {MAX_GOALS} goals (got {len(self.goals)})")
        ids = [g.id for g in self.goals]
        if len(set(ids)) != len(ids):
            raise ValidationError("goal ids must be unique within a review")
        updated = [u.goal_id for u in self.goal_updates]
        if len(set(updated)) != len(updated):
            raise ValidationError("a review gives at most one verdict per earlier goal")
        _raise_problems(self, review_problems(self))

    @property
    def specialist_id(self) -> str:
        return self.session.specialist_id

    def rating(self, role: RaterRole | str) -> Rating | None:
        """The self, supervisor or consensus rating."""
        role = _enum(RaterRole, role, "role")
        return {
            RaterRole.SELF: self.self_rating,
            RaterRole.SUPERVISOR: self.supervisor_rating,
            RaterRole.CONSENSUS: self.consensus,
        }[role]

    def check(self, rubric: Rubric) -> None:
        """Raise ValidationError unless every practice, trap and goal exists in ``rubric``."""
        if (self.rubric_id, self.rubric_version) != (rubric.id, rubric.version):
            raise ValidationError(
                f"review {self.id} uses rubric {self.rubric_id} {self.rubric_version}, "
                f"not {rubric.id} {rubric.version}"
            )
        for rating in (self.self_rating, self.supervisor_rating, self.consensus):
            if rating is not None:
                rating.check(rubric)
        for trap in sorted(self.traps):
            if trap not in rubric.trap_ids:
                raise ValidationError(f"'trap' must be one of {', '.join(rubric.trap_ids)}, not {trap!r}")
        for goal in self.goals:
            if goal.practice_id not in rubric.practice_ids:
                raise ValidationError(
                    f"goal practice must be one of {', '.join(rubric.practice_ids)}, not {goal.practice_id!r}"
                )
        _raise_problems(self, review_problems(self, rubric))

    # ----------------------------------------------------------------- serialising

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back to an equal Review."""
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Review":
        try:
            d = dict(data)
            d["session"] = Session(**d["session"])
            for slot in ("self_rating", "supervisor_rating", "consensus"):
                if d.get(slot) is not None:
                    d[slot] = Rating(**d[slot])
            d["goals"] = tuple(Goal(**g) for g in d.get("goals", ()))
            d["goal_updates"] = tuple(GoalUpdate(**g) for g in d.get("goal_updates", ()))
            d["traps"] = frozenset(d.get("traps", ()))
            for key in ("specialist_signed_at", "supervisor_signed_at"):
                if d.get(key):
                    d[key] = dt.datetime.fromisoformat(d[key])
            return cls(**d)
        except (TypeError, KeyError) as exc:
            raise ValidationError(f"not a review record: {exc}") from None


def to_plain(value: Any) -> Any:
    """A record (or anything in one) as plain JSON-ready values."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value.value if isinstance(value, StrEnum) else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get("omit_if_none") and getattr(value, f.name) is None)}
    return value


# --------------------------------------------------------------------------- the review's rules
# Written once, here. The steps below, the store (on every save, whatever built the
# review), the import, ``rapportkit check``, the forms, the record HTML and the PDF all
# read them from this section.

#: The fields that hold signatures; everything else is the signed content.
SIGNATURE_FIELDS = ("specialist_signed_at", "supervisor_signed_at")
#: The states in which a review waits for its two signatures (see :func:`sign`).
AWAITING_SIGNATURES = (ReviewStatus.AGREED, ReviewStatus.AMENDED)
#: The states in which a review counts in trends, calibration, alerts and summaries, on
#: every page, PDF and export: signed records only. A review in progress is shown as in
#: progress and never counted. (The lead's views in ``pg_schema`` hold the same rule in SQL;
#: ``tests/test_team_dashboards.py`` compares them with this one.)
COUNTED = (ReviewStatus.SIGNED,)
_ABSENT = object()


def content(review: Review) -> dict[str, Any]:
    """The review as plain values without its signatures and the status they give it:
    what a signature covers."""
    return {k: v for k, v in to_plain(review).items() if k not in SIGNATURE_FIELDS and k != "status"}


def content_lines(review: Review) -> list[str]:
    """The signed content as sorted lines, one per stored row: what a signature covers.
    Free text enters as its SHA-256, so a line never holds a separator or a newline. The
    team database computes the same lines from its rows (``rk_content_digest``)."""
    import hashlib

    def h(text: str | None) -> str:
        return hashlib.sha256((text or "").encode("utf-8")).hexdigest()

    s = review.session
    lines = [
        "|".join(["review", review.id, str(review.revision), s.id, review.supervisor_id,
                  review.review_date.isoformat(), review.rubric_id, review.rubric_version, h(review.amend_reason)]),
        "|".join(["session", s.id, s.specialist_id, s.date.isoformat(), s.modality.value, str(s.duration_min),
                  s.source.value, h(s.code)]),
    ]
    for rating in (review.self_rating, review.supervisor_rating, review.consensus):
        if rating is None:
            continue
        role = rating.role.value
        lines.append("|".join(["rating", role, rating.rater_id, rating.rubric_id, rating.rubric_version]))
        for p in set(rating.scores) | set(rating.notes):
            score = rating.scores.get(p)
            lines.append("|".join(["score", role, p, "1" if p in rating.scores else "0",
                                   "" if score is None else str(score), h(rating.notes.get(p, ""))]))
    lines += [f"trap|{t}" for t in review.traps]
    lines += ["|".join(["goal", g.id, g.practice_id, h(g.text), h(g.actions), g.follow_up.isoformat(), str(g.target)])
              for g in review.goals]
    lines += ["|".join(["goal_update", u.goal_id, u.status.value, h(u.note)]) for u in review.goal_updates]
    # the meeting's length and kind: a line each only when recorded, so a record signed
    # before they existed covers the same lines as it did
    if review.meeting_minutes is not None:
        lines.append(f"meeting_minutes|{review.meeting_minutes}")
    if review.meeting_kind is not None:
        lines.append(f"meeting_kind|{review.meeting_kind.value}")
    return sorted(lines)


def content_digest(review: Review) -> str:
    """SHA-256 of :func:`content_lines` joined by newlines: the hash a signature records."""
    import hashlib

    return hashlib.sha256("\n".join(content_lines(review)).encode("utf-8")).hexdigest()


#: What a signature says: recorded with it and printed with it wherever it is shown.
MEANING = "I took part in this review and agree this record is accurate"


@dataclasses.dataclass(frozen=True)
class Signature:
    """A signature on one revision of a review.

    ``verified`` is True when the team database recorded it for the connected person's own
    database role (``signer_login``); on one computer (SQLite) a signature is a time
    recorded on this computer, not verified, and ``kind`` says ``"local"``. ``kind`` is
    ``"imported"`` for a signature brought in by an import or the demo.
    """

    review_id: str
    revision: int
    role: PersonRole
    person_id: str
    printed_name: str
    signed_at: dt.datetime
    meaning: str
    kind: str
    signer_login: str | None = None
    content_sha256: str | None = None

    @property
    def verified(self) -> bool:
        return self.kind == "signed"

    @property
    def how(self) -> str:
        """How far the signature can be trusted, in words (printed with it everywhere)."""
        return {"signed": f"signed in the team database by login {self.signer_login}",
                "imported": f"imported by {self.signer_login}, not signed in this database",
                }.get(self.kind, "recorded on this computer, not verified")

    def describe(self) -> str:
        """One line for a record: who, as what, when, what it means, how far it can be trusted."""
        when = self.signed_at.astimezone(dt.timezone.utc).strftime("%d %b %Y %H:%M UTC")
        return f"{self.printed_name} ({self.role.value}), {when}: “{self.meaning}” ({self.how})"


def agreement_agenda(review: Review, rubric: Rubric) -> list[str]:
    """Practice ids where self and supervisor differ by 2 or more (the discussion agenda)."""
    a, b = review.self_rating, review.supervisor_rating
    if a is None or b is None:
        return []
    agenda = []
    for p in rubric.practice_ids:
        x, y = a.scores.get(p), b.scores.get(p)
        if x is not None and y is not None and abs(x - y) >= 2:
            agenda.append(p)
    return agenda


def needs_rationale(review: Review, practice: str, consensus: Rating | None = None) -> bool:
    """Whether the consensus score for ``practice`` needs a rationale: always, unless the
    self, supervisor and consensus scores are one and the same (someone moved otherwise).

    ``consensus`` defaults to the review's own; where it gives no score yet, the rule is
    the one known so far (the two blind ratings differ).
    """
    a, b = review.self_rating, review.supervisor_rating
    if a is None or b is None:
        return False
    c = consensus if consensus is not None else review.consensus
    x, y = a.scores.get(practice, _ABSENT), b.scores.get(practice, _ABSENT)
    z = c.scores.get(practice, _ABSENT) if c is not None else _ABSENT
    if z is _ABSENT:
        return x != y
    return not (x == y == z)


def missing_rationales(review: Review, consensus: Rating, practices: Iterable[str]) -> list[str]:
    """Practice ids among ``practices`` whose consensus needs a rationale and has none."""
    return [p for p in practices if needs_rationale(review, p, consensus) and not consensus.notes.get(p)]


def _blind_practices(review: Review) -> list[str]:
    rated = [set(r.scores) for r in (review.self_rating, review.supervisor_rating) if r is not None]
    return sorted(set().union(*rated)) if rated else []


def review_problems(review: Review, rubric: Rubric | None = None) -> list[str]:
    """Every way ``review`` breaks the rules of its status, as sentences (empty if none).

    Without ``rubric`` the rules that need no practice list are checked (a review cannot
    be built breaking them); with it, completeness against the rubric's practices too
    (the store checks that on every save).

    - ``draft``: no consensus and no signature yet;
    - ``revealed`` and later: both blind ratings present and complete (the same
      practices, each scored or marked not observed), the self rating by the specialist;
    - ``agreed``, ``signed``, ``amended``: a consensus on every practice, with a rationale
      wherever :func:`needs_rationale` says so;
    - only an agreed or amended review carries one signature; ``signed`` means both, and
      both means signed;
    - revision 2 and later are amendments and carry their reason;
    - a goal is followed up after the review that sets it.
    """
    st = review.status
    a, b, c = review.self_rating, review.supervisor_rating, review.consensus
    spec, sup = review.specialist_signed_at, review.supervisor_signed_at
    out: list[str] = []
    if st is ReviewStatus.DRAFT:
        if c is not None:
            out.append("a draft has no consensus yet: reveal both ratings first")
    else:
        for who, rating in (("self", a), ("supervisor", b)):
            if rating is None:
                out.append(f"the {who} rating is missing")
            elif rubric is not None and rating.missing(rubric):
                out.append(f"the {who} rating has no score for {', '.join(rating.missing(rubric))}")
            elif not rating.scores:
                out.append(f"the {who} rating scores no practice")
        if a is not None and b is not None and rubric is None and set(a.scores) != set(b.scores):
            out.append("the self and supervisor ratings do not cover the same practices")
    if a is not None and a.rater_id != review.specialist_id:
        out.append(f"the self rating must be by the specialist {review.specialist_id} (got {a.rater_id})")
    if st in (ReviewStatus.AGREED, ReviewStatus.SIGNED, ReviewStatus.AMENDED):
        if c is None:
            out.append("there is no consensus")
        else:
            practices = list(rubric.practice_ids) if rubric is not None else _blind_practices(review)
            missing = [p for p in practices if p not in c.scores]
            if missing:
                out.append(f"the consensus has no score for {', '.join(missing)}")
            need = missing_rationales(review, c, practices)
            if need:
                out.append(f"the consensus needs a rationale for {', '.join(need)}: someone moved there")
    if (spec or sup) and st not in (ReviewStatus.AGREED, ReviewStatus.SIGNED, ReviewStatus.AMENDED):
        out.append("only an agreed review can be signed")
    if st is ReviewStatus.SIGNED and not (spec and sup):
        lacking = " and ".join(who for who, at in (("specialist", spec), ("supervisor", sup)) if not at)
        out.append(f"a signed review needs both signatures (the {lacking}'s is missing)")
    if st is not ReviewStatus.SIGNED and spec and sup:
        out.append("both have signed, so the review must be signed")
    for goal in review.goals:
        if goal.follow_up <= review.review_date:
            out.append(f"goal {goal.id} is followed up on {goal.follow_up.isoformat()}, not after this review "
                       f"({review.review_date.isoformat()}); choose a date after the meeting")
    if st is ReviewStatus.AMENDED and review.revision < 2:
        out.append("an amendment is revision 2 or later")
    if review.revision > 1:
        if st not in (ReviewStatus.AMENDED, ReviewStatus.SIGNED):
            out.append(f"revision {review.revision} is an amendment, so it is amended or signed")
        if not review.amend_reason:
            out.append("an amendment needs a reason")
    return out


def _raise_problems(review: Review, problems: list[str]) -> None:
    if problems:
        raise ReviewStateError(
            f"review {review.id} revision {review.revision} cannot be {review.status.value}: "
            + "; ".join(problems)
        )


# --------------------------------------------------------------------------- the steps


def _editable(review: Review, *allowed: ReviewStatus) -> None:
    if review.status is ReviewStatus.SIGNED:
        raise ReviewStateError(
            f"review {review.id} (revision {review.revision}) is signed and cannot be changed; "
            "amend it with a reason to open a new revision"
        )
    if review.status not in allowed:
        names = " or ".join(s.value for s in allowed)
        raise ReviewStateError(f"review {review.id} is {review.status.value}; this step needs it {names}")


def _unsigned(review: Review, **changes: Any) -> Review:
    """Apply content changes; any signature already given no longer covers the content."""
    return dataclasses.replace(review, specialist_signed_at=None, supervisor_signed_at=None, **changes)


def new_review(
    session: Session,
    supervisor_id: str,
    rubric: Rubric,
    review_date: dt.date | None = None,
    review_id: str | None = None,
) -> Review:
    """Open a draft review of ``session`` with ``supervisor_id``."""
    return Review(
        id=review_id or new_id("rv"),
        revision=1,
        session=session,
        supervisor_id=supervisor_id,
        review_date=review_date or dt.date.today(),
        rubric_id=rubric.id,
        rubric_version=rubric.version,
    )


def with_rating(review: Review, rating: Rating, rubric: Rubric) -> Review:
    """Put a self or supervisor rating (blind; only while draft) or a consensus into ``review``."""
    rating.check(rubric)
    if rating.role is RaterRole.CONSENSUS:
        _editable(review, ReviewStatus.REVEALED, ReviewStatus.AGREED, ReviewStatus.AMENDED)
        status = review.status
        if status is ReviewStatus.AGREED and (
            rating.missing(rubric) or missing_rationales(review, rating, rubric.practice_ids)
        ):
            status = ReviewStatus.REVEALED  # no longer agreed: agree() again
        return _unsigned(review, consensus=rating, status=status)
    _editable(review, ReviewStatus.DRAFT)
    if rating.role is RaterRole.SELF:
        if rating.rater_id != review.specialist_id:
            raise ValidationError(
                f"the self rating must be by the specialist {review.specialist_id} (got {rating.rater_id})"
            )
        return dataclasses.replace(review, self_rating=rating)
    return dataclasses.replace(review, supervisor_rating=rating)


def reveal(review: Review, rubric: Rubric) -> Review:
    """Show both ratings side by side; both must be complete."""
    _editable(review, ReviewStatus.DRAFT)
    for slot, who in (("self_rating", "self"), ("supervisor_rating", "supervisor")):
        rating = getattr(review, slot)
        if rating is None:
            raise ReviewStateError(f"the {who} rating is not entered yet; both are needed to reveal")
        missing = rating.missing(rubric)
        if missing:
            raise ReviewStateError(
                f"the {who} rating has no score for {', '.join(missing)}; "
                "score each practice or mark it not observed"
            )
    return dataclasses.replace(review, status=ReviewStatus.REVEALED)


def _check_consensus(review: Review, consensus: Rating, practices: Iterable[str], before: str = "") -> None:
    """Every practice scored (or not observed), and a rationale wherever someone moved;
    raise ReviewStateError naming the practices otherwise."""
    practices = list(practices)
    missing = [p for p in practices if p not in consensus.scores]
    if missing:
        raise ReviewStateError(
            f"the consensus has no score for {', '.join(missing)}; "
            f"score each practice or mark it not observed{before}"
        )
    need = missing_rationales(review, consensus, practices)
    if need:
        raise ReviewStateError(f"add a short rationale for {', '.join(need)}{before}: someone moved there")


def agree(review: Review, consensus: Rating, rubric: Rubric) -> Review:
    """Record the consensus; every practice needs a score or "not observed".

    Where the self and supervisor scores differed, the consensus needs a short rationale
    (its note for that practice), so the record says why someone moved.
    """
    _editable(review, ReviewStatus.REVEALED, ReviewStatus.AGREED, ReviewStatus.AMENDED)
    if consensus.role is not RaterRole.CONSENSUS:
        raise ValidationError("agree() takes the consensus rating")
    consensus.check(rubric)
    _check_consensus(review, consensus, rubric.practice_ids)
    status = ReviewStatus.AMENDED if review.status is ReviewStatus.AMENDED else ReviewStatus.AGREED
    return _unsigned(review, consensus=consensus, status=status)


def with_details(
    review: Review,
    rubric: Rubric,
    *,
    traps: Iterable[str] | None = None,
    goals: Iterable[Goal] | None = None,
    goal_updates: Iterable[GoalUpdate] | None = None,
) -> Review:
    """Set the traps observed, the new goals and the verdicts on earlier goals."""
    _editable(
        review, ReviewStatus.DRAFT, ReviewStatus.REVEALED, ReviewStatus.AGREED, ReviewStatus.AMENDED
    )
    changes: dict[str, Any] = {}
    if traps is not None:
        changes["traps"] = frozenset(traps)
    if goals is not None:
        changes["goals"] = tuple(goals)
    if goal_updates is not None:
        changes["goal_updates"] = tuple(goal_updates)
    updated = _unsigned(review, **changes)
    updated.check(rubric)
    return updated


def with_meeting(review: Review, *, minutes: int | None, kind: MeetingKind | str | None) -> Review:
    """Record how long the supervision meeting took (whole minutes) and whether it was
    individual or group supervision; None clears a value. A change voids any signature
    already given; the same values return ``review`` as it is."""
    _editable(
        review, ReviewStatus.DRAFT, ReviewStatus.REVEALED, ReviewStatus.AGREED, ReviewStatus.AMENDED
    )
    kind = None if kind in (None, "") else _enum(MeetingKind, kind, "meeting_kind")
    if (minutes, kind) == (review.meeting_minutes, review.meeting_kind):
        return review
    return _unsigned(review, meeting_minutes=minutes, meeting_kind=kind)


def meeting_words(review: Review) -> str:
    """The supervision meeting in words, e.g. "60 min, individual supervision", or what
    of it was not recorded."""
    length = "length not recorded" if review.meeting_minutes is None else f"{review.meeting_minutes} min"
    kind = "kind not recorded" if review.meeting_kind is None else f"{review.meeting_kind.value} supervision"
    return f"{length}, {kind}"


def sign(review: Review, role: PersonRole | str, at: dt.datetime | None = None) -> Review:
    """Add the specialist's or the supervisor's signature; with both, the review is signed."""
    role = _enum(PersonRole, role, "signer role")
    _editable(review, *AWAITING_SIGNATURES)
    if review.consensus is None:
        raise ReviewStateError("agree the consensus before signing")
    if review.status is ReviewStatus.AMENDED and not review.amend_reason:
        raise ReviewStateError("an amendment needs a reason before it is signed")
    # with_rating() can replace the consensus after agree(); hold it to agree()'s rules
    # for every practice the two blind ratings cover
    blind = [r for r in (review.self_rating, review.supervisor_rating) if r is not None]
    covered = sorted(set().union(*(r.scores for r in blind)))
    _check_consensus(review, review.consensus, covered, before=" before signing")
    at = at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if role not in (PersonRole.SPECIALIST, PersonRole.SUPERVISOR):
        raise ReviewStateError("a review is signed by its specialist and its supervisor")
    signatures = {f"{role.value}_signed_at": at}
    both = all(signatures.get(f) or getattr(review, f) for f in SIGNATURE_FIELDS)
    return dataclasses.replace(review, **signatures, **({"status": ReviewStatus.SIGNED} if both else {}))


def amend(review: Review, reason: str) -> Review:
    """Open a new revision of a signed review; the signed revision is kept unchanged."""
    if review.status is not ReviewStatus.SIGNED:
        raise ReviewStateError(
            f"only a signed review is amended; review {review.id} is {review.status.value} and can be edited"
        )
    reason = check_text(reason, "reason", "reason", required=True)
    return dataclasses.replace(
        review,
        revision=review.revision + 1,
        status=ReviewStatus.AMENDED,
        specialist_signed_at=None,
        supervisor_signed_at=None,
        amend_reason=reason,
    )
