"""One palette, one layout template and one renderer for every figure of the course.

Colours are the Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2008),
distinguishable with the common forms of colour blindness; every figure also
varies a second channel (dash, marker symbol or text) so nothing is told by
colour alone. Meanings are fixed across the course: green is a message that
made it (acked, delivered), vermillion one that did not (lost, dead-lettered),
orange a retry or redelivery, blue the neutral path, grey what is gone or
inactive.

The template is built from scratch rather than on top of ``plotly_white`` so a
figure's JSON stays small (kilobytes, not the tens of kilobytes a stock template
adds) and deterministic. :func:`use_offline_renderer` makes ``fig.show()`` and a
figure left as a cell's value emit only the ``application/vnd.plotly.v1+json``
mimetype: JupyterLab draws it with the plotly extension it ships with, offline,
and the notebook does not store the 3–4 MB plotly.js bundle.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "BAD",
    "COLORWAY",
    "DASHES",
    "GOOD",
    "MUTED",
    "NEUTRAL",
    "OKABE_ITO",
    "PLOTLY_MIMETYPE",
    "RETRY",
    "TEMPLATE",
    "base_figure",
    "color",
    "figure_bundle",
    "use_offline_renderer",
]

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The eight Okabe–Ito colours by name."""

COLORWAY: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
)
"""Series colours in order: yellow last, as it is the hardest to read on white."""

DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
"""Line dashes in order, the second channel when colours already mean runs."""

GOOD = OKABE_ITO["bluish_green"]
BAD = OKABE_ITO["vermillion"]
RETRY = OKABE_ITO["orange"]
NEUTRAL = OKABE_ITO["blue"]
MUTED = "#999999"

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"

_AXIS = {
    "showgrid": True,
    "gridcolor": "#E5E5E5",
    "zeroline": False,
    "showline": True,
    "linecolor": "#444444",
    "ticks": "outside",
    "automargin": True,
    "title": {"standoff": 8},
}

TEMPLATE = go.layout.Template(
    layout={
        "colorway": list(COLORWAY),
        "font": {"family": "Helvetica, Arial, sans-serif", "size": 13, "color": "#222222"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "hovermode": "closest",
        "legend": {"bgcolor": "rgba(255,255,255,0.8)", "borderwidth": 0},
        "margin": {"l": 70, "r": 30, "t": 60, "b": 55},
        "title": {"x": 0.02, "xanchor": "left"},
    }
)
"""The course's layout template: white background, light grid, Okabe–Ito colourway."""


def color(index: int) -> str:
    """The ``index``-th series colour, cycling through :data:`COLORWAY`."""
    return COLORWAY[index % len(COLORWAY)]


def base_figure(title: str, x_title: str = "", y_title: str = "", *, height: int = 420) -> go.Figure:
    """An empty figure with the course template, a title and axis titles (put the unit in them)."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, title={"text": title}, height=height)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    """The figure as the plotly mimetype's payload (``data``, ``layout``, ``config``), JSON-safe."""
    payload: dict[str, Any] = json.loads(fig.to_json())
    payload["config"] = {"displaylogo": False, "responsive": True}
    return payload


def use_offline_renderer() -> str:
    """Make plotly render figures through the mimetype renderer only; return the previous default.

    Called once when :mod:`mqlab.viz` is imported. Restore the old behaviour with
    ``plotly.io.renderers.default = previous``.
    """
    previous: str = pio.renderers.default
    pio.renderers.default = "plotly_mimetype"
    return previous
