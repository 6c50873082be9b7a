"""The message inspector, driven headless."""

from __future__ import annotations

from mqlab.sim import TraceRecord
from mqlab.widgets import MessageInspector
from mqlab.widgets.inspector import message_headers

TRACE = [
    TraceRecord(0.0, "exchange:orders", "routed", {"msg": "msg-1", "headers": {"tenant": "a"}}),
    TraceRecord(0.0, "queue:work", "enqueued", {"msg": "msg-1", "ready": 1}),
    TraceRecord(0.1, "exchange:orders", "routed", {"msg": "msg-2", "headers": {"tenant": "b"}}),
    TraceRecord(1.0, "queue:work", "dead_lettered", {"msg": "msg-1", "policy": "rejected"}),
    TraceRecord(1.0, "queue:dlq", "enqueued", {"msg": "msg-1", "headers": {"x-death": [{"count": 1}]}}),
]


def test_picking_a_message_shows_its_journey_and_headers():
    """The dropdown lists ids by first appearance; picking one redraws its journey and its headers."""
    inspector = MessageInspector(TRACE)
    assert [value for _, value in inspector.picker.options] == ["msg-1", "msg-2"]
    assert inspector.headers == {"tenant": "a", "x-death": [{"count": 1}]}
    assert [s.action for s in inspector.steps] == ["routed", "enqueued", "dead_lettered", "enqueued"]
    inspector.picker.value = "msg-2"
    assert [s.action for s in inspector.steps] == ["routed"]
    assert inspector.headers == {"tenant": "b"}
    assert inspector.figure.layout.title.text == "Journey of msg-2: 1 steps, ends 'routed'"
    assert "tenant" in inspector.table.value


def test_headers_given_by_hand_complete_the_trace():
    """Headers passed to the inspector are merged over those found in the trace."""
    inspector = MessageInspector(TRACE, message="msg-2", headers={"msg-2": {"priority": 5}})
    assert inspector.headers == {"tenant": "b", "priority": 5}
    assert message_headers(TRACE, "msg-404") == {}


def test_empty_trace_is_explained():
    """No message ids: the inspector says how to record a trace instead of raising."""
    inspector = MessageInspector([])
    assert "trace=True" in inspector.status.value
    assert inspector.note() == "no message picked"


def test_first_record_gives_the_message_properties():
    """The publish record's details (exchange, routing key) show as properties of the message."""
    records = [TraceRecord(0.0, "channel:1", "published", {"msg": "msg-1", "exchange": "rides",
                                                            "routing_key": "geo.us", "seq": None})]
    assert message_headers(records, "msg-1") == {"exchange": "rides", "routing_key": "geo.us"}
