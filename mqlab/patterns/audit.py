"""The exactly-once-*effect* auditor: did each message's side effect happen once?

Delivery guarantees are promises about messages; what a business cares about
is effects (a charge, an email, a stock movement). The auditor counts effects
per message id against the ids that were meant to have one, so a learner sees
the guarantee they actually built: effects lost, effects duplicated, or
exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["EffectAuditor", "EffectReport"]


@dataclass(frozen=True)
class EffectReport:
    """Per-message outcome counts.

    ``lost``: expected ids with no effect; ``duplicated``: ids with more than
    one; ``extra_effects``: effects beyond the first, summed; ``exactly_once``:
    ids with exactly one; ``unexpected``: effects for ids never expected.
    """

    expected: int
    exactly_once: int
    lost: int
    duplicated: int
    extra_effects: int
    unexpected: int
    lost_ids: tuple[Any, ...]
    duplicated_ids: tuple[Any, ...]

    @property
    def is_exactly_once(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unexpected == 0


class EffectAuditor:
    """Counts side effects per message id; ``expect`` the ids first, ``effect`` each time one happens."""

    __slots__ = ("_counts", "_expected")

    def __init__(self, expected: Iterable[Any] = ()) -> None:
        self._expected: dict[Any, None] = dict.fromkeys(expected)
        self._counts: dict[Any, int] = {}

    def expect(self, message_id: Any) -> None:
        self._expected[message_id] = None

    def effect(self, message_id: Any) -> None:
        self._counts[message_id] = self._counts.get(message_id, 0) + 1

    def count(self, message_id: Any) -> int:
        return self._counts.get(message_id, 0)

    @property
    def total_effects(self) -> int:
        return sum(self._counts.values())

    def report(self) -> EffectReport:
        counts = self._counts
        lost_ids = tuple(m for m in self._expected if m not in counts)
        duplicated_ids = tuple(m for m in self._expected if counts.get(m, 0) > 1)
        once = sum(1 for m in self._expected if counts.get(m, 0) == 1)
        extra = sum(counts[m] - 1 for m in duplicated_ids)
        unexpected = sum(1 for m in counts if m not in self._expected)
        return EffectReport(
            expected=len(self._expected),
            exactly_once=once,
            lost=len(lost_ids),
            duplicated=len(duplicated_ids),
            extra_effects=extra,
            unexpected=unexpected,
            lost_ids=lost_ids,
            duplicated_ids=duplicated_ids,
        )
