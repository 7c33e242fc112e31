"""Printable PDFs: the supervision record of one review, and a specialist's period summary.

- :func:`review_report` — header (people, session, meeting, status, signatures), the
  ratings table with the consensus rationale, evidence notes, traps, goals set and
  verdicts on earlier goals, and the profile figure.
- :func:`specialist_report` — a period's summary: alerts, goal counts, calibration,
  the trend table, then the trend grid, calibration gap and goal timeline.
- :func:`team_reports` — one specialist summary per specialist, into a folder.

Pages are laid out by :class:`rapportkit.report_layout.Document` with matplotlib alone
(``Figure`` objects and ``PdfPages``; no pyplot, no LaTeX): A4 portrait, text wrapped,
long notes shortened. Everything a person typed is drawn literally — ``$x$`` is not
mathematics and ``<b>`` is not markup. A file is written to a temporary name and moved
into place, so a failed run leaves no partial PDF. The metadata holds a title made of
ids (no names) and ``Author: rapportkit``. Unknown ids raise ValidationError.
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import analysis, plots
from .errors import ValidationError
from .frames import COUNTED_STATUSES, counted, goals_frame, ratings_frame, reviews_frame, traps_frame
from .model import PersonRole, Review, ReviewStatus, meeting_words
from .report_layout import GREY, PLAIN, SMALL, Document, legend_below
from .store import Store

__all__ = ["review_report", "specialist_report", "team_reports", "progress_line"]

# --------------------------------------------------------------------------- helpers


def _pdf_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise ValidationError(f"a report is written to a .pdf file; --out must end in .pdf (got {str(out)!r})")
    if out.is_dir():
        raise ValidationError(f"{out} is a folder; give a file name ending in .pdf")
    return out


def _date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"`{name}` must be a date such as 2026-03-31 (got {value!r})") from None


def _period(since, until) -> tuple[dt.date | None, dt.date | None]:
    since, until = _date(since, "since"), _date(until, "until")
    if since and until and since > until:
        raise ValidationError(f"`since` ({since}) must not be after `until` ({until})")
    return since, until


def _specialist(store: Store, specialist_id: str):
    found = {p.id: p for p in store.people(PersonRole.SPECIALIST)}
    if specialist_id not in found:
        known = ", ".join(sorted(found)[:10]) or "none yet"
        raise ValidationError(f"there is no specialist with id {specialist_id!r} (specialists: {known})")
    return found[specialist_id]


def _who(names: dict[str, str], person_id: str) -> str:
    return f"{names.get(person_id, person_id)} ({person_id})"


def _when(stamp: dt.datetime | None) -> str:
    return f"{stamp.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC" if stamp else "not signed yet"


def _score(rating, practice: str) -> str:
    if rating is None or practice not in rating.scores:
        return "—"
    return "n/o" if rating.scores[practice] is None else str(rating.scores[practice])


def _fmt(value, pattern: str = "{:.2f}", missing: str = "—") -> str:
    return missing if value is None or pd.isna(value) else pattern.format(value)


def _day(value) -> str:
    return "—" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _words(value: object) -> str:
    return str(getattr(value, "value", value)).replace("_", " ")


# --------------------------------------------------------------------------- one review


def review_report(store: Store, review_id: str, out: str | os.PathLike, *, revision: int | None = None) -> Path:
    """Write the supervision record of one review (latest revision, or ``revision``) to ``out``.

    Raises
    ------
    ValidationError
        The review (or revision) does not exist, or ``out`` does not end in ``.pdf``.
    """
    out = _pdf_path(out)
    review = store.review(review_id, revision)
    rubric, s = store.rubric_for(review.rubric_id, review.rubric_version), review.session
    names = {p.id: p.display_name for p in store.people()}
    history = store.history(review.id)
    signed = review.status is ReviewStatus.SIGNED
    doc = Document(f"Supervision record · review {review.id}, revision {review.revision}"
                   + ("" if signed else " · DRAFT, not signed"))
    if not signed:
        doc.watermark = "DRAFT — not signed"
    doc.title("Supervision record" if signed else "Supervision record — DRAFT, not signed")
    status = f"{review.status.value} · revision {review.revision} of {len(history)}"
    if review.revision < len(history):
        status += " (a later revision replaces this one)"
    elif len(history) > 1:
        status += " (earlier revisions are kept; see Revisions below)"
    session = [f"{s.date:%Y-%m-%d}", _words(s.modality), _words(s.source), f"{s.duration_min} min"]
    items = [("Specialist", _who(names, review.specialist_id)), ("Supervisor", _who(names, review.supervisor_id)),
             ("Session", " · ".join(session + ([f"code {s.code}"] if s.code else []))),
             ("Review meeting", f"{review.review_date:%Y-%m-%d} · {meeting_words(review)} (review {review.id})"),
             ("Status", status)]
    if review.amend_reason:
        items.append(("Reason for amending", review.amend_reason))
    signatures = {s.role.value: s for s in store.signatures(review.id, review.revision)}
    for role in ("specialist", "supervisor"):
        sig = signatures.get(role)  # printed name, time, meaning, and how far it can be trusted
        items.append((f"Signed by {role}", f"{_when(sig.signed_at)} — {sig.printed_name}: “{sig.meaning}” ({sig.how})"
                      if sig else _when(None)))
    items.append(("Rubric", f"{review.rubric_id} {review.rubric_version}"))
    if len(history) > 1:
        items.append(("Revisions", "; ".join(f"{r.revision}: {r.status.value}" + (
            f", signed {_when(r.supervisor_signed_at)}" if r.supervisor_signed_at else "") for r in history)))
    doc.pairs(items)

    practices = [(p.id, p.title) for p in rubric.practices]
    ratings = (review.self_rating, review.supervisor_rating, review.consensus)
    extra = sorted({p for r in ratings if r for p in r.scores} - {p for p, _ in practices})
    practices += [(p, p) for p in extra]  # a practice from another rubric version
    doc.heading("Ratings")
    doc.para("Scores: " + " · ".join(f"{k} {rubric.label(k)}" for k in rubric.scores)
             + " · n/o not observed · — not rated", size=SMALL, color=GREY)
    rows = [[title, *(_score(r, pid) for r in ratings),
             review.consensus.notes.get(pid, "") if review.consensus else ""] for pid, title in practices]
    doc.table(["Practice", "Self", "Supervisor", "Consensus", "Why the consensus"], rows,
              [0.3, 0.08, 0.12, 0.12, 0.38], centred=(1, 2, 3))
    noted = [[t, review.self_rating.notes.get(p, "") if review.self_rating else "",
              review.supervisor_rating.notes.get(p, "") if review.supervisor_rating else ""] for p, t in practices]
    noted = [row for row in noted if row[1] or row[2]]
    doc.heading("Evidence notes")
    if noted:
        doc.table(["Practice", "Specialist's note", "Supervisor's note"], noted, [0.26, 0.37, 0.37])
    else:
        doc.para("No evidence notes were written.")

    doc.heading("Traps observed")
    ticked = [t.title for t in rubric.traps if t.id in review.traps] + sorted(
        review.traps - set(rubric.trap_ids))
    doc.para("\n".join(f"• {t}" for t in ticked) if ticked else "No trap was ticked.")

    titles = dict(practices)
    doc.heading("Goals set in this review")
    if review.goals:
        doc.table(["Practice", "Goal", "Agreed actions", "Follow-up"],
                  [[titles.get(g.practice_id, g.practice_id), g.text, g.actions,
                    f"{g.follow_up:%Y-%m-%d}\ntarget {g.target}"] for g in review.goals],
                  [0.22, 0.32, 0.32, 0.14], most=8)
    else:
        doc.para("No new goals were set.")
    doc.heading("Verdicts on earlier goals")
    if review.goal_updates:
        earlier = goals_frame(store, specialist=review.specialist_id).set_index("goal_id")
        rows = []
        for u in review.goal_updates:
            g = earlier.loc[u.goal_id] if u.goal_id in earlier.index else None
            goal = u.goal_id if g is None else f"{g['practice_title']}: {g['text']} (set {_day(g['set_on'])})"
            rows.append([goal, u.status.value, u.note])
        doc.table(["Earlier goal", "Verdict", "Note"], rows, [0.5, 0.12, 0.38])
    else:
        doc.para("No earlier goal came up for a verdict.")

    doc.heading("Profile")
    frame = _profile_frame(store, review)
    if (frame["review_id"] == review.id).any():
        ax = doc.axes(4.6, left=2.3, right=0.1)
        plots.profile(frame, specialist=review.specialist_id, ax=ax)
        legend_below(ax, 2)
    else:
        doc.para("No scores are entered yet, so there is no profile to draw.")
    return doc.save(out, f"Supervision record {review.id} revision {review.revision}")


def _profile_frame(store: Store, review: Review) -> pd.DataFrame:
    """This revision of the review and the latest revision of every review before it, so
    the profile shows this review against the one before."""
    frame = ratings_frame(store, specialist=review.specialist_id, latest_only=False)
    this = frame["review_id"] == review.id
    day = pd.Timestamp(review.review_date)
    before = (frame["review_date"] < day) | ((frame["review_date"] == day) & (frame["review_id"] < review.id))
    latest = frame["revision"] == frame.groupby("review_id")["revision"].transform("max")
    keep = (this & (frame["revision"] == review.revision)) | (~this & before & latest)
    return frame[keep].reset_index(drop=True)


# --------------------------------------------------------------------------- one specialist

_ALERT_KINDS = {"dropped": "dropped a level", "score_of_1": "score of 1", "trap": "trap ticked",
                "overdue": "follow-up overdue", "self_gap": "self-rating gap"}


#: Goals drawn on the printed timeline; more than this and the labels cannot be read.
_TIMELINE_GOALS = 12


def specialist_report(store: Store, specialist_id: str, out: str | os.PathLike, *,
                      since: dt.date | str | None = None, until: dt.date | str | None = None,
                      today: dt.date | str | None = None) -> Path:
    """Write one specialist's summary of the reviews dated ``since``–``until`` (inclusive;
    default: all) to ``out``.

    Trends, calibration and alerts read signed reviews. The goals shown are those live in
    the period: set in it, or due, decided or still open during it (with their latest
    status). Overdue is judged on ``today`` (default: today, or ``until`` if earlier).

    Raises
    ------
    ValidationError
        No such specialist, a bad date, or ``out`` does not end in ``.pdf``.
    """
    out = _pdf_path(out)
    person = _specialist(store, specialist_id)
    since, until = _period(since, until)
    today = _date(today, "today") or min(until or dt.date.today(), dt.date.today())
    names = {p.id: p.display_name for p in store.people()}
    ratings = ratings_frame(store, specialist=person.id, since=since, until=until, statuses=COUNTED_STATUSES)
    goals = _live_goals(goals_frame(store, specialist=person.id), since, until)
    traps, reviews = (_within(f(store, specialist=person.id), since, until) for f in (traps_frame, reviews_frame))
    progress = analysis.goal_progress(goals, ratings, today=today)

    doc = Document(f"Supervision summary · specialist {person.id}")
    doc.title("Supervision summary")
    signed = len(counted(reviews))
    held = f"{signed} signed" + (f", {len(reviews) - signed} in progress" if len(reviews) > signed else "")
    if len(reviews):
        held += f" (meetings from {_day(reviews['review_date'].min())} to {_day(reviews['review_date'].max())})"
    counts = analysis.goal_counts(goals, today=today)
    tally = (" · ".join(f"{counts.iloc[0][k]} {k}" for k in ("open", "overdue", "met", "carried", "dropped"))
             if len(counts) else "none")
    doc.pairs([("Specialist", _who(names, person.id)),
               ("Supervisor", _who(names, person.supervisor_id) if person.supervisor_id else "—"),
               ("Period", f"{since or 'the first review'} to {until or 'the latest review'}"),
               ("Reviews", held), ("Goals", tally), ("Overdue judged on", f"{today}")])
    doc.para("Goals count those set in the period, or due, decided or still open during it, with "
             "their latest status.", size=SMALL, color=GREY)
    if ratings.empty:
        doc.para("There are no signed reviews in this period, so there are no trends, calibration "
                 "figures or score alerts to show.")

    doc.heading("Worth a conversation")
    found = analysis.alerts(ratings, goals, traps, today=today)
    if len(found):
        doc.table(["Date", "What", "Details"],
                  [[_day(a.date), _ALERT_KINDS.get(a.kind, a.kind), a.message] for a in found.itertuples()],
                  [0.13, 0.19, 0.68])
    else:
        doc.para("Nothing flagged: no drop since the previous review, no score of 1, no trap, "
                 "no overdue follow-up and no lasting gap between self and supervisor.")

    if not ratings.empty:
        _calibration_section(doc, analysis.calibration(ratings))
        doc.heading("Trends by practice (consensus)")
        trend = analysis.trend_summary(ratings)
        doc.table(["Practice", "Reviews", "Latest", "Rolling mean", "Change a month", "Direction"],
                  [[t.practice_title, str(t.n_reviews), _fmt(t.latest_score, "{}"), _fmt(t.latest_rolling),
                    _fmt(t.slope_per_month, "{:+.2f}"), t.direction] for t in trend.itertuples()],
                  [0.37, 0.09, 0.09, 0.13, 0.14, 0.18], centred=(1, 2, 3, 4))
        doc.para("Rolling mean of the last 3 consensus scores; the change a month is a straight-line "
                 "fit over the last 6 months and needs at least 4 reviews. A practice can be improving "
                 "over those months and still have dropped a level at the latest review: the direction "
                 "is the trend, the alert above is the latest step.", size=SMALL, color=GREY)
        # the grid and its key in two rows of the page, so the key never lies over the axes
        panels, key = doc.figure_page().subfigures(2, 1, height_ratios=[24, 1])
        grid = plots.trend_grid(ratings, goals, specialist=person.id, fig=panels)
        for legend in list(grid.legends):  # the plot's one-row legend is wider than A4
            legend.remove()
            key.legend(handles=legend.legend_handles, loc="center", ncols=3, frameon=False, fontsize=SMALL)
    if not ratings.empty or len(goals):
        fig = doc.figure_page()
        gap_ax, goal_ax = fig.subplots(2, 1, height_ratios=[1, 2])
        plots.calibration_gap(ratings, specialist=person.id, ax=gap_ax)
        recent = progress.sort_values("set_on").tail(_TIMELINE_GOALS) if len(progress) else progress
        plots.goal_timeline(recent, specialist=person.id, today=today, ax=goal_ax)
        for ax in (gap_ax, goal_ax):
            legend_below(ax, 3)
            ax.set_title(textwrap.fill(ax.get_title(), 60), fontsize=10, **PLAIN)
        if len(progress) > len(recent):
            goal_ax.set_title(textwrap.fill(f"The {len(recent)} most recent of {len(progress)} goals, from the "
                                            "review that set them to their follow-up (all are listed below)", 60),
                              fontsize=10, **PLAIN)
    if len(progress):
        doc.heading("Goals in this period")
        doc.table(["Practice", "Goal", "Set", "Follow-up", "Status"],
                  [[g.practice_title, g.text, _day(g.set_on), _day(g.follow_up),
                    "overdue" if getattr(g, "overdue", False) else g.status] for g in progress.itertuples()],
                  [0.26, 0.36, 0.13, 0.13, 0.12], most=2)
    period = f"{since or 'start'} to {until or 'latest'}"
    return doc.save(out, f"Supervision summary {person.id}, {period}")


def _within(frame: pd.DataFrame, since: dt.date | None, until: dt.date | None) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    if since:
        keep &= frame["review_date"] >= pd.Timestamp(since)
    if until:
        keep &= frame["review_date"] <= pd.Timestamp(until)
    return frame[keep]


def _live_goals(goals: pd.DataFrame, since: dt.date | None, until: dt.date | None) -> pd.DataFrame:
    keep = pd.Series(True, index=goals.index)
    if until:
        keep &= goals["set_on"] <= pd.Timestamp(until)
    if since:
        start = pd.Timestamp(since)
        keep &= ((goals["follow_up"] >= start) | (goals["status_date"] >= start)
                 | goals["status"].isin(("open", "carried")))
    return goals[keep].reset_index(drop=True)


def _calibration_section(doc: Document, table: pd.DataFrame) -> None:
    doc.heading("Calibration: self-rating against the supervisor's")
    if table.empty:
        doc.para("No review in this period has both a self-rating and a supervisor's rating.")
        return
    c = table.iloc[0]

    def stat(name: str, pattern: str = "{:.2f}") -> str:
        if pd.isna(c[name]):
            return "—"
        text = f"{pattern.format(c[name])} (95% CI {pattern.format(c[name + '_low'])} to " \
               f"{pattern.format(c[name + '_high'])})"
        return text + (f", {c[name + '_label']}" if f"{name}_label" in c else "")

    doc.pairs([("Paired ratings", str(c["n"])), ("Exact agreement", stat("exact", "{:.0%}")),
               ("Within one level", stat("within_one", "{:.0%}")),
               ("Mean gap (self − sup.)", stat("mean_gap", "{:+.2f}") + f": {c['tendency']}"),
               ("Weighted kappa", stat("kappa")), ("Gwet's AC2", stat("ac2")),
               ("ICC (absolute)", stat("icc"))] + ([("Note", c["note"])] if c["note"] else []))
    doc.para(_WHY_THEY_DIFFER, size=SMALL, color=GREY)


#: Why three agreement figures can read so differently (kappa "moderate", ICC "poor", AC2
#: "almost perfect" for one specialist): printed under them.
_WHY_THEY_DIFFER = (
    "Read exact and within-one agreement first: they count how often you two gave the same score. "
    "Kappa and the ICC also ask whether the scores vary: when most scores sit at one level, they "
    "fall even though you agree often, because agreeing is then easy by chance. Gwet's AC2 is built "
    "not to be pulled down that way, so it can read high while kappa and the ICC read low; that "
    "says the scores cluster, not that the figures contradict each other.")


# --------------------------------------------------------------------------- the team


def team_reports(store: Store, out_dir: str | os.PathLike, *, since: dt.date | str | None = None,
                 until: dt.date | str | None = None, today: dt.date | str | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> list[Path]:
    """Write :func:`specialist_report` for every specialist to ``out_dir/<id>.pdf``.

    ``progress(done, total, display_name)`` is called after each report.
    """
    out_dir = Path(out_dir)
    if out_dir.suffix.lower() == ".pdf" or (out_dir.exists() and not out_dir.is_dir()):
        raise ValidationError(f"--team writes one PDF per specialist into a folder; {str(out_dir)!r} "
                              "is not a folder")
    _period(since, until)
    team = store.people(PersonRole.SPECIALIST)
    if not team:
        raise ValidationError("there are no specialists in this database yet")
    written = []
    for done, person in enumerate(team, 1):
        written.append(specialist_report(store, person.id, out_dir / f"{person.id}.pdf",
                                         since=since, until=until, today=today))
        if progress is not None:
            progress(done, len(team), person.display_name)
    return written


def progress_line(done: int, total: int, label: str = "", width: int = 20) -> str:
    """``[#####...............] 2/8 label``: a plain-text progress bar."""
    filled = width if total <= 0 else round(width * done / total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}".rstrip()
