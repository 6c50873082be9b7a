"""The state of a run at one instant, rebuilt from its trace (for the time-travel scrubber).

A trace records changes, not states; :func:`state_at` folds the records up to an instant
into a :class:`Snapshot`:

* ``gauges``: per actor, the latest value of each level the models write in their details
  (:data:`GAUGE_KEYS`: ``ready``, ``unacked``, ``depth``, ``offset``, ``committed``, ``lag`` ...);
  a record naming a ``topic`` and ``partition`` (Kafka) counts for ``"<actor> <topic>-<partition>"``.
  A level is only as fresh as the last record that wrote it: RabbitMQ's queues write ``ready``
  on every record that changes it (enqueued, delivered, redelivered, requeued, expired,
  dropped, dead-lettered, lost) and on acks and nacks, so their level is current at any
  instant; read deliveries from ``counts`` and ``in_flight``, which every record updates;
* ``counts``: per actor, how many times each action happened so far;
* ``in_flight``: per actor, the messages handed out and not yet settled: an id enters on an
  action of :data:`IN_FLIGHT_START` (``delivered``, ``received``, a link's ``send``) and leaves on
  one of :data:`IN_FLIGHT_END` (``acked``, ``deleted``, ``requeued``, a link's ``arrive`` ...), or
  when a fault records it lost;
* ``recent``: the last few records, "what just happened".

The fold is a pure function of the records, so scrubbing back and forth is deterministic;
:func:`snapshot_figure` draws a snapshot as bars per actor.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from mqlab.sim import TraceRecord
from mqlab.viz.journey import MESSAGE_KEYS
from mqlab.viz.palette import TEMPLATE, color

__all__ = [
    "GAUGE_KEYS",
    "IN_FLIGHT_END",
    "IN_FLIGHT_START",
    "Snapshot",
    "TraceTimeline",
    "snapshot_figure",
    "state_at",
]

GAUGE_KEYS: tuple[str, ...] = (
    "ready", "unacked", "depth", "in_flight", "visible", "not_visible", "delayed", "messages",
    "offset", "position", "committed", "high_watermark", "log_end_offset", "log_start_offset", "lag",
    "consumers", "credit", "window", "inflight",
)
"""Detail keys read as levels (the latest value wins)."""

IN_FLIGHT_START = frozenset({"delivered", "received", "send", "redelivered"})
IN_FLIGHT_END = frozenset({
    "acked", "auto_acked", "nacked", "rejected", "requeued", "deleted", "visible_again", "arrive", "dead_lettered",
    "expired", "dropped", "lost", "purged",
})


@dataclass(frozen=True)
class Snapshot:
    """The state at ``time``, folded from the first ``index`` records of the trace."""

    time: float
    index: int
    gauges: dict[str, dict[str, float]]
    counts: dict[str, dict[str, int]]
    in_flight: dict[str, tuple[Hashable, ...]]
    recent: tuple[TraceRecord, ...]


def _message(record: TraceRecord) -> Hashable | None:
    for key in MESSAGE_KEYS:
        value = record.details.get(key)
        if value is not None and isinstance(value, Hashable):
            return value
    return None


def state_at(records: Sequence[TraceRecord], time: float, *, recent: int = 8) -> Snapshot:
    """Fold ``records`` (in trace order) up to and including ``time`` into a :class:`Snapshot`."""
    gauges: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, int]] = {}
    flying: dict[str, dict[Hashable, None]] = {}
    index = 0
    for index, record in enumerate(records, start=1):
        if record.time > time:
            index -= 1
            break
        actor, action, details = record.actor, record.action, record.details
        if "topic" in details and "partition" in details:  # Kafka: levels are per partition
            actor = f"{actor} {details['topic']}-{details['partition']}"
        level = gauges.setdefault(actor, {}) if any(k in details for k in GAUGE_KEYS) else None
        if level is not None:
            for key in GAUGE_KEYS:
                value = details.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    level[key] = value
        tally = counts.setdefault(actor, {})
        tally[action] = tally.get(action, 0) + 1
        message = _message(record)
        if message is None:
            continue
        if action in IN_FLIGHT_START:
            flying.setdefault(actor, {})[message] = None
        elif action in IN_FLIGHT_END:
            if actor.startswith("fault:"):
                for ids in flying.values():
                    ids.pop(message, None)
            else:
                flying.get(actor, {}).pop(message, None)
    else:
        index = len(records)
    return Snapshot(
        time=time,
        index=index,
        gauges=gauges,
        counts=counts,
        in_flight={actor: tuple(ids) for actor, ids in flying.items() if ids},
        recent=tuple(records[max(0, index - recent):index]),
    )


class TraceTimeline:
    """The distinct instants of a trace, for a slider: ``times[i]`` is the i-th instant something happened."""

    def __init__(self, records: Iterable[TraceRecord]) -> None:
        self.records: list[TraceRecord] = list(records)
        self.times: list[float] = list(dict.fromkeys(r.time for r in self.records))

    def __len__(self) -> int:
        return len(self.times)

    def snapshot(self, position: int, *, recent: int = 8) -> Snapshot:
        """The state after everything that happened at ``times[position]``."""
        if not self.times:
            return Snapshot(0.0, 0, {}, {}, {}, ())
        position = max(0, min(position, len(self.times) - 1))
        return state_at(self.records, self.times[position], recent=recent)

    def position_of(self, time: float) -> int:
        """The last instant at or before ``time`` (0 if ``time`` is before the first)."""
        return max(0, bisect.bisect_right(self.times, time) - 1)


def snapshot_figure(snapshot: Snapshot, *, title: str | None = None) -> go.Figure:
    """Bars per actor: each level in the snapshot, and the number of messages in flight."""
    actors = list(dict.fromkeys([*snapshot.gauges, *snapshot.in_flight]))
    keys = list(dict.fromkeys(k for levels in snapshot.gauges.values() for k in levels))
    fig = go.Figure()
    for index, key in enumerate(keys):
        chosen = [a for a in actors if key in snapshot.gauges.get(a, {})]
        fig.add_trace(go.Bar(
            y=chosen, x=[snapshot.gauges[a][key] for a in chosen], orientation="h", name=key,
            marker={"color": color(index)}, text=[f"{snapshot.gauges[a][key]:g}" for a in chosen],
            textposition="outside", hovertemplate=f"%{{y}} {key}: %{{x}}<extra></extra>",
        ))
    if snapshot.in_flight:
        chosen = list(snapshot.in_flight)
        fig.add_trace(go.Bar(
            y=chosen, x=[len(snapshot.in_flight[a]) for a in chosen], orientation="h",
            name="in flight (unsettled messages)", marker={"color": color(len(keys)), "pattern": {"shape": "/"}},
            text=[", ".join(map(str, snapshot.in_flight[a][:4])) for a in chosen], textposition="outside",
            hovertemplate="%{y}: %{x} in flight<extra></extra>",
        ))
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title or f"State at t = {snapshot.time:g} s (after {snapshot.index} trace records)"},
        barmode="group",
        height=max(300, 150 + 45 * max(1, len(actors)) * max(1, min(3, len(keys) + 1))),
        legend={"title": {"text": "level"}},
    )
    fig.update_xaxes(title_text="value (messages, or offset for offsets)", rangemode="tozero")
    fig.update_yaxes(title_text="actor", type="category", autorange="reversed")
    return fig
