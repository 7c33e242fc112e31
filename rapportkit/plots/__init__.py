"""Plots of ratings, calibration, goals and the team (matplotlib only).

Every function takes tidy frames (``rapportkit.frames``) or analysis results plus an
optional ``ax`` (or ``fig``), draws, and returns the Axes (or Figure). None of them calls
``plt.show()`` or touches pyplot: new figures are plain :class:`matplotlib.figure.Figure`
objects, so nothing leaks between calls and they are safe inside widget callbacks.
Display one in a notebook with ``display(fig)`` under ``%matplotlib inline``, or save it
with ``fig.savefig(...)``.

Bad arguments raise :class:`~rapportkit.errors.ValidationError` (a ``ValueError``) that
names the parameter and the value; empty data gives an Axes saying "No reviews yet".
"""

from __future__ import annotations

from ._common import OKABE_ITO, ROLE_STYLE, STATUS_STYLE
from .calibration import agreement_matrix, calibration_gap
from .goals import goal_timeline
from .team import team_heatmap
from .trends import profile, trend_grid

__all__ = [
    "trend_grid", "profile", "calibration_gap", "agreement_matrix", "team_heatmap", "goal_timeline",
    "OKABE_ITO", "ROLE_STYLE", "STATUS_STYLE",
]
