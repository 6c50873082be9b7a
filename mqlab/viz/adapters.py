"""Adapters: the figures' plain inputs, read from the live models and the scenario results.

Each adapter reads only a model's public, documented introspection (``broker.topology()``,
``cluster.statistics()``, ``cluster.log_view(topic)``, the SQS service's queues and their
redrive policies, a walkthrough's protocol steps), duck-typed, so importing this module
imports no model and a model's internals can change freely.

=================================  =========================================================
adapter                            reads
=================================  =========================================================
:func:`from_rabbitmq`              ``Broker.topology()``: exchanges, bindings, queues
                                   (ready counts), consumers, DLX and alternate-exchange edges
:func:`from_kafka`                 ``Cluster.statistics()``: topics, partitions (records
                                   retained), each group's member assignment
:func:`logview_from_kafka`         ``Cluster.log_view(topic)`` and the groups' lag
:func:`from_sqs`                   the SQS service's live queues, visible counts, redrive
                                   policies (``deadLetterTargetArn``, ``maxReceiveCount``)
:func:`steps_from_walkthrough`     :class:`mqlab.patterns.protocol.ProtocolStep` records
=================================  =========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mqlab.viz.logview import GroupOffsets, LogView, PartitionOffsets
from mqlab.viz.sequence import ProtocolStep
from mqlab.viz.topology import Edge, Node, Topology, kafka_topology, rabbitmq_topology

__all__ = ["from_kafka", "from_rabbitmq", "from_sqs", "logview_from_kafka", "steps_from_walkthrough"]


def from_rabbitmq(broker: Any, *, include_predeclared: bool = False, title: str | None = None) -> Topology:
    """The topology of a :class:`mqlab.rabbitmq.Broker`: exchanges → bindings (keys) → queues (ready) → consumers.

    Dead-letter edges go from a queue to its ``x-dead-letter-exchange`` (labelled with
    ``x-dead-letter-routing-key``, or "(same key)"); with the default exchange as DLX the edge
    goes straight to the queue the routing key names. Alternate-exchange edges are dashed.
    Exchange-to-exchange bindings are drawn between exchanges.
    """
    described = broker.topology(include_predeclared=include_predeclared)
    queue_names = [q["name"] for q in described["queues"]]
    topo = rabbitmq_topology(
        exchanges={e["name"]: e["type"] for e in described["exchanges"]},
        bindings=[(b["source"], b["destination"], b["routing_key"] or _header_label(b["arguments"]))
                  for b in described["bindings"] if b["destination_type"] == "queue"],
        exchange_bindings=[(b["source"], b["destination"], b["routing_key"])
                           for b in described["bindings"] if b["destination_type"] == "exchange"],
        queues={q["name"]: q["ready"] for q in described["queues"]},
        consumers=[(c["queue"], c["consumer_tag"]) for c in described["consumers"]],
        dead_letter={d["queue"]: (d["exchange"], d["routing_key"]) for d in described["dead_letter_edges"]
                     if d["exchange"] != ""},
        title=title or f"RabbitMQ broker {getattr(broker, 'name', '?')!r}: exchanges → queues → consumers",
    )
    nodes = list(topo.nodes)
    edges = list(topo.edges)
    known = {n.id for n in nodes}
    for d in described["dead_letter_edges"]:
        target = d["routing_key"]
        if d["exchange"] == "" and target in queue_names:
            edges.append(Edge(f"q:{d['queue']}", f"q:{target}", "dead-letter", "via default exchange"))
            old = next(n for n in nodes if n.id == f"q:{target}")
            nodes[nodes.index(old)] = Node(old.id, old.label, "dlq", old.count, old.detail + " (dead letters)")
    for a in described["alternate_edges"]:
        source, target = f"x:{a['exchange']}", f"x:{a['alternate_exchange']}"
        if target not in known:
            nodes.append(Node(target, a["alternate_exchange"], "exchange", None, "alternate exchange (not declared)"))
            known.add(target)
        edges.append(Edge(source, target, "alternate", "unroutable"))
    return Topology(tuple(nodes), tuple(edges), topo.title)


def _header_label(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in arguments.items())


def from_kafka(cluster: Any, *, group: str | None = None, title: str | None = None) -> Topology:
    """The topology of a :class:`mqlab.kafka.Cluster`: topics → partitions (records retained) → group members.

    ``group`` picks one consumer group (default: every group; members are then labelled
    ``group/member``).
    """
    stats = cluster.statistics()
    groups = [g for g in stats.groups if group is None or g.group_id == group]
    several = len(groups) > 1
    assignment: dict[str, list[tuple[str, int]]] = {}
    for g in groups:
        for member, pairs in g.assignment:
            label = f"{g.group_id}/{member}" if several else member
            assignment.setdefault(label, []).extend((topic, p) for topic, p in pairs)
    return kafka_topology(
        topics={t.name: [p.records for p in t.partitions] for t in stats.topics},
        assignment=assignment,
        group=group or (groups[0].group_id if len(groups) == 1 else ""),
        **({"title": title} if title else {}),
    )


def logview_from_kafka(cluster: Any, topic: str) -> LogView:
    """The log view of ``topic``: offsets per partition, each group's committed offset, position and lag.

    The lag shown is the model's (``GroupStatistics.lag``: high watermark minus the committed
    offset, or minus the log start offset when the group has not committed), so the figure
    and ``cluster.statistics()`` agree.
    """
    view = cluster.log_view(topic)
    lags: dict[tuple[str, int], int] = {}
    for g in cluster.statistics().groups:
        for lag in g.lag:
            if lag.topic == topic:
                lags[(g.group_id, lag.partition)] = lag.lag
    partitions = []
    for p in view.partitions:
        committed = dict(p.committed)
        positions: dict[str, int] = {}
        for group_id, _consumer, position in p.positions:
            positions.setdefault(group_id, position)
        groups = list(dict.fromkeys([*committed, *positions]))
        expired = [s for s in getattr(p, "segments", ()) if s.expired]
        partitions.append(PartitionOffsets(
            topic, p.partition, p.log_start_offset, p.high_watermark, p.log_end_offset,
            tuple(GroupOffsets(g, committed.get(g), positions.get(g), lags.get((g, p.partition))) for g in groups),
            retention_offset=max(s.next_offset for s in expired) if expired else None,
        ))
    when = f" at t = {view.now_ms / 1000:g} s" if hasattr(view, "now_ms") else ""
    return LogView(tuple(partitions), f"The log of {topic!r}{when}: retained offsets, committed offsets and lag")


def from_sqs(service: Any, *, title: str = "SQS: queues → dead-letter queues (redrive policy)") -> Topology:
    """The topology of an SQS service (``mqlab.sqs.SQS`` or a client of it): queues (visible messages) and
    redrive edges to their dead-letter queues labelled with ``maxReceiveCount``."""
    if not hasattr(service, "queues") and hasattr(service, "service"):
        service = service.service
    queues = list(service.queues)
    by_arn = {q.arn: q for q in queues}
    dlqs = set()
    edges: list[Edge] = []
    for q in queues:
        policy = q.config.redrive_policy
        if policy is None:
            continue
        target = by_arn.get(policy.dead_letter_target_arn)
        if target is None:
            continue
        dlqs.add(target.name)
        edges.append(Edge(f"q:{q.name}", f"q:{target.name}", "redrive", f"maxReceiveCount={policy.max_receive_count}"))
    nodes = []
    for q in queues:
        visible, in_flight, delayed = q.counts()
        nodes.append(Node(f"q:{q.name}", q.name, "dlq" if q.name in dlqs else "queue", visible,
                          f"queue {q.name!r}: {visible} visible, {in_flight} in flight, {delayed} delayed"))
    return Topology(tuple(nodes), tuple(edges), title)


def steps_from_walkthrough(walkthrough: Any) -> list[ProtocolStep]:
    """Sequence-diagram steps from :mod:`mqlab.patterns` protocol steps (a Walkthrough or its ``steps``).

    A step whose source is its target is a note; a lost step's fault is named in its label.
    """
    raw: Iterable[Any] = getattr(walkthrough, "steps", walkthrough)
    steps: list[ProtocolStep] = []
    for s in raw:
        if s.fate == "note" or s.source == s.target:
            steps.append(ProtocolStep(s.time, s.source, s.source, s.text or str(s.kind), "note"))
            continue
        label = f"{s.kind} {s.message_id}"
        if s.fate == "lost" and s.fault:
            label += f" (lost: {s.fault})"
        fate = s.fate if s.fate in ("delivered", "lost", "duplicated") else "in flight"
        steps.append(ProtocolStep(s.time, s.source, s.target, label, fate, s.arrives_at, str(s.kind)))
    return steps
