"""One rater's scores and evidence notes on every practice of the rubric.

Choosing a score shows that level's behavioural anchor, and each practice opens its
definition and indicators on demand, so the rubric teaches as it is used. The panel
only collects values: :meth:`RatingPanel.rating` hands them to the model, which decides
what is acceptable (a tampered widget can hold anything).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W

from ..model import Rating, RaterRole
from ..rubric import Rubric
from .common import css, esc, labelled

__all__ = ["RatingPanel", "NOT_OBSERVED", "AGENDA_CUE", "parse_score", "widget_score"]

#: The widget value for "not observed" (None in a Rating; None in the widget means "not chosen").
NOT_OBSERVED = "n/o"
#: Beside a practice on the discussion agenda, which its border's colour also marks.
AGENDA_CUE = "◆ on the agenda: two or more levels apart"
_UNSET = object()


def parse_score(value: Any) -> Any:
    """A widget value as a Rating score: "3" → 3, "n/o" → None, nothing chosen → _UNSET.
    Anything else is passed on as it is, for the model to refuse with a message."""
    if value is None or value == "":
        return _UNSET
    if value == NOT_OBSERVED:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        return int(value)
    return value


def widget_score(score: int | None) -> str:
    """A Rating score as the widget value."""
    return NOT_OBSERVED if score is None else str(score)


#: Whose rating a panel holds, as a screen reader announces it with each control.
_WHOSE = {"self": "self-rating", "supervisor": "supervisor's rating", "consensus": "consensus"}


class _Row:
    def __init__(self, rubric: Rubric, practice_id: str, role: str, placeholder: str) -> None:
        self.rubric, self.id, self.hint, self.agenda = rubric, practice_id, "", False
        options = [(str(level.score), str(level.score)) for level in rubric.levels]
        options.append((rubric.not_observed_label, NOT_OBSERVED))
        # each button's title names the practice and whose rating it is: a screen reader
        # announces it after the button's own text, so "3" is never heard without context
        where = f"{rubric.practice(practice_id).title} ({_WHOSE.get(role, role)})"
        self.score = css(
            W.ToggleButtons(options=options, value=None,
                            tooltips=[f"{lv.score} · {lv.label}: {where}" for lv in rubric.levels]
                            + [f"{rubric.not_observed_label}: {where}"],
                            style={"button_width": "auto"}),
            "rk-score", f"rk-score-{practice_id}",
        )
        self.header = css(W.HTML(), "rk-practice-header")
        self.anchor = css(W.HTML(), "rk-anchor")
        shown = "Rationale" if role == "consensus" else "Evidence"
        self.note = css(W.Textarea(placeholder=placeholder, rows=2, **labelled(shown, f"on {where}"),
                                   layout=W.Layout(width="98%")),
                        "rk-note", f"rk-note-{practice_id}")
        self.widget = css(W.VBox(
            [self.header, self.score, self.anchor, self.note],
            layout=W.Layout(border="1px solid #d0d7de", padding="6px 10px", margin="4px 0")),
            "rk-practice", f"rk-practice-{practice_id}", f"rk-{role}-{practice_id}")
        self.score.observe(self._show_anchor, "value")
        self.render_header()

    def render_header(self) -> None:
        """The practice's title, any hint, and its definition and indicators on demand
        (a native <details> element: no script, works in JupyterLab and Voilà)."""
        p = self.rubric.practice(self.id)
        indicators = "".join(f"<li>{esc(i)}</li>" for i in p.indicators)
        hint = f"<div class='rk-hint'>{self.hint}</div>" if self.hint else ""
        cue = f" <b class='rk-agenda-cue' style='color:#8a4500'>{AGENDA_CUE}</b>" if self.agenda else ""
        self.header.value = (
            f"<b style='font-size:1.08em'>{esc(p.title)}</b>{cue}{hint}"
            f"<details class='rk-about'><summary style='cursor:pointer;color:#3b6ea5'>About this practice</summary>"
            f"<div class='rk-definition' style='max-width:60em'><p>{esc(p.definition)}</p>"
            f"<p style='margin-bottom:2px'><i>What you might see or hear:</i></p><ul>{indicators}</ul></div></details>"
        )

    def _show_anchor(self, _change: Any = None) -> None:
        score = parse_score(self.score.value)
        if score is _UNSET:
            self.anchor.value = ""
        elif score is None:
            guidance = self.rubric.anchor(self.id, None)
            self.anchor.value = f"<div class='rk-anchor-text'><b>{esc(self.rubric.not_observed_label)}.</b> {esc(guidance)}</div>"
        elif self.rubric.is_valid_score(score, allow_not_observed=False):
            label = self.rubric.label(score)
            self.anchor.value = (f"<div class='rk-anchor-text' style='color:#333'><b>{score} · {esc(label)}.</b> "
                                 f"{esc(self.rubric.anchor(self.id, score))}</div>")
        else:
            self.anchor.value = f"<b style='color:#b3261e'>{esc(score)} is not a score on this scale (1–4).</b>"


class RatingPanel:
    """Scores (1–4 or not observed) and an evidence note for every practice of ``rubric``.

    Parameters
    ----------
    rubric
        The rubric whose practices are rated.
    role
        "self", "supervisor" or "consensus": the role of the Rating it makes.
    title
        The heading shown above the panel.
    hideable
        Offer a "Hide" toggle so the other person cannot see these ratings while rating.
    on_change
        Called with no arguments after any value changes (forms keep drafts with it).
    """

    def __init__(self, rubric: Rubric, role: RaterRole | str, title: str, *, hideable: bool = True,
                 note_placeholder: str = "Evidence: what did you see or hear?",
                 on_change: Callable[[], None] | None = None) -> None:
        self.rubric, self.role = rubric, RaterRole(role)
        self.on_change = on_change
        self.rows = {p: _Row(rubric, p, self.role.value, note_placeholder) for p in rubric.practice_ids}
        self.title = css(W.HTML(f"<h3 style='margin:4px 0'>{esc(title)}</h3>"), "rk-panel-title")
        self.progress = css(W.HTML(), "rk-progress")
        self.hide = css(W.ToggleButton(description="Hide these ratings", value=False,
                                       layout=W.Layout(width="auto", display="flex" if hideable else "none")),
                        "rk-hide", f"rk-hide-{self.role.value}")
        self.hidden_note = css(W.HTML(layout=W.Layout(display="none")), "rk-hidden-note")
        self.body = W.VBox([row.widget for row in self.rows.values()])
        self.widget = css(W.VBox(
            [self.title, W.HBox([self.hide, self.progress], layout=W.Layout(align_items="center")),
             self.hidden_note, self.body],
            layout=W.Layout(padding="4px 8px")),
            "rk-rating-panel", f"rk-panel-{self.role.value}")
        self.hide.observe(self._changed, "value")
        for row in self.rows.values():
            row.score.observe(self._changed, "value")
            row.note.observe(self._changed, "value")
        self._show_progress()

    # ------------------------------------------------------------------ reading

    def missing(self) -> list[str]:
        """Practice ids with no score and no "not observed" yet."""
        return [p for p, row in self.rows.items() if parse_score(row.score.value) is _UNSET]

    def rating(self, rater_id: str) -> Rating:
        """The Rating the widgets hold; the model raises ValidationError on a bad value."""
        scores = {p: s for p, row in self.rows.items() if (s := parse_score(row.score.value)) is not _UNSET}
        notes = {p: row.note.value for p, row in self.rows.items() if row.note.value}
        return Rating(rater_id, self.role, scores, notes, self.rubric.id, self.rubric.version)

    def state(self) -> dict[str, Any]:
        """Everything typed, for a draft."""
        return {
            "scores": {p: row.score.value for p, row in self.rows.items() if row.score.value is not None},
            "notes": {p: row.note.value for p, row in self.rows.items() if row.note.value},
            "hidden": bool(self.hide.value),
        }

    @property
    def is_empty(self) -> bool:
        return not any(row.score.value is not None or row.note.value for row in self.rows.values())

    # ------------------------------------------------------------------ writing

    def load_state(self, state: Mapping[str, Any]) -> list[str]:
        """Put a draft back; returns what could not be restored (unknown practices, bad scores)."""
        problems = []
        scores, notes = state.get("scores") or {}, state.get("notes") or {}
        for p in sorted((set(scores) | set(notes)) - set(self.rows)):
            problems.append(f"the draft names practice {p!r}, which this rubric lacks; it was left out")
        for p, row in self.rows.items():
            value = scores.get(p)
            if value is not None and value not in [v for _, v in row.score.options]:
                problems.append(f"the draft's score {value!r} for {p} is not on the scale; it was left out")
                value = None
            row.score.value = value
            note = notes.get(p, "")
            row.note.value = note if isinstance(note, str) else ""
        self.hide.value = bool(state.get("hidden", False))
        return problems

    def set_rating(self, rating: Rating | None) -> None:
        """Fill the widgets from a saved Rating (None clears them)."""
        rating_scores = rating.scores if rating else {}
        for p, row in self.rows.items():
            row.score.value = widget_score(rating_scores[p]) if p in rating_scores else None
            row.note.value = rating.notes.get(p, "") if rating else ""

    def set_hint(self, practice_id: str, html_text: str, *, highlight: bool = False) -> None:
        """Show trusted, already-escaped ``html_text`` above a practice's scores; a
        highlighted practice is on the discussion agenda."""
        row = self.rows[practice_id]
        row.hint, row.agenda = html_text, highlight
        row.render_header()
        row.widget.layout.border = "3px solid #d9822b" if highlight else "1px solid #d0d7de"
        (row.widget.add_class if highlight else row.widget.remove_class)("rk-agenda-item")

    def set_disabled(self, disabled: bool) -> None:
        for row in self.rows.values():
            row.score.disabled = row.note.disabled = disabled

    def set_hideable(self, hideable: bool) -> None:
        self.hide.layout.display = "flex" if hideable else "none"
        if not hideable:
            self.hide.value = False

    # ------------------------------------------------------------------ display

    def _changed(self, _change: Any = None) -> None:
        self._show_progress()
        if self.on_change is not None:
            self.on_change()

    def _show_progress(self) -> None:
        done = len(self.rows) - len(self.missing())
        self.progress.value = f"<span style='margin-left:10px'>{done} of {len(self.rows)} practices rated</span>"
        self._show_hidden()

    def _show_hidden(self) -> None:
        hidden = bool(self.hide.value)
        self.body.layout.display = "none" if hidden else "flex"
        self.hidden_note.layout.display = "block" if hidden else "none"
        self.hide.description = "Show these ratings" if hidden else "Hide these ratings"
        done = len(self.rows) - len(self.missing())
        self.hidden_note.value = (
            "<div style='padding:10px;background:#f4f4f4;border:1px dashed #999'>"
            f"Hidden while the other person rates ({done} of {len(self.rows)} practices rated).</div>"
        )
