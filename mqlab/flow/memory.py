"""The broker's memory: an alarm that blocks publishers, or a process the OS kills.

Two ways a broker meets a backlog that grows without end:

* ``policy="alarm"``, as RabbitMQ does: when the memory in use passes
  ``high_watermark`` x ``total_bytes``, a memory alarm is raised and every
  publishing connection is blocked (``connection.blocked``) until usage falls
  back below the watermark; consumers keep consuming. RabbitMQ's default
  ``vm_memory_high_watermark.relative`` is 0.6 since 4.0 (0.4 before), per
  rabbitmq.com/docs/memory. The limit is a throttle, not a cap: the node can
  still go above it.
* ``policy="unbounded"``: no alarm; when usage reaches ``total_bytes`` the
  operating system's OOM killer ends the process and every message held only
  in memory is lost (counted as lost by fault ``"oom-kill"``).

Simplifications: memory is message bytes plus a fixed ``base_bytes``; no
paging to disk, no garbage-collection overshoot, no per-connection buffers.
Time is passed in, so the model works in a per-message simulation and in a
fluid one alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from mqlab.faults.checks import check_choice, check_fraction, check_positive

__all__ = ["MEMORY_POLICIES", "BrokerMemory", "MemoryStatistics"]

MEMORY_POLICIES = ("alarm", "unbounded")


@dataclass(frozen=True)
class MemoryStatistics:
    total_bytes: float
    used_bytes: float
    peak_bytes: float
    alarm: bool
    alarms_raised: int
    seconds_in_alarm: float
    killed: bool
    killed_at: float | None
    lost_messages: int


class BrokerMemory:
    """Memory accounting for one broker node. States: normal -> alarm -> normal ...; or normal -> killed."""

    def __init__(
        self,
        total_bytes: float,
        *,
        policy: str = "alarm",
        high_watermark: float = 0.6,
        base_bytes: float = 0.0,
    ) -> None:
        self.total_bytes = check_positive("total_bytes", total_bytes)
        self.policy = check_choice("policy", policy, MEMORY_POLICIES)
        self.high_watermark = check_fraction("high_watermark", high_watermark)
        if base_bytes != 0:
            check_positive("base_bytes", base_bytes)
        self.used = float(base_bytes)
        self.peak = self.used
        self.alarm = False
        self.alarms_raised = 0
        self.seconds_in_alarm = 0.0
        self._alarm_since: float | None = None
        self.killed = False
        self.killed_at: float | None = None
        self.lost_messages = 0

    @property
    def limit_bytes(self) -> float:
        """Where the alarm goes off (``alarm`` policy) or the process dies (``unbounded``)."""
        return self.total_bytes * self.high_watermark if self.policy == "alarm" else self.total_bytes

    def accepts_publishes(self) -> bool:
        """False while the alarm blocks publishers, and for good once the node was killed."""
        return not self.alarm and not self.killed

    def add(self, nbytes: float, now: float, messages_held: int = 0) -> None:
        """Store ``nbytes`` more. With ``unbounded``, reaching the total kills the node (losing ``messages_held``)."""
        if self.killed:
            return
        self.used += nbytes
        if self.used > self.peak:
            self.peak = self.used
        self._check(now, messages_held)

    def remove(self, nbytes: float, now: float) -> None:
        if self.killed:
            return
        self.used = max(0.0, self.used - nbytes)
        self._check(now, 0)

    def _check(self, now: float, messages_held: int) -> None:
        if self.policy == "unbounded":
            if self.used >= self.total_bytes:
                self.killed = True
                self.killed_at = now
                self.lost_messages = messages_held
            return
        over = self.used >= self.limit_bytes
        if over and not self.alarm:
            self.alarm = True
            self.alarms_raised += 1
            self._alarm_since = now
        elif not over and self.alarm:
            self.alarm = False
            self.seconds_in_alarm += now - self._alarm_since  # type: ignore[operator]
            self._alarm_since = None

    def statistics(self, now: float) -> MemoryStatistics:
        in_alarm = self.seconds_in_alarm + (now - self._alarm_since if self._alarm_since is not None else 0.0)
        return MemoryStatistics(
            self.total_bytes,
            self.used,
            self.peak,
            self.alarm,
            self.alarms_raised,
            in_alarm,
            self.killed,
            self.killed_at,
            self.lost_messages,
        )
