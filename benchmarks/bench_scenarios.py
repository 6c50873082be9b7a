"""Scenario speed: the notebook-sized runs, and the 3 a.m. incident at full rate.

The incident at 10,000 messages/s for 10 simulated minutes offers 6,000,000
messages. Its fluid model moves them in batches per tick; at a 1 ms tick that is
600,000 steps of about 10 messages each. Reported per variant: wall-clock
seconds (best of a few runs), simulated messages per wall second, and peak
Python memory of one run under tracemalloc (measured in a separate run, since
tracing slows the interpreter). The notebook-sized rows show how long one
rerun takes when a widget's slider moves (goal: well under a second).
"""

from __future__ import annotations

import tracemalloc

from harness import Row, best_seconds, rate

from mqlab.scenarios import (
    cascade,
    fanout_bug,
    guarantees_on_model,
    guarantees_sweep,
    incident_3am,
    lost_ack_walkthrough,
    retry_storm,
    retry_storm_on,
)

VARIANTS = ("unbounded", "bounded", "autoscaled", "credit")
MODES = ("requeue", "dlq")
MODELS = ("rabbitmq", "kafka", "sqs")


def _peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    # The headline: the unbounded incident at full rate, 6 M messages, 1 ms ticks (0.1 s ticks when quick).
    tick = 0.1 if quick else 0.001
    label = f"incident unbounded, 6M msgs, tick {tick * 1000:g} ms"

    def headline() -> object:
        return incident_3am("unbounded", tick=tick)

    seconds = best_seconds(headline, 1)
    offered = incident_3am("unbounded", tick=0.1).offered
    rows.append(Row(label, "mqlab", seconds * 1000, "ms", higher_is_better=False, note="10 simulated minutes"))
    rows.append(Row(label, "mqlab msgs/s", rate(offered, seconds), "msgs/s"))
    rows.append(Row(label, "mqlab peak memory", _peak_mib(headline), "MiB", higher_is_better=False,
                    note="tracemalloc peak of one run"))
    # Every variant at 10 ms ticks (100 messages per tick).
    for variant in VARIANTS:
        def full(variant: str = variant) -> object:
            return incident_3am(variant, tick=0.01)

        seconds = best_seconds(full, 1 if quick else 2)
        rows.append(Row(f"incident {variant}, 6M msgs, tick 10 ms", "mqlab", seconds * 1000, "ms",
                        higher_is_better=False, note="10 simulated minutes"))
    notebook = {
        "cascade (sync + queue), defaults": lambda: cascade(),
        "guarantees sweep, defaults": lambda: guarantees_sweep(),
        "retry storm requeue, defaults": lambda: retry_storm("requeue"),
        "retry storm dlq, defaults": lambda: retry_storm("dlq"),
        "incident, all 4 variants, defaults": lambda: [incident_3am(v) for v in VARIANTS],
        "lost-ACK walkthrough": lambda: lost_ack_walkthrough(),
        "fan-out bug (RabbitMQ model, 3 variants), defaults": lambda: fanout_bug(),
        "retry storm on RabbitMQ model, requeue + dlq": lambda: [retry_storm_on("rabbitmq", m) for m in MODES],
        "retry storm on SQS model, requeue + dlq": lambda: [retry_storm_on("sqs", m) for m in MODES],
        "guarantees sweep on the 3 models, defaults": lambda: [guarantees_on_model(m) for m in MODELS],
    }
    for name, fn in notebook.items():
        rows.append(Row(name, "mqlab", best_seconds(fn, 1 if quick else 3) * 1000, "ms", higher_is_better=False,
                        note="goal: well under 1000 ms per rerun"))
    return rows
