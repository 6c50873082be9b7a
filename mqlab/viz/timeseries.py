"""Time series of a run (or several runs overlaid), with faults and policy actions marked.

Input shapes, from the most to the least specific:

* a :class:`~mqlab.sim.TimeSeries` (``name``, ``times``, ``values``);
* a sequence of them (one run, several metrics);
* an object with a ``metrics`` attribute that is a :class:`~mqlab.sim.Metrics`
  (a :class:`~mqlab.sim.Simulation`, or a scenario result that keeps its
  simulation's metrics), or a ``series`` attribute or method giving a mapping of
  name to :class:`TimeSeries` (a scenario result);
* a scenario result dataclass with a ``times`` tuple: each numeric tuple field of the same
  length is a series (``depth_series`` is called ``depth``), and a tuple of named parts with
  their own ``times`` adds ``<part>.<field>`` series (a cascade's ``services``);
* a dataclass whose fields are such results (a cascade's ``sync`` and ``queue`` runs), or a
  mapping ``{run label: any of the above}``: several runs overlaid.

Each metric gets its own row (its own y axis and unit); runs share a colour across
rows and are toggled together from the legend. With one run, colours tell metrics
apart instead. :class:`Marker` draws an injected fault (a shaded window, or a line
at an instant) or a policy action (a dashed line) across every row.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from mqlab.sim import Metrics, TimeSeries, TraceRecord
from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.palette import BAD, DASHES, MUTED, NEUTRAL, TEMPLATE, color

__all__ = [
    "MARKER_ACTIONS",
    "UNITS",
    "Marker",
    "collect_series",
    "markers_from_trace",
    "timeseries_figure",
    "unit_of",
]

UNITS: dict[str, str] = {
    "latency": "s",
    "p50": "s",
    "p95": "s",
    "p99": "s",
    "delay": "s",
    "age": "s",
    "time": "s",
    "error_rate": "errors/s",
    "throughput": "per s",
    "rate": "per s",
    "memory": "bytes",
    "bytes": "bytes",
    "lag": "records",
    "offset": "offset",
    "consumers": "consumers",
    "busy": "threads",
    "errors": "errors",
}
"""Units by a word in the metric's name (first match wins, in this order); messages otherwise."""


def unit_of(name: str) -> str:
    """The unit of a metric, guessed from a word in its name (see :data:`UNITS`)."""
    lowered = name.lower()
    for word, unit in UNITS.items():
        if word in lowered:
            return unit
    return "messages"


@dataclass(frozen=True)
class Marker:
    """Something that happened to a run: a fault (``kind="fault"``) or a policy action (``kind="policy"``).

    ``until`` makes it a window (a partition, a crashed broker) drawn as a shaded band;
    without it the marker is a vertical line at ``time``. Times are seconds of virtual time.
    """

    time: float
    label: str
    kind: str = "fault"
    until: float | None = None


MARKER_ACTIONS: dict[str, str] = {
    "partition-start": "fault",
    "crash": "fault",
    "crashed": "fault",
    "restart": "fault",
    "restarted": "fault",
    "broker_killed": "fault",
    "broker_restarted": "fault",
    "offline": "fault",
    "fault": "fault",
    "scaled": "policy",
    "scale_out": "policy",
    "scale_in": "policy",
    "throttled": "policy",
    "circuit_open": "policy",
    "circuit_closed": "policy",
    "rebalance_started": "policy",
    "policy": "policy",
}
"""Trace actions that :func:`markers_from_trace` turns into markers, and their kind."""


def markers_from_trace(records: Iterable[TraceRecord], actions: Mapping[str, str] | None = None) -> list[Marker]:
    """Markers for the fault and policy actions in a trace.

    A record whose details carry ``until`` (a link's ``partition-start``) becomes a window.
    Per-message fault records (``fault:<name> lost``) are not markers: they are counts, and a
    run with thousands of them would draw a wall; plot them as a metric instead.
    """
    table = MARKER_ACTIONS if actions is None else actions
    found: list[Marker] = []
    for record in records:
        kind = table.get(record.action)
        if kind is None:
            continue
        until = record.details.get("until")
        label = f"{record.actor}: {record.action}"
        found.append(Marker(record.time, label, kind, until if isinstance(until, (int, float)) else None))
    return found


