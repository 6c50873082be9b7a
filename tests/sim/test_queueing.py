"""The kernel agrees with queueing theory on an M/M/1 queue."""

from __future__ import annotations

import random

import pytest

from mqlab.queueing import (
    erlang_c,
    littles_law_l,
    mm1_callbacks,
    mm1_number_in_system,
    mm1_processes,
    mm1_time_in_system,
    mmc_time_in_system,
)
from mqlab.sim import Simulation

ARRIVAL, SERVICE, CUSTOMERS = 0.5, 1.0, 60_000
TOLERANCE = 0.05  # 5 %: the standard error at this size is about 1 %


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mm1_processes_match_theory(seed):
    """Mean time in system is 1/(mu - lambda) and Little's law L = lambda W holds, within 5 %."""
    sim = Simulation(seed=seed, max_events=10**7)
    result = mm1_processes(sim, sim.rng, ARRIVAL, SERVICE, CUSTOMERS)
    assert result.customers == CUSTOMERS
    assert result.mean_time_in_system == pytest.approx(mm1_time_in_system(ARRIVAL, SERVICE), rel=TOLERANCE)
    assert result.mean_number_in_system == pytest.approx(mm1_number_in_system(ARRIVAL, SERVICE), rel=TOLERANCE)
    little = littles_law_l(result.arrival_rate_observed, result.mean_time_in_system)
    assert result.mean_number_in_system == pytest.approx(little, rel=0.01)


def test_callback_and_process_styles_agree_exactly():
    """The same random draws in both styles give the same sojourn statistics."""
    sim = Simulation(seed=5, max_events=10**6)
    by_process = mm1_processes(sim, random.Random(5), ARRIVAL, SERVICE, 5_000)
    sim2 = Simulation(seed=5, max_events=10**6)
    by_callback = mm1_callbacks(lambda d, fn: sim2.call_later(d, fn, None), lambda: sim2.now, sim2.run,
                                random.Random(5), ARRIVAL, SERVICE, 5_000)
    assert by_process == by_callback


def test_theory_formulas():
    """Closed forms: M/M/1 at rho=0.8 has W=5 s, L=4; M/M/c with c=1 reduces to M/M/1."""
    assert mm1_time_in_system(0.8, 1.0) == pytest.approx(5.0)
    assert mm1_number_in_system(0.8, 1.0) == pytest.approx(4.0)
    assert erlang_c(0.8, 1.0, 1) == pytest.approx(0.8)
    assert mmc_time_in_system(0.8, 1.0, 1) == pytest.approx(5.0)
    # Two servers at total load 0.75: Erlang C = 0.6428..., a textbook value.
    assert erlang_c(1.5, 1.0, 2) == pytest.approx(0.642857, rel=1e-5)


def test_unstable_queue_is_refused():
    """lambda >= c * mu has no steady state: the formulas refuse it with the reason."""
    with pytest.raises(ValueError, match="unstable"):
        mm1_time_in_system(1.0, 1.0)
    with pytest.raises(ValueError, match="arrival_rate"):
        mm1_time_in_system(-1, 1.0)
