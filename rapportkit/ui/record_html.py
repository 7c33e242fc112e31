"""HTML views of a review: the side-by-side reveal and the summary of a signed record.

Every string a person typed (notes, rationales, goals) and every name goes through
:func:`~rapportkit.ui.common.esc`; markup in a note shows as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..model import Rating, Review, Signature, agreement_agenda, meeting_words
from ..rubric import Rubric
from .common import esc

__all__ = ["Agreement", "agreement", "reveal_html", "summary_html"]

_TABLE = "border-collapse:collapse;margin:6px 0;font-size:1em"
_CELL = "border:1px solid #d0d7de;padding:4px 8px;vertical-align:top"
_AGENDA = "background:#fff1dc"


@dataclass(frozen=True)
class Agreement:
    """How far the self and supervisor ratings agree.

    ``compared`` counts practices both scored 1–4; ``exact`` and ``within_one`` count
    those with the same score and with scores at most one level apart; ``agenda`` lists
    practice ids two or more levels apart, in rubric order.
    """

    compared: int
    exact: int
    within_one: int
    agenda: tuple[str, ...]


def agreement(review: Review, rubric: Rubric) -> Agreement:
    a, b = review.self_rating, review.supervisor_rating
    pairs = []
    for p in rubric.practice_ids:
        x = a.scores.get(p) if a else None
        y = b.scores.get(p) if b else None
        if x is not None and y is not None:
            pairs.append((p, abs(x - y)))
    return Agreement(len(pairs), sum(d == 0 for _, d in pairs), sum(d <= 1 for _, d in pairs),
                     tuple(agreement_agenda(review, rubric)))


def _score(rating: Rating | None, practice: str, rubric: Rubric) -> str:
    if rating is None or practice not in rating.scores:
        return "—"
    score = rating.scores[practice]
    return esc(rubric.not_observed_label) if score is None else f"<b>{score}</b> <small>{esc(rubric.label(score))}</small>"


def _note(rating: Rating | None, practice: str) -> str:
    text = rating.notes.get(practice, "") if rating else ""
    return f"<div class='rk-note-text' style='white-space:pre-wrap;color:#444'>{esc(text)}</div>" if text else ""


def reveal_html(review: Review, rubric: Rubric, names: Mapping[str, str]) -> str:
    """Both blind ratings side by side, the agreement counts and the discussion agenda."""
    agree = agreement(review, rubric)
    who_self = esc(names.get(review.specialist_id, review.specialist_id))
    who_sup = esc(names.get(review.supervisor_id, review.supervisor_id))
    rows = []
    for p in rubric.practices:
        on_agenda = p.id in agree.agenda
        style = f"{_CELL};{_AGENDA}" if on_agenda else _CELL
        x = review.self_rating.scores.get(p.id) if review.self_rating else None
        y = review.supervisor_rating.scores.get(p.id) if review.supervisor_rating else None
        gap = "" if x is None or y is None else str(abs(x - y))
        flag = " <b class='rk-agenda-cue' style='color:#8a4500'>◆ discuss</b>" if on_agenda else ""
        rows.append(
            f"<tr class='rk-reveal-row{' rk-agenda-item' if on_agenda else ''}' data-practice='{esc(p.id)}'>"
            f"<td style='{style}'><b>{esc(p.title)}</b>{flag}</td>"
            f"<td style='{style}'>{_score(review.self_rating, p.id, rubric)}{_note(review.self_rating, p.id)}</td>"
            f"<td style='{style}'>{_score(review.supervisor_rating, p.id, rubric)}{_note(review.supervisor_rating, p.id)}</td>"
            f"<td style='{style};text-align:center'>{gap}</td></tr>"
        )
    titles = {p.id: p.title for p in rubric.practices}
    agenda = ", ".join(esc(titles[p]) for p in agree.agenda) or "no practice is two or more levels apart"
    n = agree.compared
    counts = (f"<p class='rk-agreement' style='font-size:1.1em'>Same score on <b>{agree.exact} of {n}</b> practices "
              f"both scored; within one level on <b>{agree.within_one} of {n}</b>.</p>")
    return (
        f"<div class='rk-reveal'>{counts}"
        f"<p class='rk-agenda'><b>Discussion agenda (two or more levels apart):</b> {agenda}</p>"
        f"<table style='{_TABLE}'><tr><th style='{_CELL}'>Practice</th><th style='{_CELL}'>Self: {who_self}</th>"
        f"<th style='{_CELL}'>Supervisor: {who_sup}</th><th style='{_CELL}'>Gap</th></tr>{''.join(rows)}</table></div>"
    )


def summary_html(review: Review, rubric: Rubric, names: Mapping[str, str], session_text: str,
                 earlier: Mapping[str, str] | None = None, signatures: Sequence[Signature] = ()) -> str:
    """A short summary of a saved review: consensus, traps, goals, verdicts on earlier goals
    (``earlier`` maps their ids to their text) and signatures (``signatures``, as the store
    keeps them: printed name, time, meaning and how far each can be trusted)."""
    earlier = earlier or {}
    def name(pid: str) -> str:
        return esc(names.get(pid, pid))

    rows = []
    for p in rubric.practices:
        rows.append(f"<tr><td style='{_CELL}'>{esc(p.title)}</td><td style='{_CELL}'>{_score(review.consensus, p.id, rubric)}"
                    f"{_note(review.consensus, p.id)}</td></tr>")
    traps = "".join(f"<li>{esc(rubric.trap(t).title if t in rubric.trap_ids else t)}</li>" for t in sorted(review.traps))
    goals = "".join(
        f"<li><b>{esc(rubric.practice(g.practice_id).title if g.practice_id in rubric.practice_ids else g.practice_id)}</b>: "
        f"{esc(g.text)}<br><small>Actions: {esc(g.actions) or '—'} · follow up by {g.follow_up:%d %b %Y}</small></li>"
        for g in review.goals)
    verdicts = "".join(f"<li>{esc(earlier.get(u.goal_id, u.goal_id))}: <b>{esc(u.status.value)}</b>{' — ' + esc(u.note) if u.note else ''}</li>"
                       for u in review.goal_updates)
    given = {s.role.value: s for s in signatures}
    signed = []
    for role, who in (("specialist", review.specialist_id), ("supervisor", review.supervisor_id)):
        signed.append(esc(given[role].describe()) if role in given else f"{name(who)}: not signed yet")
    return (
        f"<div class='rk-summary-record'><h3 style='margin:4px 0'>Supervision record · {esc(review.status.value)}</h3>"
        f"<p>{name(review.specialist_id)} with {name(review.supervisor_id)} · {esc(session_text)} · "
        f"reviewed {review.review_date:%d %b %Y} ({esc(meeting_words(review))}) · review {esc(review.id)} "
        f"revision {review.revision}</p>"
        f"<table style='{_TABLE}'><tr><th style='{_CELL}'>Practice</th><th style='{_CELL}'>Consensus</th></tr>"
        f"{''.join(rows)}</table>"
        f"<p><b>Traps observed:</b></p><ul>{traps or '<li>none</li>'}</ul>"
        f"<p><b>New goals:</b></p><ul class='rk-summary-goals'>{goals or '<li>none</li>'}</ul>"
        f"<p><b>Earlier goals:</b></p><ul>{verdicts or '<li>none due</li>'}</ul>"
        f"<p><b>Signatures:</b> {' · '.join(signed)}</p></div>"
    )
