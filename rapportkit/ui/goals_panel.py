"""Traps observed, verdicts on earlier goals, and the one to three new goals of a review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets as W

from ..errors import ValidationError
from ..model import MAX_GOALS, Goal, GoalStatus, GoalUpdate
from ..rubric import Rubric
from .common import css, esc, labelled

__all__ = ["TrapsPanel", "GoalsPanel"]

_VERDICTS = [("Met", GoalStatus.MET.value), ("Carried forward", GoalStatus.CARRIED.value),
             ("Dropped", GoalStatus.DROPPED.value)]
_LABEL = {"description_width": "9em"}


def _notify(widgets: Iterable[W.Widget], callback: Callable[[], None] | None) -> None:
    for w in widgets:
        w.observe(lambda _c: callback and callback(), "value")


class TrapsPanel:
    """A checkbox per trap of the rubric, with its description."""

    def __init__(self, rubric: Rubric, on_change: Callable[[], None] | None = None) -> None:
        self.boxes = {t.id: css(W.Checkbox(value=False, indent=False, description=t.title,
                                           layout=W.Layout(width="auto")), "rk-trap", f"rk-trap-{t.id}")
                      for t in rubric.traps}
        rows = [W.VBox([self.boxes[t.id], W.HTML(f"<small style='margin-left:2em'>{esc(t.description)}</small>")])
                for t in rubric.traps]
        intro = W.HTML("<p>Tick any trap you saw in this session. A ticked trap is a prompt for "
                       "conversation, not a mark against anyone.</p>")
        self.widget = css(W.VBox([intro, *rows]), "rk-traps")
        _notify(self.boxes.values(), on_change)

    def selected(self) -> list[str]:
        return [tid for tid, box in self.boxes.items() if box.value is True]

    def set(self, traps: Iterable[str]) -> list[str]:
        """Tick exactly ``traps``; returns the ones this rubric lacks (left out)."""
        traps = set(traps)
        for tid, box in self.boxes.items():
            box.value = tid in traps
        return [f"the draft names trap {t!r}, which this rubric lacks; it was left out"
                for t in sorted(traps - set(self.boxes))]

    def set_disabled(self, disabled: bool) -> None:
        for box in self.boxes.values():
            box.disabled = disabled


class _Slot:
    def __init__(self, rubric: Rubric, n: int, follow_up: dt.date) -> None:
        self.n = n
        self.practice = css(W.Dropdown(options=[("Choose a practice", "")] + [(p.title, p.id) for p in rubric.practices],
                                       value="", description="Practice", style=_LABEL, layout=W.Layout(width="40em")),
                            "rk-goal-practice")
        self.text = css(W.Text(description="Goal", placeholder="What will change, in a sentence", style=_LABEL,
                               layout=W.Layout(width="98%")), "rk-goal-text")
        self.actions = css(W.Textarea(description="Agreed actions", placeholder="Who does what before the follow-up",
                                      rows=2, style=_LABEL, layout=W.Layout(width="98%")), "rk-goal-actions")
        self.follow_up = css(W.DatePicker(description="Follow up by", value=follow_up, style=_LABEL),
                             "rk-goal-follow-up")
        self.widget = css(W.VBox([W.HTML(f"<b>New goal {n}</b>"), self.practice, self.text, self.actions,
                                  self.follow_up], layout=W.Layout(border="1px solid #d0d7de", padding="6px 10px",
                                                                   margin="4px 0")),
                          "rk-goal", f"rk-goal-{n}")
        self.inputs = (self.practice, self.text, self.actions, self.follow_up)

    @property
    def blank(self) -> bool:
        return not (self.practice.value or (self.text.value or "").strip() or (self.actions.value or "").strip())

    def goal(self, review_id: str) -> Goal:
        if not self.practice.value:
            raise ValidationError(f"new goal {self.n}: choose the practice it is about")
        return Goal(f"{review_id}.g{self.n}", self.practice.value, self.text.value, self.actions.value,
                    self.follow_up.value)


class GoalsPanel:
    """Verdicts on the specialist's open goals from earlier reviews, and 1–3 new goals.

    Parameters
    ----------
    rubric
        Goals are tied to its practices.
    today
        New goals default to a follow-up four weeks after it.
    """

    def __init__(self, rubric: Rubric, today: dt.date, on_change: Callable[[], None] | None = None) -> None:
        self.rubric, self.on_change = rubric, on_change
        self.verdicts: dict[str, tuple[W.ToggleButtons, W.Text]] = {}
        self.earlier = css(W.VBox(), "rk-earlier-goals")
        self.slots = [_Slot(rubric, n, today + dt.timedelta(days=28)) for n in range(1, MAX_GOALS + 1)]
        self.add = css(W.Button(description="Add another goal", layout=W.Layout(width="auto")), "rk-add-goal")
        self.remove = css(W.Button(description="Remove the last goal", layout=W.Layout(width="auto")), "rk-remove-goal")
        self.add.on_click(lambda _b: self.show(self.shown + 1))
        self.remove.on_click(lambda _b: self._drop_last())
        self.widget = css(W.VBox([
            W.HTML("<h4 style='margin:4px 0'>Goals from earlier reviews</h4>"), self.earlier,
            W.HTML("<h4 style='margin:8px 0 4px'>New goals (one to three)</h4>"),
            *[s.widget for s in self.slots], W.HBox([self.add, self.remove]),
        ]), "rk-goals")
        for slot in self.slots:
            _notify(slot.inputs, on_change)
        self.shown = 1
        self.show(1)

    # ------------------------------------------------------------------ earlier goals

    def set_earlier(self, goals: Iterable[Goal], today: dt.date) -> None:
        """Offer a verdict (met / carried / dropped) on each of ``goals``."""
        self.verdicts, rows = {}, []
        for goal in goals:
            title = self.rubric.practice(goal.practice_id).title if goal.practice_id in self.rubric.practice_ids \
                else goal.practice_id
            late = " <b style='color:#b3261e'>(overdue)</b>" if goal.follow_up < today else ""
            what = f"the earlier goal on {title}: {goal.text}"
            status = css(W.ToggleButtons(options=_VERDICTS, value=None, style={"button_width": "auto"},
                                         tooltips=[f"{label}: {what}" for label, _ in _VERDICTS]),
                         "rk-goal-status", f"rk-goal-status-{goal.id}")
            note = css(W.Text(placeholder="Note on progress (optional)", **labelled("Note", f"on progress with {what}"),
                              layout=W.Layout(width="98%")), "rk-goal-update-note")
            _notify((status, note), self.on_change)
            self.verdicts[goal.id] = (status, note)
            rows.append(css(W.VBox([W.HTML(
                f"<b>{esc(title)}</b>: {esc(goal.text)}<br><small>Actions: {esc(goal.actions) or '—'} · "
                f"follow up by {goal.follow_up:%d %b %Y}{late}</small>"), status, note],
                layout=W.Layout(border="1px solid #d0d7de", padding="6px 10px", margin="4px 0")),
                "rk-earlier-goal"))
        self.earlier.children = rows or [W.HTML("<i>No open goals from earlier reviews.</i>")]

    def updates(self) -> list[GoalUpdate]:
        """A verdict per earlier goal; ValidationError if one has none yet."""
        result = []
        for gid, (status, note) in self.verdicts.items():
            if status.value is None:
                raise ValidationError("choose met, carried forward or dropped for every goal from earlier reviews")
            result.append(GoalUpdate(gid, status.value, note.value))
        return result

    # ------------------------------------------------------------------ new goals

    def show(self, count: int) -> None:
        self.shown = max(1, min(MAX_GOALS, count))
        for slot in self.slots:
            slot.widget.layout.display = "flex" if slot.n <= self.shown else "none"
        self.add.disabled = self.shown >= MAX_GOALS
        self.remove.disabled = self.shown <= 1
        if self.on_change is not None:
            self.on_change()

    def _drop_last(self) -> None:
        slot = self.slots[self.shown - 1]
        slot.practice.value, slot.text.value, slot.actions.value = "", "", ""
        self.show(self.shown - 1)

    def goals(self, review_id: str) -> list[Goal]:
        """The new goals typed so far (blank ones skipped); at least one is needed."""
        found = [s.goal(review_id) for s in self.slots[: self.shown] if not s.blank]
        if not found:
            raise ValidationError("set at least one new goal (up to three): a practice, the goal and a follow-up date")
        return found

    # ------------------------------------------------------------------ drafts and records

    def state(self) -> dict[str, Any]:
        return {
            "verdicts": {gid: {"status": s.value, "note": n.value} for gid, (s, n) in self.verdicts.items()},
            "goals": [{"practice": s.practice.value, "text": s.text.value, "actions": s.actions.value,
                       "follow_up": s.follow_up.value.isoformat() if isinstance(s.follow_up.value, dt.date) else None}
                      for s in self.slots],
            "shown": self.shown,
        }

    def load_state(self, state: Mapping[str, Any]) -> list[str]:
        """Put a draft back; returns what could not be restored."""
        problems = []
        for gid, saved in (state.get("verdicts") or {}).items():
            if gid in self.verdicts and isinstance(saved, Mapping):
                status, note = self.verdicts[gid]
                value = saved.get("status")
                status.value = value if value in [v for _, v in _VERDICTS] else None
                note.value = saved.get("note") if isinstance(saved.get("note"), str) else ""
        for slot, saved in zip(self.slots, state.get("goals") or []):
            practice = saved.get("practice") or ""
            if practice not in [v for _, v in slot.practice.options]:
                problems.append(f"the draft's goal practice {practice!r} is not in this rubric; it was left out")
                practice = ""
            slot.practice.value = practice
            slot.text.value = saved.get("text") or ""
            slot.actions.value = saved.get("actions") or ""
            try:
                slot.follow_up.value = dt.date.fromisoformat(saved["follow_up"]) if saved.get("follow_up") else None
            except (TypeError, ValueError):
                problems.append(f"the draft's follow-up date for goal {slot.n} was unreadable; choose it again")
        shown = state.get("shown")
        self.show(shown if isinstance(shown, int) else 1)
        return problems

    def set_record(self, goals: Iterable[Goal], updates: Iterable[GoalUpdate]) -> None:
        """Fill from a saved review's goals and verdicts."""
        goals = list(goals)
        for slot, goal in zip(self.slots, goals + [None] * MAX_GOALS):
            slot.practice.value = goal.practice_id if goal and goal.practice_id in self.rubric.practice_ids else ""
            slot.text.value = goal.text if goal else ""
            slot.actions.value = goal.actions if goal else ""
            if goal:
                slot.follow_up.value = goal.follow_up
        for update in updates:
            if update.goal_id in self.verdicts:
                status, note = self.verdicts[update.goal_id]
                status.value, note.value = update.status.value, update.note
        self.show(max(1, len(goals)))

    def set_disabled(self, disabled: bool) -> None:
        for status, note in self.verdicts.values():
            status.disabled = note.disabled = disabled
        for slot in self.slots:
            for w in slot.inputs:
                w.disabled = disabled
        self.add.disabled = disabled or self.shown >= MAX_GOALS
        self.remove.disabled = disabled or self.shown <= 1
