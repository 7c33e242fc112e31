"""Draw the README's pictures from the fictional demo team.

    .venv/bin/python tools/readme_pictures.py [OUTPUT_FOLDER]

Builds a fresh demo database in a temporary folder (never touches ``data/``), renders
each plot of :mod:`rapportkit.plots` and writes small PNGs (80 dpi) to ``docs/img/``.
The same demo seed always gives the same pictures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DPI = 80


def render(out: Path) -> list[Path]:
    """Write one PNG per plot into ``out``; return their paths."""
    from rapportkit import analysis, frames, plots
    from rapportkit.demo import load_demo
    from rapportkit.store import Store

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "demo.db", actor="demo") as store:
            load_demo(store)
            ratings = frames.ratings_frame(store)
            goals = frames.goals_frame(store)
    as_of = ratings["review_date"].max()
    progress = analysis.goal_progress(goals, ratings, today=as_of)
    figures = {
        "trend_grid": plots.trend_grid(ratings, goals, specialist="sp-01"),
        "profile": plots.profile(ratings, specialist="sp-01").figure,
        "calibration_gap": plots.calibration_gap(ratings, specialist="sp-04").figure,
        "agreement_matrix": plots.agreement_matrix(ratings).figure,
        "team_heatmap": plots.team_heatmap(analysis.team_summary(ratings)).figure,
        "goal_timeline": plots.goal_timeline(progress, specialist="sp-06", today=as_of).figure,
    }
    written = []
    for name, figure in figures.items():
        path = out / f"{name}.png"
        figure.savefig(path, dpi=DPI, pil_kwargs={"optimize": True}, metadata={"Software": None})
        written.append(path)
    return written


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else ROOT / "docs" / "img"
    for path in render(out):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{shown}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
