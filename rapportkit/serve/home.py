"""What the home page of ``rapportkit serve`` says about each dashboard.

The page itself is the ``tree.html`` of rapportkit's Voilà template (Voilà's listing
page, which ``config/voila.py`` switches to its server-rendered "classic" form). It gets
:func:`template_vars` through tornado's ``jinja_template_vars`` setting and shows, for
each notebook of the served folder, in this order: a title, one sentence on what it
shows and for whom, and one link that opens it. A notebook not described here (a site's
own ``--dashboards`` folder) is listed by its name in words. File names are never shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Dashboard", "DASHBOARDS", "TITLE", "INTRO", "template_vars"]


@dataclass(frozen=True)
class Dashboard:
    name: str  # the notebook's file name without ".ipynb"
    title: str
    summary: str


TITLE = "rapportkit dashboards"
INTRO = ("Read-only views of the supervision records of this programme. They are for growth, "
         "not surveillance: nobody is ranked.")

DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard("specialist_progress", "Specialist progress",
              "For a supervisor and a specialist together: how each of the nine practices has moved "
              "review by review, what is worth a conversation now, and the specialist's goals."),
    Dashboard("team_overview", "Team overview",
              "For programme leads: where the team stands in each practice, with cells of fewer than "
              "three reviews left out and people listed by name, never ranked."),
    Dashboard("calibration", "Calibration",
              "For supervisors and specialists: how well self-ratings agree with the supervisor's, "
              "review by review and practice by practice."),
)


def template_vars() -> dict:
    """The variables the home page template reads (as ``rapportkit_home``)."""
    return {"rapportkit_home": {
        "title": TITLE,
        "intro": INTRO,
        "dashboards": [asdict(d) for d in DASHBOARDS],
    }}
