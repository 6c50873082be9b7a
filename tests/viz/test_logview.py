"""The log view: retention boundary, high watermark, committed offsets, positions and lag."""

from __future__ import annotations

import pytest

from mqlab.viz import GroupOffsets, InvalidFigureInput, LogView, PartitionOffsets, logview_figure


def _view() -> LogView:
    return LogView((
        PartitionOffsets("orders", 0, 5, 20, 22, (GroupOffsets("billing", 12, 15), GroupOffsets("audit", 20, 20))),
        PartitionOffsets("orders", 1, 0, 8, None, (GroupOffsets("billing", None, 3),)),
    ))


def test_lag_is_high_watermark_minus_committed():
    """Lag = high watermark - committed offset, as kafka-consumer-groups reports; no commit, no lag."""
    p0, p1 = _view().partitions
    assert p0.lag("billing") == 8
    assert p0.lag("audit") == 0
    assert p1.lag("billing") is None


def test_bars_show_removed_retained_and_unreplicated_ranges():
    """Per partition: [0, log start) removed, [log start, HW) retained, [HW, LEO) above the high watermark."""
    fig = logview_figure(_view())
    bars = {t.name: t for t in fig.data if t.type == "bar"}
    removed = bars["removed by retention"]
    retained = bars["retained, readable"]
    above = bars["above the high watermark (not yet replicated)"]
    assert list(removed.y) == ["orders-0", "orders-1"]
    assert (list(removed.base), list(removed.x)) == ([0, 0], [5, 0])
    assert (list(retained.base), list(retained.x)) == ([5, 0], [15, 8])
    assert (list(above.base), list(above.x)) == ([20, 8], [2, 0])


def test_group_marks_committed_and_position_with_lag_text():
    """Each group has a committed-offset trace (with the lag written) and a position trace, in its own colour."""
    fig = logview_figure(_view())
    marks = {t.name: t for t in fig.data if t.type == "scatter"}
    committed = marks["group billing: committed offset"]
    assert (list(committed.x), list(committed.y), list(committed.text)) == ([12], ["orders-0"], ["lag 8"])
    position = marks["group billing: position offset"]
    assert (list(position.x), list(position.y)) == ([15, 3], ["orders-0", "orders-1"])
    assert committed.marker.color == position.marker.color != marks["group audit: committed offset"].marker.color
    assert fig.layout.xaxis.title.text == "offset"


def test_offsets_out_of_order_are_refused():
    """A log start above the high watermark is impossible; the error states the invariant."""
    with pytest.raises(InvalidFigureInput, match=r"log start .* <= high watermark"):
        PartitionOffsets("t", 0, 9, 3)
    with pytest.raises(InvalidFigureInput, match="no partitions"):
        logview_figure([])


def test_logview_is_deterministic():
    """The same offsets give byte-identical figure JSON."""
    assert logview_figure(_view()).to_json() == logview_figure(_view()).to_json()


def test_records_past_retention_but_not_deleted_have_their_own_band():
    """With a retention offset, [log start, retention offset) is drawn apart from the readable, retained range."""
    view = LogView((PartitionOffsets("t", 0, 10, 50, 50, (), retention_offset=30),))
    bars = {t.name: (list(t.base), list(t.x)) for t in logview_figure(view).data if t.type == "bar"}
    assert bars["past retention.ms, not yet deleted"] == ([10], [20])
    assert bars["retained, readable"] == ([30], [20])
