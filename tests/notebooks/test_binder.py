"""Binder's configuration, checked without Docker: dependencies in step, Dockerfile renders, start notebook opens.

Three files list what the course needs: pyproject.toml's ``course`` extra (pip
and ``course.py``), environment.yml (conda) and binder/requirements.txt (Binder,
which reads binder/ in preference to the top level). They must never drift.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from course_notebooks import ROOT, START_NOTEBOOK
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BINDER = ROOT / "binder"
CONDA_NAMES: dict[str, str] = {}  # PyPI name -> conda-forge name, where they differ
NOT_DEPENDENCIES = {"python", "pip"}  # conda entries for the interpreter and installer themselves
REPO2DOCKER_TIMEOUT = 120


def pinned(specs: list[str], rename: dict[str, str] | None = None) -> dict[str, str]:
    """{canonical name: specifier} for requirement strings (local installs such as '-e .' are skipped)."""
    found = {}
    for spec in specs:
        spec = spec.split("#", 1)[0].strip()
        if not spec or spec.startswith("-"):
            continue
        requirement = Requirement(spec)
        name = canonicalize_name((rename or {}).get(requirement.name, requirement.name))
        found[name] = str(SpecifierSet(str(requirement.specifier)))
    return found


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def course_extra() -> dict[str, str]:
    return pinned(pyproject()["project"]["optional-dependencies"]["course"], CONDA_NAMES)


def conda_environment() -> dict[str, str]:
    dependencies = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    specs = [d for d in dependencies if isinstance(d, str)]
    specs += [p for d in dependencies if isinstance(d, dict) for p in d.get("pip", [])]
    return {name: spec for name, spec in pinned(specs).items() if name not in NOT_DEPENDENCIES}


def binder_requirements() -> dict[str, str]:
    return pinned((BINDER / "requirements.txt").read_text().splitlines(), CONDA_NAMES)


def drift(expected: dict[str, str], actual: dict[str, str], where: str) -> list[str]:
    problems = [f"{where} lacks {name}{spec}" for name, spec in expected.items() if name not in actual]
    problems += [f"{where} has {name}{spec}, not in the course extra"
                 for name, spec in actual.items() if name not in expected]
    problems += [
        f"{where} pins {name}{actual[name]} but the course extra {name}{spec}"
        for name, spec in expected.items()
        if name in actual and actual[name] != spec
    ]
    return problems


@pytest.mark.parametrize(
    ("where", "read"), [("environment.yml", conda_environment), ("binder/requirements.txt", binder_requirements)]
)
def test_dependency_list_matches_the_course_extra(where: str, read) -> None:
    """Every dependency of pyproject's course extra is listed, with the same specifier, and nothing else."""
    problems = drift(course_extra(), read(), where)
    fix = "edit pyproject.toml's course extra, environment.yml and binder/requirements.txt together"
    assert not problems, "\n".join([*problems, fix])


def test_drift_is_detected() -> None:
    """A missing, an extra and a differently pinned package are each reported."""
    expected = pinned(["plotly>=5.24,<8", "tqdm>=4.66,<5"])
    actual = pinned(["Plotly>=5,<8", "anyio>=4"])
    assert sorted(drift(expected, actual, "x")) == [
        "x has anyio>=4, not in the course extra",
        "x lacks tqdm<5,>=4.66",
        "x pins plotly<8,>=5 but the course extra plotly<8,>=5.24",
    ]


def test_binder_python_satisfies_requires_python() -> None:
    """binder/runtime.txt names a Python the package supports (repo2docker does not check it when binder/ exists)."""
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"binder/runtime.txt should read python-X.Y, not {runtime!r}"
    assert Version(match.group(1)) in SpecifierSet(pyproject()["project"]["requires-python"])


def test_binder_scripts_install_the_package_and_are_executable() -> None:
    """postBuild installs mqlab from the clone; postBuild and start are executable."""
    for name in ("postBuild", "start"):
        assert os.access(BINDER / name, os.X_OK), f"binder/{name} must be executable (git update-index --chmod=+x)"
    assert re.search(r"pip install .*-e \.", (BINDER / "postBuild").read_text())


def test_repo2docker_renders_the_dockerfile_from_binder(tmp_path: Path) -> None:
    """repo2docker --no-build --debug renders Binder's Dockerfile from binder/ without error (no Docker needed)."""
    command = [sys.executable, "-m", "repo2docker", "--no-build", "--debug", "--user-name", "learner", str(ROOT)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=REPO2DOCKER_TIMEOUT, cwd=tmp_path, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "FROM " in output
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in output
    assert "./binder/postBuild" in output
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in output
    runtime = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={runtime}" in output, "repo2docker did not pick up binder/runtime.txt"
    assert "environment.yml" not in output, "binder/ must take precedence over the top-level environment.yml"


def test_binder_start_opens_the_start_notebook(lab) -> None:
    """Launched through binder/start, the server's default page is the start notebook, which exists."""
    location = urlsplit(lab.redirect_of("/"))
    assert location.path == f"/lab/tree/{START_NOTEBOOK.relative_to(ROOT).as_posix()}"
    assert START_NOTEBOOK.is_file()


def test_readme_binder_badge_opens_the_start_notebook() -> None:
    """The README's Binder link asks for the same start notebook as binder/start's configuration."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/[^)\s]+", readme)
    assert links, "README.md has no Binder badge"
    start = START_NOTEBOOK.relative_to(ROOT).as_posix()
    assert all(f"urlpath=lab/tree/{start}" in link for link in links), links
