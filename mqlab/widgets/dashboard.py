"""Scenario dashboards: sliders and dropdowns bound to a scenario function's parameters.

A scenario is any function of keyword parameters that returns a result (a plain result
object, a :class:`~mqlab.sim.Simulation`, a dict of time series); a *figure function* turns
the result into a figure (:func:`mqlab.viz.timeseries_figure` by default). Moving a control
re-runs the scenario with the new values and redraws, debounced (one re-run ``debounce``
seconds after the last move, 80 ms by default); the goal is a re-run and redraw within
200 ms at the scenario's default sizes, measured by ``benchmarks/bench_widgets.py``.

Parameters are declared with :class:`Param`, or with the shorthand of ``ipywidgets.interact``:
``(min, max)`` or ``(min, max, step)`` for a slider (integer if every bound is an int), a list
for a dropdown, a bool for a checkbox. Defaults come from the scenario function's signature.
A scenario that raises (an unstable queue, a parameter out of range) shows its message in the
status line and keeps the last good figure: a learner's experiment never breaks the notebook.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from mqlab.queueing import MM1Result, mm1_processes
from mqlab.sim import Simulation
from mqlab.viz.queueing import queueing_comparison_figure
from mqlab.viz.timeseries import timeseries_figure
from mqlab.widgets.base import Control, Debouncer
from mqlab.widgets.errors import InvalidParameterSpec

__all__ = ["Param", "QueueingRun", "ScenarioDashboard", "mm1_scenario", "queueing_dashboard"]


@dataclass(frozen=True)
class Param:
    """One control: a slider (``minimum``/``maximum``/``step``), a dropdown (``options``) or a checkbox (bool default).

    ``label`` is shown before the control, ``unit`` after its value.
    """

    name: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    options: tuple[Any, ...] = ()
    label: str = ""
    unit: str = ""


def _from_shorthand(name: str, spec: Any, default: Any) -> Param:
    base = None if default is inspect.Parameter.empty else default
    if isinstance(spec, Param):
        return spec if spec.default is not None else replace(spec, default=base)
    if isinstance(spec, bool):
        return Param(name, spec if base is None else base)
    if isinstance(spec, tuple) and len(spec) in (2, 3) and all(isinstance(v, (int, float)) for v in spec):
        low, high = spec[0], spec[1]
        step = spec[2] if len(spec) == 3 else (1 if all(isinstance(v, int) for v in spec) else (high - low) / 100)
        return Param(name, low if base is None else base, low, high, step)
    if isinstance(spec, (list, tuple)) and spec:
        return Param(name, spec[0] if base is None else base, options=tuple(spec))
    raise InvalidParameterSpec(
        f"parameter {name!r}: cannot make a control from {spec!r}; use (min, max[, step]) for a slider, "
        "a list for a dropdown, a bool for a checkbox, or Param(...)"
    )


def _widget(param: Param) -> w.ValueWidget:
    label = param.label or param.name.replace("_", " ")
    style = {"description_width": "initial"}
    if param.options:
        return w.Dropdown(options=list(param.options), value=param.default, description=label, style=style)
    if isinstance(param.default, bool):
        return w.Checkbox(value=param.default, description=label, style=style)
    if param.minimum is None or param.maximum is None:
        raise InvalidParameterSpec(f"parameter {param.name!r} needs minimum and maximum (or options) for a control")
    integral = all(isinstance(v, int) and not isinstance(v, bool)
                   for v in (param.default, param.minimum, param.maximum, param.step or 1))
    cls = w.IntSlider if integral else w.FloatSlider
    kwargs: dict[str, Any] = {"value": param.default, "min": param.minimum, "max": param.maximum,
                              "description": f"{label} ({param.unit})" if param.unit else label,
                              "continuous_update": True, "style": style, "layout": w.Layout(width="420px")}
    if param.step is not None:
        kwargs["step"] = param.step
    return cls(**kwargs)


class ScenarioDashboard(Control):
    """Controls for ``scenario``'s parameters and a figure of its result, redrawn when a control moves.

    ``values`` are the current parameters; ``result`` and ``figure`` the latest run's; ``error`` the
    message of the last run if it raised (None otherwise). ``fixed`` parameters are passed on every
    run without a control.
    """

    title = "Scenario dashboard"

    def __init__(
        self,
        scenario: Callable[..., Any],
        params: Mapping[str, Any] | Sequence[Param],
        *,
        figure: Callable[[Any], go.Figure] = timeseries_figure,
        fixed: Mapping[str, Any] | None = None,
        title: str | None = None,
        debounce: float = 0.08,
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.figure_of = figure
        self.fixed = dict(fixed or {})
        if title:
            self.title = title
        signature = inspect.signature(scenario).parameters
        specs = params.items() if isinstance(params, Mapping) else [(p.name, p) for p in params]
        self.params: list[Param] = []
        for name, spec in specs:
            if name not in signature and not any(p.kind is p.VAR_KEYWORD for p in signature.values()):
                raise InvalidParameterSpec(
                    f"parameter {name!r} is not a parameter of {getattr(scenario, '__name__', 'the scenario')}; "
                    f"it takes {', '.join(signature) or 'nothing'}"
                )
            default = signature[name].default if name in signature else inspect.Parameter.empty
            self.params.append(_from_shorthand(name, spec, default))
        self.controls: dict[str, w.ValueWidget] = {p.name: _widget(p) for p in self.params}
        self.result: Any = None
        self.error: str | None = None
        self.debouncer = Debouncer(self.refresh, debounce)
        for control in self.controls.values():
            control.observe(lambda _change: self._moved(), names="value")
        self.box = w.VBox([w.VBox(list(self.controls.values())), self.plot, self.status])
        self.refresh()

    @property
    def values(self) -> dict[str, Any]:
        return {**self.fixed, **{name: c.value for name, c in self.controls.items()}}

    def set(self, **values: Any) -> go.Figure | None:
        """Move controls from code and re-run once, now (not debounced), so ``result`` is fresh on return.

        A learner dragging a slider goes through the debounce instead; this is for notebook
        cells and tests that set parameters and then read the result.
        """
        for name in values:
            if name not in self.controls:
                raise InvalidParameterSpec(f"no control called {name!r}; the dashboard has {', '.join(self.controls)}")
        self._quiet = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._quiet = False
        return self.refresh()

    _quiet = False

    def _moved(self) -> None:
        if not self._quiet:
            self.debouncer.trigger()

    def refresh(self) -> go.Figure | None:
        """Run the scenario with the current values and redraw; returns the new figure (None if it raised)."""
        values = self.values
        try:
            result = self.scenario(**values)
            fig = self.figure_of(result)
        except Exception as error:  # a learner's experiment must not break the notebook
            self.error = f"{type(error).__name__}: {error}"
            self._say(self.error, error=True)
            return None
        self.result, self.error = result, None
        self._say("")
        self._draw(fig)
        return fig

    def note(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{shown}" + (f"; last run failed: {self.error}" if self.error else "")


@dataclass(frozen=True)
class QueueingRun:
    """An M/M/1 run: its parameters and what it measured."""

    arrival_rate: float
    service_rate: float
    result: MM1Result


def mm1_scenario(arrival_rate: float = 4.0, service_rate: float = 5.0, customers: int = 2000,
                 seed: int = 1) -> QueueingRun:
    """Simulate an M/M/1 queue on the kernel (Poisson arrivals, exponential service, one server)."""
    if not arrival_rate < service_rate:
        raise ValueError(
            f"arrival rate {arrival_rate:g}/s is not below service rate {service_rate:g}/s: the queue is unstable "
            "and grows without bound, so there is no steady state to compare with theory; lower the arrival rate"
        )
    sim = Simulation(seed=seed)
    result = mm1_processes(sim, random.Random(seed), arrival_rate, service_rate, customers)
    return QueueingRun(arrival_rate, service_rate, result)


def _queueing_figure(run: QueueingRun) -> go.Figure:
    if math.isnan(run.result.mean_time_in_system):
        raise ValueError("no customer finished: raise the number of customers")
    return queueing_comparison_figure(run.arrival_rate, run.service_rate, simulated=run.result)


def queueing_dashboard(*, debounce: float = 0.08) -> ScenarioDashboard:
    """Arrival rate, service rate, customers and seed → simulated W and L next to M/M/1 theory and Little's law."""
    return ScenarioDashboard(
        mm1_scenario,
        [
            Param("arrival_rate", 4.0, 0.5, 9.5, 0.5, label="arrival rate λ", unit="/s"),
            Param("service_rate", 5.0, 1.0, 10.0, 0.5, label="service rate μ", unit="/s"),
            Param("customers", 2000, 200, 5000, 200, label="customers"),
            Param("seed", 1, 1, 20, 1, label="seed"),
        ],
        figure=_queueing_figure,
        title="Queueing: simulation vs theory",
        debounce=debounce,
    )
