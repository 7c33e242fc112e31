"""What a file holds once read, and where each part of it is in the file.

The CSV and JSON readers fill a :class:`_Parsed`: the people the file names
(:class:`_Claim`), the reviews that parsed (:class:`_Entry`, each with a :class:`_Where`
that names its parts in messages: by line and column in a CSV, by place and field in a
JSON), the goals it sets, the problems found, and the free text of the reviews that did
not parse, still to be screened.
"""

from __future__ import annotations

import dataclasses

from ..model import Person, PersonRole, Review


@dataclasses.dataclass
class _Claim:
    """What the file says about one person, and where."""

    id: str
    role: PersonRole
    name: str  # "" when a CSV gives no name
    place: str  # "line 14" (CSV) or "people[3]" (JSON)
    person: Person | None = None  # JSON: the whole record as the file gives it
    columns: dict[str, str] = dataclasses.field(default_factory=dict)  # CSV: field -> column

    def at(self, field: str) -> str:
        if self.person is None:
            return f"{self.place}, column '{self.columns[field]}'"
        return f"{self.place}, field '{field}'"


_SLOTS = {"self": "self_rating", "supervisor": "supervisor_rating", "consensus": "consensus"}
_JSON_REVIEW_FIELDS = {
    "review_id": "id", "session_id": "session.id", "session_date": "session.date",
    "modality": "session.modality", "duration_min": "session.duration_min", "source": "session.source",
    "session_code": "session.code", "specialist_id": "session.specialist_id",
}
_JSON_GOAL_FIELDS = {"goal_id": "id", "goal_text": "text", "goal_actions": "actions"}
_JSON_UPDATE_FIELDS = {"goal_status": "status"}


class _Where:
    """Where one review and its parts are in the file, for messages.

    Parts are keyed ``("review",)``, ``("rating", role, practice or None)``,
    ``("trap", trap_id)``, ``("goal", index)`` and ``("update", index)``; columns are
    named as in the CSV. A CSV part gives its own line (else the review's first line);
    a JSON part gives the review's place and the field's path in it.
    """

    def __init__(self, *, line: int | None = None, place: str | None = None):
        self.line = line
        self.place = place
        self.lines: dict[tuple, int] = {}
        self.traps: dict[str, int] = {}  # JSON: trap id -> index in "traps"

    def __call__(self, key: tuple = ("review",), column: str | None = None) -> str:
        if self.place is None:
            line = self.lines.get(key) or self.lines.get(key[:2] + (None,)) or self.line
            return f"line {line}" + (f", column '{column}'" if column else "")
        return self.place + (f", field '{self._field(key, column)}'" if column else "")

    def _field(self, key: tuple, column: str) -> str:
        kind = key[0]
        if kind == "rating":
            slot, practice = _SLOTS[key[1]], key[2]
            if practice is None or column not in ("practice_id", "score", "note"):
                return f"{slot}.{column}" if column != "practice_id" else slot
            return f"{slot}.{'notes' if column == 'note' else 'scores'}.{practice}"
        if kind == "trap":
            return f"traps[{self.traps.get(key[1], '?')}]"
        if kind == "goal":
            return f"goals[{key[1]}].{_JSON_GOAL_FIELDS.get(column, column)}"
        if kind == "update":
            return f"goal_updates[{key[1]}].{_JSON_UPDATE_FIELDS.get(column, column)}"
        return _JSON_REVIEW_FIELDS.get(column, column)


@dataclasses.dataclass
class _Entry:
    review: Review
    where: _Where


@dataclasses.dataclass
class _Parsed:
    claims: list[_Claim] = dataclasses.field(default_factory=list)
    entries: list[_Entry] = dataclasses.field(default_factory=list)
    #: (specialist, goal, review) of every goal the file sets, also in reviews that did not parse
    goals: set[tuple[str, str, str]] = dataclasses.field(default_factory=set)
    problems: list[str] = dataclasses.field(default_factory=list)
    #: the free text of reviews that did not parse, still to be screened:
    #: (where, text, specialist, supervisor, (review id, revision), part, column)
    loose: list[tuple] = dataclasses.field(default_factory=list)
