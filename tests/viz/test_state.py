"""The state at an instant, folded from the trace."""

from __future__ import annotations

from mqlab.sim import TraceRecord
from mqlab.viz import TraceTimeline, snapshot_figure, state_at

TRACE = [
    TraceRecord(0.0, "queue:work", "enqueued", {"msg": "msg-1", "ready": 1}),
    TraceRecord(0.0, "queue:work", "enqueued", {"msg": "msg-2", "ready": 2}),
    TraceRecord(1.0, "queue:work", "delivered", {"msg": "msg-1", "ready": 1, "unacked": 1}),
    TraceRecord(2.0, "queue:work", "delivered", {"msg": "msg-2", "ready": 0, "unacked": 2}),
    TraceRecord(3.0, "queue:work", "acked", {"msg": "msg-1", "unacked": 1}),
    TraceRecord(3.0, "link", "send", {"id": 7, "kind": "ack"}),
    TraceRecord(3.5, "fault:link.loss", "lost", {"what": "ack", "id": 7}),
]


def test_levels_are_the_latest_values_at_that_instant():
    """Gauges hold the latest value written at or before the instant; later records do not leak in."""
    snap = state_at(TRACE, 1.5)
    assert snap.gauges == {"queue:work": {"ready": 1, "unacked": 1}}
    assert snap.index == 3
    assert snap.counts == {"queue:work": {"enqueued": 2, "delivered": 1}}


def test_in_flight_follows_deliveries_acks_and_losses():
    """A delivered message is in flight until acked; a frame sent on a link leaves when a fault loses it."""
    assert state_at(TRACE, 2.0).in_flight == {"queue:work": ("msg-1", "msg-2")}
    assert state_at(TRACE, 3.0).in_flight == {"queue:work": ("msg-2",), "link": (7,)}
    assert state_at(TRACE, 4.0).in_flight == {"queue:work": ("msg-2",)}


def test_recent_records_and_timeline_positions():
    """The snapshot carries the last few records; the timeline's instants are the distinct record times."""
    timeline = TraceTimeline(TRACE)
    assert timeline.times == [0.0, 1.0, 2.0, 3.0, 3.5]
    assert timeline.position_of(2.7) == 2
    assert timeline.position_of(-1) == 0
    snap = timeline.snapshot(3, recent=2)
    assert [r.action for r in snap.recent] == ["acked", "send"]


def test_snapshot_figure_bars():
    """One bar trace per level, one for messages in flight, values as written in the trace."""
    fig = snapshot_figure(state_at(TRACE, 3.0))
    bars = {t.name: (list(t.y), list(t.x)) for t in fig.data}
    assert bars["ready"] == (["queue:work"], [0])
    assert bars["unacked"] == (["queue:work"], [1])
    assert bars["in flight (unsettled messages)"] == (["queue:work", "link"], [1, 1])
    assert fig.layout.title.text == "State at t = 3 s (after 6 trace records)"
    assert fig.to_json() == snapshot_figure(state_at(TRACE, 3.0)).to_json()


def test_kafka_levels_are_kept_per_partition():
    """Records naming a topic and partition keep their offsets apart: one level per partition."""
    records = [
        TraceRecord(0.0, "cluster", "appended", {"topic": "t", "partition": 0, "offset": 4}),
        TraceRecord(0.0, "cluster", "appended", {"topic": "t", "partition": 1, "offset": 9}),
        TraceRecord(1.0, "billing", "committed", {"topic": "t", "partition": 0, "offset": 3}),
    ]
    assert state_at(records, 1.0).gauges == {
        "cluster t-0": {"offset": 4}, "cluster t-1": {"offset": 9}, "billing t-0": {"offset": 3},
    }
