"""The supervision meeting's own length and kind, entered at sign-off.

They go into the review (``Review.meeting_minutes`` and ``meeting_kind``), are signed
with it, and feed the supervision log for certification
(:mod:`rapportkit.supervision_log`). Leaving them empty records nothing, as in records
made before they were asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..errors import ValidationError
from ..model import MeetingKind, Review, with_meeting
from .common import css

__all__ = ["MeetingDetails"]

_LABEL = {"description_width": "15em"}
_KINDS = [("not recorded", ""), ("individual supervision", MeetingKind.INDIVIDUAL.value),
          ("group supervision", MeetingKind.GROUP.value)]


class MeetingDetails:
    """Two labelled inputs: the meeting's length in minutes and its kind; display ``.widget``.

    Parameters
    ----------
    on_change
        Called whenever either value changes (the meeting form keeps its draft with it).
    """

    def __init__(self, on_change: Callable[[Any], None] | None = None) -> None:
        self.minutes = css(W.Text(value="", description="Meeting length (minutes)", placeholder="e.g. 50",
                                  style=_LABEL, layout=W.Layout(width="24em")), "rk-meeting-minutes")
        self.kind = css(W.Dropdown(options=_KINDS, value="", description="Kind of supervision", style=_LABEL,
                                   layout=W.Layout(width="32em")), "rk-meeting-kind")
        intro = W.HTML("<p style='max-width:60em'>For the supervision log: how long did this supervision "
                       "meeting take, and was it individual or group supervision? Leave them empty if you do "
                       "not record them. They are signed with the record.</p>")
        self.widget = css(W.VBox([intro, self.minutes, self.kind]), "rk-meeting-details")
        if on_change is not None:
            self.minutes.observe(on_change, "value")
            self.kind.observe(on_change, "value")

    def set(self, review: Review | None) -> None:
        """Show what ``review`` records (nothing for None)."""
        minutes = review.meeting_minutes if review is not None else None
        kind = review.meeting_kind if review is not None else None
        self.minutes.value = "" if minutes is None else str(minutes)
        self.kind.value = kind.value if kind is not None else ""

    def values(self) -> dict[str, Any]:
        """``{"minutes": int | None, "kind": str | None}`` as typed (the model checks the range).

        Raises
        ------
        ValidationError
            The length is not a whole number of minutes, or the kind is not one offered.
        """
        text = self.minutes.value.strip()
        if text and not (text.isascii() and text.isdigit()):
            raise ValidationError(f"'meeting length' must be whole minutes, such as 50 (got {text!r}); "
                                  "leave it empty if it was not recorded")
        kind = self.kind.value
        if kind not in {v for _, v in _KINDS}:  # a viewer can set any value
            raise ValidationError(f"'kind of supervision' must be individual or group (got {kind!r})")
        return {"minutes": int(text) if text else None, "kind": kind or None}

    def apply(self, review: Review) -> Review:
        """``review`` with the length and kind typed here (unchanged if they are the same)."""
        return with_meeting(review, **self.values())

    def set_disabled(self, disabled: bool) -> None:
        self.minutes.disabled = self.kind.disabled = disabled

    def state(self) -> dict[str, str]:
        """What is typed, for the form's draft."""
        return {"minutes": self.minutes.value, "kind": self.kind.value}

    def load_state(self, state: dict[str, Any]) -> list[str]:
        """Put a draft's values back; returns what could not be (as sentences)."""
        problems = []
        minutes, kind = state.get("minutes", ""), state.get("kind", "")
        if isinstance(minutes, str):
            self.minutes.value = minutes
        else:
            problems.append("the meeting length in the draft was not text; it is left as saved")
        if kind in {v for _, v in _KINDS}:
            self.kind.value = kind
        else:
            problems.append(f"the kind of supervision {kind!r} in the draft is not one offered; it is left as saved")
        return problems
