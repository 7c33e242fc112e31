"""Reading an import: its bytes, its text, and the values in its cells.

- the formula guard, both ways: :func:`neutralise` is how the exports write a cell so a
  spreadsheet does not run it, and :func:`_restore` takes exactly that away again;
- :func:`_decode` turns the file's bytes into text, rejecting a file that is not UTF-8 or
  holds NUL bytes with the line and column of each bad cell (CSV) or character (JSON);
- the value checks: each value is tried in an otherwise valid model record, so the
  model's own rules decide what it may be, and :func:`_cell` reads one CSV cell with them,
  naming its line and column when it is empty or not valid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from ..errors import ImportRejected, RapportkitError
from ..model import Goal, GoalUpdate, Person, Rating, Review, Session, check_text

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(text: str) -> bool:
    """True when a spreadsheet would run ``text``, or would once its quotes are removed."""
    return text.lstrip("'").startswith(_FORMULA_START)


def neutralise(value: Any) -> str:
    """Text for a CSV/XLSX cell that a spreadsheet will not run as a formula.

    One ``'`` is added in front of anything that starts (after any quotes already there)
    with ``=``, ``+``, ``-`` or ``@``; :func:`_restore` takes exactly one away, so every
    text round-trips, including one that itself begins with ``'=``.
    """
    text = "" if value is None else str(value)
    return "'" + text if _formula_like(text) else text


def _restore(text: str) -> str:
    return text[1:] if text.startswith("'") and _formula_like(text) else text


# ------------------------------------------------------------------ reading the bytes

_ODD = re.compile("[\x00\udc80-\udcff]")  # NUL, or a byte that is not UTF-8 (surrogateescape)


def _odd(char: str) -> str:
    if char == "\x00":
        return "contains a NUL byte; this is not a text export"
    return (f"contains the byte 0x{ord(char) - 0xDC00:02x}, which is not UTF-8; save the file as UTF-8 "
            "('CSV UTF-8' in a spreadsheet) and try again")


def _decode(raw: bytes, source: str, suffix: str) -> str:
    """The file's text; a file that is not UTF-8, or holds NUL bytes, is rejected with the
    line and column of each bad cell (CSV) or character (JSON)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected(source, ["line 1: the file is UTF-16 text; save it as UTF-8 ('CSV UTF-8' in a "
                                      "spreadsheet) and try again"])
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    if not _ODD.search(text):
        return text
    problems = _odd_cells(text) if suffix == ".csv" else None
    if not problems:  # JSON, or a CSV too broken to read: by line and character
        problems = []
        for number, line in enumerate(re.split(r"\r\n|\r|\n" if suffix == ".csv" else r"\n", text), 1):
            found = _ODD.search(line)
            if found:
                problems.append(f"line {number}, column {found.start() + 1}: {_odd(found.group())}")
    raise ImportRejected(source, problems)


def _odd_cells(text: str) -> list[str]:
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    last = 0
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if header is None:
                header = [h.strip() for h in row]
            for j, cell in enumerate(row):
                found = _ODD.search(cell)
                if found is None:
                    continue
                if start == 1:
                    where = f"line 1 (header), column {j + 1}"
                elif j < len(header) and header[j] and not _ODD.search(header[j]):
                    where = f"line {start}, column '{header[j]}'"
                else:
                    where = f"line {start}, column {j + 1}"
                problems.append(f"{where}: {_odd(found.group())}")
    except csv.Error:
        return []
    return problems


# ------------------------------------------------------------------ the values in the cells


# The model's own rules decide what a value may be: each value is tried in an otherwise
# valid record, so a problem is found (and named) field by field.
def _template(cls: type) -> dict[str, Any]:
    day = dt.date(2020, 1, 1)
    session = Session("x", "x", day, "phone", 30, "observed")
    return {
        Session: {"id": "x", "specialist_id": "x", "date": day, "modality": "phone", "duration_min": 30,
                  "source": "observed"},
        Goal: {"id": "x", "practice_id": "x", "text": "x", "actions": "", "follow_up": day},
        GoalUpdate: {"goal_id": "x", "status": "open"},
        Person: {"id": "x", "display_name": "x", "role": "specialist"},
        Rating: {"rater_id": "x", "role": "self", "scores": {}, "notes": {}, "rubric_id": "x", "rubric_version": "x"},
        Review: {"id": "x", "revision": 1, "session": session, "supervisor_id": "x", "review_date": day,
                 "rubric_id": "x", "rubric_version": "x"},
    }[cls]


def _probe(cls: type, field: str, value: Any) -> Any:
    """``value`` as ``cls`` accepts it for ``field`` (ValidationError/ValueError if it does not)."""
    try:
        return getattr(cls(**{**_template(cls), field: value}), field)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def _checker(cls: type, field: str, convert=None):
    return lambda value: _probe(cls, field, convert(value) if convert else value)


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _revision(value: Any) -> int:
    number = _whole(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValueError("must be a whole number from 1")
    return number


def _choice(cls: type) -> Any:
    def convert(value: str):
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"must be one of {', '.join(m.value for m in cls)}") from None
    return convert


def _when(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("must be a date and time like 2026-03-10T16:30:00+00:00") from None


def _reason(value: str) -> str | None:
    return check_text(value, "amend_reason", "reason") or None


def _score(value: str) -> int | None:
    if value == "not_observed":
        return None
    if value not in ("1", "2", "3", "4"):
        raise ValueError("a score must be 1, 2, 3, 4 or not_observed")
    return int(value)


def _cell(record: dict[str, str], column: str, line: int, problems: list[str], convert=str, required=True):
    value = record.get(column, "").strip()
    if not value:
        if required:
            problems.append(f"line {line}, column '{column}': is empty")
        return None
    try:
        return convert(value)
    except (ValueError, RapportkitError) as exc:
        problems.append(f"line {line}, column '{column}': {value[:40]!r} is not valid ({exc})")
        return None
