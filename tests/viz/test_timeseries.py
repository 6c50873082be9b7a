"""Time-series figures: any metric source, several runs overlaid, faults and policy actions marked."""

from __future__ import annotations

import pytest

from mqlab.sim import Simulation, TimeSeries, TraceRecord
from mqlab.viz import InvalidFigureInput, Marker, collect_series, markers_from_trace, timeseries_figure
from mqlab.viz.timeseries import unit_of


def _run(seed: int, rate: float) -> Simulation:
    sim = Simulation(seed=seed)
    depth = sim.metrics.gauge("depth")
    acked = sim.metrics.counter("acked")

    def worker():
        for _ in range(10):
            yield sim.timeout(sim.rng.expovariate(rate))
            depth.set(depth.value + 1)
            acked.inc()

    sim.process(worker())
    sim.metrics.sample_every(0.5)
    sim.run()
    return sim


def test_single_series_values_and_labels():
    """One TimeSeries becomes one line with its times and values, its unit on the y axis and time in seconds."""
    series = TimeSeries("depth", (0.0, 1.0, 2.0), (0.0, 3.0, 1.0))
    fig = timeseries_figure(series, title="Backlog")
    assert len(fig.data) == 1
    assert list(fig.data[0].x) == [0.0, 1.0, 2.0]
    assert list(fig.data[0].y) == [0.0, 3.0, 1.0]
    assert fig.data[0].name == "depth (messages)"
    assert fig.layout.yaxis.title.text == "depth (messages)"
    assert fig.layout.xaxis.title.text == "virtual time (s)"
    assert fig.layout.title.text == "Backlog"


def test_simulation_metrics_one_row_per_metric():
    """A Simulation's metrics are drawn one row per metric, in creation order, sharing the time axis."""
    sim = _run(1, 5.0)
    fig = timeseries_figure(sim)
    assert [t.name for t in fig.data] == ["depth (messages)", "acked (messages)"]
    assert fig.layout.yaxis2.title.text == "acked (messages)"
    assert fig.data[1].yaxis == "y2"
    assert list(fig.data[1].y) == list(sim.metrics.series("acked").values)
    # rows share one time axis: zooming one zooms all; only the bottom row shows the time ticks
    assert fig.layout.xaxis2.matches == "x"
    assert (fig.layout.xaxis.showticklabels, fig.layout.xaxis2.showticklabels) == (False, True)
    assert fig.layout.xaxis2.title.text == "virtual time (s)"
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # first metric on top


def test_runs_overlaid_share_colour_across_rows_and_legend_once():
    """Several runs: each run has one colour and one legend entry across all rows, and different dashes."""
    fig = timeseries_figure({"slow": _run(1, 2.0), "fast": _run(1, 8.0)})
    names = [(t.name, t.showlegend, t.line.color, t.line.dash) for t in fig.data]
    assert [n[0] for n in names] == ["slow", "slow", "fast", "fast"]
    assert [n[1] for n in names] == [True, False, True, False]
    assert names[0][2] == names[1][2] != names[2][2]
    assert names[0][3] != names[2][3]
    assert fig.layout.legend.title.text == "run"


def test_nan_samples_become_gaps():
    """A gauge not yet created reads NaN; the figure shows a gap (null), not a bogus value."""
    fig = timeseries_figure(TimeSeries("depth", (0.0, 1.0), (float("nan"), 2.0)))
    assert list(fig.data[0].y) == [None, 2.0]


def test_markers_windows_and_lines():
    """A fault with an end is a shaded window; an instant is a line; both are labelled once."""
    series = TimeSeries("depth", (0.0, 10.0), (0.0, 5.0))
    fig = timeseries_figure(series, markers=[Marker(2, "link partitioned", until=4), Marker(6, "scale out", "policy")])
    kinds = [s.type for s in fig.layout.shapes]
    assert kinds == ["rect", "line"]
    assert fig.layout.shapes[0].yref == "y domain"
    assert (fig.layout.shapes[0].x0, fig.layout.shapes[0].x1) == (2, 4)
    assert [a.text for a in fig.layout.annotations] == ["link partitioned", "scale out"]


def test_markers_from_trace_picks_faults_and_policies_only():
    """Partition windows and policy actions become markers; per-message records do not."""
    records = [
        TraceRecord(1.0, "link", "partition-start", {"until": 3.0}),
        TraceRecord(1.5, "fault:link.loss", "lost", {"id": 4}),
        TraceRecord(2.0, "autoscaler", "scaled", {"consumers": 3}),
    ]
    assert markers_from_trace(records) == [
        Marker(1.0, "link: partition-start", "fault", 3.0),
        Marker(2.0, "autoscaler: scaled", "policy", None),
    ]


def test_scenario_like_result_with_series_mapping():
    """A result object with a 'series' mapping is accepted, and metric selection keeps the given order."""

    class Result:
        def __init__(self) -> None:
            self.series = {"lag": TimeSeries("lag", (0.0,), (4.0,)), "errors": TimeSeries("errors", (0.0,), (1.0,))}

    fig = timeseries_figure(Result(), metrics=["errors", "lag"])
    assert [t.name for t in fig.data] == ["errors (errors)", "lag (records)"]
    assert collect_series(Result())[""][0].name == "lag"


def test_bad_input_names_the_shapes_expected():
    """Unknown inputs and unknown metric names raise InvalidFigureInput saying what is accepted."""
    with pytest.raises(InvalidFigureInput, match="TimeSeries"):
        timeseries_figure(42)
    with pytest.raises(InvalidFigureInput, match="no series called 'nope'"):
        timeseries_figure(TimeSeries("depth", (0.0,), (1.0,)), metrics=["nope"])


def test_units_guessed_from_names():
    """Units come from words in the metric name: latency in seconds, lag in records, throughput per second."""
    assert unit_of("latency_p99") == "s"
    assert unit_of("consumer_lag") == "records"
    assert unit_of("web.throughput") == "per s"
    assert unit_of("web.error_rate") == "errors/s"
    assert unit_of("queued") == "messages"


def test_same_input_same_json():
    """Building the same figure twice gives byte-identical JSON (no random ids)."""
    a = timeseries_figure({"a": _run(3, 4.0), "b": _run(4, 4.0)}, markers=[Marker(1, "crash", until=2)])
    b = timeseries_figure({"a": _run(3, 4.0), "b": _run(4, 4.0)}, markers=[Marker(1, "crash", until=2)])
    assert a.to_json() == b.to_json()
