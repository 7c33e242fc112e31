"""Jupyter forms and explorers built on ipywidgets.

Each form is a class that owns its widgets; display its ``.widget`` in a notebook.
Names load on first use (PEP 562), so ``import rapportkit.ui`` does not import
ipywidgets until a form is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> module in this package that defines it
_EXPORTS = {
    # the supervision meeting and the self-rating (issue 3)
    "MeetingForm": "meeting",
    "SelfRatingForm": "self_rating",
    "RatingPanel": "rating_panel",
    "SessionPicker": "session_picker",
    # records waiting for my signature (issue 11)
    "SignatureList": "signing",
    # correcting a signed record: an amendment with a reason, signed again (issue 13)
    "AmendmentForm": "amendment",
    # the supervision log with its hours, for certification (issue 13)
    "SupervisionLogView": "log_view",
    # the roster, for the administrator
    "RosterForm": "roster",
    "GoalsPanel": "goals_panel",
    "TrapsPanel": "goals_panel",
    "StatusArea": "common",
    "esc": "common",
    # explorers of trends, calibration and goals
    "TrendExplorer": "explorers",
    "CalibrationExplorer": "explorers",
    "GoalsExplorer": "explorers",
    "team_data": "explorers",
    # read-only dashboards for Voilà (issue 5)
    "SpecialistProgress": "dashboards",
    "TeamOverview": "dashboards",
    "CalibrationDashboard": "dashboards",
    "query_string": "dashboards",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rapportkit.ui' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
