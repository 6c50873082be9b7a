"""The routing playground: declare bindings, type a routing key or headers, see which queues match and why.

Controls: the exchange type, the bindings (one per line, ``queue: key`` or, for a headers
exchange, ``queue: x-match=any, format=pdf``), the routing key and the headers. Every change
re-explains at once (routing a handful of bindings takes microseconds, no debounce needed).
The table lists each binding with ✓ or ✗ and the reason; the figure shows the exchange, the
bindings (green when they matched, grey dotted when not) and the queues with the copies they
received. A line the playground cannot read is reported in the status line, never raised.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from mqlab.rabbitmq.routing import EXCHANGE_TYPES
from mqlab.viz.topology import Edge, Node, Topology, topology_figure
from mqlab.widgets.base import Control
from mqlab.widgets.errors import InvalidBindingSpec
from mqlab.widgets.explain import (
    RoutingExplanation,
    explain_routing,
    parse_bindings,
    parse_headers,
)

__all__ = ["EXAMPLES", "RoutingPlayground", "bindings_of", "routing_figure"]

EXAMPLES: dict[str, tuple[str, str, str]] = {
    "topic": ("Q1: *.orange.*\nQ2: *.*.rabbit\nQ2: lazy.#", "quick.orange.rabbit", ""),
    "direct": ("errors: error\nall: info\nall: warning\nall: error", "error", ""),
    "fanout": ("audit: \nbilling: \nsearch: ", "anything", ""),
    "headers": ("pdf: x-match=all, format=pdf, type=report\nany: x-match=any, format=pdf, type=log",
                "", "format=pdf, type=log"),
}
"""A starting point per exchange type (bindings, routing key, headers); topic is RabbitMQ tutorial five."""


def routing_figure(explanation: RoutingExplanation, exchange: str = "playground") -> go.Figure:
    """The exchange, its bindings coloured by verdict, and the queues with the copies they got."""
    queues = list(dict.fromkeys(v.binding.queue for v in explanation.verdicts))
    reached = set(explanation.queues)
    nodes = [Node("x", exchange, "exchange", None, f"{explanation.exchange_type} exchange {exchange!r}")]
    nodes += [Node(f"q:{q}", q, "queue", 1 if q in reached else 0, f"queue {q!r}: "
                   f"{'1 copy' if q in reached else 'no copy'}") for q in queues]
    edges = [
        Edge("x", f"q:{v.binding.queue}", "matched" if v.matched else "unmatched",
             v.binding.describe() if explanation.exchange_type != "fanout" else "")
        for v in explanation.verdicts
    ]
    title = f"{explanation.exchange_type} exchange: {explanation.summary.split(';')[0]}"
    return topology_figure(Topology(tuple(nodes), tuple(edges), title))


def bindings_of(broker: Any, exchange: str) -> tuple[str, str]:
    """The type of ``exchange`` on a :class:`mqlab.rabbitmq.Broker` and its queue bindings in the playground's
    text form, from ``broker.topology()`` (exchange-to-exchange bindings are left out)."""
    described = broker.topology(include_predeclared=True)
    kinds = {e["name"]: e["type"] for e in described["exchanges"]}
    if exchange not in kinds:
        raise InvalidBindingSpec(f"the broker has no exchange {exchange!r}; it has {', '.join(map(repr, kinds))}")
    lines = []
    for b in described["bindings"]:
        if b["source"] != exchange or b["destination_type"] != "queue":
            continue
        if kinds[exchange] == "headers":
            lines.append(f"{b['destination']}: " + ", ".join(f"{k}={v}" for k, v in b["arguments"].items()))
        else:
            lines.append(f"{b['destination']}: {b['routing_key']}")
    return kinds[exchange], "\n".join(lines)


class RoutingPlayground(Control):
    """Exchange type, bindings, routing key and headers in; verdicts, reasons and a diagram out.

    ``explanation`` is the latest :class:`~mqlab.widgets.explain.RoutingExplanation` (None while
    the input cannot be read, with the reason in ``status``).
    """

    title = "Routing playground"

    @classmethod
    def from_broker(cls, broker: Any, exchange: str, routing_key: str = "", headers: str = "") -> RoutingPlayground:
        """A playground loaded with the bindings an exchange of a live broker has now."""
        kind, text = bindings_of(broker, exchange)
        return cls(kind, text, routing_key, headers)

    def __init__(self, exchange_type: str = "topic", bindings: str | None = None, routing_key: str | None = None,
                 headers: str | None = None) -> None:
        super().__init__()
        if exchange_type not in EXCHANGE_TYPES:
            raise InvalidBindingSpec(f"exchange type {exchange_type!r} is not one of {', '.join(EXCHANGE_TYPES)}")
        example = EXAMPLES[exchange_type]
        self.exchange_type = w.Dropdown(options=list(EXCHANGE_TYPES), value=exchange_type, description="exchange")
        self.bindings = w.Textarea(value=example[0] if bindings is None else bindings, description="bindings",
                                   placeholder="queue: routing key (one per line)",
                                   layout=w.Layout(width="460px", height="110px"))
        self.routing_key = w.Text(value=example[1] if routing_key is None else routing_key,
                                  description="routing key", continuous_update=True)
        self.headers = w.Text(value=example[2] if headers is None else headers, description="headers",
                              placeholder="format=pdf, type=log", continuous_update=True)
        self.table = w.HTML()
        self.explanation: RoutingExplanation | None = None
        for control in (self.bindings, self.routing_key, self.headers):
            control.observe(lambda _change: self.refresh(), names="value")
        self.exchange_type.observe(self._type_changed, names="value")
        self.box = w.VBox([
            w.HBox([w.VBox([self.exchange_type, self.routing_key, self.headers]), self.bindings]),
            self.table, self.plot, self.status,
        ])
        self.refresh()

    def _type_changed(self, change: dict[str, Any]) -> None:
        """Load the new type's example in one go, then explain once."""
        bindings, key, headers = EXAMPLES[change["new"]]
        self._loading = True
        try:
            self.bindings.value, self.routing_key.value, self.headers.value = bindings, key, headers
        finally:
            self._loading = False
        self.refresh()

    _loading = False

    def refresh(self) -> go.Figure | None:
        """Re-read the inputs, explain the routing, redraw; returns the new figure (None if unreadable)."""
        if self._loading:
            return None
        kind = self.exchange_type.value
        try:
            bindings = parse_bindings(self.bindings.value, kind)
            headers = parse_headers(self.headers.value) if kind == "headers" else None
        except InvalidBindingSpec as error:
            self.explanation = None
            self._say(str(error), error=True)
            return None
        self.explanation = explain_routing(kind, bindings, self.routing_key.value, headers)
        self.table.value = self._table_html(self.explanation)
        self._say(self.explanation.summary)
        fig = routing_figure(self.explanation)
        self._draw(fig)
        return fig

    @staticmethod
    def _table_html(explanation: RoutingExplanation) -> str:
        rows = "".join(
            f"<tr><td>{'✓' if v.matched else '✗'}</td><td>{html.escape(v.binding.queue)}</td>"
            f"<td><code>{html.escape(v.binding.describe())}</code></td><td>{html.escape(v.reason)}</td></tr>"
            for v in explanation.verdicts
        )
        return ("<table><tr><th></th><th>queue</th><th>binding</th><th>why</th></tr>" + rows + "</table>")

    def note(self) -> str:
        if self.explanation is None:
            return "the bindings could not be read"
        return f"{self.explanation.exchange_type} exchange, key {self.routing_key.value!r}: {self.explanation.summary}"
