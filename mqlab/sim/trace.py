"""An opt-in record of what happened: (time, actor, action, details).

The trace is what the journey inspector, the time-travel scrubber and the
determinism tests read. It is off by default; models guard every call with
``if sim.tracing:`` so that an untraced run pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Trace", "TraceRecord"]


@dataclass(frozen=True)
class TraceRecord:
    """One state change: at ``time``, ``actor`` did ``action``; ``details`` says to what."""

    time: float
    actor: str
    action: str
    details: Mapping[str, Any]

    def __str__(self) -> str:
        extra = " ".join(f"{key}={value!r}" for key, value in self.details.items())
        return f"t={self.time:<10.6g} {self.actor:<16} {self.action:<14} {extra}".rstrip()


class Trace:
    """An append-only list of :class:`TraceRecord`, in the order things happened."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def record(self, time: float, actor: str, action: str, details: Mapping[str, Any]) -> None:
        self.records.append(TraceRecord(time, actor, action, dict(details)))

    def select(self, actor: str | None = None, action: str | None = None, **match: Any) -> list[TraceRecord]:
        """Records with this actor and/or action whose details contain every ``match`` item."""
        return [
            r
            for r in self.records
            if (actor is None or r.actor == actor)
            and (action is None or r.action == action)
            and all(r.details.get(k) == v for k, v in match.items())
        ]

    def until(self, time: float) -> list[TraceRecord]:
        """Records at or before ``time`` (for time-travel views)."""
        return [r for r in self.records if r.time <= time]

    def format(self, limit: int | None = None) -> str:
        """A readable, deterministic table of the first ``limit`` records."""
        rows = self.records if limit is None else self.records[:limit]
        return "\n".join(str(r) for r in rows)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self.records)

    def __getitem__(self, index: int) -> TraceRecord:
        return self.records[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and self.records == other.records

    __hash__ = None  # type: ignore[assignment]
