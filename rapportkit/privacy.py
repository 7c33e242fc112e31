"""Spot personal identifiers in free-text supervision notes.

Evidence notes ("reflected the feeling back twice, scored 3") must not identify
the person who was supported.  :func:`scan` looks for e-mail addresses, phone
numbers, SSN-like numbers, calendar dates, record numbers, web and IP
addresses, street addresses and names, while leaving scores, counts,
durations, ratios, versions and times alone.  Where a label introduces an
identifier ("MRN 12345678", "client Maria", "Mr. Testperson") only the
identifying part is reported, so :func:`redact` keeps the label as context
("MRN [mrn]").

Every pattern is bounded or possessive and starts behind a look-behind, so a
scan stays roughly linear even on hostile megabyte-sized input.  This module
is a leaf: standard library only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple

__all__ = ["Finding", "KINDS", "scan", "redact", "summarize"]

#: Every kind :func:`scan` can report, most specific first (ties go to the earlier kind).
KINDS = ("email", "url", "ip", "ssn", "phone", "date", "mrn", "address", "name")
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

_MESSAGES = {
    "email": "looks like an email address",
    "url": "looks like a web address",
    "ip": "looks like an IP address",
    "ssn": "looks like a Social Security number",
    "phone": "looks like a phone number",
    "date": "looks like a calendar date",
    "mrn": "looks like a record, case or client number",
    "address": "looks like a street or postal address",
    "name": "looks like a person's name",
}
_ROSTER_MESSAGE = "matches a name on the roster"


@dataclass(frozen=True)
class Finding:
    """One possible identifier found in a piece of text.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    start, end : int
        The span in the scanned text (``text[start:end]``).
    text : str
        The matched substring.
    message : str
        A plain-language explanation suitable for showing to the note's author.
    """

    kind: str
    start: int
    end: int
    text: str
    message: str


# --------------------------------------------------------------------------- checks
# A check receives the match and the span of the reported part, and returns the
# (possibly shortened) end of that span, or None to drop the candidate.
_Check = Callable[["re.Match[str]", int, int], "int | None"]


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _year_ok(year: str | None) -> bool:
    return year is None or len(year) == 2 or 1800 <= int(year) <= 2199


def _check_numeric_date(m: re.Match[str], start: int, end: int) -> int | None:
    a, b, year = int(m["a"]), int(m["b"]), m["y"]
    if len(year) == 2 and m["sep"] != "/":
        return None  # 3-4-25 is too ambiguous; 3/4/25 is a date
    month_day = 1 <= a <= 12 and 1 <= b <= 31
    day_month = 1 <= a <= 31 and 1 <= b <= 12
    return end if (month_day or day_month) and _year_ok(year) else None


def _check_date_fields(m: re.Match[str], start: int, end: int) -> int | None:
    month_ok = "m" not in m.re.groupindex or 1 <= int(m["m"]) <= 12  # worded months are valid
    return end if month_ok and 1 <= int(m["d"]) <= 31 and _year_ok(m["y"]) else None


def _check_ipv6(m: re.Match[str], start: int, end: int) -> int | None:
    candidate = m.string[start:end]
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    return end if sum(1 for group in candidate.split(":") if group) >= 2 else None


def _check_intl_phone(m: re.Match[str], start: int, end: int) -> int | None:
    return end if 8 <= _digits(m.string[start:end]) <= 15 else None


def _check_record(m: re.Match[str], start: int, end: int) -> int | None:
    while end > start and m.string[end - 1] == "-":
        end -= 1
    strong = m["label"].lower() in ("mrn", "id") or " " in m["label"] or m["marker"].strip()
    needed = 3 if strong else 5  # "client 2-3 times" must stay quiet
    return end if _digits(m.string[start:end]) >= needed else None


_URL_TRAILING = ".,;:!?'\"]}*"


def _check_url(m: re.Match[str], start: int, end: int) -> int | None:
    s = m.string
    opens, closes = s.count("(", start, end), s.count(")", start, end)
    while end > start:
        ch = s[end - 1]
        if ch == ")" and closes > opens:
            closes -= 1
        elif ch not in _URL_TRAILING:
            break
        end -= 1
    return None if s[start:end].endswith("://") else end  # a bare "http://" says nothing


# Capitalised words that follow "client", "peer", "Mr." etc. without being names.
_NOT_NAMES = frozenset("""
a an the this that these those he she they we i it you his her their our my your its and or but
if when then also so as at in on of to for with by from about after before is was were be been
being has had have does did do will would could should can may might must not never always still
again very now later today yesterday tomorrow seemed seems said says shared shares reported
reports felt feels stated states spoke talked asked agreed declined arrived left came went got
became appeared looked sounded explained described mentioned expressed raised brought needed
needs wanted wants called named noted notes note support supports specialist specialists service
services session sessions goal goals review reviews feedback plan plans worker workers mentor
mentors mentoring coach coaching coordinator navigator liaison recovery group groups centered
centred led voice portal record records number numbers id advocate advocacy team programme
program training agreement consent satisfaction survey care rights contact meeting meetings check
interaction education workbook handbook agency agencies advisory board council committee forum
panel network safety strengths strength experience outcome outcomes engagement warmth validation
day days week weeks month months year years who which what where why how all both each every
some any no none one two three four five first second last next other another such same active
reflective open closed listening empathy boundaries summary summaries question questions
christmas easter thanksgiving monday tuesday wednesday thursday friday saturday sunday
""".split())


def _check_name(m: re.Match[str], start: int, end: int) -> int | None:
    words = m.string[start:end].split(" ")
    if words[0].lower() in _NOT_NAMES:
        return None
    if len(words) > 1 and words[1].lower() in _NOT_NAMES:
        return start + len(words[0])
    return end


# --------------------------------------------------------------------------- patterns
_MONTH = (
    r"(?:(?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December)\b|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)"
)
_YEAR_TAIL = r"(?:,?[ ]{1,3}(?P<y>\d{4})\b)?"
_URL_TAIL = r"[^\s<>\"'`]{0,2000}+"
_TLDS = "com|org|net|edu|gov|info|biz|io|co|us|uk|ca|au|nz|ie|health|care|app|dev"
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
    "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
).split()
_STREET_TYPES = (  # full words, then abbreviations (which may take a dot)
    r"(?i:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Terrace|Way|Highway|Parkway|Place)\b"
    r"|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Ter|Hwy|Pkwy|Pl)\b\.?)"
)
_TRIGGERS = (
    "client|participant|member|patient|consumer|peer|mentee|resident|tenant|son|daughter"
    "|stepson|stepdaughter|grandson|granddaughter|child|kid|husband|wife|spouse|partner"
    "|fianc[eé]e?|boyfriend|girlfriend|mother|father|mom|mum|dad|stepmother|stepfather"
    "|grandmother|grandfather|grandma|grandpa|brother|sister|sibling|cousin|aunt|uncle"
    "|niece|nephew|friend|roommate|flatmate|neighbou?r|caregiver|carer|guardian"
    "|colleague|coworker|boss|landlord|sponsor"
)
# Checking the first letter up front keeps this long alternation cheap on junk input.
_TRIGGER_INITIALS = "".join(sorted({w[0] + w[0].upper() for w in _TRIGGERS.split("|")}))
_NAME_WORD = r"[A-Z][a-z][A-Za-z-]{0,29}"
_NAME = rf"(?P<hit>{_NAME_WORD}(?:[ ]{_NAME_WORD})?)(?![\w-])"  # "Maria's" gives "Maria"


class _Rule(NamedTuple):
    kind: str
    pattern: re.Pattern[str]
    check: _Check | None = None


def _rule(kind: str, pattern: str, check: _Check | None = None, flags: int = 0) -> _Rule:
    return _Rule(kind, re.compile(pattern, flags), check)


_RULES = (
    _rule("email", r"(?<![\w.+%-])[A-Za-z0-9][\w.+%-]{0,63}+@(?:[A-Za-z0-9-]{1,63}\.){1,8}"
                   r"[A-Za-z]{2,24}(?![\w-])"),
    _rule("url", r"(?<![\w@])(?i:https?://)" + _URL_TAIL, _check_url),
    _rule("url", r"(?<![\w@./-])(?i:www)\.[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}+"
                 r"(?:[/?#:]" + _URL_TAIL + ")?", _check_url),
    _rule("url", r"(?<![\w@./:-])(?:[A-Za-z0-9][A-Za-z0-9-]{0,62}\.){1,6}"
                 rf"(?:{_TLDS})(?![\w-])(?:/" + _URL_TAIL + ")?", _check_url),
    _rule("ip", r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"),
    _rule("ip", r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}+(?![\w:]|\.\d)",
          _check_ipv6),
    _rule("ssn", r"(?<![\w+.-])\d{3}(?P<sep>[- ])\d{2}(?P=sep)\d{4}(?![\w]|[-.]\d)"),
    _rule("ssn", r"(?i:(?<!\w)(?:ssn|ss\#|social[ ]{1,3}security(?:[ ]{1,3}(?:number|no\.?))?))"
                 r"[ ]{0,3}(?:(?i:is|was|number|no\.?)[ ]{1,3})?[:#]?[ ]{0,3}"
                 r"(?P<hit>\d{9})(?![\w]|[-.]\d)"),
    _rule("phone", r"(?<![\w+(.-])(?:\+?1[-. ]?)?(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}"
                   r"(?![\w]|[-.]\d)"),
    _rule("phone", r"(?<![\w+(.-])\d{3}-\d{4}(?![\w]|[-.]\d)"),
    _rule("phone", r"(?<![\w+])\+(?:\d{8,15}+|\d{1,3}(?:(?:[ .-]|(?<=\)))\(?\d{1,5}\)?){1,6}+)"
                   r"(?![\w]|[.-]?\d)", _check_intl_phone),
    _rule("date", r"(?<![\w./:-])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)"
                  r"(?P<y>\d{4}|\d{2})(?![\w]|[./:-]\d)", _check_numeric_date),
    _rule("date", r"(?<![\w./:-])(?P<y>\d{4})(?P<sep>[./-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
                  r"(?![\w]|[./:-]\d)", _check_date_fields),
    _rule("date", rf"(?<![\w.])\b{_MONTH}[ ]{{1,3}}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
                  rf"(?![:.,/-]\d|%){_YEAR_TAIL}", _check_date_fields),
    _rule("date", rf"(?<![\w.,/:-])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[ ]{{1,3}}(?:of[ ]{{1,3}})?"
                  rf"{_MONTH}{_YEAR_TAIL}", _check_date_fields),
    _rule("mrn", r"(?i)(?=[acfimpr])(?<!\w)(?P<label>mrn|medical[ ]{1,3}record|record|case"
                 r"|client|patient|member|file|chart|account|id)"
                 r"(?P<marker>(?:[ ]{1,3}(?:id|number|num|no)\b\.?)?[ ]{0,3}[:#]?)[ ]{0,3}"
                 r"(?P<hit>[a-z]{0,3}\d[\w-]{1,23})(?![\w-])", _check_record),
    _rule("mrn", r"(?<![\w.,+-])\d{7,}+(?![\w]|[.,]\d)"),
    _rule("address", r"(?<![\w.-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?[ ]{1,3}(?:[NSEW]\.?[ ]{1,3})?"
                     r"(?:(?:\d{1,3}(?:st|nd|rd|th)|[A-Z][A-Za-z'-]{1,24})[ ]{1,3}){1,4}"
                     + _STREET_TYPES +
                     r"(?:,?[ ]{1,3}(?:Apt|Apartment|Unit|Suite|Ste|Flat|Room|\#)\.?[ ]{0,3}"
                     r"\#?[A-Za-z0-9-]{1,6}\b)?"),
    _rule("address", r"(?i)(?<!\w)P\.?[ ]?O\.?[ ]{0,2}Box[ ]{1,3}\d{1,6}\b"),
    _rule("address", rf"(?<=, )(?:{'|'.join(_STATES)}),?[ ]{{1,2}}\d{{5}}(?:-\d{{4}})?(?![\w-])"),
    _rule("name", r"(?<!\w)(?:Mr|Mrs|Ms|Mx|Dr|Miss|Prof)\.?[ ]{1,3}" + _NAME, _check_name),
    _rule("name", rf"(?=[{_TRIGGER_INITIALS}])(?<!\w)(?i:{_TRIGGERS})(?:'s|’s|,)?[ ]{{1,3}}"
                  r"(?:(?i:named|called)[ ]{1,3})?" + _NAME, _check_name),
)


def _roster_rule(roster: Iterable[str] | str | None) -> _Rule | None:
    """Compile the roster into one case-insensitive, whole-word pattern."""
    if roster is None or isinstance(roster, str):
        roster = [] if roster is None else [roster]
    variants: dict[str, str] = {}
    for entry in roster:
        if not isinstance(entry, str):
            raise TypeError(f"roster entries must be str, got {type(entry).__name__}")
        words = entry.split()
        forms = [words] + ([words[:1]] if len(words) > 1 else [])
        for form in forms:
            if form and len(" ".join(form)) >= 2:
                variants[" ".join(form).casefold()] = r"\s{1,3}".join(map(re.escape, form))
    if not variants:
        return None
    alternatives = sorted(variants.values(), key=len, reverse=True)
    return _rule("name", rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", flags=re.IGNORECASE)


# --------------------------------------------------------------------------- public API
def scan(text: str, roster: Iterable[str] | None = ()) -> list[Finding]:
    """Find possible personal identifiers in `text`.

    Parameters
    ----------
    text : str
        The note to check.
    roster : iterable of str, optional
        Names of people who must not appear in notes (participants, family).
        Each full name and its first name are matched case-insensitively as
        whole words.  A single string is treated as one name; ``None`` as
        no roster.

    Returns
    -------
    list of Finding
        Sorted by ``start`` and never overlapping; where two candidates
        overlap the longer one wins, then the more specific kind (the order
        of :data:`KINDS`).

    Raises
    ------
    TypeError
        If `text` is not a ``str`` or a roster entry is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"scan() needs the note as a str, got {type(text).__name__}")
    rules = list(_RULES)
    extra = _roster_rule(roster)
    if extra is not None:
        rules.append(extra)
    candidates: list[tuple[int, int, int, int, str, str]] = []
    for rule in rules:
        rank = _RANK[rule.kind]
        message = _ROSTER_MESSAGE if rule is extra else _MESSAGES[rule.kind]
        has_hit = "hit" in rule.pattern.groupindex
        for m in rule.pattern.finditer(text):
            start, end = m.span("hit") if has_hit else m.span()
            if rule.check is not None:
                end = rule.check(m, start, end)
                if end is None:
                    continue
            if end > start:
                # Sort key first: longest, then most specific kind, then leftmost.
                candidates.append((start - end, rank, start, end, rule.kind, message))
    return _resolve(text, candidates)


