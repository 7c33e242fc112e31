"""Writing the exports: every revision of every review, as CSV or as JSON.

The CSV is a tidy long table, one row per item of a review (:data:`CSV_COLUMNS`), each
cell guarded by :func:`neutralise`; the JSON holds the people and each review as
:meth:`rapportkit.model.Review.to_dict` gives it. Both are written whole or not at all.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..model import Review
from ..store import Store
from .csv_format import CSV_COLUMNS
from .reading import neutralise


def _rows(review: Review, names: dict[str, str]) -> Iterable[dict[str, Any]]:
    s = review.session
    head = {
        "review_id": review.id, "revision": review.revision, "review_date": review.review_date.isoformat(),
        "status": review.status.value, "session_id": s.id, "session_date": s.date.isoformat(),
        "modality": s.modality.value, "duration_min": s.duration_min, "source": s.source.value,
        "session_code": s.code or "", "specialist_id": s.specialist_id,
        "specialist_name": names.get(s.specialist_id, ""), "supervisor_id": review.supervisor_id,
        "supervisor_name": names.get(review.supervisor_id, ""), "rubric_id": review.rubric_id,
        "rubric_version": review.rubric_version,
        "specialist_signed_at": review.specialist_signed_at.isoformat() if review.specialist_signed_at else "",
        "supervisor_signed_at": review.supervisor_signed_at.isoformat() if review.supervisor_signed_at else "",
        "amend_reason": review.amend_reason or "",
        "meeting_minutes": "" if review.meeting_minutes is None else review.meeting_minutes,
        "meeting_kind": review.meeting_kind.value if review.meeting_kind else "",
    }
    items = 0
    for rating in (review.self_rating, review.supervisor_rating, review.consensus):
        if rating is None:
            continue
        for p in sorted(set(rating.scores) | set(rating.notes)) or [""]:
            score = rating.scores.get(p, "")
            items += 1
            yield {**head, "kind": "rating", "role": rating.role.value, "rater_id": rating.rater_id,
                   "practice_id": p, "score": "not_observed" if p in rating.scores and score is None else score,
                   "note": rating.notes.get(p, "")}
    for trap in sorted(review.traps):
        items += 1
        yield {**head, "kind": "trap", "trap_id": trap}
    for g in review.goals:
        items += 1
        yield {**head, "kind": "goal", "goal_id": g.id, "practice_id": g.practice_id, "goal_text": g.text,
               "goal_actions": g.actions, "follow_up": g.follow_up.isoformat(), "target": g.target}
    for u in review.goal_updates:
        items += 1
        yield {**head, "kind": "goal_update", "goal_id": u.goal_id, "goal_status": u.status.value, "note": u.note}
    if not items:
        yield {**head, "kind": "review"}


def _all_revisions(store: Store, specialist: str | None) -> list[Review]:
    result = []
    for latest in store.reviews(specialist):
        result.extend(store.history(latest.id) if latest.revision > 1 else [latest])
    return result


def export_csv(store: Store, out: str | os.PathLike, *, specialist: str | None = None) -> int:
    """Write every revision of every review (or one specialist's) to ``out``; returns rows."""
    from ..files import atomic_write  # whole or nothing, owner-only

    names = {p.id: p.display_name for p in store.people()}
    count = 0
    with atomic_write(Path(out)) as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="raise")
        writer.writeheader()
        for review in _all_revisions(store, specialist):
            for row in _rows(review, names):
                writer.writerow({k: neutralise(row.get(k, "")) for k in CSV_COLUMNS})
                count += 1
    return count


def export_json(store: Store, out: str | os.PathLike, *, specialist: str | None = None) -> int:
    """Write people and every revision of every review to ``out`` as JSON; returns reviews."""
    reviews = _all_revisions(store, specialist)
    people = store.people()
    doc = {
        "format": "rapportkit", "version": 1,
        "people": [{"id": p.id, "display_name": p.display_name, "role": p.role.value,
                    "supervisor_id": p.supervisor_id, "active": p.active} for p in people],
        "reviews": [r.to_dict() for r in reviews],
    }
    from ..files import atomic_write  # whole or nothing, owner-only

    with atomic_write(Path(out)) as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
    return len(reviews)
