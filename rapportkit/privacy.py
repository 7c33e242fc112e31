"""Spot personal identifiers in free-text supervision notes.

Evidence notes ("reflected the feeling back twice, scored 3") must not identify
the person who was supported.  :func:`scan` looks for e-mail addresses (also
obfuscated ones such as ``jane dot doe at example dot com``), web and IP
addresses, social-media handles, phone numbers in any format (also spelled
out: "five five five, zero one four two"), SSN-like numbers, calendar dates
(with or without a year), record numbers, street addresses and names, while
leaving scores, counts, durations, ratios, versions and times alone.  Where a
label introduces an identifier ("MRN 12345678", "client Maria",
"Mr. Testperson") only the identifying part is reported, so :func:`redact`
keeps the label as context ("MRN [mrn]").

Two well-kept data sources raise recall beyond what patterns can do:

* ``phonenumbers`` (Google's libphonenumber) finds and checks phone numbers.
  It is imported on first use, never when :mod:`rapportkit` is imported, and
  only ever sees short windows of the note that hold at least seven digits, so
  a scan stays roughly linear on hostile megabyte-sized input.
* The US census name lists shipped inside the ``names`` package
  (``dist.female.first``, ``dist.male.first``, ``dist.all.last``) let a bare
  first name count ("Talked with Marisol about her housing").  They are read
  once, lazily; see :data:`FIRST_NAME_LIMITS` and :data:`SURNAME_LIMIT`.

The people of the review itself (its specialist and supervisor) are not
identifiers: pass their names as ``exclude``.  Every pattern is bounded or
possessive and starts behind a look-behind.  This module is a leaf: standard
library plus the two packages above.  See ``docs/privacy.md``.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, NamedTuple

__all__ = ["Finding", "KINDS", "scan", "redact", "summarize"]

#: Every kind :func:`scan` can report, most specific first (ties go to the earlier kind).
KINDS = ("email", "url", "handle", "ip", "ssn", "phone", "date", "mrn", "address", "name")
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

_MESSAGES = {
    "email": "looks like an email address",
    "url": "looks like a web address",
    "handle": "looks like a social-media handle",
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


# --------------------------------------------------------------------------- word lists
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

# Census first names that are also ordinary words, months, places or brands.  Such a word
# counts as a name only with extra evidence: a trigger word or title before it ("client
# Grace", "Mr. Grant"), a surname after it ("Will Johnson") or a reporting verb after it
# ("Hope said").  All lower case.
_AMBIGUOUS_NAMES = frozenset("""
april may june august summer autumn dawn sunny misty brook glen dale cliff forest
hope faith grace joy charity destiny precious chance noble ernest
will mark bill art chase grant max frank lane page pat sue rob drew gene ray rod don jack guy
rich miles major royal sterling ward hunter mason foster walker freeman cole clay rocky rusty
dusty sandy buck bud herb lance nick reed rex dean earl norman carol prince princess queen king
rose lily iris violet ivy holly daisy fern heather jasmine jade ruby pearl amber crystal olive
cherry berry candy brandy sherry penny kitty ginger basil hazel laurel myrtle pansy rosemary
fawn robin jay angel
young long man numbers manual brain soon sun alpha easter german christian roman van von les del
val len mac bo ty al ed hal jan jo mae ora una ned sal sol tad tod abe eve ivory venus buster
austin dallas houston denver jackson lincoln paris savannah sierra florence georgia virginia
carolina charlotte chelsea sydney valencia india kenya israel chad asia cleveland darwin monte
orlando aurora augusta columbus trenton troy milan stanford kent devon lourdes carmel
mercedes harley alexa jesus
""".split())

_AMBIGUOUS = _AMBIGUOUS_NAMES | _NOT_NAMES

# Frequent US first names that the 1990 census lists lack (younger and immigrant names).
_EXTRA_FIRST_NAMES = frozenset("""
Priya Imani Aaliyah Jayden Aiden Mateo Muhammad Ximena Nevaeh Jaylen Jaden Brayden Kayden
Anjali Rahul Arjun Aarav Ayaan Yusuf Khalid Zainab Amara Kwame Chidi Ngozi Aditya Ananya Deepika
Sanjay Ravi Vikram Neha Pooja Kavya Isha Riya Aryan Rohan Hamza Ibrahim Zara Noor Amir Tariq
Addison Liam Grayson Brody Everly Skylar Kinsley
""".split())

# Words after a first name that make it a place or institution ("Mary House", "Lincoln Park").
_PLACE_NOUNS = frozenset("""
Church House Hall Center Centre Clinic Hospital School College University Academy Park Garden
Gardens Library Ministries Ministry Shelter Home Homes Place Court County City Town Valley
Springs Lake Bay Beach Bridge Village Heights Manor Lodge Farm Market Mall Cafe Foundation Fund
Institute Program Programme Project Community Centers Day Camp Field Fields Hill Hills Wood Woods
Street Avenue Road Boulevard Lane Drive Way Terrace Square Station Airport Bank Memorial
""".split())

# A following capitalised word that is in the surname list but is an ordinary noun or colour.
_NOT_SURNAMES = _PLACE_NOUNS | frozenset("""
Power Land Love King Little Young Green White Brown Black Gray Grey Rose Hope Mills Mill Ford
Cross Session Spring Stone Rivers River Gold Silver Star Sun Moon Rain Snow Summer Winter Price
Cost Bill Law Justice Rich Short Long Strong Wise Best Hand Hart Heart Page Book Story Rice
""".split())

# Words before a first name that make it a place or saint ("St. Mary's", "Fort Worth").
_PLACE_PREFIXES = frozenset("st saint san santa fort ft lake mount mt port cape camp our".split())

# Verbs that make even an ambiguous capitalised word a name ("Hope said", "J.T. told").
_STRONG_VERBS = frozenset("""
said says told tells shared shares reported reports asked asks explained explains mentioned
mentions stated states disclosed discloses texted texts emailed emails phoned phones wrote
writes admitted admits replied replies answered answers described describes insisted insists
confided confides cried cries laughed laughs
""".split())
# More that may follow a sentence-initial unambiguous first name ("Marisol was calmer").
_WEAK_VERBS = _STRONG_VERBS | frozenset("""
was is has had seemed seems felt feels wants wanted arrived came went left got did does will
would can could called calls agreed agrees declined declines attended attends missed misses
needs needed joined joins
""".split())

# Dotted abbreviations that look like initials.
_NOT_INITIALS = frozenset("""
US UK USA EU PO AM PM AA NA DC ER ID MD RN PS OT PT GP BA MA BS MS LA NY TV DV IT HR CV VA
""".split())


#: How many first names of each census list to use, by frequency rank.  The male list
#: (1,219 names) is used whole; the female list is cut at 1,500 (frequency >= 0.004 %),
#: which keeps the names of ~85 % of women (94 % of those the list covers) and drops a
#: long tail that is mostly rare spellings and ordinary words ("In", "See", "Many").
#: With :data:`_EXTRA_FIRST_NAMES`, 2,633 names; with the surnames ~1.4 MB, read in ~15 ms.
FIRST_NAME_LIMITS = {"dist.female.first": 1500, "dist.male.first": 1219}
#: How many surnames (of 88,799) to use: only as evidence after a first name ("Will
#: Johnson").  The top 10,000 cover ~79 % of the people the list describes (~1.1 MB; all
#: 88,799 would cost ~9 MB for little gain).
SURNAME_LIMIT = 10_000


def _read_census(filename: str, limit: int) -> Iterator[str]:
    with importlib.resources.files("names").joinpath(filename).open(encoding="ascii") as lines:
        for rank, line in enumerate(lines):
            if rank >= limit:
                break
            word = line.split(maxsplit=1)[0]
            if word.isalpha():
                yield word.capitalize()


@functools.cache
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), capitalised ("Marisol"), read once from ``names``."""
    first = set(_EXTRA_FIRST_NAMES)
    for filename, limit in FIRST_NAME_LIMITS.items():
        first.update(_read_census(filename, limit))
    last = frozenset(_read_census("dist.all.last", SURNAME_LIMIT))
    return frozenset(first), last


