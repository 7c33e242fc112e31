"""Load and validate a rapport-building rubric (a TOML file).

A rubric names the practices a session is rated on, a behavioural anchor for each
level of the scale, and the traps a supervisor can tick. The packaged default is
``rapportkit/rubrics/peer_rapport.toml``; an agency can edit a copy and point at it
with ``$RAPPORTKIT_RUBRIC`` or ``--rubric``. An agency rubric may have any number of
practices (one or more) with its own ids, but ids must be unique and
``lowercase_with_underscores``, and the scale is always the levels 1–4 (labels may be
renamed) plus "not observed". Every problem in a file is reported at once in one
:class:`~rapportkit.errors.RubricError`, each locating itself, e.g.
``practices[3] (id 'non_judgment'): anchors is missing level 2``.
"""

from __future__ import annotations

import functools
import numbers
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping

from rapportkit.errors import RubricError, ValidationError

__all__ = ["ENV_VAR", "SCORES", "Level", "Practice", "Trap", "Rubric",
           "load_rubric", "parse_rubric", "default_rubric"]

#: Environment variable naming a rubric file to use instead of the packaged one.
ENV_VAR = "RAPPORTKIT_RUBRIC"
#: The fixed rating scale of every rubric ("not observed" is recorded as None).
SCORES = (1, 2, 3, 4)
_DEFAULT_FILE = "peer_rapport.toml"
# (pattern, what it allows) for practice/trap ids and the rubric id
_ID = (re.compile(r"[a-z][a-z0-9_]*"), "lowercase letters, digits and '_', starting with a letter")
_RUBRIC_ID = (re.compile(r"[a-z0-9][a-z0-9_.-]*"), "lowercase letters, digits, '.', '-' and '_'")
_LEVEL_KEYS = tuple(map(str, SCORES))
_TOP_KEYS = ("id", "version", "title", "proficiency", "scale", "practices", "traps")
_PRACTICE_KEYS = ("id", "title", "definition", "indicators", "anchors", "not_observed")
_TRAP_KEYS = ("id", "title", "description", "practices")


@dataclass(frozen=True)
class Level:
    """One level of the rating scale: its ``score`` (1–4) and ``label``."""

    score: int
    label: str


@dataclass(frozen=True)
class Practice:
    """A practice: ``indicators`` are observable behaviours, ``anchors`` (read-only,
    keyed by score 1–4) say what each level looks like, ``not_observed`` says when
    "not observed" is the right rating ("" if the rubric gives no guidance)."""

    id: str
    title: str
    definition: str
    indicators: tuple[str, ...]
    anchors: Mapping[int, str] = field(hash=False)
    not_observed: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", tuple(self.indicators))
        object.__setattr__(self, "anchors", MappingProxyType(dict(self.anchors)))


@dataclass(frozen=True)
class Trap:
    """A pattern that undermines rapport, with the ids of the practices it relates to."""

    id: str
    title: str
    description: str
    practices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "practices", tuple(self.practices))


