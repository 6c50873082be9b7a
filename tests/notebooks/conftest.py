"""The course quality gates: shared fixtures, the timing record and its report.

The gates find the notebooks through tools/course_notebooks.py (every
``notebooks/NN-slug.ipynb``, and each one's variants listed in ``VARIANTS``
there: adding a variant is one line in that tuple). What each gate checks:

- test_lint.py: the template's sections in order, the parameters cell, stored
  outputs present, error-free and numbered in order, volatile cells tagged for
  nbval, links between notebooks, size under 500 KB, plotly offline.
- test_execution.py: each notebook (and variant) runs at its default
  parameters within 20 s, the shipped ones within 120 s together; running
  tools/refresh_notebooks.py would not change a committed notebook; every cell
  that produces output has a stored output (nbval passes silently otherwise).
- test_papermill.py: each notebook (and variant) runs under papermill with a
  second parameter set (another seed, larger sizes).
- test_binder.py: pyproject's course extra, environment.yml and binder/ list
  the same dependencies; repo2docker renders Binder's Dockerfile from binder/;
  Binder's start script opens the start notebook.
- test_browser.py: each notebook (and variant) opened in JupyterLab in
  Chromium, run, and checked as a learner would see it (tools/browser_check.py).

nbval itself runs from the test command (course.py) over notebooks/.
Timings are printed at the end of the run and written to
artifacts/notebook-timings.json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from notebook_gates import ARTIFACTS, COURSE_BUDGET, NOTEBOOK_BUDGET, TIMINGS, Runs, Timings  # noqa: E402


@pytest.fixture(scope="session")
def runs() -> Runs:
    return Runs()


@pytest.fixture(scope="session")
def timings() -> Timings:
    return TIMINGS


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """JupyterLab serving a copy of the course, started through binder/start (no browser needed)."""
    from browser_check import serve_course

    server = serve_course(tmp_path_factory.mktemp("lab"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_session(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium with JupyterLab loaded; skips, saying how to install Chromium, where there is none.

    Module-scoped on purpose: Playwright's synchronous API keeps an asyncio loop marked as running in the
    main thread while it is started, which would break later tests that call asyncio.run().
    """
    from browser_check import Session, chromium_missing

    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    with Session(tmp_path_factory.mktemp("browser"), lab=lab) as session:
        yield session


def _format(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:6.1f} s"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    ids = sorted(set(TIMINGS.default) | set(TIMINGS.papermill) | set(TIMINGS.browser))
    if not ids:
        return
    write = terminalreporter.write_line
    terminalreporter.write_sep(
        "-", f"notebook timings (budget {NOTEBOOK_BUDGET:.0f} s each at default parameters, {COURSE_BUDGET:.0f} s "
        "for the course)"
    )
    write(f"{'notebook':40} {'default':>9} {'papermill':>10} {'browser':>9}")
    for nid in ids:
        write(
            f"{nid:40} {_format(TIMINGS.default.get(nid)):>9} {_format(TIMINGS.papermill.get(nid)):>10} "
            f"{_format(TIMINGS.browser.get(nid)):>9}"
        )
    shipped = [nid for nid in TIMINGS.default if nid in TIMINGS.shipped]
    write(f"course: {len(shipped)} notebook(s) at default parameters in {TIMINGS.course_seconds():.1f} s")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "notebook-timings.json").write_text(json.dumps(TIMINGS.as_dict(), indent=2, sort_keys=True) + "\n")
