"""Ready dashboards for the scenarios of :mod:`mqlab.scenarios`, one per lesson.

Each builder returns a :class:`~mqlab.widgets.dashboard.ScenarioDashboard` whose controls are
the parameters a learner should try (the rest keep the scenario's defaults) and whose figure
shows what the lesson is about. Each re-runs and redraws within the 200 ms goal at these
defaults (``benchmarks/bench_widgets.py``).

=================================  ===============================================================
dashboard                          controls → figure
=================================  ===============================================================
:func:`cascade_dashboard`          timeout, retries, backoff, circuit breaker, bulkhead, workers →
                                   errors, p99 and backlog, synchronous chain vs queue, slow window
:func:`retry_storm_dashboard`      requeue or DLQ, delivery limit, consumers → depth and progress
:func:`incident_dashboard`         variant, consumers, memory policy, overflow → depth, memory,
                                   consumers, lost
:func:`guarantees_dashboard`       messages, relay crash rate, seed → lost and duplicated effects
                                   against the loss rate, per delivery strategy
:func:`lost_ack_dashboard`         idempotent consumer, timeout, latency → the protocol, frame by frame
=================================  ===============================================================
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from mqlab.scenarios import (
    MODES,
    STRATEGIES,
    VARIANTS,
    CascadeResult,
    GuaranteesSweep,
    IncidentResult,
    RetryStormResult,
    cascade,
    guarantees_sweep,
    incident_3am,
    lost_ack_walkthrough,
    retry_storm,
)
from mqlab.viz.adapters import steps_from_walkthrough
from mqlab.viz.palette import DASHES, OKABE_ITO, TEMPLATE, base_figure, color
from mqlab.viz.sequence import sequence_figure
from mqlab.viz.timeseries import Marker, timeseries_figure
from mqlab.widgets.dashboard import Param, ScenarioDashboard

__all__ = [
    "STRATEGY_STYLES",
    "cascade_dashboard",
    "cascade_figure",
    "guarantees_dashboard",
    "guarantees_figure",
    "incident_dashboard",
    "incident_figure",
    "lost_ack_dashboard",
    "retry_storm_dashboard",
    "retry_storm_figure",
]


def cascade_figure(result: CascadeResult) -> go.Figure:
    """The front service's errors and p99 latency and the queue's backlog, sync vs queue, slow window shaded."""
    fig = timeseries_figure(
        {"synchronous chain": result.sync, "through a queue": result.queue},
        metrics=["web.error_rate", "web.p99", "backlog"],
        markers=[Marker(result.slow_from, "inventory is slow", "fault", result.slow_until)],
        title=f"Cascade: sync errors {result.sync.client_errors}, queue errors {result.queue.client_errors}",
        units={"backlog": "jobs"},
    )
    return fig


def cascade_dashboard(*, debounce: float = 0.08) -> ScenarioDashboard:
    """Resilience options of the synchronous chain against the same flow through a queue."""
    return ScenarioDashboard(
        cascade,
        [
            Param("slow_latency", 5.0, 0.05, 10.0, 0.05, label="inventory latency while slow", unit="s"),
            Param("checkout_threads", 20, 1, 100, 1, label="checkout threads"),
            Param("timeout", 2.0, 0.25, 6.0, 0.25, label="checkout timeout", unit="s"),
            Param("retries", 1, 0, 4, 1, label="retries"),
            Param("backoff", False, label="exponential backoff with jitter"),
            Param("circuit_breaker", False, label="circuit breaker"),
            Param("workers", 20, 1, 60, 1, label="queue workers"),
        ],
        figure=cascade_figure,
        title="Cascade: a slow dependency, synchronous vs queued",
        debounce=debounce,
    )


def retry_storm_figure(result: RetryStormResult) -> go.Figure:
    return timeseries_figure(
        result, metrics=["depth", "processed"],
        title=(f"Retry storm ({result.mode}): {result.good_processed}/{result.good_published} good messages "
               f"processed, {result.poison_attempts} poison attempts, {result.dead_lettered} dead-lettered"),
    )


def retry_storm_dashboard(*, debounce: float = 0.08) -> ScenarioDashboard:
    """A poison message requeued forever, or dead-lettered after a delivery limit."""
    return ScenarioDashboard(
        retry_storm,
        [
            Param("mode", "requeue", options=MODES, label="on failure"),
            Param("delivery_limit", 5, 1, 20, 1, label="delivery limit"),
            Param("consumers", 1, 1, 8, 1, label="consumers"),
        ],
        figure=retry_storm_figure,
        title="Retry storm: requeue vs delivery limit and DLQ",
        debounce=debounce,
    )


def incident_figure(result: IncidentResult) -> go.Figure:
    return timeseries_figure(
        result, metrics=["depth", "memory", "consumers", "lost"],
        title=(f"3 a.m. incident ({result.variant}): max depth {result.max_depth:,}, {result.kills} OOM kills, "
               f"{result.lost_by_kill:,} lost, {result.refused + result.dropped:,} refused or dropped"),
        units={"lost": "messages"},
    )


def incident_dashboard(*, debounce: float = 0.08) -> ScenarioDashboard:
    """Producer 10,000/s, consumers 2,000/s each: unbounded, bounded, autoscaled or credit-based."""
    return ScenarioDashboard(
        incident_3am,
        [
            Param("variant", "unbounded", options=VARIANTS, label="variant"),
            Param("consumers", 1, 1, 8, 1, label="consumers"),
            Param("memory_policy", "unbounded", options=("unbounded", "alarm"), label="broker memory"),
            Param("overflow", "block", options=("block", "fail", "drop_oldest", "drop_newest"),
                  label="when the bounded queue is full"),
        ],
        figure=incident_figure,
        title="The 3 a.m. incident",
        debounce=debounce,
    )


STRATEGY_STYLES: dict[str, tuple[str, str]] = {
    "at_most_once": (OKABE_ITO["blue"], DASHES[0]),
    "at_least_once": (OKABE_ITO["orange"], DASHES[1]),
    "at_least_once_idempotent": (OKABE_ITO["bluish_green"], DASHES[2]),
    "outbox": (OKABE_ITO["reddish_purple"], DASHES[3]),
    "dual_write": (OKABE_ITO["vermillion"], DASHES[4]),
}
"""Each delivery strategy's (colour, dash) in the guarantees figure: five Okabe-Ito colours and five dashes,
so no two strategies share either (orange and vermillion, easy to confuse, also differ in dash)."""

_EFFECT_MARKERS = {"lost": "circle", "duplicated": "x"}


def guarantees_figure(sweep: GuaranteesSweep) -> go.Figure:
    """Lost and duplicated effects against the network's loss rate: one colour and one dash per strategy
    (:data:`STRATEGY_STYLES`), a circle for lost and a cross for duplicated."""
    fig = base_figure("Delivery guarantees: what a lossy network does to the effects",
                      "loss rate of the network (per frame)", "messages")
    for index, strategy in enumerate(sweep.strategies):
        colour, dash = STRATEGY_STYLES.get(strategy, (color(index), DASHES[index % len(DASHES)]))
        for what, symbol in _EFFECT_MARKERS.items():
            fig.add_trace(go.Scatter(
                x=list(sweep.loss_rates), y=list(sweep.series(strategy, what)), mode="lines+markers",
                name=f"{strategy.replace('_', ' ')}: {what}", legendgroup=strategy,
                line={"color": colour, "dash": dash}, marker={"symbol": symbol, "size": 8, "color": colour},
                hovertemplate=f"{strategy} {what}: %{{y}} at loss %{{x:.0%}}<extra></extra>",
            ))
    fig.update_xaxes(tickformat=".0%")
    fig.update_layout(template=TEMPLATE, legend={"title": {"text": "strategy: effect (● lost, ✕ duplicated)"}})
    return fig


def _guarantees(messages: int = 100, relay_crash_rate: float = 0.02, seed: int = 0) -> GuaranteesSweep:
    """The sweep at the dashboard's size: 100 messages per point (the scenario's 200 takes longer than a redraw
    should; the lost and duplicated fractions are the same story)."""
    return guarantees_sweep(messages=messages, relay_crash_rate=relay_crash_rate, seed=seed)


def guarantees_dashboard(*, debounce: float = 0.08) -> ScenarioDashboard:
    """At-most-once, at-least-once, idempotent and outbox strategies across loss rates."""
    return ScenarioDashboard(
        _guarantees,
        [
            Param("messages", 100, 50, 400, 50, label="messages per point"),
            Param("relay_crash_rate", 0.02, 0.0, 0.2, 0.01, label="outbox relay crash rate"),
            Param("seed", 0, 0, 20, 1, label="seed"),
        ],
        figure=guarantees_figure,
        title=f"Delivery guarantees ({', '.join(STRATEGIES[:4])})",
        debounce=debounce,
    )


def _lost_ack_figure(walkthrough: Any) -> go.Figure:
    effects = getattr(walkthrough, "effects", None)
    title = "The lost acknowledgement: who knows what, frame by frame"
    if effects is not None and hasattr(effects, "duplicated"):
        title += f" (duplicated effects: {effects.duplicated})"
    return sequence_figure(steps_from_walkthrough(walkthrough), participants=("producer", "broker", "consumer"),
                           title=title)


def lost_ack_dashboard(*, debounce: float = 0.08) -> ScenarioDashboard:
    """The Two Generals lesson: a publish whose confirm is lost, resent after a timeout."""
    return ScenarioDashboard(
        lost_ack_walkthrough,
        [
            Param("idempotent", False, label="idempotent consumer"),
            Param("timeout", 0.5, 0.1, 2.0, 0.1, label="confirm timeout", unit="s"),
            Param("latency", 0.01, 0.0, 0.2, 0.01, label="one-way latency", unit="s"),
        ],
        figure=_lost_ack_figure,
        title="The lost acknowledgement",
        debounce=debounce,
    )
