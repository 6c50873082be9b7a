"""Topology diagrams: where a message can go, drawn left to right, with counts on the nodes.

The input is a plain :class:`Topology` of :class:`Node` and :class:`Edge` records, so a
diagram can be drawn before (or without) a broker: the helpers
:func:`rabbitmq_topology`, :func:`kafka_topology` and :func:`sqs_topology` build one from
dicts and lists, and :mod:`mqlab.viz.adapters` builds one from a live model.

Layout is deterministic and layered (no random positions, no force simulation):

* a node's column is the length of the longest chain of *forward* edges that reaches it
  (``publish``, ``binding``, ``consume``, ``partition``, ``assignment``). Dead-letter and
  redrive edges go backwards or sideways and do not push columns, so a DLX drawn from a
  queue back to an exchange stays readable;
* inside a column, nodes are sorted by the mean row of their forward predecessors (one
  barycentre pass), ties kept in the order nodes were given;
* rows are evenly spaced and centred, the first at the top.

Edges of one kind share a trace (and a legend entry); arrowheads sit near the head of each
edge; binding keys and redrive limits are written at the middle of the edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.palette import BAD, GOOD, MUTED, NEUTRAL, OKABE_ITO, TEMPLATE

__all__ = [
    "EDGE_STYLES",
    "FORWARD_EDGES",
    "NODE_STYLES",
    "Edge",
    "Node",
    "Topology",
    "kafka_topology",
    "layout_positions",
    "rabbitmq_topology",
    "sqs_topology",
    "topology_figure",
]


@dataclass(frozen=True)
class Node:
    """One thing that holds or passes messages.

    ``kind`` is one of :data:`NODE_STYLES` (``exchange``, ``queue``, ``consumer``, ``topic``,
    ``partition``, ``member``, ``dlq``, ``producer``); ``count`` is written under the label
    (messages ready, records retained, ...) and ``detail`` shows on hover.
    """

    id: str
    label: str
    kind: str
    count: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Edge:
    """A path from ``source`` to ``target`` (node ids); ``label`` is written at its middle."""

    source: str
    target: str
    kind: str = "binding"
    label: str = ""


@dataclass(frozen=True)
class Topology:
    """Nodes and edges, in the order they should be considered for layout."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    title: str = "Topology"

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(f"no node {node_id!r} in this topology")


NODE_STYLES: dict[str, tuple[str, str, str]] = {
    "producer": ("triangle-right", OKABE_ITO["black"], "producer"),
    "exchange": ("diamond", OKABE_ITO["orange"], "exchange"),
    "queue": ("square", NEUTRAL, "queue (ready count)"),
    "dlq": ("square", BAD, "dead-letter queue (count)"),
    "consumer": ("circle", GOOD, "consumer"),
    "topic": ("hexagon", OKABE_ITO["reddish_purple"], "topic"),
    "partition": ("square", NEUTRAL, "partition (records retained)"),
    "member": ("circle", GOOD, "group member"),
}
"""Marker symbol, colour and legend text for each node kind."""

EDGE_STYLES: dict[str, tuple[str, str, str]] = {
    "publish": (MUTED, "solid", "publishes to"),
    "binding": (NEUTRAL, "solid", "binding (routing key)"),
    "exchange-binding": (OKABE_ITO["orange"], "solid", "exchange-to-exchange binding"),
    "consume": (GOOD, "solid", "delivers to consumer"),
    "dead-letter": (BAD, "dash", "dead-letter (DLX, routing key)"),
    "partition": (OKABE_ITO["reddish_purple"], "solid", "has partition"),
    "assignment": (GOOD, "solid", "assigned to member"),
    "redrive": (BAD, "dash", "redrive after maxReceiveCount"),
    "alternate": (OKABE_ITO["orange"], "dash", "alternate exchange (unroutable messages)"),
    "matched": (GOOD, "solid", "binding matched"),
    "unmatched": (MUTED, "dot", "binding did not match"),
}
"""Colour, dash and legend text for each edge kind."""

FORWARD_EDGES = frozenset({"publish", "binding", "exchange-binding", "consume", "partition", "assignment",
                           "matched", "unmatched"})
