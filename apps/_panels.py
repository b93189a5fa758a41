"""Matplotlib figures kept from step to step and drawn by blitting, for the pages of ``apps/``.

Both pages (``recsys.py``, ``schelling.py``) draw their plots with this module instead of
making new figures on every step: a :class:`Panel` keeps its figure, draws the axes, ticks
and labels (most of matplotlib's drawing time: text) only when an axis limit moves, and
otherwise draws only the data over the kept background. The limits move in coarse steps
(:func:`ladder`, :func:`ladder_limits`, :func:`time_limits`) so that this is rare.

Not a page: solara serves no file of ``apps/`` whose name starts with ``_``. The pages import it
as ``_panels``, with their own folder on ``sys.path`` (``solara run apps/<page>.py`` puts it
there; the pages put it there themselves for ``solara run apps`` and ``runpy``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any, Protocol

import matplotlib

matplotlib.use("Agg")
import numpy as np
import PIL.Image
import solara
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization.utils import update_counter

# One dpi for every panel: the panels of one image are joined pixel to pixel.
DPI = 80


class Panel:
    """A matplotlib figure kept from step to step and drawn by blitting.

    The figure's decorations (axes, ticks, tick labels, titles, colour bar) are drawn in full
    only when an axis limit (or ``key``) changes, and kept as a background; otherwise a draw
    restores that background and draws only the data artists on it. Text is most of the drawing
    time (matplotlib 3.11's Agg backend takes about 2 ms per label on a 2-core machine), so a
    step whose limits stay put costs a few milliseconds instead of 100-200.

    Args:
        width: figure width in inches (a whole number of pixels at ``DPI``).
        height: figure height in inches (likewise).
        margins: space around the axes in inches: ``(left, right, bottom, top)``.
    """

    def __init__(
        self, width: float, height: float, margins: tuple[float, float, float, float]
    ) -> None:
        """Make the figure, its Agg canvas and one axes placed by ``margins``."""
        left, right, bottom, top = margins
        self.figure = Figure(figsize=(width, height), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(
            left=left / width,
            right=1 - right / width,
            bottom=bottom / height,
            top=1 - top / height,
        )
        self.ax = self.figure.add_subplot()
        self.full_draws = 0
        self._data: list[Artist] = []
        self._background: Any = None
        self._key: tuple | None = None

    def invalidate(self) -> None:
        """Forget the kept background: the next draw is a full one.

        Call it after changing a decoration that neither the axis limits nor ``key`` show
        (a title, say).
        """
        self._key = None

    def data[A: Artist](self, artist: A) -> A:
        """Mark ``artist`` as data: drawn on every call, in the order marked, over the rest.

        Args:
            artist: an artist of this panel's figure.

        Returns:
            The same artist.
        """
        artist.set_animated(True)
        self._data.append(artist)
        return artist

    def rgba(self, key: tuple = ()) -> np.ndarray:
        """The figure as an RGBA array (a view into the canvas: copy it to keep it).

        Args:
            key: anything else the decorations depend on (a colour bar's range, say): a new
                value redraws them in full, as a changed axis limit does.

        Returns:
            A ``(height, width, 4)`` uint8 array.
        """
        key = (key, *((ax.get_xlim(), ax.get_ylim()) for ax in self.figure.axes))
        if key != self._key:
            self.canvas.draw()  # everything but the data artists
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._key = key
            self.full_draws += 1
        else:
            self.canvas.restore_region(self._background)
        for artist in self._data:
            artist.draw(self.canvas.get_renderer())
        return np.asarray(self.canvas.buffer_rgba())


def encode_png(rows: list[list[np.ndarray]]) -> bytes:
    """PNG of RGBA arrays joined into one image.

    Args:
        rows: one list of ``(height, width, 4)`` arrays per row of the image, left to right;
            the arrays of a row have one height, the rows one width.

    Returns:
        The PNG's bytes (RGB: the figures are opaque).
    """
    image = np.concatenate([np.concatenate(row, axis=1) for row in rows], axis=0)
    buffer = io.BytesIO()
    # Opaque figures: RGB is enough. Fastest zlib level: 13 ms instead of 20 ms a panel.
    PIL.Image.fromarray(np.ascontiguousarray(image[..., :3])).save(
        buffer, format="png", compress_level=1
    )
    return buffer.getvalue()


def ladder(value: float) -> float:
    """The smallest of ..., 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, ... at or above ``value``.

    Args:
        value: a number > 0.

    Returns:
        The rung of the 1-2-5 ladder.
    """
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 2.0, 5.0):
        top = mantissa * 10.0**exponent
        if top >= value * (1 - 1e-9):  # 0.3 may be 0.30000000000000004
            return top
    return 10.0 ** (exponent + 1)


def ladder_limits(values: np.ndarray) -> tuple[float, float]:
    """Y limits from zero to a rung of the 1-2-5 ladder past the finite ``values``.

    The curves plotted keep their whole history, so their extremes only grow and the limits
    move only when a value passes the next rung: the decorations of a panel are redrawn a
    few times in a run instead of every step. A margin of 3 % keeps markers at a limit whole.

    Args:
        values: the curve's values (NaN and infinities are left out).

    Returns:
        ``(low, high)``: ``0 - margin`` (or below the lowest negative value's rung) to
        ``rung + margin``; 0 to 1 (with the margins) when no value is finite.
    """
    finite = values[np.isfinite(values)]
    high = ladder(float(finite.max())) if finite.size and finite.max() > 0 else 1.0
    low = -ladder(-float(finite.min())) if finite.size and finite.min() < 0 else 0.0
    margin = 0.03 * (high - low)
    return low - margin, high + margin


def time_limits(num_points: int) -> tuple[float, float]:
    """X limits of a curve over time: step 0 to 10, 20, 50, 100, ... steps, 3 % margins.

    Args:
        num_points: the curve's points, one per step from step 0.

    Returns:
        ``(low, high)``.
    """
    end = max(10.0, ladder(num_points - 1)) if num_points > 1 else 10.0
    return -0.03 * end, 1.03 * end


class Series:
    """One quantity over time on a :class:`Panel`: a line with a dot per step.

    The time axis ends at 10, 20, 50, ... steps (:func:`time_limits`) and the y axis runs from
    0 to a rung of the 1-2-5 ladder (:func:`ladder_limits`), so that the panel's decorations
    are drawn again only a few times in a run.

    Args:
        width: figure width in inches.
        height: figure height in inches.
        margins: space around the axes in inches: ``(left, right, bottom, top)``.
        title: the axes' title.
        colour: the line's colour.
        time_labels: whether the time axis gets tick labels and its label ("step").
    """

    def __init__(
        self,
        width: float,
        height: float,
        margins: tuple[float, float, float, float],
        title: str,
        colour: str = "tab:blue",
        time_labels: bool = True,
    ) -> None:
        """Make the panel, its line and its decorations."""
        self.panel = Panel(width, height, margins)
        ax = self.panel.ax
        (line,) = ax.plot([], [], marker=".", color=colour)
        self.line: Line2D = self.panel.data(line)
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=8, labelbottom=time_labels)
        ax.locator_params(nbins=4)  # fewer tick labels: text is most of the drawing time
        if time_labels:
            ax.set_xlabel("step", fontsize=8)

    def rgba(self, values: np.ndarray) -> np.ndarray:
        """The panel showing ``values`` (one per step from step 0), as :meth:`Panel.rgba`.

        Args:
            values: the quantity at steps 0, 1, 2, ... (NaN: no point).

        Returns:
            A ``(height, width, 4)`` uint8 array (a view into the canvas).
        """
        values = np.asarray(values, dtype=float)
        self.line.set_data(np.arange(values.size), values)
        self.panel.ax.set_xlim(*time_limits(values.size))
        self.panel.ax.set_ylim(*ladder_limits(values))
        return self.panel.rgba()


class Plot(Protocol):
    """What :func:`use_png` draws: an object that makes a PNG of a model as it is now."""

    def png(self, model: Any) -> bytes:
        """The PNG for ``model`` now."""
        ...


def use_png[P: Plot](model: Any, make: Callable[[], P]) -> bytes:
    """A solara hook: the PNG of ``make()``'s plot for ``model``, redrawn only when it changed.

    The plot object lives as long as the component shows this model (Reset makes new ones);
    the image is redrawn once per step (or other change SolaraViz announces through
    ``update_counter``), not on every render of the component.

    Args:
        model: the model SolaraViz shows.
        make: makes the plot (called once per model).

    Returns:
        The PNG's bytes.
    """
    counter = update_counter.get()

    def build() -> P:  # reacton wants a __name__, which a functools.partial lacks
        return make()

    plot = solara.use_memo(build, dependencies=[model])
    return solara.use_memo(lambda: plot.png(model), dependencies=[model, counter])
