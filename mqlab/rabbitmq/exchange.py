"""An exchange: a name, a type (a router strategy), bindings, and where unroutable messages go.

States: *live* from ``exchange_declare`` until ``exchange_delete`` (or auto-delete when
its last binding as a source goes, or a broker restart for a transient exchange).

* The default exchange ``""`` is a direct exchange with an implicit binding to every
  queue by the queue's name; it cannot be bound, unbound, declared or deleted (403).
* ``internal=True``: clients cannot publish to it (403); it is only reached through
  exchange-to-exchange bindings.
* ``alternate-exchange`` (an argument): where a message goes when this exchange's
  bindings match nothing (RabbitMQ ae.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mqlab.rabbitmq.routing import EXCHANGE_TYPES, Binding, Router

if TYPE_CHECKING:
    from mqlab.rabbitmq.queue import Queue

__all__ = ["DefaultRouter", "Exchange"]


class DefaultRouter(Router):
    """The default exchange's routing: the queue whose name is the routing key."""

    __slots__ = ("_queues",)
    type_name = "direct"

    def __init__(self, queues: dict[str, Queue]) -> None:
        self._queues = queues

    def rebuild(self, bindings: Any) -> None:
        return None

    def route(self, routing_key: str, headers: Mapping[str, Any] | None) -> list[Any]:
        queue = self._queues.get(routing_key)
        return [queue] if queue is not None else []


class Exchange:
    """One exchange. ``simple`` is True when routing needs no graph walk (no exchange
    destinations, no alternate exchange), the fast path of every publish."""

    __slots__ = ("name", "type", "durable", "auto_delete", "internal", "arguments", "alternate", "router",
                 "bindings", "simple", "deleted", "actor")

    def __init__(self, name: str, exchange_type: str, durable: bool, auto_delete: bool, internal: bool,
                 arguments: dict[str, Any], router: Router | None = None) -> None:
        self.name = name
        self.type = exchange_type
        self.durable = durable
        self.auto_delete = auto_delete
        self.internal = internal
        self.arguments = arguments
        alternate = arguments.get("alternate-exchange")
        self.alternate: str | None = alternate if isinstance(alternate, str) else None
        self.router: Router = router if router is not None else EXCHANGE_TYPES[exchange_type]()
        self.bindings: list[Binding] = []
        self.simple = self.alternate is None
        self.deleted = False
        self.actor = f"exchange:{name or '(default)'}"

    @property
    def is_default(self) -> bool:
        return self.name == ""

    def add_binding(self, destination: Any, routing_key: str, arguments: dict[str, Any]) -> bool:
        """Add a binding; False if the same binding exists already (binding is idempotent)."""
        for binding in self.bindings:
            if binding.same_as(destination, routing_key, arguments):
                return False
        self.bindings.append(Binding(self.name, destination, routing_key, arguments))
        self._rebuilt()
        return True

    def remove_binding(self, destination: Any, routing_key: str, arguments: Mapping[str, Any]) -> bool:
        """Remove a binding; False if there was none (unbinding is idempotent)."""
        for index, binding in enumerate(self.bindings):
            if binding.same_as(destination, routing_key, arguments):
                del self.bindings[index]
                self._rebuilt()
                return True
        return False

    def remove_destination(self, destination: Any) -> int:
        """Remove every binding to ``destination`` (it was deleted); returns how many."""
        before = len(self.bindings)
        self.bindings = [b for b in self.bindings if b.destination is not destination]
        removed = before - len(self.bindings)
        if removed:
            self._rebuilt()
        return removed

    def _rebuilt(self) -> None:
        self.router.rebuild(self.bindings)
        self.simple = self.alternate is None and all(not isinstance(b.destination, Exchange) for b in self.bindings)

    def __repr__(self) -> str:
        return f"<Exchange {self.name!r} {self.type} bindings={len(self.bindings)}>"