def _is_first_name(word: str, *, strict: bool) -> bool:
    """Is `word` a census first name (and, if `strict`, not an ambiguous one)?"""
    cap = word[:1].upper() + word[1:].lower()
    if cap not in _name_lists()[0]:
        return False
    low = cap.lower()
    return not strict or (low not in _AMBIGUOUS_NAMES and low not in _NOT_NAMES)


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


# "3/4 practices", "3/4 of the items", "3/4 on empathy": a fraction, whatever came before.
_FRACTION_FOLLOWS = re.compile(
    r"[ ]{1,3}(?i:of|out|on|practices?|items?|domains?|skills?|questions?|points?|criteria"
    r"|anchors?|areas?|scales?|scores?|scored|rated|ratings?|correct|done|completed?|met"
    r"|achieved|goals?|sessions?|times|days|weeks|split|ratio|majority)\b"
)


def _check_short_date(m: re.Match[str], start: int, end: int) -> int | None:
    a, b = int(m["a"]), int(m["b"])
    if m["hit"] in ("24/7", "9/11") or _FRACTION_FOLLOWS.match(m.string, end):
        return None
    month_day = 1 <= a <= 12 and 1 <= b <= 31
    day_month = 13 <= a <= 31 and 1 <= b <= 12
    return end if month_day or day_month else None


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


def _check_record(m: re.Match[str], start: int, end: int) -> int | None:
    while end > start and m.string[end - 1] in "-/":
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


def _check_name(m: re.Match[str], start: int, end: int) -> int | None:
    words = m.string[start:end].split(" ")
    if words[0].lower() in _NOT_NAMES:
        return None
    if len(words) > 1 and words[1].lower() in _NOT_NAMES:
        return start + len(words[0])
    return end


def _check_lower_name(m: re.Match[str], start: int, end: int) -> int | None:
    return end if _is_first_name(m.string[start:end], strict=True) else None


def _check_initials(m: re.Match[str], start: int, end: int) -> int | None:
    letters = m.string[start:end].replace(".", "").replace(" ", "")
    return None if letters in _NOT_INITIALS else end


def _check_trigger(m: re.Match[str], start: int, end: int) -> int | None:
    if m["cap"]:
        return _check_name(m, start, end)
    if m["low"]:
        return _check_lower_name(m, start, end)
    return _check_initials(m, start, end)


