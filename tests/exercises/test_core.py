"""The exercise machinery: verdicts, hints in steps, strict mode, solved notebooks."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mqlab.exercises import Exercise, ExerciseFailed, Status, UnknownExercise, failed, get, passed, todo
from mqlab.exercises.notebooks import solve, stub_cells


def reference_double(x):
    return 2 * x


def check_double(fn):
    if fn(2) == 4 and fn(5) == 10:
        return passed("doubles every number")
    if fn(2) == 2:
        return failed("identity", "your function returned its input unchanged",
                      "what should happen to the number?", "multiply it by two")
    return failed("other", f"double(2) returned {fn(2)!r}", "try small numbers by hand")


@pytest.fixture
def exercise():
    return Exercise("99.double", "Double it", check_double, reference_double, handle="ex")


def test_untouched_stub_is_not_attempted(exercise, monkeypatch):
    """A stub that still calls todo() (or raises NotImplementedError) is 'not attempted', not a failure."""
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)

    def stub(x):
        todo()

    def stub2(x):
        raise NotImplementedError

    assert exercise.check(stub).verdict.status is Status.NOT_ATTEMPTED
    assert exercise.check(stub2).verdict.status is Status.NOT_ATTEMPTED
    assert "not attempted yet" in repr(exercise.check(stub))


def test_wrong_answer_names_the_misconception_and_hints_in_steps(exercise, monkeypatch, capsys):
    """A failure reports what happened and gives a nudge, then a stronger hint, then points at the solution."""
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)
    report = exercise.check(lambda x: x)
    assert report.verdict.misconception == "identity"
    text = repr(report)
    assert "returned its input unchanged" in text and "hint: what should happen" in text and "ex.hint()" in text
    assert exercise.hint() == "multiply it by two"
    assert "ex.solution()" in exercise.hint()
    assert "return 2 * x" in exercise.solution()


def test_pass_and_html(exercise, monkeypatch):
    """A right answer passes; the report renders as HTML too."""
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)
    report = exercise.check(reference_double)
    assert report.passed
    assert repr(report) == "[99.double] ✅ passed: doubles every number"
    assert "#009E73" in report._repr_html_()


def test_strict_mode_raises_unless_passed(exercise, monkeypatch):
    """With MQLAB_EXERCISES_STRICT=1 anything but a pass raises ExerciseFailed."""
    monkeypatch.setenv("MQLAB_EXERCISES_STRICT", "1")
    exercise.check(reference_double)
    with pytest.raises(ExerciseFailed, match=r"99\.double"):
        exercise.check(lambda x: x)

    def stub(x):
        todo()

    with pytest.raises(ExerciseFailed, match="not attempted"):
        exercise.check(stub)


def test_failure_needs_a_hint():
    """A checker cannot return a bare 'wrong'."""
    with pytest.raises(ValueError, match="hint"):
        failed("x", "wrong")


def test_unknown_exercise_lists_the_known_ones():
    """Asking for a key that does not exist names it."""
    with pytest.raises(UnknownExercise, match="no exercise called 'nope'"):
        get("nope")


def test_solve_replaces_stubs_with_reference(monkeypatch):
    """solve() swaps each tagged stub for its exercise's reference source and leaves other cells alone."""
    from mqlab.exercises import registry

    exercise = Exercise("99.double", "Double it", check_double, reference_double)
    monkeypatch.setitem(registry._REGISTRY, "99.double", exercise)
    stub = new_code_cell("def reference_double(x):\n    todo()\n")
    stub.metadata["tags"] = ["exercise-stub"]
    stub.metadata["mqlab"] = {"exercise": "99.double"}
    notebook = new_notebook(cells=[new_code_cell("x = 1"), stub])
    assert stub_cells(notebook) == [(1, "99.double")]
    solved = solve(notebook)
    assert "return 2 * x" in solved.cells[1].source
    assert solved.cells[0].source == "x = 1"
    assert "todo()" in notebook.cells[1].source  # the original is untouched
    nbformat.validate(solved)
