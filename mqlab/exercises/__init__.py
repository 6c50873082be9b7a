"""mqlab.exercises: checked exercises with targeted hints.

In a notebook::

    from mqlab.exercises import get, todo
    exercise = get("03.idempotent-consumer")

    def handle(message, seen):
        todo()            # the learner replaces this

    exercise.check(handle)   # passed / not attempted yet / a hint about what went wrong
    exercise.hint()          # a stronger hint
    exercise.solution()      # the reference solution
"""

from mqlab.exercises.core import (
    Exercise,
    ExerciseFailed,
    NotAttempted,
    Report,
    Status,
    Verdict,
    check_all,
    failed,
    not_attempted,
    passed,
    todo,
)
from mqlab.exercises.registry import UnknownExercise, all_exercises, get, register

__all__ = [
    "Exercise",
    "ExerciseFailed",
    "NotAttempted",
    "Report",
    "Status",
    "UnknownExercise",
    "Verdict",
    "all_exercises",
    "check_all",
    "failed",
    "get",
    "not_attempted",
    "passed",
    "register",
    "todo",
]
