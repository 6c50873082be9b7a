"""An autoscaler for stateless consumers, driven by queue depth or consumer lag.

Every ``observe(now, value)`` compares the metric (messages ready, or a Kafka
consumer group's lag) with two thresholds: above ``scale_out_above`` it adds
``step`` consumers, below ``scale_in_below`` it removes ``step``, never leaving
``[min_consumers, max_consumers]``, and never acting twice within ``cooldown``
seconds. A new consumer starts taking work after ``startup_delay`` seconds
(a container pulling its image and connecting) but is paid for from launch:
:meth:`consumer_seconds` integrates the consumers running over time, which is
what the bill and the comparison between variants use.

This is the shape of KEDA's scalers (``queueLength`` for RabbitMQ,
``lagThreshold`` for Kafka, ``queueLength`` on ``ApproximateNumberOfMessages``
for SQS) and of a Kubernetes HPA, whose scale-down stabilization window is
300 s by default. Only stateless consumers scale this simply: for Kafka, more
consumers than partitions sit idle, which ``max_consumers`` should respect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mqlab.faults.checks import check_choice, check_count, check_duration
from mqlab.faults.errors import InvalidParameter

__all__ = ["Autoscaler", "ScalingAction"]

METRICS = ("depth", "lag")


@dataclass(frozen=True)
class ScalingAction:
    time: float
    before: int
    after: int
    metric_value: float


class Autoscaler:
    """Decides how many consumers run. States: steady, or cooling down after an action until ``cooldown`` passes."""

    def __init__(
        self,
        *,
        min_consumers: int = 1,
        max_consumers: int = 10,
        scale_out_above: float = 1000,
        scale_in_below: float = 100,
        cooldown: float = 60.0,
        step: int = 1,
        startup_delay: float = 0.0,
        metric: str = "depth",
        start_with: int | None = None,
    ) -> None:
        self.min_consumers = check_count("min_consumers", min_consumers, minimum=0)
        self.max_consumers = check_count("max_consumers", max_consumers, minimum=1)
        if self.max_consumers < self.min_consumers:
            raise InvalidParameter(
                f"max_consumers ({max_consumers}) must be >= min_consumers ({min_consumers})"
            )
        if not isinstance(scale_out_above, (int, float)) or not isinstance(scale_in_below, (int, float)):
            raise InvalidParameter("scale_out_above and scale_in_below must be numbers of messages")
        if scale_in_below < 0 or scale_in_below >= scale_out_above:
            raise InvalidParameter(
                f"scale_in_below ({scale_in_below}) must be >= 0 and below scale_out_above ({scale_out_above}), "
                f"or the autoscaler would flap between the two"
            )
        self.scale_out_above = float(scale_out_above)
        self.scale_in_below = float(scale_in_below)
        self.cooldown = check_duration("cooldown", cooldown)
        self.step = check_count("step", step, minimum=1)
        self.startup_delay = check_duration("startup_delay", startup_delay)
        self.metric = check_choice("metric", metric, METRICS)
        initial = self.min_consumers if start_with is None else check_count("start_with", start_with)
        if not self.min_consumers <= initial <= self.max_consumers:
            raise InvalidParameter(f"start_with ({initial}) must lie within [min_consumers, max_consumers]")
        self.consumers = initial
        self._launched: list[float] = [-math.inf] * initial  # launch times of running consumers, oldest first
        self._last_action: float | None = None
        self._accounted_until = 0.0
        self._consumer_seconds = 0.0
        self.actions: list[ScalingAction] = []

    def observe(self, now: float, value: float) -> int:
        """Feed one reading of the metric at ``now``; returns the number of consumers running."""
        self._account(now)
        if self._last_action is not None and now - self._last_action < self.cooldown:
            return self.consumers
        target = self.consumers
        if value > self.scale_out_above:
            target = min(self.max_consumers, self.consumers + self.step)
        elif value < self.scale_in_below:
            target = max(self.min_consumers, self.consumers - self.step)
        if target != self.consumers:
            self.actions.append(ScalingAction(now, self.consumers, target, value))
            if target > self.consumers:
                self._launched.extend([now] * (target - self.consumers))
            else:
                del self._launched[target:]  # the newest go first
            self.consumers = target
            self._last_action = now
        return self.consumers

    def active(self, now: float) -> int:
        """Consumers that have finished starting and take work at ``now``."""
        return sum(1 for t in self._launched if now - t >= self.startup_delay)

    def _account(self, now: float) -> None:
        if now > self._accounted_until:
            self._consumer_seconds += self.consumers * (now - self._accounted_until)
            self._accounted_until = now

    def consumer_seconds(self, now: float) -> float:
        """Consumer-seconds paid for from time 0 until ``now``."""
        self._account(now)
        return self._consumer_seconds
