"""Each notebook opened in JupyterLab in Chromium, run with JupyterLab's own command, and checked on screen.

The checks are those of tools/browser_check.py: no cell error, every widget
rendered, every plotly figure drawn, one control per dashboard changes what it
drives, no request leaves the machine. Screenshots go to artifacts/browser/.
Without Chromium these tests skip, naming how to install it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_check import is_loopback
from course_notebooks import course_notebooks
from notebook_gates import ARTIFACTS, Timings
from notebook_samples import dashboards, figure_and_widget

NOTEBOOKS = [nb for nb in course_notebooks() if nb.variant.in_browser]
SHOTS = ARTIFACTS / "browser"


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=[nb.id for nb in NOTEBOOKS])
def test_notebook_works_in_jupyterlab(course_notebook, browser_session, timings: Timings) -> None:
    """Run in JupyterLab, the notebook shows no error, renders its widgets and figures, and its dashboards react."""
    asked_before = len(browser_session.browser.requests.outside)
    report = browser_session.check(course_notebook, SHOTS)
    timings.browser[course_notebook.id] = report.seconds
    outside = browser_session.browser.requests.outside[asked_before:]
    assert not report.problems, "\n".join(report.problems)
    assert not outside, f"requests outside this machine (refused): {outside}"
    assert report.screenshots and all(shot.is_file() for shot in report.screenshots)


def test_browser_check_reports_planted_faults(browser_session, tmp_path: Path) -> None:
    """Working dashboards pass; a dead slider, a cell error and a request to the internet are each reported."""
    requests = browser_session.browser.requests
    asked_before, seen_before = len(requests.outside), len(requests.seen)
    report = browser_session.check_document(dashboards(with_faults=True), "planted-faults", tmp_path, control_timeout=6)
    outside = requests.outside[asked_before:]
    assert any(url.startswith("ws://127.0.0.1:") for url in requests.seen[seen_before:]), "kernel websocket unseen"
    assert report.dashboards == 3 and report.figures == 1
    assert len(report.problems) == 2, report.problems
    assert "cell 5 raised RuntimeError: planted" in report.problems[0]
    assert "cell 3: slider moved" in report.problems[1]
    assert "no output, figure or HTML pane changed" in report.problems[1]
    assert outside and all(url.startswith("http://203.0.113.7/") for url in outside)


def test_browser_check_reports_figures_and_widgets_that_do_not_render(browser_session, tmp_path: Path) -> None:
    """With the plotly and widget renderers taken away, the figure and the widget are each reported as not drawn."""
    remove = """() => {
      const rendermime = window.__mqlab.panel.content.rendermime;
      rendermime.removeMimeType('application/vnd.plotly.v1+json');
      rendermime.removeMimeType('application/vnd.jupyter.widget-view+json');
    }"""
    report = browser_session.check_document(
        figure_and_widget(), "no-renderers", tmp_path, prepare=remove, render_timeout=3
    )
    assert len(report.problems) == 2, report.problems
    assert "cell 0: 1 plotly figure output(s)" in report.problems[0] and "only 0 drawn" in report.problems[0]
    assert "cell 1: 1 widget output(s) but 0 rendered as widgets" in report.problems[1]
    # With the renderers in place the same kinds of output draw: see the planted-faults test and notebook 00.


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8888/lab", True),
        ("ws://localhost:9999/api/kernels/x/channels", True),
        ("http://[::1]:8888/static/x.js", True),
        ("data:image/png;base64,AAAA", True),
        ("https://cdn.plot.ly/plotly-2.35.2.min.js", False),
        ("http://10.0.0.5/x", False),
        ("http://localhost.example.org/", False),
    ],
)
def test_only_loopback_addresses_count_as_local(url: str, local: bool) -> None:
    """The request recorder allows loopback hosts and inline data only."""
    assert is_loopback(url) is local


def test_missing_chromium_is_explained(monkeypatch, tmp_path: Path) -> None:
    """Without Chromium the browser tests skip with a message that says how to install it."""
    import browser_check

    monkeypatch.setattr(browser_check, "CHROMIUM", tmp_path / "chromium")
    assert "apt-get install -y chromium" in browser_check.chromium_missing()
