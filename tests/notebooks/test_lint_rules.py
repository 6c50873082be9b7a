"""The lint rules themselves: a notebook on the template passes, and each planted fault is reported."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from lint_notebooks import (
    MAX_BYTES,
    check_links,
    check_outputs,
    check_parameters,
    check_plotly_offline,
    check_size,
    check_template,
    lint,
)
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_samples import notebook

TITLE = "# 03 · Delivery guarantees\n\nIn this notebook you will\n\n1. lose a message;\n2. get it twice;\n3. fix it.\n"


def template_notebook() -> nbformat.NotebookNode:
    """A lesson on the template, executed and stored as refresh_notebooks.py would store it."""
    parameters = new_code_cell("SEED = 7\nMESSAGES = 100\n", metadata={"tags": ["parameters"]}, execution_count=1)
    step = new_code_cell("print(SEED)", execution_count=2)
    step.outputs = [new_output("stream", name="stdout", text="7\n")]
    stub = new_code_cell("def handle(message):\n    todo()\n", execution_count=3)
    stub.metadata = {"tags": ["exercise-stub"], "mqlab": {"exercise": "03.example"}}
    figure = new_code_cell("fig", execution_count=4, metadata={"tags": ["nbval-ignore-output"]})
    figure.outputs = [new_output("display_data", data={"application/vnd.plotly.v1+json": {"data": []}})]
    return notebook(
        new_markdown_cell(TITLE),
        new_markdown_cell("## Parameters"),
        parameters,
        new_markdown_cell("## Lost\n\nSee [the start](00-start-here.ipynb#Key-points), [below](#Key-points)."),
        step,
        new_markdown_cell("### Break it: drop the acknowledgement"),
        stub,
        figure,
        new_markdown_cell("## Key points\n\n* one\n\n## Check your understanding\n\n1. why?"),
        new_markdown_cell("## Further reading\n\n* https://www.rabbitmq.com/docs/confirms"),
    )


def write(tmp_path: Path, nb: nbformat.NotebookNode, name: str = "03-delivery-guarantees.ipynb") -> Path:
    (tmp_path / "00-start-here.ipynb").write_text(nbformat.writes(notebook(new_markdown_cell("## Key points"))))
    path = tmp_path / name
    path.write_text(nbformat.writes(nb))
    return path


def test_a_notebook_on_the_template_passes_every_rule(tmp_path: Path) -> None:
    """No rule fires on a notebook that follows the template (so a failure elsewhere means a real fault)."""
    assert lint(write(tmp_path, template_notebook())) == []


def test_sections_out_of_order_and_missing_are_reported(tmp_path: Path) -> None:
    """Key points must come before Check your understanding; a lesson without 'Break it' is reported."""
    nb = template_notebook()
    nb.cells[8].source = "## Check your understanding\n\n1. why?\n\n## Key points\n\n* one"
    nb.cells[5].source = "### Try this"
    problems = check_template(write(tmp_path, nb), nb)
    assert any("'## Check your understanding' must come after '## Key points'" in p for p in problems)
    assert any("'break it'" in p for p in problems)


def test_three_learning_goals_are_required(tmp_path: Path) -> None:
    """The title cell lists exactly three goals; a later numbered list in the same cell does not count."""
    nb = template_notebook()
    nb.cells[0].source = TITLE.replace("3. fix it.\n", "")
    assert any("three learning goals" in p for p in check_template(write(tmp_path, nb), nb))
    nb.cells[0].source = TITLE + "\n**Contents**\n\n1. one\n2. two\n"
    assert check_template(write(tmp_path, nb), nb) == []


def test_a_lesson_without_an_exercise_is_reported(tmp_path: Path) -> None:
    """Lessons 01-10 need a code cell tagged exercise-stub; notebook 00 does not."""
    nb = template_notebook()
    nb.cells[6].metadata = {}
    assert any("exercise" in p for p in check_template(write(tmp_path, nb), nb))
    assert not any("exercise" in p for p in check_template(write(tmp_path, nb, "00-start-here.ipynb"), nb))


@pytest.mark.parametrize(
    ("source", "fragment"),
    [("SEED = 7\nMESSAGES = 10 * SEED\n", "not 'NAME = literal'"), ("", "is empty")],
)
def test_parameters_cell_holds_only_literals(tmp_path: Path, source: str, fragment: str) -> None:
    """papermill can override every parameter only if each is a plain literal."""
    nb = template_notebook()
    nb.cells[2].source = source
    assert any(fragment in p for p in check_parameters(write(tmp_path, nb), nb))


def test_missing_parameters_tag_is_reported(tmp_path: Path) -> None:
    """Without the 'parameters' tag papermill would inject its values at the top, before the defaults."""
    nb = template_notebook()
    nb.cells[2].metadata = {}
    assert any("tagged 'parameters'" in p for p in check_parameters(write(tmp_path, nb), nb))


def test_outputs_missing_erroneous_misnumbered_or_untagged_are_reported(tmp_path: Path) -> None:
    """Each stored-output fault is named: no outputs at all, an error, a count out of order, an untagged figure."""
    nb = template_notebook()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    assert any("no code cell stores an output" in p for p in check_outputs(write(tmp_path, nb), nb))
    nb = template_notebook()
    nb.cells[4].outputs = [new_output("error", ename="KeyError", evalue="'x'", traceback=[])]
    nb.cells[4].execution_count = 5
    nb.cells[7].metadata = {}
    problems = check_outputs(write(tmp_path, nb), nb)
    assert any("stores an error (KeyError)" in p for p in problems)
    assert any("execution count 5, expected 2" in p for p in problems)
    assert any("not tagged 'nbval-ignore-output'" in p for p in problems)


def test_saved_widget_state_is_reported(tmp_path: Path) -> None:
    """metadata.widgets (a FigureWidget's whole plotly.js bundle) must be stripped."""
    nb = template_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    assert any("metadata.widgets" in p for p in check_outputs(write(tmp_path, nb), nb))


def test_broken_links_and_anchors_are_reported(tmp_path: Path) -> None:
    """A link to a missing notebook, or to a heading that does not exist, is reported; web links are not checked."""
    nb = template_notebook()
    nb.cells[3].source = (
        "[gone](01-missing.ipynb) [bad anchor](00-start-here.ipynb#Nowhere) [web](https://example.org/x) "
        '<a href="#Further-reading">ok</a>'
    )
    problems = check_links(write(tmp_path, nb), nb)
    assert len(problems) == 2
    assert "01-missing.ipynb" in problems[0] and "#Nowhere" in problems[1]


def test_oversized_notebook_is_reported(tmp_path: Path) -> None:
    """A notebook over 500 KB is reported with its size."""
    nb = template_notebook()
    nb.cells[4].outputs[0].text = "x" * (MAX_BYTES + 1)
    assert any("over the 500 KB limit" in p for p in check_size(write(tmp_path, nb), nb))


def test_online_plotly_is_reported(tmp_path: Path) -> None:
    """A CDN renderer or a stored remote script would leave figures blank offline."""
    nb = template_notebook()
    nb.cells[4].source = 'import plotly.io as pio\npio.renderers.default = "notebook_connected"'
    nb.cells[7].outputs = [
        new_output("display_data", data={"text/html": '<script src="https://cdn.plot.ly/plotly.min.js"></script>'})
    ]
    problems = check_plotly_offline(write(tmp_path, nb), nb)
    assert len(problems) == 2