"""Edge kinds that define columns; the others (dead-letter, redrive) are drawn but do not push layers."""


def layout_positions(topology: Topology) -> dict[str, tuple[float, float]]:
    """Deterministic ``{node id: (column, row)}``; see the module docstring for the rules."""
    ids = [n.id for n in topology.nodes]
    known = set(ids)
    for e in topology.edges:
        for end in (e.source, e.target):
            if end not in known:
                raise InvalidFigureInput(
                    f"edge {e.source!r} -> {e.target!r} names node {end!r}, which is not in the topology's nodes; "
                    "add a Node for it"
                )
    forward = _without_back_edges(ids, [e for e in topology.edges if e.kind in FORWARD_EDGES])
    column = dict.fromkeys(ids, 0)
    for _ in range(len(ids)):  # longest path by relaxation over an acyclic edge set
        changed = False
        for e in forward:
            if column[e.target] < column[e.source] + 1:
                column[e.target] = column[e.source] + 1
                changed = True
        if not changed:
            break
    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(column[node_id], []).append(node_id)
    row: dict[str, float] = {}
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for e in forward:
        predecessors[e.target].append(e.source)
    for c in sorted(columns):
        members = columns[c]

        def weight(node_id: str, index: int) -> tuple[float, int]:
            before = [row[p] for p in predecessors[node_id] if p in row]
            return (sum(before) / len(before) if before else float(index), index)

        ordered = sorted(members, key=lambda n: weight(n, members.index(n)))
        middle = (len(ordered) - 1) / 2
        for i, node_id in enumerate(ordered):
            row[node_id] = i - middle
    return {node_id: (float(column[node_id]), -row[node_id] + 0.0) for node_id in ids}


def _without_back_edges(ids: list[str], edges: list[Edge]) -> list[Edge]:
    """Drop self-loops and the edges that close a cycle (found by a depth-first walk in node order)."""
    out: dict[str, list[Edge]] = {node_id: [] for node_id in ids}
    for e in edges:
        if e.source != e.target:
            out[e.source].append(e)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    back: set[int] = set()
    for root in ids:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node_id, i = stack[-1]
            if i < len(out[node_id]):
                stack[-1] = (node_id, i + 1)
                e = out[node_id][i]
                if state.get(e.target) == 1:
                    back.add(id(e))
                elif e.target not in state:
                    state[e.target] = 1
                    stack.append((e.target, 0))
            else:
                state[node_id] = 2
                stack.pop()
    return [e for e in edges if e.source != e.target and id(e) not in back]


