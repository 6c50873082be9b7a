"""Re-render time of each control at its default size (goal: at most 200 ms each).

A re-render is what a learner waits for after moving a control: re-running what the control
shows (a scenario, a routing decision, a fold of the trace), building the figure and
serialising it into the figure area (the plotly mimetype bundle). The debounce delay is
not included. Each row is the best of a few re-renders, in milliseconds; the last row names
the slowest control. Controls: the M/M/1 queueing dashboard, a generic time-series
dashboard, the five scenario dashboards (cascade, retry storm, 3 a.m. incident, delivery
guarantees, lost ack), the routing playground, the time scrubber and the message inspector
over a traced lossy-link run, and one live-mode step.

Peer, measured in the same run: the same queueing dashboard redrawn through a
``go.FigureWidget`` (``batch_update`` of every trace and the title), the other way a
dashboard could redraw (it needs anywidget and stores plotly.js in the notebook).
"""

from __future__ import annotations

import itertools

from harness import Row, best_seconds

from mqlab.faults.link import HopFaults, Link
from mqlab.sim import Simulation
from mqlab.viz.timeseries import timeseries_figure
from mqlab.widgets import (
    LiveControls,
    MessageInspector,
    RoutingPlayground,
    ScenarioDashboard,
    TimeScrubber,
    queueing_dashboard,
)
from mqlab.widgets.scenarios import (
    cascade_dashboard,
    guarantees_dashboard,
    incident_dashboard,
    lost_ack_dashboard,
    retry_storm_dashboard,
)

GOAL_MS = 200.0


def _lossy_link_run(frames: int) -> Simulation:
    """A traced run: ``frames`` messages over a lossy link, each acked back (about 4 records per message)."""
    sim = Simulation(seed=7, trace=True)
    link = Link(sim, to_broker=HopFaults(latency=0.01, loss=0.05), to_client=HopFaults(latency=0.01, loss=0.05))
    depth = sim.metrics.gauge("in_flight")

    def at_broker(i: int) -> None:
        link.send("to_client", "ack", i, lambda: depth.set(depth.value - 1))

    for i in range(frames):
        sim.call_at(i * 0.01, link.send, "to_broker", "message", i, at_broker, i)
        sim.call_at(i * 0.01, depth.set, i + 1)
    sim.metrics.sample_every(0.05)
    sim.run()
    return sim


def _backlog(arrival_rate: float = 8.0, service_rate: float = 10.0, horizon: float = 60.0, seed: int = 1) -> Simulation:
    """A generic scenario for the time-series dashboard: a single-server queue sampled every 0.5 s."""
    sim = Simulation(seed=seed)
    depth = sim.metrics.gauge("depth")
    served = sim.metrics.counter("acked")
    rng = sim.substream("backlog")

    def arrivals():
        while sim.now < horizon:
            yield sim.timeout(rng.expovariate(arrival_rate))
            depth.set(depth.value + 1)

    def server():
        while sim.now < horizon:
            yield sim.timeout(rng.expovariate(service_rate))
            if depth.value:
                depth.set(depth.value - 1)
                served.inc()

    sim.process(arrivals())
    sim.process(server())
    sim.metrics.sample_every(0.5)
    sim.run(until=horizon)
    return sim


