"""The shared palette, template and renderer."""

from __future__ import annotations

import plotly.io as pio

from mqlab.viz.palette import COLORWAY, OKABE_ITO, PLOTLY_MIMETYPE, base_figure, color, figure_bundle


def test_colorway_is_okabe_ito_with_yellow_last():
    """Series colours are the eight Okabe–Ito colours, each once, yellow (least legible on white) last."""
    assert sorted(COLORWAY) == sorted(OKABE_ITO.values())
    assert COLORWAY[-1] == OKABE_ITO["yellow"]
    assert color(len(COLORWAY)) == color(0)


def test_base_figure_has_title_axis_titles_and_template():
    """A base figure carries its title, its axis titles (with units) and the course's colourway."""
    fig = base_figure("Depth", "virtual time (s)", "depth (messages)")
    assert fig.layout.title.text == "Depth"
    assert fig.layout.xaxis.title.text == "virtual time (s)"
    assert fig.layout.yaxis.title.text == "depth (messages)"
    assert tuple(fig.layout.template.layout.colorway) == COLORWAY


def test_importing_viz_selects_the_mimetype_renderer():
    """Importing mqlab.viz makes plotly emit only the mimetype bundle, never the plotly.js bundle."""
    import mqlab.viz  # noqa: F401

    assert pio.renderers.default == "plotly_mimetype"
    bundle = figure_bundle(base_figure("x"))
    assert set(bundle) == {"data", "layout", "config"}
    assert PLOTLY_MIMETYPE == "application/vnd.plotly.v1+json"


def test_template_keeps_figures_small():
    """The course template is compact: an empty figure serialises to well under 3 kB (plotly_white adds ~8 kB)."""
    assert len(base_figure("x", "t (s)", "y").to_json()) < 3000