def topology_figure(topology: Topology, *, height: int | None = None) -> go.Figure:
    """Draw ``topology``: one trace per edge kind and per node kind, labels and counts on the nodes."""
    if not topology.nodes:
        raise InvalidFigureInput(f"topology {topology.title!r} has no nodes to draw")
    pos = layout_positions(topology)
    fig = go.Figure()
    kinds = list(dict.fromkeys(e.kind for e in topology.edges))
    for kind in kinds:
        colour, dash, legend = EDGE_STYLES.get(kind, (MUTED, "solid", kind))
        xs: list[float | None] = []
        ys: list[float | None] = []
        sizes: list[int] = []
        for e in topology.edges:
            if e.kind != kind:
                continue
            (x0, y0), (x1, y1) = pos[e.source], pos[e.target]
            if e.source == e.target:
                continue
            head = (x0 + 0.82 * (x1 - x0), y0 + 0.82 * (y1 - y0))
            xs += [x0, head[0], x1, None]
            ys += [y0, head[1], y1, None]
            sizes += [0, 11, 0, 0]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers", name=legend, legendgroup=f"edge:{kind}",
            line={"color": colour, "dash": dash, "width": 1.6},
            marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": colour},
            hoverinfo="skip",
        ))
    # Parallel edges (one queue bound with several keys) share one label, "info, warning, error",
    # instead of drawing their labels on top of each other.
    labels: dict[tuple[str, str], list[str]] = {}
    for e in topology.edges:
        if e.label and e.source != e.target:
            keys = labels.setdefault((e.source, e.target), [])
            if e.label not in keys:
                keys.append(e.label)
    if labels:
        fig.add_trace(go.Scatter(
            x=[(pos[source][0] + pos[target][0]) / 2 for source, target in labels],
            y=[(pos[source][1] + pos[target][1]) / 2 for source, target in labels],
            mode="text", text=[", ".join(keys) for keys in labels.values()], textposition="top center",
            textfont={"size": 11, "color": "#444444"}, showlegend=False, hoverinfo="skip", name="edge labels",
        ))
    for kind in dict.fromkeys(n.kind for n in topology.nodes):
        symbol, colour, legend = NODE_STYLES.get(kind, ("circle", MUTED, kind))
        members = [n for n in topology.nodes if n.kind == kind]
        fig.add_trace(go.Scatter(
            x=[pos[n.id][0] for n in members],
            y=[pos[n.id][1] for n in members],
            mode="markers+text",
            name=legend,
            legendgroup=f"node:{kind}",
            text=[n.label if n.count is None else f"{n.label}<br>({n.count})" for n in members],
            textposition="bottom center",
            customdata=[n.detail or n.label for n in members],
            hovertemplate="%{customdata}<extra></extra>",
            marker={"symbol": symbol, "color": colour, "size": 22, "line": {"color": "white", "width": 1}},
        ))
    rows = max((sum(1 for p in pos.values() if p[0] == c) for c in {p[0] for p in pos.values()}), default=1)
    hidden = {"showgrid": False, "showticklabels": False, "showline": False, "ticks": "", "zeroline": False}
    fig.update_layout(
        template=TEMPLATE,
        title={"text": topology.title},
        height=height or max(320, 110 + 85 * rows),
        xaxis={**hidden, "title": {"text": ""}, "range": [-0.5, max(p[0] for p in pos.values()) + 0.5]},
        yaxis={**hidden, "title": {"text": ""}, "range": [-(rows / 2) - 0.2, rows / 2 + 0.2]},
        legend={"title": {"text": "legend"}},
    )
    return fig


def _unique_id(prefix: str, name: str) -> str:
    return f"{prefix}:{name}"


def rabbitmq_topology(
    *,
    exchanges: Mapping[str, str],
    bindings: Iterable[tuple[str, str, str]],
    queues: Mapping[str, int | None] | Sequence[str] = (),
    consumers: Iterable[tuple[str, str]] = (),
    dead_letter: Mapping[str, tuple[str, str | None]] | None = None,
    exchange_bindings: Iterable[tuple[str, str, str]] = (),
    title: str = "RabbitMQ: exchanges → bindings → queues → consumers",
) -> Topology:
    """A RabbitMQ topology from plain data.

    ``exchanges`` maps name to type; ``bindings`` are ``(exchange, queue, routing key)``;
    ``queues`` maps name to its ready count (or lists names); ``consumers`` are ``(queue,
    consumer tag)``; ``dead_letter`` maps a queue to ``(x-dead-letter-exchange,
    x-dead-letter-routing-key or None)``; ``exchange_bindings`` are ``(source, destination,
    key)``. The default exchange ``""`` is drawn as ``(default)`` if used.
    """
    counts = dict(queues) if isinstance(queues, Mapping) else dict.fromkeys(queues)
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    def exchange(name: str) -> str:
        node_id = _unique_id("x", name)
        if node_id not in nodes:
            kind = exchanges.get(name, "direct" if name == "" else "?")
            nodes[node_id] = Node(node_id, name or "(default)", "exchange", None, f"exchange {name!r} ({kind})")
        return node_id

    def queue(name: str) -> str:
        node_id = _unique_id("q", name)
        if node_id not in nodes:
            nodes[node_id] = Node(node_id, name, "queue", counts.get(name),
                                  f"queue {name!r}: {counts.get(name)} ready")
        return node_id

    for name in exchanges:
        exchange(name)
    bindings = list(bindings)
    for source, destination, key in exchange_bindings:
        edges.append(Edge(exchange(source), exchange(destination), "exchange-binding", key))
    for source, destination, key in bindings:
        edges.append(Edge(exchange(source), queue(destination), "binding", key))
    for name in counts:
        queue(name)
    for name, (dlx, dlrk) in (dead_letter or {}).items():
        edges.append(Edge(queue(name), exchange(dlx), "dead-letter", dlrk if dlrk is not None else "(same key)"))
    dead_targets = {_unique_id("x", dlx) for dlx, _ in (dead_letter or {}).values()}
    for e in list(edges):
        if e.kind == "binding" and e.source in dead_targets:
            old = nodes[e.target]
            nodes[e.target] = Node(old.id, old.label, "dlq", old.count, old.detail + " (dead letters)")
    for queue_name, tag in consumers:
        node_id = _unique_id("c", tag)
        short = tag if len(tag) <= 14 else tag[:11] + "…"  # server-generated tags are long (amq.ctag-..., ctag1.<hex>)
        nodes.setdefault(node_id, Node(node_id, short, "consumer", None, f"consumer {tag!r} on {queue_name!r}"))
        edges.append(Edge(queue(queue_name), node_id, "consume"))
    return Topology(tuple(nodes.values()), tuple(edges), title)


