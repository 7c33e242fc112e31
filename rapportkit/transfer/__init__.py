"""Import and export reviews as CSV (a tidy long table) or JSON.

CSV: one row per *item* of a review, with the review's own columns repeated on each row
and a ``kind`` column saying what the row holds:

- ``rating`` — one practice in one role (``role``, ``rater_id``, ``practice_id``,
  ``score`` = 1–4, ``not_observed``, or empty for a note without a score, ``note``);
- ``trap`` — a trap ticked (``trap_id``);
- ``goal`` — a goal set (``goal_id``, ``practice_id``, ``goal_text``, ``goal_actions``,
  ``follow_up``, ``target``);
- ``goal_update`` — a verdict on an earlier goal (``goal_id``, ``goal_status``, ``note``);
- ``review`` — a review with none of the above yet.

JSON: ``{"format": "rapportkit", "version": 1, "people": [...], "reviews": [...]}`` with
each review as :meth:`rapportkit.model.Review.to_dict` gives it.

Both round-trip faithfully: exporting and importing into an empty store gives equal
reviews. An import is atomic: every row is checked first — against the file itself and
against the database (people, rubric, earlier goals, signed revisions) — every problem
is reported by line and column (CSV; the header is line 1) or by place and field (JSON,
e.g. ``reviews[3] (id rv-01-0003), field 'self_rating.notes.empathy'``), and only a file
with none goes in, in one transaction.

An import never changes the team silently. People new to the database are added (a
new specialist from a CSV is assigned the supervisor of their latest review in it); a
file that would rename someone, change a role, move a specialist to another supervisor,
or deactivate or reactivate someone is rejected unless ``update_people=True``
(``rapportkit import --update-people``), and then each change is listed and audited. A
CSV says only each person's name: a review by another supervisor than the specialist's
own does not move the specialist. Free text is screened for client identifiers
(:func:`rapportkit.privacy.scan`, the team's names included, the review's own specialist
and supervisor left out); a finding rejects the file unless ``allow_identifiers=True``.

Cells that begin with ``=``, ``+``, ``-`` or ``@`` are written with a leading ``'`` so a
spreadsheet does not run them as formulas; the import removes it again.

The parts, each importing only from those before it: :mod:`.reading` (bytes, encodings,
cells), :mod:`.parsed` (what a file holds and where), :mod:`.checks` (rubrics, status
rules, the team), :mod:`.csv_format` and :mod:`.json_format` (the two readers),
:mod:`.export` (the two writers) and :mod:`.bring_in` (the database-side checks and the
save); this module is the public API.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ImportRejected
from ..store import Store
from .bring_in import ImportResult, _bring_in
from .checks import _Rubrics
from .csv_format import CSV_COLUMNS, _parse_csv
from .export import export_csv, export_json
from .json_format import _parse_json
from .reading import _decode, _restore, neutralise  # _restore: the tests undo neutralise with it

__all__ = ["CSV_COLUMNS", "ImportResult", "export_csv", "export_json", "import_file", "neutralise",
           "MAX_IMPORT_BYTES"]

MAX_IMPORT_BYTES = 200_000_000


def import_file(store: Store, path: str | os.PathLike, *, update_people: bool = False,
                allow_identifiers: bool = False) -> ImportResult:
    """Import a ``.csv`` or ``.json`` file whole, or reject it whole.

    Parameters
    ----------
    update_people
        Let the file change people the database knows already (rename, change a role,
        move a specialist to another supervisor, deactivate or reactivate); each change is
        listed in the result and its audit entry says it came from this file. Without it
        a file that would change anyone is rejected. New people are always added.
    allow_identifiers
        Let free text through that looks like it may identify someone (the person
        importing confirmed it is not about a client); each finding is listed in the
        result and the store records it in the audit log.

    Returns
    -------
    ImportResult

    Raises
    ------
    ImportRejected
        With every problem found, each naming its row (CSV: the line number, header =
        line 1) and column, or its place and field in the JSON; the database is unchanged.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRejected(str(path), [f"the file {path} does not exist"])
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ImportRejected(path.name, [f"the file must end in .csv or .json (got {suffix or 'no extension'})"])
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise ImportRejected(path.name, [f"the file is over {MAX_IMPORT_BYTES // 1_000_000} MB; split it"])
    text = _decode(path.read_bytes(), path.name, suffix)
    rubrics = _Rubrics(store)
    parsed = (_parse_csv if suffix == ".csv" else _parse_json)(text, path.name, rubrics)
    return _bring_in(store, parsed, path.name, update_people=update_people, allow_identifiers=allow_identifiers)