@dataclass(frozen=True)
class Rubric:
    """A validated rubric; build one with :func:`load_rubric` or :func:`parse_rubric`.

    ``id`` and ``version`` are recorded with every rating; ``proficiency`` is the score
    that counts as proficient; ``levels`` are the scores 1–4 in order; practices and
    traps keep file order; ``source`` (a path or ``"<string>"``) is not compared.
    """

    id: str
    version: str
    title: str
    proficiency: int
    levels: tuple[Level, ...]
    not_observed_label: str
    practices: tuple[Practice, ...]
    traps: tuple[Trap, ...]
    source: str = field(default="<string>", compare=False)
    not_observed_meaning: str = ""
    text: str = field(default="", compare=False, repr=False)

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the rubric's content (not its file name or layout): two files that
        define the same practices, anchors and traps have the same digest."""
        import hashlib
        import json

        def plain(value: Any) -> Any:
            if isinstance(value, Mapping):
                return {str(k): plain(v) for k, v in value.items()}
            if isinstance(value, (tuple, list)):
                return [plain(v) for v in value]
            if hasattr(value, "__dataclass_fields__"):
                return {f: plain(getattr(value, f)) for f, spec in value.__dataclass_fields__.items()
                        if spec.compare}
            return value

        body = json.dumps(plain(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @property
    def practice_ids(self) -> tuple[str, ...]:
        """Practice ids in rubric order."""
        return tuple(p.id for p in self.practices)

    @property
    def trap_ids(self) -> tuple[str, ...]:
        """Trap ids in rubric order."""
        return tuple(t.id for t in self.traps)

    @property
    def scores(self) -> tuple[int, ...]:
        """The scale's scores, ``(1, 2, 3, 4)``."""
        return tuple(level.score for level in self.levels)

    def practice(self, practice_id: str) -> Practice:
        """The practice with this id; else :class:`ValidationError` naming the choices."""
        return _find(self.practices, "practice", practice_id)

    def trap(self, trap_id: str) -> Trap:
        """The trap with this id; else :class:`ValidationError` naming the choices."""
        return _find(self.traps, "trap", trap_id)

    def is_valid_score(self, score: object, *, allow_not_observed: bool = True) -> bool:
        """Whether ``score`` is a score of the scale, or None ("not observed")."""
        if score is None:
            return allow_not_observed
        return isinstance(score, numbers.Integral) and not isinstance(score, bool) \
            and int(score) in self.scores

    def label(self, score: int | None) -> str:
        """The scale label for ``score``; None gives the "not observed" label."""
        if score is None:
            return self.not_observed_label
        return self.levels[self.scores.index(self._check(score))].label

    def anchor(self, practice_id: str, score: int | None) -> str:
        """The anchor of a practice at ``score``; None gives its not-observed guidance
        (or the scale's meaning of "not observed" if the practice has none)."""
        p = self.practice(practice_id)
        if score is None:
            return p.not_observed or self.not_observed_meaning
        return p.anchors[self._check(score, practice_id)]

    def _check(self, score: object, practice_id: str | None = None) -> int:
        if not self.is_valid_score(score, allow_not_observed=False):
            where = f" for practice '{practice_id}'" if practice_id else ""
            raise ValidationError(f"'score' must be 1–4 or None (got {score!r}){where}")
        return int(score)  # type: ignore[call-overload]


def _suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ""."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _find(items: tuple, name: str, wanted: str) -> Any:
    for item in items:
        if item.id == wanted:
            return item
    ids = [item.id for item in items]
    hint = _suggest(str(wanted), ids)
    raise ValidationError(f"{name} must be one of {', '.join(ids)}, not {wanted!r}{hint}")


def _kind(value: object) -> str:
    """Describe a TOML value's type for a message: 'an integer', 'a table', ..."""
    if isinstance(value, str):
        return "a string" if value.strip() else "an empty string"
    if isinstance(value, list):
        return f"a list of {len(value)} items" if value else "an empty list"
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (dict, "a table"))
    return next((k for t, k in kinds if isinstance(value, t)), "a date/time")


def _not_list_of(value: object, item_type: type) -> str:
    """"" if ``value`` is a list of ``item_type``, else what it is instead."""
    if not isinstance(value, list):
        return _kind(value)
    bad = [item for item in value if not isinstance(item, item_type)]
    return f"a list containing {_kind(bad[0])}" if bad else ""


