"""A message's journey: one message's life as a timeline, read from the trace.

:func:`journey_from_trace` picks the records that name one message and turns each into a
:class:`JourneyStep` (time, place, action, detail). Models name a message in their trace
details under different keys (RabbitMQ ``msg``, SQS ``message_id``, a link's frame ``id``),
so the keys searched are a parameter, :data:`MESSAGE_KEYS` by default.

:func:`journey_figure` draws the steps left to right in time, one row per place (exchange,
queue, consumer, DLQ ...), joined by a grey path, and coloured by what the step means for
the message (see :data:`OUTCOMES`): progress (blue), retry or redelivery (orange),
done (green), lost or dead-lettered (vermillion). Receive counts and x-death counts from the
details are written in the hover text and next to the marker.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from mqlab.sim import TraceRecord
from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.palette import BAD, GOOD, MUTED, NEUTRAL, RETRY, TEMPLATE

__all__ = [
    "COUNT_KEYS",
    "MESSAGE_KEYS",
    "OUTCOMES",
    "JourneyStep",
    "journey_figure",
    "journey_from_trace",
    "message_ids",
    "outcome_of",
]

MESSAGE_KEYS: tuple[str, ...] = ("msg", "message_id", "msg_id", "id")
"""Detail keys under which the models name a message, searched in this order."""

COUNT_KEYS: tuple[str, ...] = ("receive_count", "delivery_count", "x_death_count", "count", "attempt")
"""Detail keys shown next to a step, when present (how many times it has been tried)."""

OUTCOMES: dict[str, tuple[str, ...]] = {
    "done": ("acked", "deleted", "consumed", "committed", "confirmed", "processed", "auto_acked"),
    "retry": ("nacked", "rejected", "requeued", "redelivered", "visible_again", "retried", "replayed",
              "redriven", "moved_back", "visibility_changed"),
    "failed": ("dead_lettered", "expired", "dropped", "lost", "refused", "returned", "unroutable", "purged",
               "moved_to_dlq", "stale_delete"),
}
"""Actions by what they mean for the message; anything else is ``progress``."""

_STYLE = {
    "progress": (NEUTRAL, "circle", "progress (published, routed, delivered)"),
    "retry": (RETRY, "circle-open", "retry or redelivery"),
    "done": (GOOD, "star", "done (acked / deleted)"),
    "failed": (BAD, "x", "lost, expired or dead-lettered"),
}


def outcome_of(action: str) -> str:
    """``progress``, ``retry``, ``done`` or ``failed`` for a trace action (see :data:`OUTCOMES`)."""
    for outcome, actions in OUTCOMES.items():
        if action in actions:
            return outcome
    return "progress"


@dataclass(frozen=True)
class JourneyStep:
    """At ``time`` (s), at ``place``, ``action`` happened to the message; ``detail`` is the rest, as text."""

    time: float
    place: str
    action: str
    detail: str = ""

    @property
    def outcome(self) -> str:
        return outcome_of(self.action)


def _message_of(details: Mapping[str, Any], keys: Sequence[str]) -> Hashable | None:
    for key in keys:
        value = details.get(key)
        if value is not None:
            return value  # type: ignore[no-any-return]
    return None


def message_ids(records: Iterable[TraceRecord], keys: Sequence[str] = MESSAGE_KEYS) -> list[Hashable]:
    """Every message id named in the trace, in order of first appearance."""
    seen: dict[Hashable, None] = {}
    for record in records:
        found = _message_of(record.details, keys)
        if found is not None and isinstance(found, Hashable):
            seen.setdefault(found, None)
    return list(seen)


def _format_details(details: Mapping[str, Any], skip: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in details.items() if k != skip)


def journey_from_trace(
    records: Iterable[TraceRecord], message_id: Hashable, keys: Sequence[str] = MESSAGE_KEYS
) -> list[JourneyStep]:
    """The steps of ``message_id``'s life, in trace order (which is time order)."""
    steps: list[JourneyStep] = []
    for record in records:
        for key in keys:
            if record.details.get(key) == message_id:
                steps.append(JourneyStep(record.time, record.actor, record.action,
                                         _format_details(record.details, key)))
                break
    return steps


def _count_text(detail: str) -> str:
    for part in detail.split(", "):
        name, _, value = part.partition("=")
        if name in COUNT_KEYS:
            return f"{name.replace('_', ' ')} {value}"
    return ""


def journey_figure(steps: Sequence[JourneyStep], *, title: str | None = None) -> go.Figure:
    """Draw one message's journey: time across, places down, outcome by colour and marker symbol."""
    if not steps:
        raise InvalidFigureInput(
            "this journey has no steps: the message id was not found in the trace (was the simulation "
            "created with trace=True, and is the id spelled as in the trace, e.g. 'msg-3'?)"
        )
    places = list(dict.fromkeys(s.place for s in steps))
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[s.time for s in steps], y=[s.place for s in steps], mode="lines", name="path",
        line={"color": MUTED, "width": 1.5, "shape": "hv"}, hoverinfo="skip",
    ))
    for outcome, (colour, symbol, legend) in _STYLE.items():
        chosen = [s for s in steps if s.outcome == outcome]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[s.time for s in chosen],
            y=[s.place for s in chosen],
            mode="markers+text",
            name=legend,
            text=[s.action + (f" ({c})" if (c := _count_text(s.detail)) else "") for s in chosen],
            textposition="top center",
            customdata=[s.detail for s in chosen],
            hovertemplate="%{text}<br>t=%{x} s at %{y}<br>%{customdata}<extra></extra>",
            marker={"color": colour, "symbol": symbol, "size": 13, "line": {"color": colour, "width": 2}},
        ))
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title or f"Journey of one message: {len(steps)} steps, ends {steps[-1].action!r}"},
        height=max(280, 140 + 60 * len(places)),
        legend={"title": {"text": "what the step did"}},
    )
    fig.update_xaxes(title_text="virtual time (s)")
    fig.update_yaxes(title_text="where", type="category", categoryorder="array", categoryarray=places,
                     autorange="reversed")
    return fig
