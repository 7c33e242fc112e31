"""What every plot shares: the palette, argument checks, new figures, the empty message.

Colours are Okabe–Ito (safe for the common colour-vision deficiencies); every series
also differs in marker shape, line style or hatch so a greyscale print still reads.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import ValidationError

#: Okabe–Ito colours by name.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
    "grey": "#999999",
}

#: How each rater's scores are drawn (colour, marker, line style).
ROLE_STYLE = {
    "self": {"color": OKABE_ITO["orange"], "marker": "o", "linestyle": ":"},
    "supervisor": {"color": OKABE_ITO["blue"], "marker": "s", "linestyle": "--"},
    "consensus": {"color": OKABE_ITO["black"], "marker": "D", "linestyle": "-"},
}

#: How each goal status is drawn (fill colour and hatch).
STATUS_STYLE = {
    "open": {"color": OKABE_ITO["sky_blue"], "hatch": ""},
    "carried": {"color": OKABE_ITO["orange"], "hatch": ".."},
    "met": {"color": OKABE_ITO["green"], "hatch": "//"},
    "dropped": {"color": "#DDDDDD", "hatch": "xx"},
}

SCALE = (1, 2, 3, 4)
PROFICIENCY = 3
NO_REVIEWS = "No reviews yet"
NO_GOALS = "No goals yet"
#: Text keyword arguments for strings that come from users (names, goal text):
#: never interpret ``$…$`` in them as mathematics.
PLAIN = {"parse_math": False}


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax`` itself, or the single Axes of a new stand-alone Figure (no pyplot)."""
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def show_message(ax: Axes, message: str) -> Axes:
    """Blank ``ax`` and write ``message`` in its centre."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize=13, color="#444444", gid="message", **PLAIN)
    return ax


def listing(values: Iterable[object], most: int = 8) -> str:
    """``a, b, c`` or ``a, b, …, z`` for long lists."""
    values = [str(v) for v in values]
    if len(values) > most:
        values = values[: most - 1] + ["…", values[-1]]
    return ", ".join(values)


def check_choice(name: str, value: object, choices: Iterable[object]) -> None:
    """Raise ValidationError (a ValueError) unless ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ValidationError(f"`{name}` must be one of {listing(choices)}, not {value!r}")


def for_specialist(frame: pd.DataFrame, specialist: str) -> pd.DataFrame:
    """The rows of one specialist; ValidationError naming the ids present otherwise."""
    check_choice("specialist", specialist, sorted(frame["specialist_id"].unique()))
    return frame[frame["specialist_id"] == specialist]


def specialist_label(frame: pd.DataFrame, specialist: str) -> str:
    """``Name (id)`` from the frame's ``specialist_name`` column."""
    names = frame.loc[frame["specialist_id"] == specialist, "specialist_name"]
    return f"{names.iloc[0]} ({specialist})" if len(names) else str(specialist)


def practice_catalog(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """``(practice_id, practice_title)`` pairs in rubric order, from the frame itself."""
    cols = ["practice_order", "practice_id", "practice_title"]
    if "practice_order" not in frame:
        cols = cols[1:]
    rows = frame[cols].drop_duplicates("practice_id")
    if "practice_order" in rows:
        rows = rows.sort_values(["practice_order", "practice_id"], kind="stable")
    return list(zip(rows["practice_id"], rows["practice_title"]))


def pick_practices(catalog: list[tuple[str, str]], practices: Iterable[str] | None) -> list[tuple[str, str]]:
    """The catalog restricted to ``practices`` (kept in rubric order); checks each id."""
    if practices is None:
        return catalog
    wanted = [practices] if isinstance(practices, str) else list(practices)
    ids = [pid for pid, _ in catalog]
    for pid in wanted:
        check_choice("practices", pid, ids)
    return [(pid, title) for pid, title in catalog if pid in wanted]


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters."""
    return textwrap.fill(str(text), width=width, break_long_words=False, break_on_hyphens=False)


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def floats(values: pd.Series) -> np.ndarray:
    """Scores (nullable Int64 or float) as a float array, missing → NaN."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def as_timestamp(name: str, value: dt.date | str | pd.Timestamp | None) -> pd.Timestamp | None:
    """A midnight Timestamp from a date, ISO string or Timestamp; message naming ``name``."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValidationError(f"`{name}` must be a date such as '2026-03-10', not {value!r}") from None
    if pd.isna(stamp):
        raise ValidationError(f"`{name}` must be a date such as '2026-03-10', not {value!r}")
    return stamp.normalize()


def score_axis(ax: Axes, which: str = "y", *, label: str | None = None) -> None:
    """Limit the ``which`` axis of ``ax`` to 0.5–4.5 with ticks at 1–4 labelled."""
    (ax.set_ylim if which == "y" else ax.set_xlim)(0.5, 4.5)
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_ticks(SCALE, labels=[str(s) for s in SCALE])
    if label:
        axis.set_label_text(label)


def date_axis(axis) -> None:
    """Concise date ticks (``Jan``, ``2026``…) that do not crowd."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator))
