"""Each notebook at its default parameters: runs, within budget, and reproduces its stored outputs."""

from __future__ import annotations

import difflib

import nbformat
import pytest
from course_notebooks import CourseNotebook, NotebookTimeout, Variant, course_notebooks, execute
from nbformat.v4 import new_code_cell, new_output
from notebook_gates import COURSE_BUDGET, NOTEBOOK_BUDGET, Runs, Timings
from notebook_samples import notebook
from refresh_notebooks import normalise, serialise

NOTEBOOKS = course_notebooks()
SHIPPED = [nb for nb in NOTEBOOKS if nb.shipped]


def ids(notebooks: list) -> list[str]:
    return [nb.id for nb in notebooks]


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_runs_cleanly_at_default_parameters(course_notebook, runs: Runs) -> None:
    """Top to bottom in a fresh kernel without an error (a solved variant with every check passing)."""
    result = runs(course_notebook)
    assert result.problem is None, result.problem


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_finishes_within_its_time_budget(course_notebook, runs: Runs) -> None:
    """Each notebook at default parameters finishes in under 20 s on this machine, kernel start included."""
    seconds = runs(course_notebook).execution.seconds
    assert seconds < NOTEBOOK_BUDGET, f"{course_notebook.id} took {seconds:.1f} s; the budget is {NOTEBOOK_BUDGET} s"


@pytest.mark.parametrize("course_notebook", SHIPPED, ids=ids(SHIPPED))
def test_refresh_would_not_change_the_committed_notebook(course_notebook, runs: Runs) -> None:
    """Re-executing reproduces the committed file byte for byte (tools/refresh_notebooks.py --check)."""
    result = runs(course_notebook)
    if result.problem:
        pytest.fail(result.problem)
    stored = course_notebook.path.read_text()
    diff = list(difflib.unified_diff(stored.splitlines(), result.text.splitlines(), "committed", "refreshed", n=1))
    assert not diff, (
        f"{course_notebook.path.name} is out of date; run python tools/refresh_notebooks.py "
        f"{course_notebook.path.name[:2]} and commit it. First differences:\n" + "\n".join(diff[:40])
    )


@pytest.mark.parametrize("course_notebook", SHIPPED, ids=ids(SHIPPED))
def test_every_cell_that_prints_stores_its_output(course_notebook, runs: Runs) -> None:
    """A code cell that produces output when run has a stored output (else nbval has nothing to compare)."""
    executed = runs(course_notebook).execution.notebook
    stored = nbformat.read(course_notebook.path, as_version=4)
    missing = [
        index
        for index, (fresh, kept) in enumerate(zip(executed.cells, stored.cells))
        if fresh.cell_type == "code" and fresh.get("outputs") and not kept.get("outputs")
    ]
    assert not missing, f"{course_notebook.path.name}: cells {missing} produce output but store none; refresh it"


def test_the_course_finishes_within_its_budget(runs: Runs, timings: Timings) -> None:
    """All shipped notebooks at default parameters take under 120 s together."""
    for course_notebook in SHIPPED:
        runs(course_notebook)
    total = timings.course_seconds()
    assert total < COURSE_BUDGET, f"the course took {total:.1f} s at default parameters (budget {COURSE_BUDGET} s)"


def test_a_hanging_notebook_is_stopped_by_its_outer_deadline() -> None:
    """A cell that never returns is killed at the notebook's deadline, well before its own cell timeout."""
    hang = notebook("import time\nwhile True:\n    time.sleep(0.05)")
    result = execute(hang, label="hang", deadline=3, cell_timeout=600)
    assert isinstance(result.error, NotebookTimeout)
    assert result.seconds < 15


def test_normalise_gives_the_same_bytes_for_outputs_with_random_ids() -> None:
    """Two runs whose outputs differ only in widget model ids, trace uids and repr addresses store identical bytes."""

    def run(seed: str, message_id: str = "9f0c1b2a-1111-4222-8333-444444444444") -> str:
        cell = new_code_cell("w", execution_count=7, id="cell-1")
        uid = f"{seed}0000000-1111-4222-8333-444444444444"
        cell.outputs = [
            new_output(
                "execute_result",
                execution_count=7,
                data={
                    "text/plain": f"FigureWidget({{'uid': '{uid}'}}) <Obj at 0x7f{seed}9a0> MessageId {message_id}",
                    "application/vnd.jupyter.widget-view+json": {"model_id": seed * 32, "version_major": 2},
                },
            )
        ]
        nb = notebook(cell)
        nb.metadata["widgets"] = {"state": seed}
        return serialise(normalise(nb))

    first, second = run("a"), run("b")
    assert first == second
    assert '"execution_count": 1' in first and "widgets" not in nbformat.reads(first, as_version=4).metadata
    assert "MessageId 9f0c1b2a-1111-4222-8333-444444444444" in first, "a deterministic id is left as it is"
    assert run("a") != run("a", message_id="00000000-1111-4222-8333-444444444444"), "other uuids are not masked"


def test_prints_split_differently_by_the_kernel_store_the_same_bytes() -> None:
    """Consecutive stdout chunks merge into one output, whatever the split; stderr stays apart from stdout."""

    def run(*chunks: str) -> str:
        cell = new_code_cell("print(...)", execution_count=1, id="cell-1")
        cell.outputs = [new_output("stream", name="stdout", text=chunk) for chunk in chunks]
        cell.outputs.append(new_output("stream", name="stderr", text="warning\n"))
        return serialise(normalise(notebook(cell)))

    assert run("a\nb\n", "c\n") == run("a\n", "b\nc\n") == run("a\nb\nc\n")
    outputs = nbformat.reads(run("a\n", "b\n"), as_version=4).cells[0].outputs
    assert [(o.name, o.text) for o in outputs] == [("stdout", "a\nb\n"), ("stderr", "warning\n")]


def test_a_variant_is_derived_and_runs_with_its_environment(tmp_path) -> None:
    """A variant's derive() is applied to the shipped notebook and its env reaches the kernel."""
    path = tmp_path / "05-example.ipynb"
    path.write_text(nbformat.writes(notebook("STAGE = 'shipped'")))

    def derive(nb):
        nb.cells.append(new_code_cell("print(STAGE, os.environ['MODE'])"))
        return nb

    variant = Variant("checked", derive, {"MODE": "strict"})
    derived = CourseNotebook(path, variant).load()
    derived.cells.insert(0, new_code_cell("import os"))
    result = execute(derived, label="variant", env=variant.env, cwd=tmp_path)
    assert result.error is None
    assert result.notebook.cells[-1].outputs[0].text == "shipped strict\n"
    assert CourseNotebook(path, variant).id == "05-example[checked]"
