"""The notebook lint (tools/lint_notebooks.py) on every shipped course notebook, one rule per test."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from course_notebooks import course_paths
from lint_notebooks import CHECKS

SHIPPED = course_paths()


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_notebook_passes_lint_rule(path: Path, check) -> None:
    """Each shipped notebook satisfies each lint rule (the rule is the check's docstring)."""
    problems = check(path, nbformat.read(path, as_version=4))
    assert not problems, "\n".join(problems)


def test_the_course_has_its_start_notebook() -> None:
    """The course is found at all: the glob sees notebooks/00-start-here.ipynb first."""
    assert SHIPPED and SHIPPED[0].name == "00-start-here.ipynb"


@pytest.mark.parametrize("extension", ["jupyterlab-plotly", "@jupyter-widgets/jupyterlab-manager", "anywidget"])
def test_prebuilt_labextension_is_installed(extension: str) -> None:
    """Figures and widgets render offline: their JupyterLab extensions ship prebuilt in this environment."""
    package = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / extension / "package.json"
    assert package.is_file(), f"{package} is missing: reinstall the course extra (pip install -e '.[course]')"
    assert any((package.parent / "static").glob("*.js")), f"{extension} has no built JavaScript under static/"