def run(quick: bool = False) -> list[Row]:
    repeat = 1 if quick else 5
    frames = 200 if quick else 1000

    def changing(options, current):
        """Each call returns the next option that differs from the control's current value."""
        ring = itertools.cycle(options)

        def pick():
            for option in ring:
                if option != current():
                    return option
            raise AssertionError("unreachable")

        return pick

    rows: list[Row] = []

    def measure(subject: str, control, action, note: str = "", bench: str | None = None) -> None:
        def rerender() -> None:
            before = control.renders
            action()
            if control.renders != before + 1:
                raise RuntimeError(f"{subject}: the action did not re-render exactly once")

        ms = best_seconds(rerender, repeat) * 1000
        flag = "ok" if ms <= GOAL_MS else "OVER GOAL"
        rows.append(Row(bench or f"re-render: {subject}", "mqlab", ms, "ms", higher_is_better=False,
                        note=f"goal ≤ {GOAL_MS:.0f} ms: {flag}" + (f"; {note}" if note else "")))

    queueing = queueing_dashboard(debounce=0)
    rate = changing([3.0, 3.5, 4.0, 4.5], lambda: queueing.values["arrival_rate"])
    measure("queueing dashboard", queueing, lambda: queueing.set(arrival_rate=rate()),
            "M/M/1, 2000 customers")

    series = ScenarioDashboard(_backlog, {"arrival_rate": (1.0, 9.5, 0.5)}, debounce=0)
    load = changing([7.0, 8.0, 9.0], lambda: series.values["arrival_rate"])
    measure("time-series dashboard", series, lambda: series.set(arrival_rate=load()),
            "60 s, 2 metrics sampled every 0.5 s")

    scenario_dashboards = (
        ("cascade dashboard", cascade_dashboard, "retries", [0, 1, 2]),
        ("retry storm dashboard", retry_storm_dashboard, "delivery_limit", [3, 5, 8]),
        ("incident dashboard", incident_dashboard, "variant", ["unbounded", "bounded", "autoscaled", "credit"]),
        ("guarantees dashboard", guarantees_dashboard, "seed", [0, 1, 2]),
        ("lost-ack dashboard", lost_ack_dashboard, "timeout", [0.3, 0.5, 0.8]),
    )
    for subject, build, name, options in scenario_dashboards:
        board = build(debounce=0)
        nxt = changing(options, lambda board=board, name=name: board.values[name])
        measure(subject, board, lambda board=board, name=name, nxt=nxt: board.set(**{name: nxt()}),
                f"{name} moved; dashboard defaults otherwise")

    playground = RoutingPlayground()
    key = changing(["quick.orange.rabbit", "lazy.brown.fox", "quick.brown.fox"], lambda: playground.routing_key.value)
    measure("routing playground", playground, lambda: setattr(playground.routing_key, "value", key()),
            "tutorial five bindings")

    sim = _lossy_link_run(frames)
    scrubber = TimeScrubber(sim)
    position = changing([len(scrubber.timeline) // 3, len(scrubber.timeline) - 1, 1], lambda: scrubber.slider.value)
    measure("time scrubber", scrubber, lambda: setattr(scrubber.slider, "value", position()),
            f"{len(sim.trace)} trace records")

    inspector = MessageInspector(sim)
    pick = changing([value for _, value in inspector.picker.options][:50], lambda: inspector.picker.value)
    measure("message inspector", inspector, lambda: setattr(inspector.picker, "value", pick()),
            f"{len(sim.trace)} trace records")

    live = LiveControls(_lossy_link_run(frames // 5), until=None,
                        figure=lambda s: timeseries_figure(s, title=f"t = {s.now:g} s"))
    measure("live controls (step)", live, lambda: live.step(50), "one frame: 50 entries and a redraw")

    import plotly.graph_objects as go

    widget = go.FigureWidget(queueing.figure)

    def figurewidget_update() -> None:
        queueing.set(arrival_rate=rate())
        fresh = queueing.figure
        with widget.batch_update():
            for old, new in zip(widget.data, fresh.data):
                old.y = new.y
                old.text = new.text
            widget.layout.title.text = fresh.layout.title.text

    controls = list(rows)
    strategy = "redraw: Output vs FigureWidget"
    measure("queueing dashboard", queueing, lambda: queueing.set(arrival_rate=rate()),
            "Output widget + mimetype JSON (what mqlab does)", bench=strategy)
    measure("FigureWidget", queueing, figurewidget_update, "same dashboard, redrawn via go.FigureWidget",
            bench=strategy)
    rows[-1] = Row(strategy, "plotly FigureWidget", rows[-1].value, "ms", False, rows[-1].note)
    slowest = max(controls, key=lambda r: r.value)
    rows.append(Row("re-render: slowest control", "mqlab", slowest.value, "ms", higher_is_better=False,
                    note=f"{slowest.benchmark.removeprefix('re-render: ')}; goal ≤ {GOAL_MS:.0f} ms"))
    return rows


if __name__ == "__main__":
    from harness import format_table

    print(format_table(run()))
