"""Simulation next to queueing theory."""

from __future__ import annotations

import random

import pytest

from mqlab.queueing import mm1_processes, mm1_time_in_system
from mqlab.sim import Simulation
from mqlab.viz import queueing_comparison_figure, utilisation_sweep_figure


def test_comparison_bars_hold_simulated_theory_and_littles_law():
    """W panel: simulated and M/M/1 theory; L panel adds Little's law applied to the simulated W."""
    fig = queueing_comparison_figure(4.0, 5.0, simulated_time_in_system=0.9, simulated_number_in_system=3.5,
                                     observed_arrival_rate=4.2)
    bars = [(t.name, t.xaxis, t.y[0]) for t in fig.data]
    assert bars[0] == ("simulated", "x", 0.9)
    assert bars[2] == ("M/M/1 theory", "x", pytest.approx(1.0))  # 1 / (5 - 4)
    assert bars[3] == ("M/M/1 theory", "x2", pytest.approx(4.0))  # L = 4/s x 1 s
    assert bars[4] == ("Little's law λ·W (simulated W)", "x2", pytest.approx(4.2 * 0.9))
    assert [t.showlegend for t in fig.data] == [True, False, True, False, True]
    assert fig.layout.yaxis.title.text == "W (s)"
    assert fig.layout.yaxis2.title.text == "L (messages)"
    assert "ρ=80%" in fig.layout.title.text


def test_comparison_from_a_simulated_mm1_run():
    """An MM1Result from the kernel is accepted directly and lands near the theory."""
    sim = Simulation(seed=5)
    result = mm1_processes(sim, random.Random(5), 2.0, 4.0, 2000)
    fig = queueing_comparison_figure(2.0, 4.0, simulated=result)
    assert fig.data[0].y[0] == result.mean_time_in_system
    assert fig.data[0].y[0] == pytest.approx(mm1_time_in_system(2.0, 4.0), rel=0.2)


def test_unstable_queue_is_refused_by_theory():
    """Arrivals at or above capacity have no steady state: the figure refuses rather than draw nonsense."""
    with pytest.raises(ValueError, match="unstable"):
        queueing_comparison_figure(5.0, 5.0, simulated_time_in_system=1.0)


def test_sweep_curve_and_points():
    """The sweep plots utilisation on x (as a percentage) and the simulated points at λ / (c·μ)."""
    fig = utilisation_sweep_figure(10.0, 2, [(10.0, 0.11), (18.0, 0.3)], resolution=10)
    curve, points = fig.data
    assert list(points.x) == [0.5, 0.9]
    assert len(curve.x) == 10 and curve.x[-1] == pytest.approx(0.95)
    assert curve.y[-1] > curve.y[0]
    assert fig.layout.xaxis.tickformat == ".0%"
    assert utilisation_sweep_figure(10.0, 2, [(10.0, 0.11)]).to_json() == utilisation_sweep_figure(
        10.0, 2, [(10.0, 0.11)]).to_json()
