"""What the workbooks show besides forms: readable tables, and a plot with a specialist picker.

- :func:`show_table` shows a DataFrame (or one record, or a list of them) as an HTML
  table a reader can take in: no index column, human headers, whole texts (nothing cut
  short with "…"), "—" where a value is missing, "yes"/"no" for true/false, dates without
  a time. The plain-text form of the same cells is what a terminal or nbval sees.
- :func:`show_figure` shows a Matplotlib figure as a picture with a text alternative
  (what a screen reader announces; an inline plot has none).
- :class:`SpecialistPlot` draws one of :mod:`rapportkit.plots`' per-specialist plots under
  a dropdown of names, so choosing a person never means editing an id in code.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = ["MISSING", "Picture", "SpecialistPlot", "Table", "show_figure", "show_table"]

#: What a table shows where a value is missing (None, NaN, NaT).
MISSING = "—"


def _is_missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _text(value: Any, fmt: str | Callable[[Any], str] | None) -> str:
    if _is_missing(value):
        return MISSING
    if callable(fmt):
        return str(fmt(value))
    if fmt is not None:
        return format(value, fmt)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


class Table:
    """A table ready to show: headers and cell texts (see :func:`show_table`).

    Attributes
    ----------
    headers : list of str
    rows : list of list of str
        The cell texts, row by row, as shown.
    caption : str or None
    """

    def __init__(self, headers: list[str], rows: list[list[str]], numeric: list[bool],
                 caption: str | None = None) -> None:
        self.headers, self.rows, self.numeric, self.caption = headers, rows, numeric, caption

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str, right: bool) -> str:
            scope = ' scope="col"' if tag == "th" else ""
            align = "right" if right else "left"
            return f'<{tag}{scope} style="text-align:{align};vertical-align:top">{html.escape(text)}</{tag}>'

        head = "".join(cell("th", h, n) for h, n in zip(self.headers, self.numeric))
        body = "".join("<tr>" + "".join(cell("td", t, n) for t, n in zip(row, self.numeric)) + "</tr>"
                       for row in self.rows)
        caption = (f'<caption style="text-align:left;font-weight:bold;padding:4px 0">'
                   f"{html.escape(self.caption)}</caption>") if self.caption else ""
        return (f'<table class="rk-table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        widths = [max([len(h)] + [len(r[i]) for r in self.rows]) for i, h in enumerate(self.headers)]

        def line(texts: Iterable[str]) -> str:
            return "  ".join(t.rjust(w) if n else t.ljust(w)
                             for t, w, n in zip(texts, widths, self.numeric)).rstrip()

        out = ([self.caption] if self.caption else []) + [line(self.headers)]
        return "\n".join(out + [line(r) for r in self.rows])


def show_table(data: pd.DataFrame | Mapping[str, Any] | Iterable[Mapping[str, Any]],
               columns: Mapping[str, str] | None = None, *, caption: str | None = None,
               formats: Mapping[str, str | Callable[[Any], str]] | None = None, others: bool = False) -> Table:
    """A readable table of ``data``; the last line of a notebook cell shows it.

    Parameters
    ----------
    data : DataFrame, mapping or iterable of mappings
        The rows (a mapping is one row).
    columns : mapping of str to str, optional
        The columns to show, in order, each with its header; a column ``data`` lacks is
        left out. Default: every column, headers as they are.
    caption : str, optional
        A line above the table.
    formats : mapping of str to str or callable, optional
        A format spec (``".0%"``) or a function per column; the default shows floats
        with two decimals, booleans as yes/no, dates as ``YYYY-MM-DD``.
    others : bool
        Also show the columns ``columns`` does not name, after those it names, under
        their own names (for tables whose columns come from data, such as a rubric's
        level labels).

    Returns
    -------
    Table
        Shown as HTML in a notebook, as aligned plain text elsewhere. Missing values
        read :data:`MISSING`; the index is never shown.
    """
    if isinstance(data, Mapping):
        frame = pd.DataFrame([dict(data)])
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = pd.DataFrame([dict(row) for row in data])
    chosen = {c: c for c in frame.columns} if columns is None else {
        c: h for c, h in columns.items() if c in frame.columns}
    if others:
        chosen.update({c: c for c in frame.columns if c not in chosen})
    formats = dict(formats or {})
    rows = [[_text(value, formats.get(col)) for col, value in zip(chosen, values)]
            for values in frame[list(chosen)].itertuples(index=False, name=None)]
    numeric = [_numeric(frame[c]) for c in chosen]
    return Table([str(h) for h in chosen.values()], rows, numeric, caption)


class Picture:
    """A PNG with its text alternative, shown as ``<img alt=…>`` (see :func:`show_figure`)."""

    def __init__(self, png: bytes, alt: str) -> None:
        self.png, self.alt = png, alt

    def _repr_html_(self) -> str:
        import base64

        data = base64.b64encode(self.png).decode("ascii")
        return (f'<img class="rk-picture" alt="{html.escape(self.alt)}" style="max-width:100%;height:auto" '
                f'src="data:image/png;base64,{data}">')

    def __repr__(self) -> str:
        return f"[picture: {self.alt}]"


def show_figure(figure: Any, alt: str, *, dpi: int = 80) -> Picture:
    """``figure`` (a Matplotlib Figure) as a :class:`Picture` whose text alternative is ``alt``.

    Raises
    ------
    ValueError
        ``alt`` is empty: every picture says in words what it shows.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"'alt' must say in words what the picture shows (got {alt!r})")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return Picture(buffer.getvalue(), alt.strip())


