"""What the course gates share: the budgets, the timing record, and the cache of default-parameter runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from course_notebooks import ROOT, CourseNotebook
from refresh_notebooks import Refreshed, refresh

ARTIFACTS = ROOT / "artifacts"
NOTEBOOK_BUDGET = 20.0  # seconds per notebook at default parameters
COURSE_BUDGET = 120.0  # seconds for every shipped notebook at default parameters


@dataclass
class Timings:
    """Seconds per notebook id for each kind of run, printed at the end of the session."""

    default: dict[str, float] = field(default_factory=dict)
    papermill: dict[str, float] = field(default_factory=dict)
    browser: dict[str, float] = field(default_factory=dict)
    shipped: set[str] = field(default_factory=set)

    def course_seconds(self) -> float:
        return sum(seconds for nid, seconds in self.default.items() if nid in self.shipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget_seconds": {"notebook": NOTEBOOK_BUDGET, "course": COURSE_BUDGET},
            "default_parameters": self.default,
            "papermill_second_parameters": self.papermill,
            "browser": self.browser,
            "course_default_parameters": self.course_seconds(),
        }


TIMINGS = Timings()


class Runs:
    """Each notebook variant executed once at its default parameters, on first request."""

    def __init__(self) -> None:
        self._done: dict[str, Refreshed] = {}

    def __call__(self, notebook: CourseNotebook) -> Refreshed:
        if notebook.id not in self._done:
            result = refresh(notebook)
            self._done[notebook.id] = result
            TIMINGS.default[notebook.id] = result.execution.seconds
            if notebook.shipped:
                TIMINGS.shipped.add(notebook.id)
        return self._done[notebook.id]
