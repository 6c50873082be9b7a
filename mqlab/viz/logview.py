"""The log view: per partition, what is retained, how far each group has read and committed, and the lag.

One horizontal bar per partition, along the offset axis:

* grey ``[0, log start offset)``: records removed by retention (or compaction of the head);
  the boundary is the *log start offset*, the oldest offset a consumer can still fetch;
* orange ``[log start offset, retention offset)``, when given: records older than
  ``retention.ms`` whose segment is not deleted yet (Kafka deletes whole segments);
* blue ``[log start offset, high watermark)``: retained records a consumer can read;
* light blue ``[high watermark, log end offset)``: records the leader has but not every
  in-sync replica yet (consumers cannot read them);
* per consumer group, a diamond at its *committed offset* (where a restarted member resumes;
  the offset of the next record to read, as Kafka commits it) and a triangle at its
  *position* (the next offset its live member will fetch), both in the group's colour.

Lag is reported as Kafka's ``kafka-consumer-groups.sh --describe`` reports it:
``LAG = LOG-END-OFFSET - CURRENT-OFFSET`` where CURRENT-OFFSET is the committed offset and
the tool's LOG-END-OFFSET column is the high watermark a consumer sees; a group with no
committed offset has no lag ("-"), unless the input gives one (:func:`mqlab.viz.adapters.logview_from_kafka`
passes the Kafka model's own lag, which counts such a group from the log start offset).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.palette import MUTED, NEUTRAL, OKABE_ITO, TEMPLATE, color

__all__ = ["GroupOffsets", "LogView", "PartitionOffsets", "logview_figure"]


@dataclass(frozen=True)
class GroupOffsets:
    """One consumer group on one partition: committed offset and live position (``None``: none yet).

    ``lag`` overrides the computed lag (an adapter passes the model's own figure).
    """

    group: str
    committed: int | None = None
    position: int | None = None
    lag: int | None = None


@dataclass(frozen=True)
class PartitionOffsets:
    """One partition's offsets. Invariant: ``log_start_offset <= high_watermark <= log_end_offset``."""

    topic: str
    partition: int
    log_start_offset: int
    high_watermark: int
    log_end_offset: int | None = None
    groups: tuple[GroupOffsets, ...] = ()
    retention_offset: int | None = None
    """First offset still inside ``retention.ms``: records in ``[log start, retention_offset)`` are past
    retention but not deleted yet (Kafka deletes whole segments, never the active one)."""

    def __post_init__(self) -> None:
        end = self.high_watermark if self.log_end_offset is None else self.log_end_offset
        if not 0 <= self.log_start_offset <= self.high_watermark <= end:
            raise InvalidFigureInput(
                f"partition {self.label}: offsets must satisfy 0 <= log start ({self.log_start_offset}) <= "
                f"high watermark ({self.high_watermark}) <= log end ({end})"
            )

    @property
    def label(self) -> str:
        return f"{self.topic}-{self.partition}"

    def lag(self, group: str) -> int | None:
        """``high watermark - committed offset`` for ``group``, or None if it has not committed here."""
        for g in self.groups:
            if g.group == group and g.lag is not None:
                return g.lag
            if g.group == group and g.committed is not None:
                return max(0, self.high_watermark - g.committed)
        return None


@dataclass(frozen=True)
class LogView:
    """The partitions to draw, top to bottom."""

    partitions: tuple[PartitionOffsets, ...]
    title: str = "The log: retained offsets, committed offsets and lag"


def _expired_end(p: PartitionOffsets) -> int:
    if p.retention_offset is None:
        return p.log_start_offset
    return max(p.log_start_offset, min(p.retention_offset, p.high_watermark))


def logview_figure(view: LogView | Sequence[PartitionOffsets]) -> go.Figure:
    """Draw the log view (see the module docstring for what each mark means)."""
    if not isinstance(view, LogView):
        view = LogView(tuple(view))
    if not view.partitions:
        raise InvalidFigureInput("the log view has no partitions to draw; pass at least one PartitionOffsets")
    parts = view.partitions
    labels = [p.label for p in parts]
    fig = go.Figure()
    bars = (
        ("removed by retention", MUTED, [0] * len(parts), [p.log_start_offset for p in parts]),
        ("past retention.ms, not yet deleted", OKABE_ITO["orange"], [p.log_start_offset for p in parts],
         [_expired_end(p) - p.log_start_offset for p in parts]),
        ("retained, readable", NEUTRAL, [_expired_end(p) for p in parts],
         [p.high_watermark - _expired_end(p) for p in parts]),
        ("above the high watermark (not yet replicated)", OKABE_ITO["sky_blue"], [p.high_watermark for p in parts],
         [(p.log_end_offset or p.high_watermark) - p.high_watermark for p in parts]),
    )
    for name, colour, base, length in bars:
        if not any(length):
            continue
        fig.add_trace(go.Bar(
            y=labels, x=length, base=base, orientation="h", name=name, marker={"color": colour},
            width=0.5, hovertemplate=f"{name}: offsets %{{base}} to %{{x}} more<extra></extra>",
        ))
    groups = list(dict.fromkeys(g.group for p in parts for g in p.groups))
    for index, group in enumerate(groups):
        shade = color(index + 1)
        for what, symbol, attr in (("committed", "diamond", "committed"), ("position", "triangle-right", "position")):
            xs: list[int] = []
            ys: list[str] = []
            texts: list[str] = []
            for p in parts:
                for g in p.groups:
                    value = getattr(g, attr)
                    if g.group == group and value is not None:
                        xs.append(value)
                        ys.append(p.label)
                        lag = p.lag(group)
                        texts.append(f"lag {lag}" if attr == "committed" and lag is not None else "")
            if not xs:
                continue
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="markers+text" if attr == "committed" else "markers",
                name=f"group {group}: {what} offset",
                legendgroup=group,
                text=texts if attr == "committed" else None,
                textposition="top center",
                marker={"symbol": symbol, "size": 13, "color": shade, "line": {"color": "white", "width": 1}},
                hovertemplate=f"group {group} {what} offset %{{x}}<extra>%{{y}}</extra>",
            ))
    fig.update_layout(
        template=TEMPLATE,
        title={"text": view.title},
        barmode="overlay",
        height=max(260, 140 + 70 * len(parts)),
        legend={"title": {"text": "what the marks mean"}},
    )
    fig.update_xaxes(title_text="offset", rangemode="tozero")
    fig.update_yaxes(title_text="partition", autorange="reversed", type="category")
    return fig