def _series_of(source: Any) -> list[TimeSeries]:
    if isinstance(source, TimeSeries):
        return [source]
    metrics = getattr(source, "metrics", None)
    if isinstance(source, Metrics):
        metrics = source
    if isinstance(metrics, Metrics):
        return [metrics.series(name) for name in metrics.names()]
    series = getattr(source, "series", None)
    if callable(series) and not isinstance(source, Metrics):
        series = series()
    if isinstance(series, Mapping):
        return [_named(name, s) for name, s in series.items()]
    if isinstance(source, Sequence) and not isinstance(source, str) and all(
        isinstance(s, TimeSeries) for s in source
    ):
        return list(source)
    if dataclasses.is_dataclass(source) and isinstance(getattr(source, "times", None), tuple):
        return _result_series(source, "")
    raise InvalidFigureInput(
        f"cannot draw {type(source).__name__} as time series: pass a TimeSeries, a list of them, a Simulation "
        "(its metrics), an object with a 'series' mapping, or a dict {run label: one of these}"
    )


def _result_series(result: Any, prefix: str) -> list[TimeSeries]:
    """Series of a scenario result: every numeric tuple field as long as its ``times`` (``depth_series`` is
    named ``depth``), then the same for each part in a tuple of named parts (``services`` → ``web.busy``)."""
    times = result.times
    found: list[TimeSeries] = []
    parts: list[Any] = []
    for f in dataclasses.fields(result):
        if f.name == "times":
            continue
        value = getattr(result, f.name)
        if not isinstance(value, tuple) or not value:
            continue
        if len(value) == len(times) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            name = f.name.removesuffix("_series")
            found.append(TimeSeries(prefix + name, times, value))
        elif all(dataclasses.is_dataclass(v) and isinstance(getattr(v, "times", None), tuple) for v in value):
            parts.extend(value)
    for part in parts:
        found.extend(_result_series(part, f"{prefix}{getattr(part, 'name', type(part).__name__)}."))
    return found


def _named(name: str, series: Any) -> TimeSeries:
    if not isinstance(series, TimeSeries):
        raise InvalidFigureInput(f"series {name!r} is a {type(series).__name__}, not a mqlab.sim.TimeSeries")
    return series if series.name == name else TimeSeries(name, series.times, series.values)


def collect_series(source: Any) -> dict[str, list[TimeSeries]]:
    """Normalise any accepted input to ``{run label: [series, ...]}`` (one run is labelled ``""``)."""
    if isinstance(source, Mapping) and source:
        if all(isinstance(v, TimeSeries) for v in source.values()):
            return {"": [_named(name, s) for name, s in source.items()]}
        return {str(label): _series_of(run) for label, run in source.items()}
    if dataclasses.is_dataclass(source) and not hasattr(source, "times") and not isinstance(source, type):
        runs = {f.name: getattr(source, f.name) for f in dataclasses.fields(source)}
        runs = {k: v for k, v in runs.items() if dataclasses.is_dataclass(v) and hasattr(v, "times")}
        if runs:
            return {label: _series_of(run) for label, run in runs.items()}
    return {"": _series_of(source)}