def kafka_topology(
    *,
    topics: Mapping[str, Sequence[int]],
    assignment: Mapping[str, Iterable[tuple[str, int]]] | None = None,
    group: str = "",
    title: str = "Kafka: topics → partitions → group members",
) -> Topology:
    """A Kafka topology: ``topics`` maps a topic to each partition's retained record count;
    ``assignment`` maps a group member id to its ``(topic, partition)`` pairs."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    for topic, counts in topics.items():
        topic_id = _unique_id("t", topic)
        nodes.append(Node(topic_id, topic, "topic", sum(counts), f"topic {topic!r}: {len(counts)} partitions"))
        for p, count in enumerate(counts):
            part_id = _unique_id("p", f"{topic}-{p}")
            nodes.append(Node(part_id, f"{topic}-{p}", "partition", count, f"partition {topic}-{p}: {count} records"))
            edges.append(Edge(topic_id, part_id, "partition"))
    for member, pairs in (assignment or {}).items():
        member_id = _unique_id("m", member)
        nodes.append(Node(member_id, member, "member", None, f"member {member!r} of group {group!r}"))
        for topic, p in pairs:
            edges.append(Edge(_unique_id("p", f"{topic}-{p}"), member_id, "assignment"))
    if group:
        title = f"{title} (group {group!r})"
    return Topology(tuple(nodes), tuple(edges), title)


def sqs_topology(
    *,
    queues: Mapping[str, int | None],
    redrive: Mapping[str, tuple[str, int]] | None = None,
    consumers: Iterable[tuple[str, str]] = (),
    title: str = "SQS: queues → dead-letter queues (redrive policy)",
) -> Topology:
    """An SQS topology: ``queues`` maps a queue name to its visible message count;
    ``redrive`` maps a source queue to ``(dead-letter queue, maxReceiveCount)``;
    ``consumers`` are ``(queue, consumer name)``."""
    dlqs = {target for target, _ in (redrive or {}).values()}
    nodes = [
        Node(_unique_id("q", name), name, "dlq" if name in dlqs else "queue", count, f"queue {name!r}: {count} visible")
        for name, count in queues.items()
    ]
    known = {n.id for n in nodes}
    edges: list[Edge] = []
    for source, (target, limit) in (redrive or {}).items():
        for name in (source, target):
            if _unique_id("q", name) not in known:
                nodes.append(Node(_unique_id("q", name), name, "dlq" if name in dlqs else "queue", None, name))
                known.add(_unique_id("q", name))
        edges.append(Edge(_unique_id("q", source), _unique_id("q", target), "redrive", f"maxReceiveCount={limit}"))
    for queue_name, consumer in consumers:
        node_id = _unique_id("c", consumer)
        if node_id not in known:
            nodes.append(Node(node_id, consumer, "consumer", None, f"{consumer} polls {queue_name!r}"))
            known.add(node_id)
        edges.append(Edge(_unique_id("q", queue_name), node_id, "consume"))
    return Topology(tuple(nodes), tuple(edges), title)

