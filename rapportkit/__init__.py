"""rapportkit: supervision workbooks for peer-support programmes.

A peer specialist and their supervisor rate the same session blind against nine
rapport-building practices, reveal and discuss the gaps, agree a consensus, set goals
and sign the record; trends and calibration follow over months.

The package is layered one way: ``rubric → model → store → frames → analysis → plots →
ui``. Importing :mod:`rapportkit` is cheap: matplotlib, ipywidgets and pandas load only
in the modules that need them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (loaded on first use, PEP 562)
_EXPORTS = {
    "load_rubric": "rubric",
    "default_rubric": "rubric",
    "Rubric": "rubric",
    "Person": "model",
    "Session": "model",
    "Rating": "model",
    "Review": "model",
    "Goal": "model",
    "ReviewStatus": "model",
    "Store": "store",
    "open_store": "store",
    "ratings_frame": "frames",
    "goals_frame": "frames",
    "traps_frame": "frames",
    "reviews_frame": "frames",
    "scan": "privacy",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rapportkit' has no attribute {name!r}")
    value = getattr(import_module(f"rapportkit.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
