"""Named counters and gauges, sampled into time series.

Counters only go up (``published``, ``acked``); gauges hold a level (``depth``,
``in_flight``) either set by the model or read from a function at sampling time.
Updating one is an attribute add, cheap enough to leave on in every run.
``sample_every`` records each metric at a fixed interval of virtual time, which
is what the course's plots draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mqlab.sim.kernel import Simulation

__all__ = ["Counter", "Gauge", "Metrics", "TimeSeries"]


class Counter:
    """A count that only goes up. ``value`` may be bumped directly on hot paths."""

    __slots__ = ("name", "value")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        if amount < 0:
            raise ValueError(f"counter {self.name!r} only goes up; got inc({amount})")
        self.value += amount

    def read(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"<Counter {self.name}={self.value}>"


class Gauge:
    """A level that goes up and down: set by the model, or read from ``source`` when sampled."""

    __slots__ = ("name", "source", "value")

    def __init__(self, name: str, source: Callable[[], float] | None = None) -> None:
        self.name = name
        self.value: float = 0
        self.source = source

    def set(self, value: float) -> None:
        self.value = value

    def read(self) -> float:
        return self.source() if self.source is not None else self.value

    def __repr__(self) -> str:
        return f"<Gauge {self.name}={self.read()}>"


@dataclass(frozen=True)
class TimeSeries:
    """Samples of one metric: ``values[i]`` was its reading at ``times[i]`` (seconds)."""

    name: str
    times: tuple[float, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.times)

    def last(self) -> float:
        if not self.values:
            raise ValueError(f"time series {self.name!r} has no samples yet")
        return self.values[-1]

    def max(self) -> float:
        if not self.values:
            raise ValueError(f"time series {self.name!r} has no samples yet")
        return max(self.values)


class Metrics:
    """The registry of one simulation's metrics, in the order they were created."""

    def __init__(self, sim: Simulation) -> None:
        self._sim = sim
        self._metrics: dict[str, Counter | Gauge] = {}
        self._times: list[float] = []
        self._samples: dict[str, list[float]] = {}
        self._interval: float | None = None

    def counter(self, name: str) -> Counter:
        """The counter called ``name``, created on first use."""
        metric = self._metrics.get(name)
        if metric is None:
            metric = self._metrics[name] = Counter(name)
            self._samples[name] = [0.0] * len(self._times)
        elif not isinstance(metric, Counter):
            raise TypeError(f"metric {name!r} is a gauge, not a counter; pick another name")
        return metric

    def gauge(self, name: str, source: Callable[[], float] | None = None) -> Gauge:
        """The gauge called ``name``, created on first use; ``source`` is read when sampling."""
        metric = self._metrics.get(name)
        if metric is None:
            metric = self._metrics[name] = Gauge(name, source)
            self._samples[name] = [math.nan] * len(self._times)
        elif not isinstance(metric, Gauge):
            raise TypeError(f"metric {name!r} is a counter, not a gauge; pick another name")
        elif source is not None:
            metric.source = source
        return metric

    def names(self) -> list[str]:
        return list(self._metrics)

    def snapshot(self) -> dict[str, float]:
        """Every metric's current reading."""
        return {name: metric.read() for name, metric in self._metrics.items()}

    def sample(self) -> None:
        """Record every metric now."""
        self._times.append(self._sim.now)
        for name, metric in self._metrics.items():
            self._samples[name].append(metric.read())

    def sample_every(self, interval: float) -> None:
        """Sample now and then every ``interval`` seconds while the model has work scheduled.

        The sampler stops rescheduling itself when it is the only thing left on
        the agenda, so ``run()`` without ``until`` still ends.
        """
        if not (interval > 0 and math.isfinite(interval)):
            raise ValueError(f"sampling interval must be a positive number of seconds, got {interval!r}")
        if self._interval is not None:
            raise RuntimeError("this simulation is already sampling its metrics; call sample_every once")
        self._interval = interval
        self._tick()

    def _tick(self) -> None:
        self.sample()
        if self._sim.pending:
            self._sim.call_later(self._interval, self._tick)  # type: ignore[arg-type]

    def series(self, name: str) -> TimeSeries:
        """The samples of ``name`` so far."""
        if name not in self._samples:
            known = ", ".join(sorted(self._samples)) or "none yet"
            raise KeyError(f"no metric called {name!r}; known metrics: {known}")
        return TimeSeries(name, tuple(self._times), tuple(self._samples[name]))
