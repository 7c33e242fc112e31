"""Analyses of the tidy frames: trends, calibration, alerts, goal follow-up, team view.

Pure functions that take frames from :mod:`rapportkit.frames` and return DataFrames with
the columns documented in ``docs/analysis.md``. Nothing here ranks people by score.
"""

from rapportkit.analysis.alerts import alerts
from rapportkit.analysis.calibration import calibration, gaps
from rapportkit.analysis.goals import goal_counts, goal_progress
from rapportkit.analysis.team import team_summary
from rapportkit.analysis.trends import trend_points, trend_summary

__all__ = [
    "trend_points", "trend_summary", "gaps", "calibration", "alerts", "goal_progress",
    "goal_counts", "team_summary",
]
