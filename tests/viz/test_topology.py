"""Topology diagrams: deterministic layered layout, counts on nodes, one trace per edge kind."""

from __future__ import annotations

import pytest

from mqlab.viz import (
    Edge,
    InvalidFigureInput,
    Node,
    Topology,
    kafka_topology,
    layout_positions,
    rabbitmq_topology,
    sqs_topology,
    topology_figure,
)


def _rides() -> Topology:
    return rabbitmq_topology(
        exchanges={"rides": "topic", "dlx": "fanout"},
        bindings=[("rides", "nyc", "geo.us.nyc.#"), ("rides", "all", "#"), ("dlx", "dead", "")],
        queues={"nyc": 3, "all": 5, "dead": 1},
        consumers=[("nyc", "c1"), ("all", "c2")],
        dead_letter={"nyc": ("dlx", None)},
    )


def test_rabbitmq_layers_exchanges_queues_consumers():
    """Exchanges sit in column 0, queues in 1, consumers in 2; the DLX edge does not push columns."""
    pos = layout_positions(_rides())
    assert {k: v[0] for k, v in pos.items()} == {
        "x:rides": 0, "x:dlx": 0, "q:nyc": 1, "q:all": 1, "q:dead": 1, "c:c1": 2, "c:c2": 2,
    }
    # first node of a column at the top (largest y), rows evenly spaced and centred
    assert [pos[k][1] for k in ("q:nyc", "q:all", "q:dead")] == [1.0, 0.0, -1.0]


def test_rabbitmq_nodes_edges_and_labels():
    """Counts are written under queue labels, binding keys on edges, the dead-letter queue drawn as a DLQ."""
    topo = _rides()
    assert topo.node("q:dead").kind == "dlq"
    assert [(e.source, e.target, e.kind, e.label) for e in topo.edges if e.kind == "dead-letter"] == [
        ("q:nyc", "x:dlx", "dead-letter", "(same key)")
    ]
    fig = topology_figure(topo)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["queue (ready count)"].text) == ["nyc<br>(3)", "all<br>(5)"]
    assert list(by_name["dead-letter queue (count)"].text) == ["dead<br>(1)"]
    assert "geo.us.nyc.#" in list(by_name["edge labels"].text)
    assert by_name["dead-letter (DLX, routing key)"].line.dash == "dash"
    assert [t.name for t in fig.data][:3] == ["binding (routing key)", "dead-letter (DLX, routing key)",
                                             "delivers to consumer"]


def test_barycentre_orders_a_column_by_its_predecessors():
    """A node is placed next to the nodes that feed it: consumers follow their queues' order."""
    topo = Topology(
        nodes=(Node("a", "a", "queue"), Node("b", "b", "queue"), Node("cb", "cb", "consumer"),
               Node("ca", "ca", "consumer")),
        edges=(Edge("a", "ca", "consume"), Edge("b", "cb", "consume")),
    )
    pos = layout_positions(topo)
    assert pos["ca"][1] > pos["cb"][1]  # ca is fed by a (top), so it is drawn above cb


def test_cycle_does_not_hang_and_layout_is_bounded():
    """Exchange-to-exchange bindings in a cycle (legal in RabbitMQ) still lay out, in bounded columns."""
    topo = Topology(
        nodes=(Node("x1", "x1", "exchange"), Node("x2", "x2", "exchange")),
        edges=(Edge("x1", "x2", "exchange-binding"), Edge("x2", "x1", "exchange-binding")),
    )
    pos = layout_positions(topo)
    assert (pos["x1"][0], pos["x2"][0]) == (0, 1)


def test_kafka_topics_partitions_members():
    """Kafka: topic → its partitions (records retained) → the group member each is assigned to."""
    topo = kafka_topology(topics={"orders": [4, 6]}, assignment={"m1": [("orders", 0)], "m2": [("orders", 1)]},
                          group="billing")
    pos = layout_positions(topo)
    assert [pos[k][0] for k in ("t:orders", "p:orders-0", "p:orders-1", "m:m1", "m:m2")] == [0, 1, 1, 2, 2]
    assert topo.node("t:orders").count == 10
    assert "billing" in topo.title
    fig = topology_figure(topo)
    assert list({t.name: t for t in fig.data}["partition (records retained)"].text) == ["orders-0<br>(4)",
                                                                                       "orders-1<br>(6)"]


def test_sqs_redrive_edge_is_labelled_with_max_receive_count():
    """SQS: a redrive edge from the source queue to its DLQ carries maxReceiveCount."""
    topo = sqs_topology(queues={"jobs": 7, "jobs-dlq": 2}, redrive={"jobs": ("jobs-dlq", 5)},
                        consumers=[("jobs", "worker")])
    assert topo.node("q:jobs-dlq").kind == "dlq"
    assert [e.label for e in topo.edges if e.kind == "redrive"] == ["maxReceiveCount=5"]


def test_edge_to_unknown_node_is_refused():
    """An edge naming a node that is not in the topology raises, naming the node and the fix."""
    topo = Topology(nodes=(Node("a", "a", "queue"),), edges=(Edge("a", "b", "consume"),))
    with pytest.raises(InvalidFigureInput, match=r"'b'.*add a Node"):
        topology_figure(topo)


def test_topology_figure_is_deterministic():
    """The same topology gives byte-identical figure JSON (layout computed, never random)."""
    assert topology_figure(_rides()).to_json() == topology_figure(_rides()).to_json()


def test_parallel_bindings_share_one_label():
    """A queue bound to one exchange with several keys shows one label listing the keys, not overlapping labels."""
    from mqlab.viz.topology import Edge, Node, Topology, topology_figure

    topology = Topology(
        nodes=(Node("x", "logs", "exchange"), Node("q", "everything", "queue")),
        edges=(Edge("x", "q", "binding", "info"), Edge("x", "q", "binding", "warning"),
               Edge("x", "q", "binding", "error")),
    )
    fig = topology_figure(topology)
    labels = next(t for t in fig.data if t.name == "edge labels")
    assert list(labels.text) == ["info, warning, error"]
