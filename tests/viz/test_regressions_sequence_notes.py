"""Notes on a sequence diagram fit inside the figure, on every lifeline (the right-most one included)."""

from __future__ import annotations

from mqlab.viz.sequence import NOTE_WRAP, ProtocolStep, sequence_figure

_LONG = "charge card for order-4 then email the receipt to the customer"


def _figure(note_on: str):
    steps = [
        ProtocolStep(0.0, "client", "broker", "order-4", "delivered", 0.1),
        ProtocolStep(0.1, "broker", "worker", "order-4", "delivered", 0.2),
        ProtocolStep(0.2, note_on, note_on, _LONG, "note"),
    ]
    return sequence_figure(steps)


def _note_trace(fig):
    return next(t for t in fig.data if t.name == "note")


def test_a_long_note_is_wrapped_into_short_lines_with_nothing_dropped():
    """A note longer than NOTE_WRAP characters is broken into lines of at most NOTE_WRAP characters, and every
    word of it is still there."""
    text = _note_trace(_figure("worker")).text[0]
    lines = text.split("<br>")
    assert len(lines) > 1 and all(len(line) <= NOTE_WRAP for line in lines)
    assert " ".join(lines) == _LONG


def test_a_note_on_the_right_most_lifeline_gets_room_on_the_right():
    """The x range extends past the right-most lifeline by at least the width the wrapped note needs
    (about 6.5 px per character of an 11 px font, on a plot at most 500 px wide), so it is not cut off."""
    fig = _figure("worker")
    left, right = fig.layout.xaxis.range
    assert left == -0.5
    width_px = 6.5 * NOTE_WRAP
    assert (right - 2) / (right - left) >= width_px / 500


def test_notes_on_inner_lifelines_leave_the_range_as_it_was_when_they_fit():
    """A short note on the first lifeline needs no extra room: the range stays one half column each side."""
    steps = [ProtocolStep(0.0, "client", "broker", "m1", "delivered", 0.1),
             ProtocolStep(0.0, "broker", "worker", "m1", "delivered", 0.1),
             ProtocolStep(0.1, "client", "client", "wait", "note")]
    assert tuple(sequence_figure(steps).layout.xaxis.range) == (-0.5, 2.5)