def _unknown_keys(table: dict, allowed: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            hint = (not key.isdigit() and _suggest(key, allowed)) or f" (expected {', '.join(allowed)})"
            problems.append(f"{where}unknown key '{key}'{hint}")


def _text(table: dict, key: str, where: str, problems: list[str], *,
          required: bool = True, default: str = "",
          pattern: tuple[re.Pattern[str], str] | None = None) -> str:
    """Check ``table[key]`` is a non-empty string; append a problem and return "" if not."""
    prefix = f"{where}: " if where else ""
    if key not in table:
        if required:
            problems.append(f"{prefix}missing required key '{key}'")
        return default
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        quote = f' (put it in quotes: {key} = "{value}")' \
            if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        problems.append(f"{prefix}{key} must be a non-empty string, not {_kind(value)}{quote}")
        return ""
    if pattern is not None and not pattern[0].fullmatch(value):
        problems.append(f"{prefix}{key} {value!r} must use only {pattern[1]}")
        return ""
    return value.strip()


def _levels(table: dict, name: str, extra: tuple[str, ...], problems: list[str]) -> dict[int, str]:
    """Check a table keyed "1".."4" (the scale, or a practice's anchors); return its texts."""
    _unknown_keys(table, _LEVEL_KEYS + extra, f"{name}: ", problems)
    out = {}
    for score in SCORES:
        value = table.get(str(score))
        if value is None:
            problems.append(f"{name} is missing level {score}")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{name} level {score} must be a non-empty string, not {_kind(value)}")
        else:
            out[score] = value.strip()
    return out


def _entries(raw: object, name: str, keys: tuple[str, ...],
             problems: list[str]) -> Iterator[tuple[str, dict, str]]:
    """Yield ``(where, table, id)`` for each ``[[name]]`` table; check ids and key names."""
    if got := _not_list_of(raw, dict):
        problems.append(f"{name} must be a list of tables ([[{name}]]), not {got}")
        return
    first: dict[str, int] = {}
    for i, entry in enumerate(raw):
        where = f"{name}[{i}]"
        eid = _text(entry, "id", where, problems, pattern=_ID)
        if eid in first:
            problems.append(f"{where}: duplicate id '{eid}' (first at {name}[{first[eid]}])")
        elif eid:
            first[eid] = i
        where += f" (id '{eid}')" if eid else ""
        _unknown_keys(entry, keys, f"{where}: ", problems)
        yield where, entry, eid


def _practice(where: str, entry: dict, pid: str, problems: list[str]) -> Practice | None:
    before = len(problems)
    title = _text(entry, "title", where, problems)
    definition = _text(entry, "definition", where, problems)
    indicators = entry.get("indicators")
    if indicators is None:
        problems.append(f"{where}: missing required key 'indicators'")
    elif not isinstance(indicators, list) or not 1 <= len(indicators) <= 10:
        problems.append(f"{where}: indicators must be a list of 1–10 strings, not {_kind(indicators)}")
    else:
        problems.extend(f"{where}: indicators[{j}] must be a non-empty string, not {_kind(item)}"
                        for j, item in enumerate(indicators)
                        if not isinstance(item, str) or not item.strip())
    anchors = entry.get("anchors")
    if anchors is None:
        problems.append(f"{where}: missing required key 'anchors' (one per level 1–4)")
    elif not isinstance(anchors, dict):
        problems.append(f'{where}: anchors must be a table with keys "1" to "4", not {_kind(anchors)}')
    else:
        anchors = _levels(anchors, f"{where}: anchors", (), problems)
    not_observed = _text(entry, "not_observed", where, problems, required=False)
    if len(problems) > before:
        return None
    return Practice(pid, title, definition, tuple(s.strip() for s in indicators), anchors, not_observed)


def _trap(where: str, entry: dict, tid: str, known: set[str], problems: list[str]) -> Trap:
    title = _text(entry, "title", where, problems)
    description = _text(entry, "description", where, problems)
    related = entry.get("practices", [])
    if got := _not_list_of(related, str):
        problems.append(f"{where}: practices must be a list of practice ids, not {got}")
        related = []
    problems.extend(f"{where}: practices names unknown practice '{p}'{_suggest(p, sorted(known))}"
                    for p in related if p not in known)
    return Trap(tid, title, description, tuple(related))


def _build(data: dict[str, Any], source: str) -> Rubric:
    problems: list[str] = []
    _unknown_keys(data, _TOP_KEYS, "", problems)
    rid = _text(data, "id", "", problems, pattern=_RUBRIC_ID)
    version = _text(data, "version", "", problems)
    title = _text(data, "title", "", problems)
    proficiency = data.get("proficiency")
    if proficiency is None:
        problems.append("missing required key 'proficiency' (the score 1–4 that counts as proficient)")
    elif type(proficiency) is not int or proficiency not in SCORES:
        problems.append(f"proficiency must be one of the scale's scores 1–4 (got {proficiency!r})")
    scale = data.get("scale")
    labels, no_label, no_meaning = {}, "Not observed", ""
    if not isinstance(scale, dict):
        problems.append("missing required table [scale] (labels for levels 1–4)" if scale is None
                        else f"scale must be a table, not {_kind(scale)}")
    else:
        labels = _levels(scale, "scale", ("not_observed", "not_observed_meaning"), problems)
        no_label = _text(scale, "not_observed", "scale", problems, required=False, default=no_label)
        no_meaning = _text(scale, "not_observed_meaning", "scale", problems, required=False)
    raw = data.get("practices")
    if raw is None:
        problems.append("missing required key 'practices' (add a [[practices]] table per practice)")
    elif raw == []:
        problems.append("practices must list at least one practice (found none)")
    entries = _entries([] if raw is None else raw, "practices", _PRACTICE_KEYS, problems)
    found = [(_practice(where, e, pid, problems), pid) for where, e, pid in entries]
    known = {pid for _, pid in found if pid}
    traps = [_trap(where, e, tid, known, problems)
             for where, e, tid in _entries(data.get("traps", []), "traps", _TRAP_KEYS, problems)]
    if problems:
        raise RubricError(problems, source)
    return Rubric(rid, version, title, proficiency, tuple(Level(s, labels[s]) for s in SCORES),
                  no_label, tuple(p for p, _ in found), tuple(traps), source, no_meaning)


def parse_rubric(text: str, source: str = "<string>") -> Rubric:
    """Parse and validate rubric TOML ``text``; ``source`` names it in messages.

    Raises :class:`RubricError` on a TOML syntax error (with its line and column) or
    listing every problem found.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"TOML syntax error: {exc}", source) from None
    return replace(_build(data, source), text=text)


def load_rubric(path: str | os.PathLike[str] | None = None) -> Rubric:
    """Load and validate a rubric file (cached until the file changes).

    Parameters
    ----------
    path : str, os.PathLike or None
        None means the file named by ``$RAPPORTKIT_RUBRIC`` if set, else the packaged
        default (:func:`default_rubric`).

    Raises
    ------
    RubricError
        If the file is missing, unreadable or invalid; the message says what to fix.
    """
    if path is not None:
        return _load_file(Path(path).expanduser(), "")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _load_file(Path(env).expanduser(), f" (named by ${ENV_VAR})")
    return default_rubric()


def default_rubric() -> Rubric:
    """The rubric rapportkit ships with, ignoring ``$RAPPORTKIT_RUBRIC``.

    Use :func:`load_rubric` with no argument for the rubric currently in effect.
    """
    from importlib import resources

    resource = resources.files("rapportkit") / "rubrics" / _DEFAULT_FILE
    if not isinstance(resource, Path):  # installed as a zip: no mtime to cache on
        return parse_rubric(resource.read_text("utf-8"), str(resource))
    return _load_file(resource, " (the packaged default; reinstall rapportkit)")


def _load_file(path: Path, origin: str) -> Rubric:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise RubricError(
            f"rubric file not found{origin}: {path}. Check the path, or point at another rubric "
            f"file with ${ENV_VAR} or --rubric (with neither, the packaged default is used).",
            str(path)) from None
    except OSError as exc:
        message = f"cannot read the rubric file{origin}: {exc.strerror or exc}"
        raise RubricError(message, str(path)) from None
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int, size: int) -> Rubric:
    """Parse ``path``; the mtime and size make an edited file a new cache entry."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"cannot read the rubric file: {exc.strerror or exc}", path) from None
    except UnicodeDecodeError as exc:
        message = f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise RubricError(message, path) from None
    return parse_rubric(text, path)
