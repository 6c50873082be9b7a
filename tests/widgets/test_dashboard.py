"""Scenario dashboards, driven headless."""

from __future__ import annotations

import asyncio

import pytest

from mqlab.sim import Simulation
from mqlab.widgets import InvalidParameterSpec, Param, ScenarioDashboard, queueing_dashboard


def test_moving_a_slider_reruns_and_redraws():
    """A new arrival rate re-runs the M/M/1 scenario: the result, the bars and the title change."""
    dashboard = queueing_dashboard()
    before = dashboard.figure
    w_before = dashboard.result.result.mean_time_in_system
    dashboard.set(arrival_rate=2.0)
    assert dashboard.result.arrival_rate == 2.0
    assert dashboard.result.result.mean_time_in_system < w_before  # less load, less waiting
    assert dashboard.figure is not before
    assert dashboard.figure.data[0].y[0] == dashboard.result.result.mean_time_in_system
    assert "λ=2/s" in dashboard.figure.layout.title.text
    assert dashboard.figure.data[2].y[0] == pytest.approx(1 / (5.0 - 2.0))


def test_a_failing_run_shows_its_message_and_keeps_the_figure():
    """An unstable queue raises inside the scenario: the status explains, the last figure stays."""
    dashboard = queueing_dashboard()
    figure = dashboard.figure
    dashboard.set(arrival_rate=6.0)
    assert dashboard.error is not None and "unstable" in dashboard.error
    assert "unstable" in dashboard.status.value
    assert dashboard.figure is figure
    dashboard.set(arrival_rate=3.0)
    assert dashboard.error is None and dashboard.status.value == ""


def test_same_values_same_figure():
    """A dashboard's figure is a deterministic function of its values."""
    a, b = queueing_dashboard(), queueing_dashboard()
    a.set(seed=3)
    b.set(seed=3)
    assert a.figure.to_json() == b.figure.to_json()


def _backlog(rate: float = 2.0, workers: int = 1, policy: str = "fifo", traced: bool = False) -> Simulation:
    sim = Simulation(seed=1)
    depth = sim.metrics.gauge("depth")

    def arrivals():
        for _ in range(20):
            yield sim.timeout(1 / rate)
            depth.set(depth.value + 1 - min(workers, depth.value + 1) * 0.5)

    sim.process(arrivals())
    sim.metrics.sample_every(1.0)
    sim.run()
    return sim


def test_shorthand_controls_and_signature_defaults():
    """(min, max) makes a slider (int if the bounds are), a list a dropdown, a bool a checkbox; defaults from the
    scenario's signature; the default figure is the time series of the result."""
    dashboard = ScenarioDashboard(_backlog, {"rate": (0.5, 4.0), "workers": (1, 4), "policy": ["fifo", "lifo"],
                                             "traced": False})
    kinds = {name: type(c).__name__ for name, c in dashboard.controls.items()}
    assert kinds == {"rate": "FloatSlider", "workers": "IntSlider", "policy": "Dropdown", "traced": "Checkbox"}
    assert dashboard.values == {"rate": 2.0, "workers": 1, "policy": "fifo", "traced": False}
    assert dashboard.figure.layout.yaxis.title.text == "depth (messages)"
    y_before = list(dashboard.figure.data[0].y)
    dashboard.set(workers=3)
    assert list(dashboard.figure.data[0].y) != y_before


def test_unknown_parameters_are_refused():
    """A control for a parameter the scenario does not take is a mistake named at construction."""
    with pytest.raises(InvalidParameterSpec, match="'speed' is not a parameter of _backlog"):
        ScenarioDashboard(_backlog, {"speed": (1, 2)})
    with pytest.raises(InvalidParameterSpec, match="cannot make a control"):
        ScenarioDashboard(_backlog, {"rate": "fast"})
    with pytest.raises(InvalidParameterSpec, match="no control called 'x'"):
        ScenarioDashboard(_backlog, [Param("rate", 1.0, 0.5, 2.0)]).set(x=1)


def test_slider_drag_is_debounced_on_an_event_loop():
    """On the kernel's loop, five quick slider moves re-run the scenario once, with the last value;
    set() from code re-runs at once."""
    runs = []

    def scenario(rate: float = 1.0) -> Simulation:
        runs.append(rate)
        return _backlog(rate)

    async def drag() -> None:
        dashboard = ScenarioDashboard(scenario, {"rate": (0.5, 4.0, 0.5)}, debounce=0.02)
        for value in (1.5, 2.0, 2.5, 3.0, 3.5):  # a frontend's moves, faster than the debounce delay
            dashboard.controls["rate"].value = value
        assert dashboard.debouncer.pending
        await asyncio.sleep(0.1)
        dashboard.set(rate=0.5)  # from code: runs at once, no debounce
        assert dashboard.result is not None and runs[-1] == 0.5 and not dashboard.debouncer.pending

    asyncio.run(drag())
    assert runs == [1.0, 3.5, 0.5]