_PLATFORMS = "instagram|insta|ig|twitter|tiktok|snapchat|snap|facebook|fb|threads|discord" \
             "|reddit|telegram|youtube|twitch|bluesky|mastodon|linkedin|kik"
_PLATFORM_WORD = re.compile(rf"\b(?:{_PLATFORMS})\b")

# "@home", "@ work": shorthand for "at", not a handle.
_NOT_HANDLES = frozenset("home work school noon night lunch the me you all everyone here there"
                         .split())


def _check_handle(m: re.Match[str], start: int, end: int) -> int | None:
    while end > start and m.string[end - 1] == ".":
        end -= 1
    handle = m.string[start:end].lstrip("@")
    if len(handle) < 2 or not any(ch.isalpha() for ch in handle):
        return None
    if handle.lower() in _NOT_HANDLES or handle.lower() in _NOT_NAMES:
        return None
    if "label" in m.re.groupindex:
        label = m["label"].lower()
        handle_like = any(ch in "_.@" or ch.isdigit() for ch in m.string[start:end])
        platform = _PLATFORM_WORD.search(label) is not None
        says_handle = any(w in label for w in ("handle", "username", "user name"))
        if ":" not in label and not handle_like and not (platform and says_handle):
            return None  # "handle stress", "Instagram is great"
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
# Without a house number only unmistakable street words count ("Birchwood Avenue") ...
_STRONG_STREET = r"(?:(?:Street|Avenue|Road|Boulevard|Terrace|Crescent|Parkway|Highway)\b" \
                 r"|(?:St|Ave|Rd|Blvd|Hwy|Pkwy)\b\.?)"
# ... and these only after "on", "lives off" etc. ("Family Court", "Food Drive" stay quiet).
_WEAK_STREET = r"(?:Lane|Drive|Way|Place|Close|Trail)\b"
_STREET_NAME = r"(?!(?:The|A|An|This|That|Our|My|Her|His|Their|Memory|Easy|Sesame|Wall)\b)" \
               r"(?:[A-Z][a-z'-]{1,24}[ ]{1,3}){1,3}"
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
_TRIGGER = (rf"(?=[{_TRIGGER_INITIALS}])(?<!\w)(?=[A-Za-z]{{3,14}}(?:'s|’s|,)?[ ])"
            rf"(?i:{_TRIGGERS})(?:'s|’s|,)?[ ]{{1,3}}(?:(?i:named|called)[ ]{{1,3}})?")
_NAME_WORD = r"[A-Z][a-z][A-Za-z-]{0,29}"
_NAME = rf"(?P<hit>{_NAME_WORD}(?:[ ]{_NAME_WORD})?)(?![\w-])"  # "Maria's" gives "Maria"
_INITIALS = r"[A-Z]\.(?:[ ]?[A-Z]\.){1,2}"
_INITIAL_VERBS = "said|says|told|tells|shared|shares|reported|reports|was|is|has|had|asked" \
                 "|explained|mentioned|stated|felt|feels|seemed|seems|wants|wanted|disclosed" \
                 "|agreed|declined|called|texted|came|went|arrived|left"
# Spelled or bracketed "at" and "dot" in obfuscated e-mail addresses.
_OB_AT = r"(?:@|[ ]{0,2}[\[({<][ ]?(?i:at)[ ]?[\])}>][ ]{0,2}|[ ]{1,2}(?i:at)[ ]{1,2})"
_OB_DOT = r"(?:\.|[ ]{0,2}[\[({<][ ]?(?i:dot)[ ]?[\])}>][ ]{0,2}|[ ]{1,2}(?i:dot)[ ]{1,2})"
_DATE_CUES = "on|by|until|till|til|since|before|after|dated|due|starting|thru|born|dob" \
             "|birthday|appointment|appt|hearing|court|discharged|admitted|released|evicted" \
             "|deadline|mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs" \
             "|thursday|fri|friday|sat|saturday|sun|sunday"


class _Rule(NamedTuple):
    kind: str
    pattern: re.Pattern[str]
    check: _Check | None = None


def _rule(kind: str, pattern: str, check: _Check | None = None, flags: int = 0) -> _Rule:
    return _Rule(kind, re.compile(pattern, flags), check)


