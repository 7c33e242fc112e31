"""A4 pages for the printable reports, laid out with matplotlib alone.

:class:`Document` fills portrait A4 :class:`~matplotlib.figure.Figure` pages from the top:
titles, headings, paragraphs, key–value lines, tables (``matplotlib.table``) that carry
on over pages with their header repeated, Axes for a plot, and whole pages for plots.
Text is wrapped with :mod:`textwrap` to a width measured in the font, long cells are
shortened with an ellipsis, and every string is drawn with ``parse_math=False`` and
``usetex=False``, so user text such as ``$100`` or ``<b>`` prints literally.
:meth:`Document.save` writes all pages with ``PdfPages`` to a temporary file and moves it
into place. No pyplot: nothing global is opened or closed.
"""

from __future__ import annotations

import datetime as dt
import functools
import textwrap
from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.table import Table
from matplotlib.textpath import text_to_path

from . import __version__
from .files import atomic_write

__all__ = ["Document", "wrap_lines", "legend_below", "PLAIN", "BODY", "SMALL", "GREY"]

W, H = 8.27, 11.69                      # A4 portrait, inches
MARGIN, TOP, BOTTOM = 0.65, 0.8, 0.75   # inches kept free around the text
TEXT_W = W - 2 * MARGIN
BODY, SMALL = 9.0, 8.0                  # font sizes, points
PAD = 0.05                              # inches between a table cell's edge and its text
PLAIN = {"parse_math": False, "usetex": False}  # user text is never mathematics or LaTeX
GREY = "#555555"


@functools.lru_cache(maxsize=2048)
def _em(char: str) -> float:
    """The width of ``char`` in the default font, in ems (kerning ignored)."""
    return text_to_path.get_text_width_height_descent(char, FontProperties(size=100), ismath=False)[0] / 100


def wrap_lines(text: object, width_in: float, size: float, most: int | None = None, bold: bool = False) -> list[str]:
    """``text`` wrapped to ``width_in`` inches at ``size`` points; cut to ``most`` lines."""
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        em = max(0.45, sum(map(_em, para)) / len(para)) if para else 0.5
        chars = max(6, int(width_in * 72 / (em * size * (1.12 if bold else 1.04))))
        lines += textwrap.wrap(para, chars, break_on_hyphens=False) or [""]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    if most is not None and len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 2)].rstrip() + " …"
    return lines


def _height(lines: int, size: float) -> float:
    """Inches taken by ``lines`` lines of ``size``-point text (1.2 line spacing of the
    font's ~1.16 em line height)."""
    return lines * size * 1.4 / 72