def _clean(values: Sequence[float]) -> list[float | None]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def timeseries_figure(
    source: Any,
    *,
    metrics: Sequence[str] | None = None,
    markers: Sequence[Marker] = (),
    title: str = "What happened over time",
    units: Mapping[str, str] | None = None,
    height_per_row: int = 220,
) -> go.Figure:
    """Plot metrics against virtual time, one row per metric, runs overlaid.

    ``metrics`` picks and orders the metrics (default: every metric, in order of first
    appearance); ``units`` overrides the unit shown on a metric's axis.
    """
    runs = collect_series(source)
    order: list[str] = []
    for series_list in runs.values():
        for s in series_list:
            if s.name not in order:
                order.append(s.name)
    if metrics is not None:
        missing = [m for m in metrics if m not in order]
        if missing:
            raise InvalidFigureInput(
                f"no series called {', '.join(map(repr, missing))}; the input has: {', '.join(order) or 'none'}"
            )
        order = list(metrics)
    if not order:
        raise InvalidFigureInput("there is nothing to plot: the input holds no time series (was sampling on?)")
    rows = len(order)
    several = len(runs) > 1 or next(iter(runs)) != ""
    traces: list[dict[str, Any]] = []
    for run_index, (label, series_list) in enumerate(runs.items()):
        by_name = {s.name: s for s in series_list}
        for row, name in enumerate(order, start=1):
            s = by_name.get(name)
            if s is None:
                continue
            unit = (units or {}).get(name) or unit_of(name)
            shade = color(run_index) if several else color(row - 1)
            traces.append({
                "type": "scatter",
                "x": list(s.times),
                "y": _clean(s.values),
                "mode": "lines",
                "name": label if several else f"{name} ({unit})",
                "legendgroup": label if several else name,
                "showlegend": row == 1 or not several,
                "line": {"color": shade, "dash": DASHES[run_index % len(DASHES)] if several else "solid"},
                "hovertemplate": f"{label + ' · ' if several else ''}{name}: %{{y}} {unit}<br>t=%{{x}} s"
                                 "<extra></extra>",
                "xaxis": _axis("x", row),
                "yaxis": _axis("y", row),
            })
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "title": {"text": title},
        "height": 120 + height_per_row * rows,
        "legend": {"title": {"text": "run" if several else "metric"}},
        "shapes": [],
        "annotations": [],
    }
    # rows stacked top to bottom with a shared (matched) time axis, as make_subplots(shared_xaxes=True) does,
    # built directly because make_subplots costs tens of milliseconds per figure
    spacing = min(0.08, 0.3 / rows)
    height = (1 - spacing * (rows - 1)) / rows
    for row, name in enumerate(order, start=1):
        top = 1 - (row - 1) * (height + spacing)
        unit = (units or {}).get(name) or unit_of(name)
        layout[_axis("xaxis", row)] = {
            "anchor": _axis("y", row), "domain": [0.0, 1.0], "showticklabels": row == rows,
            **({"matches": "x"} if row > 1 else {}),
            **({"title": {"text": "virtual time (s)"}} if row == rows else {}),
        }
        layout[_axis("yaxis", row)] = {"anchor": _axis("x", row), "domain": [max(0.0, top - height), top],
                                       "title": {"text": f"{name} ({unit})"}}
    for marker in markers:
        _draw_marker(layout, marker, rows)
    return go.Figure(data=traces, layout=layout)


def _axis(prefix: str, row: int) -> str:
    return prefix if row == 1 else f"{prefix}{row}"


def _draw_marker(layout: dict[str, Any], marker: Marker, rows: int) -> None:
    tint = BAD if marker.kind == "fault" else NEUTRAL if marker.kind == "policy" else MUTED
    window = marker.until is not None and marker.until > marker.time
    for row in range(1, rows + 1):
        where = {"xref": _axis("x", row), "yref": f"{_axis('y', row)} domain", "y0": 0, "y1": 1}
        if window:
            layout["shapes"].append({"type": "rect", "x0": marker.time, "x1": marker.until, "fillcolor": tint,
                                     "opacity": 0.12, "line": {"width": 0}, "layer": "below", **where})
        else:
            layout["shapes"].append({"type": "line", "x0": marker.time, "x1": marker.time,
                                     "line": {"color": tint, "dash": "dot" if marker.kind == "fault" else "dash"},
                                     **where})
    layout["annotations"].append({
        "x": marker.time, "y": 1.0, "xref": "x", "yref": "y domain", "text": marker.label, "showarrow": False,
        "xanchor": "left", "yanchor": "bottom", "font": {"color": tint, "size": 11},
    })
