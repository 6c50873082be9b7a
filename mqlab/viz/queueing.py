"""Queueing theory overlays: the simulated value next to what Little's law and M/M/c predict.

* :func:`queueing_comparison_figure`: two panels, mean time in system *W* (seconds) and
  mean number in system *L* (messages). Bars: the simulation's measurement, the M/M/c
  prediction (:func:`mqlab.queueing.mmc_time_in_system`), and for *L* also Little's law
  ``L = λ·W`` applied to the *simulated* W and the *observed* arrival rate, which holds for
  any stable system, not only M/M/c.
* :func:`utilisation_sweep_figure`: W against utilisation ρ = λ / (c·μ), the theoretical
  curve with the simulated points on it: the picture of "a queue near 100 % busy explodes".

Rates are per second and times in seconds, as in :mod:`mqlab.queueing`.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mqlab.queueing import MM1Result, littles_law_l, mmc_time_in_system
from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.palette import GOOD, NEUTRAL, OKABE_ITO, TEMPLATE

__all__ = ["queueing_comparison_figure", "utilisation_sweep_figure"]


def queueing_comparison_figure(
    arrival_rate: float,
    service_rate: float,
    servers: int = 1,
    *,
    simulated: MM1Result | None = None,
    simulated_time_in_system: float | None = None,
    simulated_number_in_system: float | None = None,
    observed_arrival_rate: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Simulated W and L beside the M/M/c prediction and Little's law.

    Give the measurement either as an :class:`~mqlab.queueing.MM1Result` (``simulated``) or as
    plain numbers. Raises ``ValueError`` (from :mod:`mqlab.queueing`) for an unstable queue,
    which has no steady state to predict.
    """
    if simulated is not None:
        simulated_time_in_system = simulated.mean_time_in_system
        simulated_number_in_system = simulated.mean_number_in_system
        observed_arrival_rate = simulated.arrival_rate_observed
    if simulated_time_in_system is None:
        raise InvalidFigureInput("pass the simulated mean time in system (simulated=MM1Result or "
                                 "simulated_time_in_system=seconds)")
    w_theory = mmc_time_in_system(arrival_rate, service_rate, servers)
    l_theory = littles_law_l(arrival_rate, w_theory)
    rate = observed_arrival_rate if observed_arrival_rate is not None else arrival_rate
    l_little = littles_law_l(rate, simulated_time_in_system)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("mean time in system W", "mean number in system L"))
    sources = ("simulated", f"M/M/{servers} theory", "Little's law λ·W (simulated W)")
    colours = (NEUTRAL, OKABE_ITO["orange"], GOOD)
    w_values = (simulated_time_in_system, w_theory, None)
    l_values = (simulated_number_in_system, l_theory, l_little)
    for name, colour, w, n in zip(sources, colours, w_values, l_values):
        for col, value, unit in ((1, w, "s"), (2, n, "messages")):
            if value is None:
                continue
            fig.add_trace(go.Bar(
                x=[name], y=[value], name=name, legendgroup=name,
                marker={"color": colour}, text=[f"{value:.3g} {unit}"], textposition="outside",
                hovertemplate=f"{name}: %{{y:.4g}} {unit}<extra></extra>",
            ), row=1, col=col)
    seen: set[str] = set()
    for trace in fig.data:
        trace.showlegend = trace.name not in seen
        seen.add(trace.name)
    rho = arrival_rate / (servers * service_rate)
    fig.update_yaxes(title_text="W (s)", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="L (messages)", row=1, col=2, rangemode="tozero")
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title or f"Simulation vs theory: λ={arrival_rate:g}/s, μ={service_rate:g}/s, c={servers}, "
                                f"ρ={rho:.0%}"},
        height=420,
        legend={"title": {"text": "source"}},
    )
    return fig


def utilisation_sweep_figure(
    service_rate: float,
    servers: int,
    points: Sequence[tuple[float, float]],
    *,
    resolution: int = 60,
    title: str | None = None,
) -> go.Figure:
    """Mean time in system against utilisation: the M/M/c curve and simulated ``(arrival rate, W)`` points."""
    if not points:
        raise InvalidFigureInput("pass at least one simulated point (arrival rate per second, mean time in system)")
    capacity = servers * service_rate
    top = max(0.95, max(rate / capacity for rate, _ in points))
    top = min(top, 0.99)
    rhos = [top * (i + 1) / resolution for i in range(resolution)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=rhos, y=[mmc_time_in_system(r * capacity, service_rate, servers) for r in rhos], mode="lines",
        name=f"M/M/{servers} theory", line={"color": OKABE_ITO["orange"], "width": 2},
        hovertemplate="ρ=%{x:.0%}: W=%{y:.3g} s<extra>theory</extra>",
    ))
    fig.add_trace(go.Scatter(
        x=[rate / capacity for rate, _ in points], y=[w for _, w in points], mode="markers", name="simulated",
        marker={"color": NEUTRAL, "size": 10, "symbol": "diamond"},
        hovertemplate="ρ=%{x:.0%}: W=%{y:.3g} s<extra>simulated</extra>",
    ))
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title or f"Waiting explodes near 100 % busy (μ={service_rate:g}/s, c={servers})"},
        height=420,
        legend={"title": {"text": "source"}},
    )
    fig.update_xaxes(title_text="utilisation ρ = λ / (c·μ)", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title_text="mean time in system W (s)", rangemode="tozero")
    return fig
