"""Running a scenario: an optional progress bar and a clean stop on interrupt.

The bar is tqdm's notebook-aware one (``tqdm.auto``), imported only when asked
for, so the scenarios work without the ``course`` extra and tests stay quiet.
Pressing stop in a notebook (KeyboardInterrupt) ends the run at the current
slice; the scenario returns what it has so far with ``interrupted=True``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["ProgressBar", "run_in_slices"]


class ProgressBar:
    """A thin wrapper over ``tqdm.auto.tqdm`` that does nothing when disabled or when tqdm is missing."""

    def __init__(self, total: float, *, enabled: bool, desc: str, unit: str = "s") -> None:
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # the course extra is not installed: run without a bar
                return
            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def update(self, amount: float) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_in_slices(sim: Simulation, until: float, *, progress: bool, desc: str, slices: int = 50) -> bool:
    """Run ``sim`` to ``until`` in ``slices`` steps; returns True if it was interrupted."""
    bar = ProgressBar(until - sim.now, enabled=progress, desc=desc)
    step = (until - sim.now) / slices
    try:
        for index in range(1, slices + 1):
            target = until if index == slices else sim.now + step
            before = sim.now
            sim.run(until=target)
            bar.update(sim.now - before)
    except KeyboardInterrupt:
        return True
    finally:
        bar.close()
    return False
