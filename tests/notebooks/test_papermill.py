"""Each notebook under papermill with a second parameter set: another seed, larger sizes."""

from __future__ import annotations

import pytest
from course_notebooks import course_notebooks, error_outputs, execute_with_papermill, second_parameters
from nbformat.v4 import new_code_cell
from notebook_gates import Timings
from notebook_samples import notebook

NOTEBOOKS = course_notebooks()


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=[nb.id for nb in NOTEBOOKS])
def test_runs_under_papermill_with_other_parameters(course_notebook, timings: Timings) -> None:
    """papermill injects a second parameter set after the parameters cell and every cell still runs cleanly."""
    source = course_notebook.load()
    parameters = second_parameters(source)
    assert parameters, (
        f"{course_notebook.path.name}: no second parameter set: give the parameters cell a SEED and sizes, or state "
        'one in the notebook metadata as {"mqlab": {"second_parameters": {...}}}'
    )
    result = execute_with_papermill(
        source, parameters, label=f"{course_notebook.id} under papermill", env=course_notebook.variant.env
    )
    timings.papermill[course_notebook.id] = result.seconds
    failure = f"{type(result.error).__name__}: {result.error}"
    assert result.error is None, f"{course_notebook.id} with {parameters}: {failure}"
    assert not error_outputs(result.notebook)
    injected = [cell for cell in result.notebook.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and all(f"{name} = {value!r}" in injected[0].source for name, value in parameters.items())


def test_second_parameters_change_the_seed_and_double_the_sizes() -> None:
    """SEED-like integers go up by one, other positive integers double; floats, booleans and strings stay."""
    nb = notebook(new_code_cell("SEED = 7\nCUSTOMERS = 400\nRATE = 0.5\nLIVE = True\nBROKER = 'sim'\nOFF = 0",
                                metadata={"tags": ["parameters"]}))
    assert second_parameters(nb) == {"SEED": 8, "CUSTOMERS": 800}
    nb.metadata["mqlab"] = {"second_parameters": {"SEED": 3}}
    assert second_parameters(nb) == {"SEED": 3}
