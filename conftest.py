"""Session-wide guard: a test run that tested nothing is a failure.

pytest already fails when it collects no test (exit code 5). This also fails a
run in which every collected test was skipped or deselected, so a broken
environment cannot pass as green.
"""

from __future__ import annotations

import pytest


class _Outcomes:
    passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _Outcomes.passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0 and _Outcomes.passed == 0:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("FAILED: no test passed (everything was skipped or deselected)", red=True)
