"""The ready scenario dashboards, driven headless at their default sizes."""

from __future__ import annotations

from mqlab.scenarios import retry_storm
from mqlab.widgets import (
    cascade_dashboard,
    guarantees_dashboard,
    incident_dashboard,
    lost_ack_dashboard,
    retry_storm_dashboard,
)
from mqlab.widgets.scenarios import retry_storm_figure


def test_retry_storm_switching_to_dlq_unblocks_the_queue():
    """Moving from requeue to DLQ re-runs the scenario: good messages get processed, the poison is dead-lettered."""
    board = retry_storm_dashboard()
    assert board.result.mode == "requeue"
    processed_before = board.result.good_processed
    board.set(mode="dlq")
    assert board.result.mode == "dlq"
    assert board.result.dead_lettered >= 1
    assert board.result.good_processed > processed_before
    assert "Retry storm (dlq)" in board.figure.layout.title.text
    assert [t.name for t in board.figure.data] == ["depth (messages)", "processed (messages)"]
    assert list(board.figure.data[0].y) == list(board.result.depth_series)


def test_retry_storm_figure_matches_the_scenario_result():
    """The figure plots the scenario's own series against its own times."""
    result = retry_storm("dlq")
    fig = retry_storm_figure(result)
    assert list(fig.data[1].x) == list(result.times)
    assert list(fig.data[1].y) == list(result.processed_series)


def test_cascade_overlays_sync_and_queue_with_the_slow_window():
    """The cascade figure overlays both runs per metric and shades the slow window; retries change the result."""
    board = cascade_dashboard()
    names = [(t.name, t.yaxis) for t in board.figure.data]
    assert ("synchronous chain", "y") in names and ("through a queue", "y") in names
    assert board.figure.layout.shapes[0].type == "rect"
    assert (board.figure.layout.shapes[0].x0, board.figure.layout.shapes[0].x1) == (15.0, 35.0)
    assert board.figure.layout.annotations[0].text == "inventory is slow"
    errors = board.result.sync.client_errors
    board.set(retries=3)
    assert board.result.sync.client_errors != errors


def test_incident_variants_change_the_story():
    """The bounded variant refuses or holds work instead of being OOM-killed."""
    board = incident_dashboard()
    assert board.result.kills > 0
    board.set(variant="bounded")
    assert board.result.kills == 0
    assert board.result.balances()
    assert "incident (bounded)" in board.figure.layout.title.text


def test_guarantees_sweep_plots_lost_and_duplicated_per_strategy():
    """One line of lost (circles) and one of duplicated (crosses) effects per strategy, over the loss rates."""
    board = guarantees_dashboard()
    names = [t.name for t in board.figure.data]
    assert names[:2] == ["at most once: lost", "at most once: duplicated"]
    assert list(board.figure.data[0].x) == list(board.result.loss_rates)
    assert (board.figure.data[0].marker.symbol, board.figure.data[1].marker.symbol) == ("circle", "x")
    at_most_once_lost = board.result.series("at_most_once", "lost")
    assert list(board.figure.data[0].y) == list(at_most_once_lost)


def test_lost_ack_idempotent_consumer_removes_the_duplicate_effect():
    """With an idempotent consumer the resend no longer charges the card twice; the diagram still shows the loss."""
    board = lost_ack_dashboard()
    assert "duplicated effects: 1" in board.figure.layout.title.text
    board.set(idempotent=True)
    assert "duplicated effects: 0" in board.figure.layout.title.text
    assert "lost in transit (✕)" in [t.name for t in board.figure.data]
    assert list(board.figure.layout.xaxis.ticktext) == ["producer", "broker", "consumer"]


def test_cascade_dashboard_moves_the_dependency_latency_and_pool():
    """The dashboard exposes inventory's slow latency and checkout's pool: a fast dependency stops the cascade."""
    board = cascade_dashboard()
    slow_errors = board.result.sync.client_errors
    board.set(slow_latency=0.05)
    assert board.result.sync.client_errors < slow_errors
    board.set(slow_latency=5.0, checkout_threads=100)
    assert board.result.sync.client_errors != slow_errors
