"""A message's journey, read from the trace."""

from __future__ import annotations

import pytest

from mqlab.sim import TraceRecord
from mqlab.viz import InvalidFigureInput, JourneyStep, journey_figure, journey_from_trace, message_ids
from mqlab.viz.journey import outcome_of

TRACE = [
    TraceRecord(0.0, "exchange:orders", "routed", {"msg": "msg-1", "queues": ["work"]}),
    TraceRecord(0.0, "queue:work", "enqueued", {"msg": "msg-1", "ready": 1}),
    TraceRecord(0.0, "queue:work", "enqueued", {"msg": "msg-2", "ready": 2}),
    TraceRecord(0.5, "queue:work", "delivered", {"msg": "msg-1", "consumer": "c1"}),
    TraceRecord(1.0, "queue:work", "requeued", {"msg": "msg-1", "delivery_count": 1}),
    TraceRecord(1.5, "queue:work", "dead_lettered", {"msg": "msg-1", "policy": "delivery_limit"}),
    TraceRecord(1.5, "queue:dlq", "enqueued", {"msg": "msg-1", "x_death_count": 1}),
    TraceRecord(3.0, "queue:dlq", "acked", {"msg": "msg-1"}),
    TraceRecord(3.2, "sqs:jobs", "received", {"message_id": "m-9", "receive_count": 2}),
]


def test_journey_keeps_only_that_message_in_order():
    """The journey holds every record naming the message, in trace order, with the other details as text."""
    steps = journey_from_trace(TRACE, "msg-1")
    assert [s.action for s in steps] == ["routed", "enqueued", "delivered", "requeued", "dead_lettered",
                                         "enqueued", "acked"]
    assert steps[3] == JourneyStep(1.0, "queue:work", "requeued", "delivery_count=1")


def test_message_ids_across_model_vocabularies():
    """Ids are found under RabbitMQ's 'msg' and SQS's 'message_id', in order of first appearance."""
    assert message_ids(TRACE) == ["msg-1", "msg-2", "m-9"]
    assert [s.detail for s in journey_from_trace(TRACE, "m-9")] == ["receive_count=2"]


def test_outcomes_classify_actions():
    """Acks are done, requeues are retries, dead-lettering is a failure, routing is progress."""
    assert [outcome_of(a) for a in ("acked", "requeued", "dead_lettered", "routed")] == [
        "done", "retry", "failed", "progress"
    ]


def test_figure_places_steps_by_time_and_place_with_counts():
    """Markers sit at (time, place); each outcome has its own trace; delivery and x-death counts are written."""
    fig = journey_figure(journey_from_trace(TRACE, "msg-1"))
    traces = {t.name: t for t in fig.data}
    assert list(traces["path"].x) == [0.0, 0.0, 0.5, 1.0, 1.5, 1.5, 3.0]
    retry = traces["retry or redelivery"]
    assert (list(retry.x), list(retry.y), list(retry.text)) == ([1.0], ["queue:work"], ["requeued (delivery count 1)"])
    failed = traces["lost, expired or dead-lettered"]
    assert list(failed.text) == ["dead_lettered"]
    assert list(traces["done (acked / deleted)"].y) == ["queue:dlq"]
    assert "x death count 1" in list(traces["progress (published, routed, delivered)"].text)[-1]
    assert list(fig.layout.yaxis.categoryarray) == ["exchange:orders", "queue:work", "queue:dlq"]
    assert fig.layout.xaxis.title.text == "virtual time (s)"


def test_unknown_message_explains_how_to_get_a_trace():
    """An empty journey raises, reminding that tracing must be on and ids are spelled as in the trace."""
    with pytest.raises(InvalidFigureInput, match="trace=True"):
        journey_figure(journey_from_trace(TRACE, "msg-404"))


def test_journey_figure_is_deterministic():
    """The same journey gives byte-identical figure JSON."""
    steps = journey_from_trace(TRACE, "msg-1")
    assert journey_figure(steps).to_json() == journey_figure(steps).to_json()