def _resolve(text: str, candidates: list[tuple[int, int, int, int, str, str]]) -> list[Finding]:
    """Greedily keep the best candidates that do not overlap one already kept."""
    taken = bytearray(len(text))
    kept = []
    candidates.sort()
    for _, _, start, end, kind, message in candidates:
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            kept.append((start, end, kind, message))
    kept.sort()
    return [Finding(kind, start, end, text[start:end], msg) for start, end, kind, msg in kept]


def redact(text: str, findings: Iterable[Finding] | None = None) -> str:
    """Replace every finding's span in `text` with ``[kind]``.

    Parameters
    ----------
    text : str
        The text the findings were made on.
    findings : iterable of Finding, optional
        Usually the result of :func:`scan`; scanned afresh when omitted.

    Returns
    -------
    str
        The text with, for example, ``"call (555) 010-0142"`` turned into
        ``"call [phone]"``.

    Raises
    ------
    TypeError
        If `text` is not a ``str``.
    ValueError
        If a finding does not match `text` (wrong span or text) or two
        findings overlap.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact() needs the note as a str, got {type(text).__name__}")
    if findings is None:
        findings = scan(text)
    pieces, cursor = [], 0
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        if not (0 <= f.start <= f.end <= len(text)) or text[f.start:f.end] != f.text:
            raise ValueError(f"finding {f.text!r} at {f.start}-{f.end} does not match this text")
        if f.start < cursor:
            raise ValueError(f"finding {f.text!r} at {f.start}-{f.end} overlaps an earlier one")
        pieces += [text[cursor:f.start], f"[{f.kind}]"]
        cursor = f.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def summarize(findings: Iterable[Finding]) -> str:
    """Describe findings in one short line.

    Parameters
    ----------
    findings : iterable of Finding

    Returns
    -------
    str
        ``"no possible identifiers found"``, ``"1 possible identifier: email"``
        or ``"3 possible identifiers: email, phone"`` (kinds in order of first
        appearance).
    """
    findings = list(findings)
    if not findings:
        return "no possible identifiers found"
    kinds = list(dict.fromkeys(f.kind for f in findings))
    noun = "identifier" if len(findings) == 1 else "identifiers"
    return f"{len(findings)} possible {noun}: {', '.join(kinds)}"
