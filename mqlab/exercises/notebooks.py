"""The solved versions of the course notebooks.

Notebooks ship with stubs. A stub is a code cell tagged ``exercise-stub`` whose
metadata names its exercise (``{"mqlab": {"exercise": "03.idempotent-consumer"}}``).
:func:`solve` returns a copy of a notebook in which each stub's source is
replaced by the source of the exercise's reference solution, which must define
the same names as the stub. The course's tests execute both versions: the
shipped one must run cleanly with every check "not attempted yet", the solved
one with every check passing (strict mode).
"""

from __future__ import annotations

import copy
import inspect
import textwrap
from typing import Any

from mqlab.exercises.registry import get

__all__ = ["STUB_TAG", "solve", "stub_cells"]

STUB_TAG = "exercise-stub"


def stub_cells(notebook: Any) -> list[tuple[int, str]]:
    """(cell index, exercise key) of every stub in ``notebook`` (an nbformat notebook)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and STUB_TAG in cell.metadata.get("tags", []):
            key = cell.metadata.get("mqlab", {}).get("exercise")
            if not key:
                raise ValueError(f"cell {index} is tagged {STUB_TAG!r} but names no exercise in metadata.mqlab")
            found.append((index, key))
    return found


def solve(notebook: Any) -> Any:
    """A copy of ``notebook`` with every stub replaced by its reference solution."""
    solved = copy.deepcopy(notebook)
    for index, key in stub_cells(solved):
        exercise = get(key)
        if exercise.reference is None:
            raise ValueError(f"exercise {key!r} has a stub but no reference solution")
        solved.cells[index].source = textwrap.dedent(inspect.getsource(exercise.reference)).rstrip() + "\n"
        solved.cells[index].outputs = []
    return solved
