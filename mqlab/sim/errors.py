"""Errors raised by the simulation kernel."""

from __future__ import annotations

from mqlab.errors import MqlabError


class SimulationError(MqlabError):
    """Base class for errors raised by the kernel itself."""


class SchedulingError(SimulationError, ValueError):
    """A time or delay that the agenda cannot accept (negative, in the past, not finite)."""


class BudgetExceeded(SimulationError):
    """A run went past its safety budget (events or virtual horizon).

    The budget exists so that a model with an endless loop stops with a message
    instead of hanging a notebook. ``budget`` names which limit was hit.
    """

    def __init__(self, message: str, *, budget: str, limit: float, now: float) -> None:
        super().__init__(message)
        self.budget = budget
        self.limit = limit
        self.now = now


class InvalidYield(SimulationError, TypeError):
    """A process yielded something that is not an event."""


class EventAlreadyTriggered(SimulationError, RuntimeError):
    """``succeed`` or ``fail`` was called on an event that already has an outcome."""


class Interrupt(Exception):
    """Thrown into a process by :meth:`Process.interrupt`.

    Not an :class:`MqlabError`: it is a signal to the process, which may catch it
    and carry on. ``cause`` is whatever the interrupter passed.
    """

    def __init__(self, cause: object = None) -> None:
        super().__init__(cause)
        self.cause = cause

    def __str__(self) -> str:
        return f"Interrupt({self.cause!r})"
