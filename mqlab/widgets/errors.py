"""What the controls refuse, one class per cause; each message shows the expected form."""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = ["InvalidBindingSpec", "InvalidParameterSpec"]


class InvalidBindingSpec(MqlabError, ValueError):
    """A binding or header line the routing playground cannot read, or an exchange type RabbitMQ lacks."""


class InvalidParameterSpec(MqlabError, ValueError):
    """A dashboard parameter that names nothing in the scenario, or that no control can represent."""