class SpecialistPlot:
    """A dropdown of specialists (by name) above one of :mod:`rapportkit.plots`' plots.

    ``SpecialistPlot(store, plots.profile, ratings).widget`` draws
    ``plots.profile(ratings, specialist=<chosen id>)``, and again on every choice.

    Parameters
    ----------
    store : Store
        Where the names come from (:func:`rapportkit.ui.explorers.team_data`).
    plot : callable
        A plot function taking ``specialist=`` and returning an Axes or a Figure.
    *args, **kwargs
        Passed to ``plot`` with the chosen ``specialist``.
    specialist : str, optional
        The id chosen first (default: the first name in alphabetical order).
    """

    def __init__(self, store, plot: Callable[..., Any], *args: Any, specialist: str | None = None,
                 **kwargs: Any) -> None:
        import ipywidgets as W

        from .common import PlotImage, StatusArea, css
        from .explorers import team_data

        self.plot, self.args, self.kwargs = plot, args, kwargs
        names = list(team_data(store).specialists)
        ids = [sid for _label, sid in names]
        if specialist is not None and specialist not in ids:
            raise ValueError(f"'specialist' must be one of {', '.join(ids)} (got {specialist!r})")
        self.picker = css(W.Dropdown(description="Specialist", options=names,
                                     value=specialist if specialist is not None else (ids[0] if ids else None),
                                     layout=W.Layout(width="26em")), "rk-specialist-picker")
        self.image = css(PlotImage(format="png"), "rk-plot")
        self.status = StatusArea()
        self.widget = css(W.VBox([self.picker, self.status.widget, self.image]), "rk-specialist-plot")
        if not ids:
            self.status.info("There is no specialist in this database yet.")
            return
        self.picker.observe(lambda _change: self.draw(), names="value")
        self.draw()

    def draw(self) -> None:
        """Draw the plot for the chosen specialist into the image."""
        who = self.picker.value
        drawn = self.plot(*self.args, specialist=who, **self.kwargs)
        figure = getattr(drawn, "figure", drawn)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=96)
        self.image.value = buffer.getvalue()
        label = dict((sid, name) for name, sid in self.picker.options).get(who, who)
        self.image.tooltip = f"{getattr(self.plot, '__name__', 'plot').replace('_', ' ').capitalize()} for {label}"
