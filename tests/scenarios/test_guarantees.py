"""The guarantees sweep: loss rate against lost, duplicated and exactly-once effects."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.scenarios import STRATEGIES, guarantees_sweep, run_guarantee


@pytest.fixture(scope="module")
def sweep():
    return guarantees_sweep((0.0, 0.1, 0.3), strategies=STRATEGIES, messages=150, seed=2)


def test_no_loss_no_problem(sweep):
    """At loss 0 the four default strategies are exactly once."""
    for strategy in STRATEGIES[:4]:
        assert sweep.series(strategy, "exactly_once")[0] == 150


def test_at_most_once_loses_and_never_duplicates(sweep):
    """At-most-once: lost effects grow with the loss rate; duplicated stays 0."""
    lost = sweep.series("at_most_once", "lost")
    assert lost[0] == 0 < lost[1] < lost[2]
    assert set(sweep.series("at_most_once", "duplicated")) == {0}


def test_at_least_once_never_loses_and_duplicates(sweep):
    """At-least-once: lost stays 0 at every loss rate; duplicates appear once confirms are lost."""
    assert set(sweep.series("at_least_once", "lost")) == {0}
    duplicated = sweep.series("at_least_once", "duplicated")
    assert duplicated[0] == 0 < duplicated[1] <= duplicated[2]


def test_idempotent_and_outbox_are_exactly_once(sweep):
    """At-least-once + idempotent consumer, and outbox + inbox: zero lost, zero duplicated at every loss rate."""
    for strategy in ("at_least_once_idempotent", "outbox"):
        assert set(sweep.series(strategy, "lost")) == {0}
        assert set(sweep.series(strategy, "duplicated")) == {0}


def test_dual_write_loses_what_crashed_between_commit_and_publish(sweep):
    """The dual write loses messages whatever the network does."""
    assert min(sweep.series("dual_write", "lost")) > 0


def test_every_run_settles_and_the_broker_ledger_balances(sweep):
    """No message is left unconfirmed, and every broker ledger balances."""
    assert all(p.unsettled == 0 and p.broker_balances for p in sweep.points)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**20), loss=st.sampled_from([0.05, 0.2, 0.4]))
def test_guarantee_rules_hold_for_any_seed(seed, loss):
    """For any seed: at-most-once never duplicates; at-least-once never loses; with idempotence, exactly once."""
    assert run_guarantee("at_most_once", loss, messages=40, seed=seed).duplicated == 0
    assert run_guarantee("at_least_once", loss, messages=40, seed=seed).lost == 0
    point = run_guarantee("at_least_once_idempotent", loss, messages=40, seed=seed)
    assert point.lost == point.duplicated == 0 and point.exactly_once == 40


def test_same_seed_same_sweep():
    """The sweep is deterministic."""
    assert guarantees_sweep((0.2,), messages=30, seed=9) == guarantees_sweep((0.2,), messages=30, seed=9)


def test_bad_parameters_are_refused():
    """Unknown strategies, loss rates outside [0, 1) and an empty sweep are refused."""
    with pytest.raises(InvalidParameter, match="exactly_once_magic"):
        guarantees_sweep(strategies=("exactly_once_magic",))
    with pytest.raises(InvalidParameter, match="loss rate"):
        guarantees_sweep((1.0,))
    with pytest.raises(InvalidParameter, match="loss rate"):
        guarantees_sweep((-0.1,))
    with pytest.raises(InvalidParameter, match="at least one"):
        guarantees_sweep(())
