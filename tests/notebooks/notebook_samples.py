"""Small notebooks built in code, for testing the course gates themselves.

Each builder returns an nbformat notebook; the tests check that a gate accepts
the good one and reports each planted fault in a bad one.
"""

from __future__ import annotations

from typing import Any

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

# A dashboard whose slider redraws an Output, one whose dropdown restyles a FigureWidget,
# one whose slider is wired to nothing, and an HTML image from outside the machine.
LIVE_SLIDER = """import ipywidgets as widgets

slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
out = widgets.Output()

def redraw(change=None):
    out.clear_output(wait=True)
    with out:
        print("n squared is", slider.value ** 2)

slider.observe(redraw, names="value")
redraw()
widgets.VBox([slider, out])"""

LIVE_FIGURE = """import plotly.graph_objects as go

figure = go.FigureWidget(data=[go.Bar(x=["a", "b"], y=[1, 2])])
choice = widgets.Dropdown(options=["small", "large"], value="small", description="size")

def restyle(change):
    figure.data[0].y = [1, 2] if choice.value == "small" else [5, 9]

choice.observe(restyle, names="value")
widgets.VBox([choice, figure])"""

DEAD_SLIDER = """dead = widgets.FloatSlider(value=0.5, min=0, max=1, step=0.1, description="unused")
widgets.VBox([dead, widgets.HTML("<b>nothing listens to this slider</b>")])"""

OUTSIDE_REQUEST = """from IPython.display import HTML
HTML('<img src="http://203.0.113.7/pixel.png" alt="from outside">')"""


STATIC_FIGURE = """import plotly.graph_objects as go
go.Figure(go.Scatter(x=[0, 1, 2], y=[2, 0, 1]))"""


def notebook(*cells: Any) -> Any:
    """A notebook of the given cells (strings become code cells)."""
    built = [new_code_cell(c) if isinstance(c, str) else c for c in cells]
    return new_notebook(cells=built, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})


def dashboards(with_faults: bool) -> Any:
    """Two working dashboards; with faults, also a dead slider, an outside request and an error."""
    cells: list[Any] = [new_markdown_cell("# Dashboards"), LIVE_SLIDER, LIVE_FIGURE]
    if with_faults:
        cells += [DEAD_SLIDER, OUTSIDE_REQUEST, "raise RuntimeError('planted')"]
    return notebook(*cells)


def figure_and_widget() -> Any:
    """A plotly figure output (its own mimetype) and a widget output."""
    return notebook(STATIC_FIGURE, "import ipywidgets as widgets\nwidgets.HTML(\"<b>a widget</b>\")")
