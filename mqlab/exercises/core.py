"""Checked exercises: run the learner's code, and answer with a verdict worth reading.

An :class:`Exercise` pairs a *checker* with a reference *solution*. The learner
completes a stub in the notebook and calls ``exercise.check(their_function)``.
The checker runs that code on the simulator, under the conditions the lesson is
about (a lost acknowledgement, a crash, a duplicate...), and returns a
:class:`Verdict`:

* **passed**: the behaviour was right;
* **not attempted**: the stub is untouched (it still raises ``NotImplementedError``
  or calls :func:`todo`), so the notebook carries on without failing;
* **failed**: with the *misconception* the behaviour revealed and hints in steps,
  from a nudge to a stronger hint, never a bare "wrong".

``exercise.hint()`` shows the next step of the hints for the last failure;
``exercise.solution()`` shows the reference solution.

Strict mode (environment variable ``MQLAB_EXERCISES_STRICT=1``) makes
``check`` raise :class:`ExerciseFailed` on anything but a pass: the course's
tests use it to run the notebooks with the solutions filled in.
"""

from __future__ import annotations

import enum
import html
import inspect
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mqlab.errors import MqlabError

__all__ = [
    "Exercise",
    "ExerciseFailed",
    "NotAttempted",
    "Status",
    "Verdict",
    "failed",
    "not_attempted",
    "passed",
    "todo",
]

STRICT_ENV = "MQLAB_EXERCISES_STRICT"


class NotAttempted(Exception):
    """Raised by :func:`todo` in a stub the learner has not completed yet."""


class ExerciseFailed(MqlabError, AssertionError):
    """Raised by ``check`` in strict mode when the verdict is not a pass."""


def todo(what: str = "complete this function") -> Any:
    """Mark the place where the learner's code goes. Raises :class:`NotAttempted`."""
    raise NotAttempted(what)


class Status(enum.Enum):
    PASSED = "passed"
    NOT_ATTEMPTED = "not attempted yet"
    FAILED = "not yet"


_ICONS = {Status.PASSED: "✅", Status.NOT_ATTEMPTED: "⏳", Status.FAILED: "❌"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check.

    ``misconception`` names what the behaviour revealed (a stable key tests can
    assert on); ``message`` says what was observed; ``hints`` are steps from a
    nudge to a stronger hint.
    """

    status: Status
    message: str
    misconception: str | None = None
    hints: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def __str__(self) -> str:
        return f"{_ICONS[self.status]} {self.status.value}: {self.message}"


def passed(message: str) -> Verdict:
    """A pass, with a sentence on what the learner's code got right."""
    return Verdict(Status.PASSED, message)


def not_attempted(message: str = "complete the function above, then run this cell again") -> Verdict:
    return Verdict(Status.NOT_ATTEMPTED, message)


def failed(misconception: str, message: str, *hints: str) -> Verdict:
    """A failure: what was observed (``message``) and hints in increasing strength."""
    if not hints:
        raise ValueError(f"failure {misconception!r} needs at least one hint: a bare 'wrong' teaches nothing")
    return Verdict(Status.FAILED, message, misconception, tuple(hints))


Checker = Callable[..., Verdict]


class Report:
    """What ``check`` returns: the verdict, shown as text (nbval compares it) and as HTML."""

    def __init__(self, exercise: Exercise, verdict: Verdict) -> None:
        self.exercise = exercise
        self.verdict = verdict

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def __repr__(self) -> str:
        lines = [f"[{self.exercise.key}] {self.verdict}"]
        if self.verdict.status is Status.FAILED:
            lines.append(f"hint: {self.verdict.hints[0]}")
            if len(self.verdict.hints) > 1:
                lines.append(f"(run {self.exercise.handle}.hint() for a stronger hint)")
            else:
                lines.append(f"(run {self.exercise.handle}.solution() to see a reference solution)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {Status.PASSED: "#009E73", Status.NOT_ATTEMPTED: "#56B4E9", Status.FAILED: "#D55E00"}
        body = "<br>".join(html.escape(line) for line in repr(self).splitlines())
        return (
            f'<div style="border-left:4px solid {colour[self.verdict.status]};padding:4px 10px;'
            f'font-family:monospace">{body}</div>'
        )


class Exercise:
    """One checked exercise.

    ``checker(learner_code, **options)`` returns a :class:`Verdict`; any
    :class:`NotAttempted` or ``NotImplementedError`` escaping it means the stub
    is untouched. ``solution`` is the reference implementation whose source
    ``solution()`` shows; ``handle`` is the variable name the notebook uses, so
    messages can say what to type.
    """

    def __init__(self, key: str, title: str, checker: Checker, solution: Callable[..., Any] | None = None,
                 *, handle: str = "exercise") -> None:
        self.key = key
        self.title = title
        self.checker = checker
        self.reference = solution
        self.handle = handle
        self.last: Verdict | None = None
        self._hint_step = 0

    def run_checker(self, *learner: Any, **options: Any) -> Verdict:
        """Run the checker and return its verdict, without display or strictness."""
        try:
            verdict = self.checker(*learner, **options)
        except (NotAttempted, NotImplementedError):
            verdict = not_attempted()
        if not isinstance(verdict, Verdict):
            raise TypeError(f"checker of {self.key!r} returned {verdict!r}, not a Verdict")
        return verdict

    def check(self, *learner: Any, **options: Any) -> Report:
        """Check the learner's code and report; strict mode raises unless it passed."""
        verdict = self.run_checker(*learner, **options)
        self.last = verdict
        self._hint_step = 1 if verdict.status is Status.FAILED else 0
        if os.environ.get(STRICT_ENV) == "1" and not verdict.passed:
            raise ExerciseFailed(f"exercise {self.key!r} did not pass: {verdict}")
        return Report(self, verdict)

    def hint(self) -> str:
        """The next hint for the last failure (or a note if there is nothing to hint at)."""
        if self.last is None:
            text = f"run {self.handle}.check(...) first; hints are about what your code did"
        elif self.last.status is Status.PASSED:
            text = "it passed: no hint needed"
        elif self.last.status is Status.NOT_ATTEMPTED:
            text = "complete the function first; the check's hints are about what your code actually does"
        elif self._hint_step < len(self.last.hints):
            text = self.last.hints[self._hint_step]
            self._hint_step += 1
        else:
            text = f"no stronger hint left: {self.handle}.solution() shows a reference solution"
        print(text)
        return text

    def solution(self) -> str:
        """Show the reference solution's source."""
        if self.reference is None:
            text = "this exercise has no single reference solution; the check explains what it expects"
        else:
            text = textwrap.dedent(inspect.getsource(self.reference))
        print(text)
        return text

    def __repr__(self) -> str:
        return f"<Exercise {self.key}: {self.title}>"


def check_all(verdicts: Sequence[Verdict]) -> Verdict:
    """Combine several sub-checks: the first non-pass wins, else a pass summarising them."""
    for verdict in verdicts:
        if not verdict.passed:
            return verdict
    return passed("; ".join(v.message for v in verdicts))
