"""The nbval settings of the test command: random ids in outputs are sanitized, real differences are not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from course_notebooks import NOTEBOOKS
from nbformat.v4 import new_code_cell, new_output
from notebook_samples import notebook

SANITIZE = NOTEBOOKS / "nbval_sanitize.cfg"


def nbval(*paths: Path) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "pytest", *map(str, paths), "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
        str(SANITIZE), "--nbval-cell-timeout=60", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=paths[0].parent, check=False)


def stored(source: str, text: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return notebook(cell)


def test_sanitized_ids_pass_and_a_changed_value_fails(tmp_path: Path) -> None:
    """A fresh uuid and address match the stored ones after sanitizing; a different number does not."""
    source = "import uuid\nprint(uuid.uuid4(), hex(id(object())), 42)"
    (tmp_path / "ids.ipynb").write_text(
        nbformat.writes(stored(source, "00000000-0000-4000-8000-000000000001 0x000000000001 42\n"))
    )
    (tmp_path / "changed.ipynb").write_text(
        nbformat.writes(stored(source, "00000000-0000-4000-8000-000000000001 0x000000000001 41\n"))
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # this folder is the rootdir, not the project
    result = nbval(tmp_path / "ids.ipynb", tmp_path / "changed.ipynb")
    assert "1 failed, 1 passed" in result.stdout, result.stdout[-2000:]
    assert "FAILED changed.ipynb::Cell 0" in result.stdout
