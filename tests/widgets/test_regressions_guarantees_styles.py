"""The guarantees figure tells strategies apart by colour and by dash, never by a near-identical hue."""

from __future__ import annotations

from mqlab.scenarios.guarantees import STRATEGIES, GuaranteePoint, GuaranteesSweep
from mqlab.viz.palette import COLORWAY
from mqlab.widgets.scenarios import STRATEGY_STYLES, guarantees_figure


def _sweep() -> GuaranteesSweep:
    rates = (0.0, 0.1)
    points = tuple(GuaranteePoint(s, r, 10, 10, 0, 0, 0, 10, 10, 0, 0, True) for s in STRATEGIES for r in rates)
    return GuaranteesSweep(rates, STRATEGIES, points, False)


def test_every_strategy_has_its_own_palette_colour_and_its_own_dash():
    """Five strategies, five different Okabe-Ito colours and five different dashes; 'outbox' and
    'at least once' in particular differ in both (they were orange and vermillion, easy to confuse)."""
    colours = [STRATEGY_STYLES[s][0] for s in STRATEGIES]
    dashes = [STRATEGY_STYLES[s][1] for s in STRATEGIES]
    assert len(set(colours)) == len(STRATEGIES) and set(colours) <= set(COLORWAY)
    assert len(set(dashes)) == len(STRATEGIES)
    assert {STRATEGY_STYLES["outbox"][0], STRATEGY_STYLES["at_least_once"][0]} != {"#E69F00", "#D55E00"}


def test_the_figure_draws_each_strategy_in_its_style_and_marks_lost_and_duplicated_apart():
    """Each trace of a strategy uses that strategy's colour and dash; lost and duplicated are told apart by
    the marker (a circle for lost, a cross for duplicated), named in the legend."""
    fig = guarantees_figure(_sweep())
    assert len(fig.data) == 2 * len(STRATEGIES)
    for trace in fig.data:
        strategy = trace.legendgroup
        assert (trace.line.color, trace.line.dash) == STRATEGY_STYLES[strategy]
        assert trace.marker.symbol == ("circle" if trace.name.endswith(": lost") else "x")
