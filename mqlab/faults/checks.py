"""Parameter checks shared by mqlab.faults, mqlab.patterns, mqlab.flow, mqlab.coupling and mqlab.scenarios.

Each check returns the value it accepted (converted where that is harmless) or
raises :class:`~mqlab.faults.errors.InvalidParameter` with a message that names
the parameter, the rule and an example of a good value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import Enum
from typing import TypeVar

from mqlab.faults.errors import InvalidParameter

__all__ = [
    "check_choice",
    "check_count",
    "check_duration",
    "check_fraction",
    "check_positive",
    "check_probability",
    "check_rate",
]

E = TypeVar("E", bound=Enum)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_probability(name: str, value: object) -> float:
    """A probability in [0, 1], such as a loss rate."""
    if not _is_number(value) or not 0.0 <= value <= 1.0:  # type: ignore[operator]
        raise InvalidParameter(f"{name} must be a probability between 0 and 1 (for example 0.05), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_fraction(name: str, value: object) -> float:
    """A fraction in (0, 1], such as a memory watermark."""
    if not _is_number(value) or not 0.0 < value <= 1.0:  # type: ignore[operator]
        raise InvalidParameter(f"{name} must be a fraction in (0, 1] (for example 0.6), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_rate(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite rate per second (messages/s, requests/s)."""
    ok = _is_number(value) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)  # type: ignore[operator,arg-type]
    if not ok:
        kind = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise InvalidParameter(f"{name} must be {kind} per second (for example 2000), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_positive(name: str, value: object) -> float:
    """A finite number > 0 (a size in bytes, a factor)."""
    if not _is_number(value) or not math.isfinite(value) or value <= 0:  # type: ignore[operator,arg-type]
        raise InvalidParameter(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_duration(name: str, value: object, *, allow_zero: bool = True) -> float:
    """A finite number of seconds of virtual time (>= 0, or > 0 when ``allow_zero`` is False)."""
    ok = _is_number(value) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)  # type: ignore[operator,arg-type]
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameter(f"{name} must be a finite number of seconds {bound} (for example 0.05), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_count(name: str, value: object, *, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (a capacity, a number of workers, an attempt limit)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidParameter(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def check_choice(name: str, value: object, choices: type[E] | Iterable[str]) -> E | str:
    """A policy given by name (or enum member); the message lists the names that exist."""
    if isinstance(choices, type) and issubclass(choices, Enum):
        if isinstance(value, choices):
            return value
        for member in choices:
            if value == member.value or value == member.name.lower():
                return member
        names = [m.value for m in choices]
    else:
        names = list(choices)
        if value in names:
            return value  # type: ignore[return-value]
    listed = ", ".join(repr(n) for n in names)
    raise InvalidParameter(f"{name} must be one of {listed}; got {value!r}")