class Document:
    """A4 pages filled from the top; whatever does not fit on a page starts the next one.

    ``running_head`` is printed at the top of every page; :meth:`save` adds the page
    numbers. ``y`` is the cursor, in inches from the top of the current page.
    """

    #: printed across every page when set (an unsigned record says DRAFT on each page)
    watermark: str = ""

    def __init__(self, running_head: str):
        self.running_head = running_head
        self.pages: list[Figure] = []
        self._heading: str | None = None  # drawn with whatever comes next, on its page
        self._page()

    def _page(self) -> None:
        self.pages.append(Figure(figsize=(W, H)))
        self.y = TOP

    @property
    def fig(self) -> Figure:
        """The page being filled."""
        return self.pages[-1]

    def _room(self, height: float) -> None:
        """Start a new page unless ``height`` inches (and a waiting heading) fit on this one."""
        heading, self._heading = self._heading, None
        if self.y + height + (0.44 if heading else 0) > H - BOTTOM and self.y > TOP:
            self._page()
        if heading:
            self.y += 0.14
            self._text(MARGIN, heading, 12.5, fontweight="bold")
            self.y += 0.3

    def _text(self, x: float, text: str, size: float, **style) -> None:
        """One line of text whose top sits at the cursor (placed by its baseline, so lines
        with and without tall glyphs such as brackets line up)."""
        y = self.y + 0.8 * size / 72
        self.fig.text(x / W, 1 - y / H, text, fontsize=size, va="baseline", ha="left", **style, **PLAIN)

    def title(self, text: str) -> None:
        """The document's title, large and bold."""
        self._text(MARGIN, text, 17, fontweight="bold")
        self.y += 0.45

    def heading(self, text: str) -> None:
        """A section heading; it goes on the page where what follows it starts."""
        self._heading = text

    def para(self, text: str, *, size: float = BODY, color: str = "black", indent: float = 0.0) -> None:
        """A paragraph wrapped to the text width (line breaks in ``text`` are kept)."""
        for line in wrap_lines(text, TEXT_W - indent, size):
            self._room(_height(1, size))
            self._text(MARGIN + indent, line, size, color=color)
            self.y += _height(1, size)
        self.y += 0.05

    def pairs(self, items: Sequence[tuple[str, str]], key_w: float = 1.9) -> None:
        """``key   value`` lines: bold keys, values wrapped (at most 6 lines) beside them."""
        for key, value in items:
            lines = wrap_lines(value, TEXT_W - key_w, BODY, 6)
            self._room(_height(len(lines), BODY))
            self._text(MARGIN, key, BODY, fontweight="bold")
            for line in lines:
                self._text(MARGIN + key_w, line, BODY)
                self.y += _height(1, BODY)
            self.y += 0.03
        self.y += 0.05

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float],
              *, centred: Sequence[int] = (), most: int = 10, size: float = SMALL) -> None:
        """A table across the text width (``widths``: fractions of it, one per column).

        Cells are wrapped to their column and cut to ``most`` lines; columns listed in
        ``centred`` are centred. A table longer than the page goes on over the next
        pages with its header repeated.
        """
        inches = [w * TEXT_W for w in widths]
        cells = [[wrap_lines(v, inches[c] - 2 * PAD, size, most, bold=r == 0) for c, v in enumerate(row)]
                 for r, row in enumerate([header, *rows])]
        shortened = any(c[-1].endswith(" …") for row in cells[1:] for c in row)
        tall = [_height(max(len(c) for c in row), size) + 2 * PAD for row in cells]
        todo = list(range(1, len(cells)))
        while todo:
            self._room(tall[0] + tall[todo[0]])
            chunk = [0]
            while todo and self.y + sum(tall[i] for i in chunk) + tall[todo[0]] <= H - BOTTOM:
                chunk.append(todo.pop(0))
            if len(chunk) == 1:  # not even one row fits below the header: force one
                chunk.append(todo.pop(0))
            self._draw_table([cells[i] for i in chunk], [tall[i] for i in chunk], inches, centred, size)
            if todo:
                self._page()
        self.y += 0.06
        if shortened:
            self.para("Text ending in … is shortened here; the full text is kept in the record.",
                      size=SMALL, color=GREY)
        self.y += 0.06

    def _draw_table(self, cells, tall, inches, centred, size) -> None:
        total = sum(tall)
        ax = self.fig.add_axes((MARGIN / W, 1 - (self.y + total) / H, TEXT_W / W, total / H))
        ax.set_axis_off()
        table = Table(ax, bbox=(0, 0, 1, 1))
        table.auto_set_font_size(False)
        for r, (row, h) in enumerate(zip(cells, tall)):
            for c, lines in enumerate(row):
                cell = table.add_cell(r, c, width=inches[c] / TEXT_W, height=h / total, text="\n".join(lines),
                                      loc="center" if c in centred else "left",
                                      facecolor="#e8ecef" if r == 0 else "white", edgecolor="#b0b7bd")
                cell.PAD = PAD / inches[c]
                cell.set_linewidth(0.5)
                text = cell.get_text()
                text.set(fontsize=size, fontweight="bold" if r == 0 else "normal", linespacing=1.2, **PLAIN)
        ax.add_table(table)
        self.y += total

    def axes(self, height: float, left: float = 0.0, right: float = 0.0) -> Axes:
        """An Axes ``height`` inches tall across the text width (less ``left``/``right``)."""
        self._room(height)
        ax = self.fig.add_axes(((MARGIN + left) / W, 1 - (self.y + height) / H,
                                (TEXT_W - left - right) / W, height / H))
        self.y += height + 0.15
        return ax

    def figure_page(self) -> SubFigure:
        """A new page for plots: the returned SubFigure fills it inside the margins and is
        laid out by constrained layout. Text after it starts on a new page."""
        fig = Figure(figsize=(W, H), layout="constrained")
        fig.get_layout_engine().set(w_pad=0, h_pad=0, wspace=0, hspace=0)
        self.pages.append(fig)
        self.y = H  # whatever comes next starts a fresh page
        rows = fig.subfigures(3, 1, height_ratios=[TOP - 0.2, H - TOP - BOTTOM + 0.2, BOTTOM])
        cols = rows[1].subfigures(1, 3, width_ratios=[MARGIN, TEXT_W, MARGIN])
        return cols[1]

    def save(self, out: Path, title: str) -> Path:
        """Write every page to ``out`` (through a temporary file); ``title`` goes into the
        PDF metadata beside ``Author: rapportkit``."""
        if self._heading:  # a heading still waiting for its content
            self._room(0)
        printed = dt.date.today().isoformat()
        metadata = {"Title": title, "Author": "rapportkit", "Subject": "Peer-support supervision",
                    "Creator": f"rapportkit {__version__}"}
        # whole or nothing, owner-only, in folders made 0700; a full disk is said in words
        with atomic_write(out, text=False) as fh, PdfPages(fh, metadata=metadata) as pdf:
            for n, fig in enumerate(self.pages, 1):
                fig.text(MARGIN / W, 1 - 0.4 / H, self.running_head, fontsize=SMALL, color=GREY, va="top", **PLAIN)
                if self.watermark:
                    fig.text(0.5, 0.5, self.watermark, fontsize=54, color="#b3261e", alpha=0.14, rotation=35,
                             ha="center", va="center", fontweight="bold", **PLAIN)
                fig.text(1 - MARGIN / W, 0.35 / H, f"Confidential supervision record · printed {printed} · "
                         f"page {n} of {len(self.pages)}", fontsize=7, color=GREY, ha="right", **PLAIN)
                pdf.savefig(fig)
        return out


def legend_below(ax: Axes, ncols: int) -> None:
    """Move ``ax``'s legend under it (the plots put theirs on the right, too wide for A4)."""
    legend = ax.get_legend()
    if legend is not None:
        handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    else:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=ncols,
                  frameon=False, fontsize=SMALL)