_RULES = (
    _rule("email", r"(?<![\w.+%-])[A-Za-z0-9][\w.+%-]{0,63}+@(?:[A-Za-z0-9-]{1,63}\.){1,8}"
                   r"[A-Za-z]{2,24}(?![\w-])"),
    # obfuscated: "jane dot doe at example dot com", "jane[at]example.com", "j (at) x (dot) org"
    _rule("email", rf"(?<![\w.+%-])[A-Za-z0-9][\w+%-]{{0,63}}+(?:{_OB_DOT}[\w+%-]{{1,63}}+){{0,6}}+"
                   rf"{_OB_AT}(?:[A-Za-z0-9-]{{1,63}}+{_OB_DOT}(?=\w)){{1,6}}+(?i:{_TLDS})"
                   r"(?![\w-]|\.\w)"),
    _rule("url", r"(?<![\w@])(?i:https?://)" + _URL_TAIL, _check_url),
    _rule("url", r"(?<![\w@./-])(?i:www)\.[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}+"
                 r"(?:[/?#:]" + _URL_TAIL + ")?", _check_url),
    _rule("url", r"(?<![\w@./:-])(?:[A-Za-z0-9][A-Za-z0-9-]{0,62}\.){1,6}"
                 rf"(?:{_TLDS})(?![\w-])(?:/" + _URL_TAIL + ")?", _check_url),
    _rule("handle", r"(?<![\w@./+-])@[A-Za-z0-9_][A-Za-z0-9_.]{0,29}+(?![\w@-])", _check_handle),
    _rule("handle", r"(?<![\w/])u/[A-Za-z0-9_-]{3,20}+(?![\w/-])", _check_handle),
    # "Instagram: thistle.testperson", "her TikTok handle is sunflower_kid99"
    _rule("handle", rf"(?i)(?<!\w)(?=[a-z]{{2,9}}[ :])(?P<label>(?:(?:{_PLATFORMS})"
                    r"(?:[ ]{1,2}(?:handle|username|user[ ]name|account|name|id))?"
                    r"|handle|username|user[ ]name)"
                    r"(?:[ ]{0,2}:|[ ]{1,3}(?:is|was|as)(?:[ ]{0,2}:)?|[ ]{1,2}(?=@)))[ ]{0,3}"
                    r"(?P<hit>@?[a-z0-9_][a-z0-9_.]{1,29}+)(?![\w@-])", _check_handle),
    _rule("ip", r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"),
    _rule("ip", r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}+(?![\w:]|\.\d)",
          _check_ipv6),
    _rule("ssn", r"(?<![\w+.-])\d{3}(?P<sep>[- ])\d{2}(?P=sep)\d{4}(?![\w]|[-.]\d)"),
    _rule("ssn", r"(?i:(?<!\w)(?:ssn|ss\#|social[ ]{1,3}security(?:[ ]{1,3}(?:number|no\.?))?))"
                 r"[ ]{0,3}(?:(?i:is|was|number|no\.?)[ ]{1,3})?[:#]?[ ]{0,3}"
                 r"(?P<hit>\d{9})(?![\w]|[-.]\d)"),
    # phone numbers: see _phone_candidates (phonenumbers), not patterns
    _rule("date", r"(?<![\w./:-])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)"
                  r"(?P<y>\d{4}|\d{2})(?![\w]|[./:-]\d)", _check_numeric_date),
    _rule("date", r"(?<![\w./:-])(?P<y>\d{4})(?P<sep>[./-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
                  r"(?![\w]|[./:-]\d)", _check_date_fields),
    _rule("date", rf"(?<![\w.])\b{_MONTH}[ ]{{1,3}}(?:the[ ]{{1,3}})?(?P<d>\d{{1,2}})"
                  rf"(?:st|nd|rd|th)?\b(?![:.,/-]\d|%){_YEAR_TAIL}", _check_date_fields),
    _rule("date", rf"(?<![\w.,/:-])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[ ]{{1,3}}(?:of[ ]{{1,3}})?"
                  rf"{_MONTH}{_YEAR_TAIL}", _check_date_fields),
    # "on 3/14", "Tues 3/14": a month/day without a year only after a date word, so that
    # "rated 3/4 on empathy" and "Mood 6/10" stay quiet.
    _rule("date", r"(?<!\w)(?=[A-Za-z]{2,12}\.?,?[ ]{1,3}(?:[Tt]he[ ]{1,3})?\d{1,2}/\d)"
                  rf"(?i:{_DATE_CUES})\.?,?[ ]{{1,3}}(?:(?i:the)[ ]{{1,3}})?"
                  r"(?P<hit>(?P<a>\d{1,2})/(?P<b>\d{1,2}))(?![\w%/]|[.:-]\d)", _check_short_date),
    _rule("mrn", r"(?i)(?=[acdfimnpr])(?<!\w)(?P<label>mrn|medical[ ]{1,3}record|record|case"
                 r"|client|patient|member|file|chart|account|id|ref|reference|docket|claim"
                 r"|policy|medicaid|medicare|nhs|referral)"
                 r"(?P<marker>(?:[ ]{1,3}(?:id|number|num|no|ref)\b\.?)?[ ]{0,3}[:#]{0,2})"
                 r"(?:[ ]{0,3}(?:is|was)\b)?[ ]{0,3}"
                 r"(?P<hit>(?:[a-z]{1,4}-?)?\d[\w/-]{1,23})(?![\w-])", _check_record),
    _rule("mrn", r"(?<![\w.,+-])\d{7,}+(?![\w]|[.,]\d)"),
    _rule("address", r"(?<![\w.-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?[ ]{1,3}(?:[NSEW]\.?[ ]{1,3})?"
                     r"(?:(?:\d{1,3}(?:st|nd|rd|th)|[A-Z][A-Za-z'-]{1,24})[ ]{1,3}){1,4}"
                     + _STREET_TYPES +
                     r"(?:,?[ ]{1,3}(?:Apt|Apartment|Unit|Suite|Ste|Flat|Room|\#)\.?[ ]{0,3}"
                     r"\#?[A-Za-z0-9-]{1,6}\b)?"),
    _rule("address", rf"(?<![\w.-]){_STREET_NAME}{_STRONG_STREET}"),
    _rule("address", r"(?<!\w)(?=[A-Za-z]{2,6}[ ]{1,3}[A-Z])(?i:on|off|along|onto|near|down|up|at"
                     rf"|to|from|of|lives|living|moved|moving)[ ]{{1,3}}"
                     rf"(?P<hit>{_STREET_NAME}{_WEAK_STREET})"),
    _rule("address", r"(?i)(?<!\w)P\.?[ ]?O\.?[ ]{0,2}Box[ ]{1,3}\d{1,6}\b"),
    _rule("address", rf"(?<=, )(?:{'|'.join(_STATES)}),?[ ]{{1,2}}\d{{5}}(?:-\d{{4}})?(?![\w-])"),
    _rule("name", r"(?<!\w)(?:Mr|Mrs|Ms|Mx|Dr|Miss|Prof)\.?[ ]{1,3}" + _NAME, _check_name),
    # "client Maria", "client maria" (only a listed first name), "client J.T."
    _rule("name", _TRIGGER + rf"(?P<hit>(?P<cap>{_NAME_WORD}(?:[ ]{_NAME_WORD})?(?![\w-]))"
                             rf"|(?P<low>[a-z]{{2,20}}(?![\w-]))|{_INITIALS}(?!\w)|[A-Z]\.(?!\w))",
          _check_trigger),
    _rule("name", rf"(?<![\w.])(?P<hit>{_INITIALS})"
                  rf"(?=(?:'s|’s)?[ ]{{1,3}}(?:{_INITIAL_VERBS})\b)", _check_initials),
)


