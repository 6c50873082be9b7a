"""The fault ledger: what every injected fault did to the data.

A model's own ledger says where each message *is*; this one says what the
faults *did*: how many frames each fault lost, duplicated or delayed. A lost
message appears in the model's balance as "lost by fault <name>", and the name is
the key here, so a notebook can show the learner which fault cost what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["FaultCounts", "FaultLedger"]


@dataclass(frozen=True)
class FaultCounts:
    """A frozen snapshot: per fault name, how many frames it lost, duplicated and delayed."""

    lost: Mapping[str, int] = field(default_factory=dict)
    duplicated: Mapping[str, int] = field(default_factory=dict)
    delayed: Mapping[str, int] = field(default_factory=dict)

    @property
    def total_lost(self) -> int:
        return sum(self.lost.values())

    @property
    def total_duplicated(self) -> int:
        return sum(self.duplicated.values())

    def lost_by(self, fault: str) -> int:
        """How many frames the fault called ``fault`` lost (0 if it never fired)."""
        return self.lost.get(fault, 0)


class FaultLedger:
    """Counts what each named fault did; every entry is also written to the trace.

    Invariant: counts only go up; names keep the order in which faults first fired.
    """

    __slots__ = ("_delayed", "_duplicated", "_lost", "sim")

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._lost: dict[str, int] = {}
        self._duplicated: dict[str, int] = {}
        self._delayed: dict[str, int] = {}

    def lost(self, fault: str, what: str = "frame", **details: Any) -> None:
        """Record that ``fault`` lost one ``what`` (a message, an ack, a delivery)."""
        self._lost[fault] = self._lost.get(fault, 0) + 1
        if self.sim.tracing:
            self.sim.log(f"fault:{fault}", "lost", what=what, **details)

    def duplicated(self, fault: str, what: str = "frame", **details: Any) -> None:
        self._duplicated[fault] = self._duplicated.get(fault, 0) + 1
        if self.sim.tracing:
            self.sim.log(f"fault:{fault}", "duplicated", what=what, **details)

    def delayed(self, fault: str, what: str = "frame", **details: Any) -> None:
        self._delayed[fault] = self._delayed.get(fault, 0) + 1
        if self.sim.tracing:
            self.sim.log(f"fault:{fault}", "delayed", what=what, **details)

    def counts(self) -> FaultCounts:
        return FaultCounts(dict(self._lost), dict(self._duplicated), dict(self._delayed))
