"""Which notebooks make up the course, their variants, and how to run one with time limits.

Every course gate (tests/notebooks/) and tools/refresh_notebooks.py find the
notebooks here, so a notebook is covered the day it lands in ``notebooks/``
under the name ``NN-slug.ipynb``.

Variants
--------
A *variant* is a notebook derived in memory from a shipped one and executed by
the same gates. ``VARIANTS`` lists them, one line each: adding a kind of
variant is a one-line change there. Today there is one: ``solved``, the
notebook with every exercise stub (a code cell tagged ``exercise-stub``)
replaced by its reference solution by ``mqlab.exercises.notebooks.solve`` and
run with ``MQLAB_EXERCISES_STRICT=1``, so that any check that does not pass
raises. A notebook without stubs has no solved variant. Variants are not
stored in the repository; the gates about stored files (nbval, stored
outputs, regeneration, size) apply to the shipped notebooks only.

Time limits
-----------
Every execution has a per-cell timeout (``CELL_TIMEOUT``) and an outer
deadline for the whole notebook: when the deadline passes, a watchdog thread
kills the kernel process, the executing client notices the dead kernel within
about a second, and :class:`NotebookTimeout` is raised. A hang fails fast.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
COURSE_GLOB = "[0-9][0-9]-*.ipynb"
START_NOTEBOOK = NOTEBOOKS / "00-start-here.ipynb"

CELL_TIMEOUT = 120  # seconds for one cell, everywhere a notebook is executed
NOTEBOOK_DEADLINE = 240  # seconds for one notebook, kernel start included: far above the budget, far below a hang
KERNEL_START_TIMEOUT = 60
KERNEL_NAME = "python3"


class NotebookTimeout(Exception):
    """A notebook ran past its outer deadline (a cell that never returns, or a runaway loop)."""


@dataclass(frozen=True)
class Variant:
    """A way of deriving a notebook to execute from a shipped one.

    ``derive`` returns the derived notebook, or None when the shipped notebook
    has no such variant; ``env`` is set in the kernel's environment; ``in_browser`` says whether the
    browser gate opens it too (each opening costs about ten seconds of the test command's budget).
    """

    name: str
    derive: Callable[[Any], Any]
    env: dict[str, str] = field(default_factory=dict)
    in_browser: bool = True


def _shipped(notebook: Any) -> Any:
    return notebook


def _solved(notebook: Any) -> Any:
    from mqlab.exercises.notebooks import solve, stub_cells

    return solve(notebook) if stub_cells(notebook) else None


# One line per variant; every execution gate runs each notebook in each variant it has. The solved
# variant differs from the shipped one only in its stub cells (plain code and text output, executed in
# strict mode by the kernel gates), so the browser gate, whose checks are about widgets and figures,
# opens the shipped notebooks only: set in_browser=True to open solved ones too (about 10 s each).
VARIANTS: tuple[Variant, ...] = (
    Variant("shipped", _shipped),
    Variant("solved", _solved, {"MQLAB_EXERCISES_STRICT": "1"}, in_browser=False),
)


@dataclass(frozen=True)
class CourseNotebook:
    """One executable notebook: a shipped file in one of its variants."""

    path: Path
    variant: Variant

    @property
    def id(self) -> str:
        stem = self.path.stem
        return stem if self.variant.name == "shipped" else f"{stem}[{self.variant.name}]"

    @property
    def shipped(self) -> bool:
        return self.variant.name == "shipped"

    def load(self) -> Any:
        """The notebook to execute (a fresh copy each call)."""
        notebook = nbformat.read(self.path, as_version=4)
        derived = self.variant.derive(notebook)
        if derived is None:
            raise LookupError(f"{self.path.name} has no {self.variant.name} variant")
        return copy.deepcopy(derived)


def course_paths(prefixes: list[str] | None = None) -> list[Path]:
    """The shipped notebooks, in course order, optionally only those whose name starts with a prefix."""
    paths = sorted(NOTEBOOKS.glob(COURSE_GLOB))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in prefixes)]
    return paths


def course_notebooks(
    prefixes: list[str] | None = None, variants: tuple[Variant, ...] = VARIANTS
) -> list[CourseNotebook]:
    """Every (notebook, variant) pair that exists, shipped ones first within each notebook."""
    found = []
    for path in course_paths(prefixes):
        notebook = nbformat.read(path, as_version=4)
        for variant in variants:
            if variant.derive(copy.deepcopy(notebook)) is not None:
                found.append(CourseNotebook(path, variant))
    return found


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (kernels started inside inherit them)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def kernel_with_deadline(seconds: float, label: str) -> Iterator[Any]:
    """A kernel manager whose kernel is killed if still running after ``seconds``; cleaned up on exit."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name=KERNEL_NAME)
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        process = getattr(km.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()

    watchdog = threading.Timer(seconds, kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield km
    except Exception as error:
        if expired.is_set():
            raise NotebookTimeout(
                f"{label} was stopped after its outer deadline of {seconds:.0f} s; "
                f"look for a cell that never returns (each cell may take at most {CELL_TIMEOUT} s)"
            ) from error
        raise
    finally:
        watchdog.cancel()
        if km.has_kernel:
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)


@dataclass
class Execution:
    """The outcome of one execution: the executed notebook, its wall time, and the error if any."""

    notebook: Any
    seconds: float
    error: BaseException | None = None


def execute(
    notebook: Any,
    *,
    label: str,
    env: dict[str, str] | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    deadline: float = NOTEBOOK_DEADLINE,
    cwd: Path = NOTEBOOKS,
) -> Execution:
    """Run ``notebook`` top to bottom in a fresh kernel with nbclient; never raises for a failing cell."""
    from nbclient import NotebookClient

    start = time.perf_counter()
    error = None
    try:
        with environment(env or {}), kernel_with_deadline(deadline, label) as km:
            client = NotebookClient(
                notebook,
                km=km,
                timeout=cell_timeout,
                startup_timeout=KERNEL_START_TIMEOUT,
                kernel_name=KERNEL_NAME,
                resources={"metadata": {"path": str(cwd)}},
            )
            client.execute()
    except Exception as failure:  # a cell error, a cell timeout, the outer deadline, a dead kernel
        error = failure
    return Execution(notebook, time.perf_counter() - start, error)


def execute_with_papermill(
    notebook: Any,
    parameters: dict[str, Any],
    *,
    label: str,
    env: dict[str, str] | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    deadline: float = NOTEBOOK_DEADLINE,
    cwd: Path = NOTEBOOKS,
) -> Execution:
    """Run ``notebook`` through papermill with ``parameters`` injected after its parameters cell."""
    import papermill

    start = time.perf_counter()
    error = None
    executed = notebook
    try:
        with environment(env or {}), kernel_with_deadline(deadline, label) as km:
            executed = papermill.execute_notebook(
                notebook,
                None,
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                language="python",
                progress_bar=False,
                log_output=False,
                start_timeout=KERNEL_START_TIMEOUT,
                execution_timeout=cell_timeout,
                cwd=str(cwd),
                km=km,
            )
    except Exception as failure:
        error = failure
    return Execution(executed, time.perf_counter() - start, error)


PARAMETERS_TAG = "parameters"
SIZE_FACTOR = 2


def parameters_cell(notebook: Any) -> tuple[int, Any] | None:
    """(index, cell) of the first code cell tagged 'parameters', or None."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index, cell
    return None


def default_parameters(notebook: Any) -> dict[str, Any]:
    """The NAME = literal assignments of the parameters cell, in order (the lint flags any other line)."""
    found = parameters_cell(notebook)
    if found is None:
        return {}
    values = {}
    for statement in ast.parse(found[1].source).body:
        simple = isinstance(statement, ast.Assign) and len(statement.targets) == 1
        if simple and isinstance(statement.targets[0], ast.Name):
            try:
                values[statement.targets[0].id] = ast.literal_eval(statement.value)
            except ValueError:
                continue
    return values


def second_parameters(notebook: Any) -> dict[str, Any]:
    """The second parameter set papermill runs a notebook with: another seed and larger sizes.

    A notebook may state it in its metadata, ``{"mqlab": {"second_parameters": {"SEED": 3, ...}}}``;
    otherwise it is derived from the defaults: an integer whose name contains SEED goes up by one, every
    other positive integer (a size, a count) is doubled; booleans, floats (rates, probabilities) and
    strings keep their default, since changing them changes what the notebook is about.
    """
    explicit = notebook.metadata.get("mqlab", {}).get("second_parameters")
    if explicit is not None:
        return dict(explicit)
    derived = {}
    for name, value in default_parameters(notebook).items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if "SEED" in name.upper():
            derived[name] = value + 1
        elif value > 0:
            derived[name] = value * SIZE_FACTOR
    return derived


def error_outputs(notebook: Any) -> list[str]:
    """'cell N: Name: value' for every error output stored in ``notebook``."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return found