def _names(entries: Iterable[str] | str | None, what: str) -> list[str]:
    if entries is None or isinstance(entries, str):
        entries = [] if entries is None else [entries]
    out = []
    for entry in entries:
        if not isinstance(entry, str):
            raise TypeError(f"{what} entries must be str, got {type(entry).__name__}")
        out.append(entry)
    return out


def _roster_rule(roster: Iterable[str] | str | None) -> _Rule | None:
    """Compile the roster into one case-insensitive, whole-word pattern."""
    variants: dict[str, str] = {}
    for entry in _names(roster, "roster"):
        words = entry.split()
        forms = [words] + ([words[:1]] if len(words) > 1 else [])
        for form in forms:
            if form and len(" ".join(form)) >= 2:
                variants[" ".join(form).casefold()] = r"\s{1,3}".join(map(re.escape, form))
    if not variants:
        return None
    alternatives = sorted(variants.values(), key=len, reverse=True)
    return _rule("name", rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", flags=re.IGNORECASE)


def _excluded_forms(exclude: Iterable[str] | str | None) -> frozenset[str]:
    """Each excluded full name and its first and last word, case-folded."""
    forms = set()
    for entry in _names(exclude, "exclude"):
        words = entry.casefold().split()
        if words:
            forms.update((" ".join(words), words[0], words[-1]))
    return frozenset(forms)


def _is_excluded(found: str, forms: frozenset[str]) -> bool:
    words = found.casefold().split()
    return bool(words) and (" ".join(words) in forms or words[0] in forms or words[-1] in forms)


# --------------------------------------------------------------------------- names list
_CAPITALISED = re.compile(r"(?<![\w'’.-])[A-Z][a-z]{1,19}(?![A-Za-z0-9_])")
_NEXT_WORD = re.compile(r"(?P<pos>'s|’s)?(?:[ ]{1,2}(?P<word>[A-Za-z][a-z]{0,24})(?![A-Za-z]))?")
_PREV_WORD = re.compile(r"(?<![A-Za-z])([A-Za-z]{1,10})\.?[ ]{1,3}$")
_SENTENCE_GAP = " \t\"'“”‘’([*•–—>#-"


def _sentence_start(text: str, i: int) -> bool:
    """Is position `i` the first word of a sentence, line or bullet?"""
    j, stop = i - 1, max(-1, i - 200)
    while j > stop and text[j] in _SENTENCE_GAP:
        j -= 1
    return j <= stop or text[j] in ".!?\n\r…"


def _name_list_candidates(text: str) -> Iterator[tuple[int, int]]:
    """Capitalised first names from the census lists, with the evidence rules of the module."""
    first, last = _name_lists()
    for m in _CAPITALISED.finditer(text):
        word = m.group()
        if word not in first:
            continue
        start, end = m.span()
        after = _NEXT_WORD.match(text, end)
        following = after["word"] or ""
        possessive = bool(after["pos"])
        capitalised = following[:1].isupper() and not possessive
        verb = "" if capitalised else following.lower()
        ambiguous = word.lower() in _AMBIGUOUS
        if ambiguous and not capitalised and verb not in _STRONG_VERBS:
            continue  # the common case for "May", "Will", "Hope": decided without more work
        if following in _PLACE_NOUNS:
            continue  # "Mary House", "Lincoln Park"
        ordinary = capitalised and (following in _NOT_SURNAMES or following.lower() in _NOT_NAMES)
        surname = capitalised and not ordinary and following in last
        if ambiguous:
            accepted = surname or verb in _STRONG_VERBS
        elif _sentence_start(text, start):
            accepted = surname or possessive or verb in _WEAK_VERBS
        else:
            accepted = True
        if not accepted:
            continue
        before = _PREV_WORD.search(text, max(0, start - 14), start)
        if before and before.group(1).lower() in _PLACE_PREFIXES:
            continue  # "St. Mary's", "Fort Worth"
        yield start, after.end("word") if capitalised and not ordinary else end  # "Marisol Vega"


# --------------------------------------------------------------------------- phone numbers
_PHONENUMBERS = None


def _pn():
    """The phonenumbers module, imported on first use (it is not needed to import rapportkit)."""
    global _PHONENUMBERS
    if _PHONENUMBERS is None:
        import phonenumbers

        _PHONENUMBERS = phonenumbers
    return _PHONENUMBERS


_UNIT_WORDS = {"zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
               "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_TEEN_WORDS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
               "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
               "nineteen": "19"}
_TENS_WORDS = {"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6",
               "seventy": "7", "eighty": "8", "ninety": "9"}
_UNITS_RE = "|".join(_UNIT_WORDS)
_NUMBER_WORD = re.compile(
    rf"(?i)(?<![\w'’-])(?:{_UNITS_RE}|{'|'.join(_TEEN_WORDS)}|{'|'.join(_TENS_WORDS)}"
    r"|double|triple)(?![\w'’])"
)
_SPELL_TOKEN = re.compile(
    rf"(?i)(?<![\w'’])(?:(?P<tens>{'|'.join(_TENS_WORDS)})(?:[-\u2010 ](?P<tu>{_UNITS_RE}))?"
    rf"|(?P<teen>{'|'.join(_TEEN_WORDS)})|(?P<unit>{_UNITS_RE})"
    rf"|(?P<mul>double|triple)[ ]{{1,2}}(?P<mu>{_UNITS_RE}|\d)"
    r"|(?P<plus>plus)|(?P<num>\d{1,4}))(?![\w'’])"
)
_SPELL_SEP = re.compile(r"[ \t,.\-\u2010-\u2014]{1,3}")
_SPELL_MAX_TOKENS = 24


def _token_digits(t: re.Match[str]) -> tuple[str, int | None]:
    """The digits a spelled-out token stands for, and its value if it is a number word."""
    if t["tens"]:
        digits = _TENS_WORDS[t["tens"].lower()] + (_UNIT_WORDS[t["tu"].lower()] if t["tu"] else "0")
        return digits, int(digits)
    if t["teen"]:
        return _TEEN_WORDS[t["teen"].lower()], int(_TEEN_WORDS[t["teen"].lower()])
    if t["unit"]:
        return _UNIT_WORDS[t["unit"].lower()], int(_UNIT_WORDS[t["unit"].lower()])
    if t["mul"]:
        digit = _UNIT_WORDS.get(t["mu"].lower(), t["mu"])
        return digit * (2 if t["mul"].lower() == "double" else 3), None
    if t["plus"]:
        return "+", None
    return t["num"], None


def _spelled_runs(text: str) -> Iterator[tuple[int, int, str, list[tuple[int, int]]]]:
    """Runs of number words (and digit groups) that spell at least seven digits.

    Yields ``(start, end, digits, spans)`` with one ``(start, end)`` source span per
    character of ``digits`` (so a phone number found in the digits maps back to words).
    """
    done = 0
    while (word := _NUMBER_WORD.search(text, done)) is not None:
        # extend left over digit groups (or "plus") that touch this word through separators
        tokens: list[tuple[re.Match[str], str, int | None]] = []
        edge = word.start()
        for t in reversed(list(_SPELL_TOKEN.finditer(text, max(done, edge - 60), edge))):
            if _SPELL_SEP.fullmatch(text, t.end(), edge) is None:
                break
            tokens.insert(0, (t, *_token_digits(t)))
            edge = t.start()
            if t["plus"]:
                break  # "plus" only opens a number
        pos, count = word.start(), sum(len(d.lstrip("+")) for _, d, _ in tokens)
        while len(tokens) < _SPELL_MAX_TOKENS:
            t = _SPELL_TOKEN.match(text, pos)
            if t is None or (t["plus"] and tokens):
                break
            tokens.append((t, *_token_digits(t)))
            count += len(tokens[-1][1].lstrip("+"))
            sep = _SPELL_SEP.match(text, t.end())
            if sep is None or (count in (7, 10) and any(ch in sep.group() for ch in ",.")):
                break  # "five five five, zero one four two, five five five, ..." is two numbers
            pos = sep.end()
        if not tokens:  # a number word the token pattern does not take (cannot happen)
            done = word.end()
            continue
        done = max(word.end(), tokens[-1][0].end())
        digits = "".join(d for _, d, _ in tokens)
        n = len(digits.lstrip("+"))
        if not 7 <= n <= 15 or "+" in digits[1:]:
            continue
        values = [v for _, _, v in tokens if v is not None]
        counting = len(values) >= 5 and (
            all(b - a == 1 for a, b in zip(values, values[1:]))
            or all(a - b == 1 for a, b in zip(values, values[1:]))
        )
        gaps = (text[a.end():b.start()] for (a, _, _), (b, _, _) in zip(tokens, tokens[1:]))
        commas = sum("," in gap for gap in gaps)
        if values and not counting and commas <= 2:  # "four, four, three, four, ..." are scores
            spans = [t.span() for t, d, _ in tokens for _ in d]
            yield tokens[0][0].start(), tokens[-1][0].end(), digits, spans


class _Copy:
    """The text with spelled-out numbers replaced by digits, and the way back."""

    def __init__(self, text: str) -> None:
        # (copy start, copy end, text start, text end, one text span per copy character)
        self.segments: list[tuple[int, int, int, int, list[tuple[int, int]]]] = []
        pieces, cursor, shift = [], 0, 0
        for start, end, digits, spans in _spelled_runs(text):
            pieces += [text[cursor:start], digits]
            self.segments.append((start + shift, start + shift + len(digits), start, end, spans))
            shift += len(digits) - (end - start)
            cursor = end
        self.copy = "".join(pieces) + text[cursor:] if self.segments else text
        self._starts = [seg[0] for seg in self.segments]

    def _char(self, pos: int) -> tuple[int, int, bool]:
        """The text span behind copy character `pos`, and whether it was spelled out."""
        k = bisect.bisect_right(self._starts, pos) - 1
        if k < 0:
            return pos, pos + 1, False
        cs, ce, _, oe, spans = self.segments[k]
        if pos < ce:
            return (*spans[pos - cs], True)
        return pos - ce + oe, pos - ce + oe + 1, False

    def original(self, cs: int, ce: int) -> tuple[int, int, bool]:
        """Map a copy span back to the text; also say whether it holds spelled-out digits."""
        if not self.segments:
            return cs, ce, False
        start, _, first = self._char(cs)
        _, end, last = self._char(ce - 1)
        inner = bisect.bisect_left(self._starts, ce) > bisect.bisect_right(self._starts, cs)
        return start, end, first or last or inner


_ANY_DIGIT = re.compile(r"\d")
_PHONE_RUN = re.compile(r"[+(]?\d[\d ()+.\u00a0\u2010-\u2015-]*+")
_RUN_PUNCTUATION = str.maketrans("", "", " ()+.\u00a0\u2010\u2011\u2012\u2013\u2014\u2015-")
_IDD_00 = re.compile(r"(?:^|(?<=[ (]))00(?=[1-9])")
_WINDOW = 40  # longer than any formatted phone number; long runs are cut into windows
_TOKEN_START = re.compile(r"[^ \u00a0]")
_DIGIT_GROUPS = re.compile(r"\d+")
# How North American numbers are written: 555-0142, (212) 555-0142, 1-212-555-0142, 212-5550142.
_NANP_GROUPINGS = {(3, 4), (3, 3, 4), (1, 3, 3, 4), (3, 7), (1, 3, 7)}
_SEVEN = re.compile(r"[2-9]\d\d[-. \u2010-\u2015]\d{4}")  # exchange codes start with 2-9


@functools.lru_cache(maxsize=4096)
def _window_matches(window: str) -> tuple[tuple[int, int, int, int, bool, bool, bool], ...]:
    """Phone numbers the library finds in one window: (start, end, country code,
    national-number length, possible, valid, international format)."""
    pn = _pn()
    shifted = _IDD_00.sub(" +", window)  # "0044 20 ..." is "+44 20 ..." (same length)
    found = []
    for m in pn.PhoneNumberMatcher(shifted, "US", leniency=pn.Leniency.POSSIBLE, max_tries=64):
        number, start = m.number, m.start
        if start > 0 and shifted[start] == "+" and window[start - 1:start + 1] == "00":
            start -= 1
        international = shifted[start:m.end].lstrip(" (").startswith(("+", "011"))
        bare = shifted[start:m.end].isdigit()  # validity only matters for a bare digit run
        length = len(pn.national_significant_number(number))
        found.append((start, m.end, number.country_code, length, pn.is_possible_number(number),
                      bare and pn.is_valid_number(number), international))
    return tuple(found)


def _windows(copy: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Windows of at most _WINDOW characters covering a run, cut at spaces, overlapping by half."""
    if end - start <= _WINDOW:
        yield start, end
        return
    pos = start
    while pos < end:
        limit = min(end, pos + _WINDOW)
        stop = limit if limit == end or copy[limit] in " \u00a0" else copy.rfind(" ", pos, limit)
        if stop <= pos:  # one token longer than any phone number: skip it
            space = copy.find(" ", pos, end)
            if space == -1:
                return
            nxt = _TOKEN_START.search(copy, space, end)
        else:
            yield pos, stop
            if stop == end:
                return
            half = copy.find(" ", pos + _WINDOW // 2, stop)
            nxt = _TOKEN_START.search(copy, stop if half == -1 else half, end)
        if nxt is None:
            return
        pos = nxt.start()


def _phone_ok(raw: str, code: int, length: int, possible: bool, valid: bool, intl: bool,
              spelled: bool) -> bool:
    if intl:
        return possible and 8 <= _digits(raw) <= 15
    if code != 1 or not possible:
        return False  # a national number is read as a North American one
    if spelled:
        return length in (7, 10)
    if length == 10 and _DIGIT_GROUPS.fullmatch(raw):  # bare: a real number, else a record number
        return valid
    if tuple(len(g) for g in _DIGIT_GROUPS.findall(raw)) not in _NANP_GROUPINGS:
        return False  # "12 14 15 13 18" is a list of counts
    return length == 10 or _SEVEN.fullmatch(raw) is not None  # "555-0142", not "7781234"


#: At most this many distinct windows of one note go to phonenumbers (~0.1 ms each).  A real
#: note has a handful; past the budget (bulk-pasted or hostile text) the rest of the note is
#: checked with the cheap patterns below, so a scan stays linear.
LIBRARY_BUDGET = 2000
_FALLBACK_PHONES = (
    re.compile(r"(?<![\w+(.-])(?:\+?1[-. ]?)?(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}"
               r"(?![\w]|[-.]\d)"),
    re.compile(r"(?<![\w+(.-])\d{3}[-.]\d{4}(?![\w]|[-.]\d)"),
    re.compile(r"(?<![\w+])\+(?:\d{8,15}+|\d{1,3}(?:(?:[ .-]|(?<=\)))\(?\d{1,5}\)?){1,6}+)"
               r"(?![\w]|[.-]?\d)"),
)


def _fallback_phones(text: str, pos: int) -> Iterator[tuple[int, int]]:
    for pattern in _FALLBACK_PHONES:
        for m in pattern.finditer(text, pos):
            if 7 <= _digits(m.group()) <= 15:
                yield m.span()


def _phone_candidates(text: str) -> Iterator[tuple[int, int]]:
    """Phone numbers in any format, found by phonenumbers in digit-rich windows."""
    mapped = _Copy(text)
    copy, seen = mapped.copy, set()
    asked: dict[str, tuple[tuple[int, int, int, int, bool, bool, bool], ...]] = {}
    for run in _PHONE_RUN.finditer(copy):
        start, end = run.span()
        while end > start and not copy[end - 1].isdigit():
            end -= 1
        if end - start < 7 or len(copy[start:end].translate(_RUN_PUNCTUATION)) < 7:
            continue
        for ws, we in _windows(copy, start, end):
            window = copy[ws:we]
            found = asked.get(window)
            if found is None:
                if len(asked) >= LIBRARY_BUDGET:
                    yield from _fallback_phones(text, mapped.original(ws, ws + 1)[0])
                    return
                found = asked[window] = _window_matches(window)
            for rs, re_, code, length, possible, valid, intl in found:
                cs, ce = ws + rs, ws + re_
                if copy[cs] == "(" and ")" not in copy[cs:ce]:
                    cs += 1
                s, e, spelled = mapped.original(cs, ce)
                if (s, e) in seen or not _phone_ok(copy[cs:ce], code, length, possible, valid,
                                                   intl, spelled):
                    continue
                before = text[s - 1] if s else " "
                after = text[e:e + 2]
                if before.isalnum() or before in "_+.-/" or after[:1].isalnum() or after[:1] == "_":
                    continue  # part of a longer word or number
                if len(after) == 2 and after[0] in "-./" and after[1].isdigit():
                    continue
                seen.add((s, e))
                yield s, e


# --------------------------------------------------------------------------- public API
# (length, kind rank, roster first, start, end, kind, message): sorts best first
_Candidate = tuple[int, int, int, int, int, str, str]


def scan(
    text: str,
    roster: Iterable[str] | None = (),
    exclude: Iterable[str] | None = (),
) -> list[Finding]:
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
    exclude : iterable of str, optional
        Names of the people of the review itself (its specialist and
        supervisor, other staff): they are not identifiers.  A name finding
        is dropped when its text, or its first or last word, equals (case-
        insensitively) one of these names or the first or last word of one,
        even when the roster also lists it.  A single string is one name.

    Returns
    -------
    list of Finding
        Sorted by ``start`` and never overlapping; where two candidates
        overlap the longer one wins, then the more specific kind (the order
        of :data:`KINDS`), then a roster match over other name findings.

    Raises
    ------
    TypeError
        If `text` is not a ``str`` or a roster or exclude entry is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"scan() needs the note as a str, got {type(text).__name__}")
    rules = list(_RULES)
    extra = _roster_rule(roster)
    if extra is not None:
        rules.append(extra)
    excluded = _excluded_forms(exclude)
    candidates: list[_Candidate] = []

    def add(start: int, end: int, kind: str, message: str, roster_match: bool = False) -> None:
        if end <= start:
            return
        if kind == "name" and excluded and _is_excluded(text[start:end], excluded):
            return
        # Sort key first: longest, then most specific kind, roster first, then leftmost.
        candidates.append((start - end, _RANK[kind], 0 if roster_match else 1, start, end, kind,
                           message))

    for rule in rules:
        message = _ROSTER_MESSAGE if rule is extra else _MESSAGES[rule.kind]
        has_hit = "hit" in rule.pattern.groupindex
        for m in rule.pattern.finditer(text):
            start, end = m.span("hit") if has_hit else m.span()
            if rule.check is not None:
                end = rule.check(m, start, end)
                if end is None:
                    continue
            add(start, end, rule.kind, message, rule is extra)
    if _ANY_DIGIT.search(text) or _NUMBER_WORD.search(text):
        for start, end in _phone_candidates(text):
            add(start, end, "phone", _MESSAGES["phone"])
    for start, end in _name_list_candidates(text):
        add(start, end, "name", _MESSAGES["name"])
    return _resolve(text, candidates)


def _resolve(text: str, candidates: list[_Candidate]) -> list[Finding]:
    """Greedily keep the best candidates that do not overlap one already kept."""
    taken = bytearray(len(text))
    kept = []
    candidates.sort()
    for _, _, _, start, end, kind, message in candidates:
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
