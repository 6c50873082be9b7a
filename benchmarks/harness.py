"""The shared measuring tape of mqlab's benchmarks.

Every benchmark compares mqlab with peers *measured in the same run* on the same
machine, so the ratios mean something even on a busy or slow machine. A
benchmark module exposes ``run(quick: bool) -> list[Row]``; ``run_all.py``
collects them into one table. ``quick`` shrinks the sizes for a smoke run.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One figure: ``subject`` did ``value`` ``unit`` on ``benchmark``.

    ``baseline`` names the row of the same benchmark that ratios are taken
    against (usually mqlab's own); ``goal`` states the target, if there is one.
    """

    benchmark: str
    subject: str
    value: float
    unit: str
    higher_is_better: bool = True
    note: str = ""


def best_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` timed calls of ``fn`` (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def format_table(rows: list[Row], reference: str = "mqlab") -> str:
    """A plain-text table with, per benchmark, each subject's ratio to the ``reference`` subject."""
    lines = [f"{'benchmark':<34} {'subject':<28} {'figure':>14} {'unit':<12} {'mqlab / peer':>12}  note"]
    lines.append("-" * len(lines[0]))
    by_benchmark: dict[str, list[Row]] = {}
    for row in rows:
        by_benchmark.setdefault(row.benchmark, []).append(row)
    for benchmark, group in by_benchmark.items():
        ref = next((r for r in group if r.subject.startswith(reference)), None)
        for row in group:
            ratio = ""
            if ref is not None and row is not ref and row.value > 0 and ref.value > 0 and row.unit == ref.unit:
                value = ref.value / row.value if row.higher_is_better else row.value / ref.value
                ratio = f"{value:.2f}x"
            lines.append(
                f"{benchmark:<34} {row.subject:<28} {row.value:>14,.1f} {row.unit:<12} {ratio:>12}  {row.note}"
            )
    return "\n".join(lines)


def interleaved_best(subjects: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, float]:
    """Best CPU seconds of each subject, running them in turns (a, b, a, b, ...).

    Interleaving spreads any disturbance from other work on the machine over
    every subject alike, and CPU time (``time.process_time``) ignores the time
    the process spent waiting for a core: both make ratios measured on a busy
    machine trustworthy. Use it for pure-Python, single-threaded subjects only.
    """
    best = {label: float("inf") for label in subjects}
    for _ in range(repeat):
        for label, fn in subjects.items():
            gc.collect()
            start = time.process_time()
            fn()
            best[label] = min(best[label], time.process_time() - start)
    return best
