"""What the figure functions refuse, and why."""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = ["InvalidFigureInput"]


class InvalidFigureInput(MqlabError, ValueError):
    """Raised when a figure function gets data it cannot draw (an empty journey, an unknown shape).

    The message names the input, the rule it broke and the shape that is expected.
    """
