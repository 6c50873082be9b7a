"""A sequence diagram of a delivery protocol, with lost messages and acks marked (the Two Generals lesson).

Participants (producer, link, broker, consumer ...) are vertical lifelines; virtual time runs
down the page. Each :class:`ProtocolStep` is an arrow from its sender's lifeline at ``time`` to
its receiver's at ``arrival``:

* a data frame that arrives: blue arrow; an ack (or confirm) that arrives: green arrow;
* a frame that is lost: a dashed vermillion arrow that stops half way, ending in an ✕;
* a duplicate copy: an orange arrow;
* a frame still in flight when the trace ends: a grey dotted arrow;
* a note (``fate="note"``, e.g. "timeout: resend"): text on the sender's lifeline, to its right,
  wrapped at :data:`NOTE_WRAP` characters a line; the x range grows to the right when a note
  would not fit (on the right-most lifeline, typically), so no note is cut off.

:func:`protocol_from_trace` reads the ``send``/``arrive`` records a
:class:`mqlab.faults.link.Link` writes (with ``direction``, ``kind`` and ``id``) and the
``lost`` records of the fault ledger, so a traced run of the lossy-link scenario draws itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import plotly.graph_objects as go

from mqlab.sim import TraceRecord
from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.palette import BAD, GOOD, MUTED, NEUTRAL, RETRY, TEMPLATE

__all__ = ["ACK_KINDS", "FATES", "NOTE_WRAP", "ProtocolStep", "protocol_from_trace", "sequence_figure"]

NOTE_WRAP = 24
"""Characters per line of a note; longer notes are wrapped at word boundaries."""

_NOTE_CHAR_PX = 6.5  # the width of one character of an 11 px font, generously
_PLOT_PX = 500  # a lower bound on the plotting area's width (plotly's default figure is 700 px wide)

FATES = ("delivered", "lost", "duplicated", "in flight", "note")
"""What can happen to one frame; a ``note`` is not a frame but a remark on the sender's lifeline."""

ACK_KINDS = frozenset({"ack", "nack", "confirm", "basic.ack", "commit", "delete"})
"""Frame kinds drawn as acknowledgements (green) rather than data (blue)."""


@dataclass(frozen=True)
class ProtocolStep:
    """One frame: sent at ``time`` from ``sender`` to ``receiver``; ``fate`` is one of :data:`FATES`.

    ``arrival`` is when it reached the receiver (default: ``time``, a horizontal arrow);
    ``kind`` is the frame kind (``message``, ``ack`` ...), which picks the colour. A lost or
    in-flight frame without ``arrival`` is drawn flying for the median delivered flight time.
    """

    time: float
    sender: str
    receiver: str
    label: str
    fate: str = "delivered"
    arrival: float | None = None
    kind: str = "message"

    def __post_init__(self) -> None:
        if self.fate not in FATES:
            raise InvalidFigureInput(
                f"protocol step {self.label!r}: fate {self.fate!r} is not one of {', '.join(FATES)}"
            )

    @property
    def is_ack(self) -> bool:
        return self.kind in ACK_KINDS


def _style(step: ProtocolStep) -> tuple[str, str, str, str]:
    """(group key, legend text, colour, dash)."""
    if step.fate == "lost":
        return "lost", "lost in transit (✕)", BAD, "dash"
    if step.fate == "in flight":
        return "flight", "still in flight at the end", MUTED, "dot"
    if step.fate == "duplicated":
        return "dup", "duplicate copy", RETRY, "solid"
    if step.is_ack:
        return "ack", "ack / confirm delivered", GOOD, "solid"
    return "data", "message delivered", NEUTRAL, "solid"


