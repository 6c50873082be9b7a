"""Where the course's exercises are found by key (``"03.idempotent-consumer"``).

Each notebook's exercises live in one catalogue module under
``mqlab.exercises`` that calls :func:`register`. Keys start with the notebook's
number, so ``get("03.idempotent-consumer")`` knows which catalogue to import.
"""

from __future__ import annotations

import importlib
import pkgutil

from mqlab.errors import MqlabError
from mqlab.exercises.core import Exercise

__all__ = ["UnknownExercise", "all_exercises", "get", "register"]

_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


class UnknownExercise(MqlabError, KeyError):
    """No exercise has this key."""


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the catalogue (called by the catalogue modules at import)."""
    existing = _REGISTRY.get(exercise.key)
    if existing is not None and existing is not exercise:
        raise ValueError(f"two exercises share the key {exercise.key!r}; keys must be unique")
    _REGISTRY[exercise.key] = exercise
    return exercise


def _load_catalogues() -> None:
    global _LOADED
    if _LOADED:
        return
    import mqlab.exercises as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("nb"):
            importlib.import_module(f"mqlab.exercises.{info.name}")
    _LOADED = True


def get(key: str) -> Exercise:
    """The exercise with this key; a fresh hint state each time a notebook asks for it."""
    _load_catalogues()
    try:
        exercise = _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise UnknownExercise(f"no exercise called {key!r}; known exercises: {known}") from None
    exercise.last = None
    return exercise


def all_exercises() -> list[Exercise]:
    """Every registered exercise, sorted by key."""
    _load_catalogues()
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]
