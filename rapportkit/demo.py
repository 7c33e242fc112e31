"""A deterministic, obviously fictional demo team.

Eight peer specialists and two supervisors, 18 months of supervision, with the patterns
real programmes see: steady growth; early self-ratings above the supervisor's that
calibrate over time (and one specialist who keeps rating themself lower); a practice that
dips for a while; goals met, carried and left overdue; the occasional trap. The same
seed always gives the same team. Nobody here exists: the names are invented and every
note is generic.

``generate(specialists=200, months=60, reviews_per_month=(3, 5))`` makes a large team
for benchmarks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from .model import (
    Goal, GoalStatus, GoalUpdate, MeetingKind, Modality, Person, PersonRole, Rating, RaterRole, Review,
    ReviewStatus, Session, Source,
)
from .rubric import Rubric, default_rubric

__all__ = ["DemoTeam", "generate", "load_demo", "DEMO_END"]

#: The demo's last month ends here, so the team is the same whenever it is made.
DEMO_END = dt.date(2026, 10, 31)

_FIRST = ["Aster", "Bramble", "Cedar", "Dune", "Ember", "Fable", "Gale", "Hollis", "Indigo",
          "Juniper", "Kestrel", "Lumen", "Marlow", "Nettle", "Oriel", "Pippin", "Quill", "Rowan"]
_LAST = ["Moonwhistle", "Quillfeather", "Nightjar", "Parsnip", "Tealeaf", "Otterby", "Pennywort",
         "Marzipan", "Thistledown", "Buttonwood", "Lanternfish", "Puddleby", "Sprocket", "Wickerly"]
_SUPERVISORS = [("sv-01", "Sage Lanternby"), ("sv-02", "Tamsin Rookwood")]

_NOTES = {
    "safe_environment": ["Checked how the person wanted to use the time.", "Named confidentiality limits plainly."],
    "active_listening": ["Paraphrased before offering ideas.", "Let a long pause sit without filling it."],
    "empathy": ["Named the feeling behind the words.", "Acknowledged how hard the week had been."],
    "non_judgment": ["Stayed curious about a relapse instead of correcting.", "Used neutral words about choices."],
    "authenticity": ["Shared a short piece of own story, then handed the focus back.", "Was open about not knowing."],
    "collaborative_goals": ["Asked what the person wanted before suggesting steps.", "Agreed one small next step together."],
    "individuality_culture": ["Asked what support looks like in the person's community.", "Used the person's own words for recovery."],
    "consistency": ["Followed up on last week's plan.", "Confirmed the next contact time."],
    "boundaries": ["Explained what the role can and cannot offer.", "Ended on time and said why."],
}
_RATIONALES = [
    "Agreed after replaying that part of the session together.",
    "Settled on this once the specialist described what happened off-recording.",
    "Moved after looking at the rubric anchors side by side.",
]
_GOAL_TEXT = {
    "safe_environment": "Open each session by agreeing how the time will be used",
    "active_listening": "Reflect back what was heard before offering any idea",
    "empathy": "Name the feeling, not only the facts, at least twice a session",
    "non_judgment": "Swap 'should' for questions when choices come up",
    "authenticity": "Use self-disclosure briefly and with a clear purpose",
    "collaborative_goals": "Let the person choose the next step before suggesting one",
    "individuality_culture": "Ask about what matters culturally early in the relationship",
    "consistency": "Log every promised follow-up and close each one",
    "boundaries": "State the limits of the role at the first meeting",
}


@dataclass(frozen=True)
class DemoTeam:
    """The people and reviews of a generated team."""

    people: tuple[Person, ...]
    reviews: tuple[Review, ...]


def _clip(x: float) -> int:
    return max(1, min(4, round(x)))


def generate(
    *,
    seed: int = 2024,
    specialists: int = 8,
    months: int = 18,
    reviews_per_month: tuple[int, int] = (1, 3),
    end: dt.date = DEMO_END,
    rubric: Rubric | None = None,
) -> DemoTeam:
    """Make a synthetic team.

    Parameters
    ----------
    seed
        The same seed gives the same team.
    specialists, months
        Team size and length of the history (ending at ``end``).
    reviews_per_month
        Inclusive range of reviews per specialist per month.
    """
    rubric = rubric or default_rubric()
    rng = random.Random(seed)
    people = [Person(i, n, PersonRole.SUPERVISOR) for i, n in _SUPERVISORS]
    for k in range(specialists):
        name = f"{_FIRST[k % len(_FIRST)]} {_LAST[(k * 5 + k // len(_FIRST)) % len(_LAST)]}"
        if k >= len(_FIRST):
            name += f" {k // len(_FIRST) + 1}"
        people.append(Person(f"sp-{k + 1:02d}" if specialists < 100 else f"sp-{k + 1:04d}", name,
                             PersonRole.SPECIALIST, supervisor_id=_SUPERVISORS[k % 2][0]))
    reviews: list[Review] = []
    # the meetings' lengths come from their own stream, so the rest of the team is the
    # same as before lengths were recorded
    meetings = random.Random(f"{seed}-meetings")
    for spec in (p for p in people if p.role is PersonRole.SPECIALIST):
        reviews.extend(_history(spec, rng, months, reviews_per_month, end, rubric, meetings))
    return DemoTeam(tuple(people), tuple(reviews))


def _meeting(rng: random.Random, month_index: int) -> dict[str, object]:
    """A plausible length and kind for a supervision meeting; none recorded in the first
    month (the programme began recording them a month in)."""
    if month_index == 0:
        return {}
    if rng.random() < 0.8:
        return {"meeting_minutes": rng.choice([30, 45, 45, 50, 60, 60, 75]), "meeting_kind": MeetingKind.INDIVIDUAL}
    return {"meeting_minutes": rng.choice([60, 90, 90, 120]), "meeting_kind": MeetingKind.GROUP}


def _months(end: dt.date, months: int) -> Iterator[tuple[int, int]]:
    y, m = end.year, end.month
    stamps = []
    for _ in range(months):
        stamps.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return iter(reversed(stamps))


def _history(spec: Person, rng: random.Random, months: int, per_month: tuple[int, int],
             end: dt.date, rubric: Rubric, meetings: random.Random) -> list[Review]:
    ids = rubric.practice_ids
    base = {p: rng.uniform(1.6, 2.6) for p in ids}
    growth = {p: rng.uniform(0.02, 0.09) for p in ids}
    dip_practice = rng.choice(ids)
    dip_start = rng.randint(months // 3, max(months // 3, months - 6))
    bias0 = rng.uniform(0.5, 1.1)
    under_rater = spec.id.endswith("04")  # one specialist keeps rating themself lower
    open_goals: list[Goal] = []
    reviews: list[Review] = []
    n = 0
    for month_index, (year, month) in enumerate(_months(end, months)):
        count = rng.randint(*per_month)
        days = sorted(rng.sample(range(3, 28), count))
        for day in days:
            n += 1
            review_date = dt.date(year, month, day)
            session = Session(
                id=f"se-{spec.id[3:]}-{n:04d}", specialist_id=spec.id,
                date=review_date - dt.timedelta(days=rng.randint(0, 6)),
                modality=rng.choice(list(Modality)), duration_min=rng.choice([30, 45, 50, 60, 90]),
                source=rng.choices(list(Source), weights=[5, 3, 3, 1])[0],
                code=f"S-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None,
            )
            t = month_index
            self_scores, sup_scores, cons_scores = {}, {}, {}
            self_notes, sup_notes, cons_notes = {}, {}, {}
            bias = -0.6 if under_rater else bias0 * max(0.1, 1 - t / (months * 0.6))
            for p in ids:
                skill = base[p] + growth[p] * t
                if p == dip_practice and dip_start <= t < dip_start + 4:
                    skill -= 1.1
                if rng.random() < 0.05 and p in ("boundaries", "individuality_culture", "authenticity"):
                    self_scores[p] = sup_scores[p] = cons_scores[p] = None
                    continue
                sup = _clip(skill + rng.gauss(0, 0.35))
                own = _clip(skill + bias + rng.gauss(0, 0.4))
                cons = _clip(0.75 * sup + 0.25 * own + rng.gauss(0, 0.15))
                self_scores[p], sup_scores[p], cons_scores[p] = own, sup, cons
                if rng.random() < 0.3:
                    self_notes[p] = rng.choice(_NOTES[p])
                if rng.random() < 0.4:
                    sup_notes[p] = rng.choice(_NOTES[p])
                if own != sup:
                    cons_notes[p] = rng.choice(_RATIONALES)
                elif cons != own:  # both gave one score and the consensus moved from it
                    cons_notes[p] = _RATIONALES[n % len(_RATIONALES)]  # (no draw: the team stays as it was)
            updates = []
            for goal in open_goals:
                if goal.follow_up > review_date + dt.timedelta(days=10):
                    continue
                score = cons_scores.get(goal.practice_id)
                if score is not None and score >= goal.target:
                    status = GoalStatus.MET
                else:
                    status = GoalStatus.DROPPED if rng.random() < 0.1 else GoalStatus.CARRIED
                updates.append(GoalUpdate(goal.id, status))
            decided = {u.goal_id for u in updates if u.status is not GoalStatus.CARRIED}
            open_goals = [g for g in open_goals if g.id not in decided]
            weakest = sorted((s, p) for p, s in cons_scores.items() if s is not None)[: rng.randint(1, 2)]
            goals = []
            for j, (_, p) in enumerate(weakest):
                if any(g.practice_id == p for g in open_goals):
                    continue
                goals.append(Goal(
                    id=f"go-{spec.id[3:]}-{n:04d}-{j + 1}", practice_id=p, text=_GOAL_TEXT.get(p, f"Grow in {p}"),
                    actions="Practise in the next three sessions; bring an example to supervision.",
                    follow_up=review_date + dt.timedelta(days=rng.choice([28, 35, 42])),
                ))
            open_goals.extend(goals)
            traps = set()
            if rng.random() < max(0.03, 0.2 - t * 0.01):
                traps.add(rng.choice(rubric.trap_ids))
            signed_at = dt.datetime.combine(review_date, dt.time(16, 30), dt.timezone.utc)
            review = Review(
                id=f"rv-{spec.id[3:]}-{n:04d}", revision=1, session=session, supervisor_id=spec.supervisor_id,
                review_date=review_date, rubric_id=rubric.id, rubric_version=rubric.version,
                status=ReviewStatus.SIGNED,
                self_rating=Rating(spec.id, RaterRole.SELF, self_scores, self_notes, rubric.id, rubric.version),
                supervisor_rating=Rating(spec.supervisor_id, RaterRole.SUPERVISOR, sup_scores, sup_notes,
                                         rubric.id, rubric.version),
                consensus=Rating(spec.supervisor_id, RaterRole.CONSENSUS, cons_scores, cons_notes,
                                 rubric.id, rubric.version),
                traps=frozenset(traps), goals=tuple(goals), goal_updates=tuple(updates),
                specialist_signed_at=signed_at, supervisor_signed_at=signed_at,
                **_meeting(meetings, month_index),
            )
            reviews.append(review)
    # the most recent meeting of some specialists is still in progress
    if reviews and rng.random() < 0.4:
        last = reviews[-1]
        reviews[-1] = dataclasses.replace(
            last, status=ReviewStatus.REVEALED, consensus=None, goals=(), specialist_signed_at=None,
            supervisor_signed_at=None,
        )
    return reviews


def load_demo(store, **options) -> DemoTeam:
    """Generate a team (``options`` as for :func:`generate`) and save it in one transaction."""
    team = generate(rubric=store.rubric, **options)
    store.save_many(people=team.people, reviews=team.reviews)
    return team