def sequence_figure(
    steps: Sequence[ProtocolStep], *, participants: Sequence[str] | None = None,
    title: str = "Who knows what: a delivery protocol, frame by frame",
) -> go.Figure:
    """Draw the sequence diagram (see the module docstring)."""
    if not steps:
        raise InvalidFigureInput("the protocol has no steps to draw; pass at least one ProtocolStep")
    names = list(participants) if participants is not None else list(
        dict.fromkeys(n for s in steps for n in (s.sender, s.receiver))
    )
    column = {name: i for i, name in enumerate(names)}
    for s in steps:
        for name in (s.sender, s.receiver):
            if name not in column:
                raise InvalidFigureInput(f"step {s.label!r} names {name!r}, who is not among the participants {names}")
    flights = sorted(s.arrival - s.time for s in steps if s.arrival is not None and s.arrival > s.time)
    typical = flights[len(flights) // 2] if flights else 0.0  # how long an unanswered frame is drawn flying
    steps = [s if s.arrival is not None or s.fate in ("delivered", "note") else replace(s, arrival=s.time + typical)
             for s in steps]
    end = max(max(s.time, s.arrival or s.time) for s in steps)
    bottom = end + max(end * 0.05, 0.1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[v for i in range(len(names)) for v in (i, i, None)],
        y=[v for _ in names for v in (0.0, bottom, None)],
        mode="lines", line={"color": "#BBBBBB", "width": 2}, name="lifeline", showlegend=False, hoverinfo="skip",
    ))
    notes = [s for s in steps if s.fate == "note"]
    steps = [s for s in steps if s.fate != "note"]
    groups: dict[str, tuple[str, str, str, list[ProtocolStep]]] = {}
    for s in steps:
        key, legend, colour, dash = _style(s)
        groups.setdefault(key, (legend, colour, dash, []))[3].append(s)
    for key, (legend, colour, dash, members) in groups.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        symbols: list[str] = []
        sizes: list[int] = []
        for s in members:
            x0, x1 = column[s.sender], column[s.receiver]
            t0 = s.time
            t1 = s.arrival if s.arrival is not None else s.time
            if s.fate == "lost":
                x1, t1 = x0 + (x1 - x0) / 2, t0 + (t1 - t0) / 2
            xs += [x0, x1, None]
            ys += [t0, t1, None]
            symbols += ["circle", "x" if s.fate == "lost" else "arrow", "circle"]
            sizes += [0, 14 if s.fate == "lost" else 12, 0]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers", name=legend, legendgroup=key,
            line={"color": colour, "dash": dash, "width": 2},
            marker={"symbol": symbols, "size": sizes, "color": colour, "angleref": "previous"},
            hoverinfo="skip",
        ))
        fig.add_trace(go.Scatter(
            x=[(column[s.sender] + column[s.receiver]) / 2 for s in members],
            y=[s.time + ((s.arrival if s.arrival is not None else s.time) - s.time) / 2 for s in members],
            mode="text", text=[s.label for s in members], textposition="top center",
            textfont={"color": colour, "size": 11}, showlegend=False, legendgroup=key, name=f"{legend} labels",
            customdata=[s.fate for s in members],
            hovertemplate="%{text}: %{customdata}<extra></extra>",
        ))
    right = len(names) - 0.5
    if notes:
        wrapped = [textwrap.wrap(s.label, NOTE_WRAP, break_long_words=True) or [""] for s in notes]
        fig.add_trace(go.Scatter(
            x=[column[s.sender] for s in notes], y=[s.time for s in notes], mode="markers+text", name="note",
            text=["<br>".join(lines) for lines in wrapped], textposition="middle right",
            textfont={"size": 11, "color": "#444444"}, customdata=[s.label for s in notes],
            marker={"symbol": "square", "size": 8, "color": MUTED}, hovertemplate="%{customdata}<extra>note</extra>",
        ))
        for s, lines in zip(notes, wrapped):
            right = max(right, _note_right_edge(column[s.sender], max(len(line) for line in lines) + 2))
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title},
        height=max(360, 160 + 28 * (len(steps) + len(notes))),
        legend={"title": {"text": "frames"}},
    )
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(names))), ticktext=names, side="top",
                     showgrid=False, range=[-0.5, right], title_text="")
    fig.update_yaxes(title_text="virtual time (s), downwards", autorange="reversed", rangemode="tozero")
    return fig


def _note_right_edge(x: float, chars: int) -> float:
    """The x range's right end that leaves room for ``chars`` characters drawn right of ``x``.

    The text's width in pixels is fixed while a unit of x shrinks as the range grows, so the
    edge ``r`` solves ``(r - x) / (r + 0.5) = width / plot width`` (the range starts at -0.5).
    """
    share = min(chars * _NOTE_CHAR_PX / _PLOT_PX, 0.9)
    return (x + 0.5 * share) / (1 - share)


def protocol_from_trace(
    records: Iterable[TraceRecord], *, client: str = "client", broker: str = "broker", link: str | None = None,
) -> list[ProtocolStep]:
    """Protocol steps from a link's ``send``/``arrive`` records and the fault ledger's ``lost`` records.

    A frame sent ``to_broker`` goes from ``client`` to ``broker``, ``to_client`` the other way.
    The ledger logs a loss (actor ``fault:<name>``, action ``lost``, with the frame's ``what``,
    ``id`` and ``direction``) right after the send it concerns, which marks that send ``lost``.
    An arrival matches the oldest outstanding send of the same frame; an arrival with none
    outstanding is a duplicate copy of the latest send. Sends still outstanding at the end of
    the trace are ``in flight``. ``link`` keeps only that link's sends and arrivals.
    """
    steps: list[ProtocolStep] = []
    outstanding: dict[tuple[str, str, object], list[int]] = {}
    latest: dict[tuple[str, str, object], int] = {}
    for r in records:
        d = r.details
        if r.action == "lost" and r.actor.startswith("fault:"):
            key = (str(d.get("direction")), str(d.get("what")), _hashable(d.get("id")))
            waiting = outstanding.get(key)
            if waiting:
                index = waiting.pop()
                steps[index] = replace(steps[index], fate="lost")
            continue
        if r.action not in ("send", "arrive") or "direction" not in d or (link is not None and r.actor != link):
            continue
        direction, kind = str(d["direction"]), str(d.get("kind"))
        frame_id = _hashable(d.get("id"))
        key = (direction, kind, frame_id)
        if r.action == "send":
            sender, receiver = (client, broker) if direction == "to_broker" else (broker, client)
            latest[key] = len(steps)
            outstanding.setdefault(key, []).append(len(steps))
            steps.append(ProtocolStep(r.time, sender, receiver, f"{kind} {frame_id}", "in flight", None, kind))
            continue
        waiting = outstanding.get(key)
        if waiting:
            index = waiting.pop(0)
            steps[index] = replace(steps[index], fate="delivered", arrival=r.time)
        elif key in latest:
            sent = steps[latest[key]]
            steps.append(replace(sent, fate="duplicated", arrival=r.time))
    return steps


def _hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
