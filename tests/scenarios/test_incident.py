"""The 3 a.m. incident: unbounded, bounded, autoscaled and credit-based variants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mqlab.scenarios.incident as incident_module
from mqlab.faults import InvalidParameter
from mqlab.scenarios import incident_3am


def test_full_run_publishes_six_million_and_balances():
    """Ten minutes at 10,000/s offers 6,000,000 messages, and the ledger accounts for each."""
    result = incident_3am()
    assert result.offered == 6_000_000 and result.balances()


def test_unbounded_broker_runs_out_of_memory_and_loses_what_it_held():
    """Unbounded: the backlog grows until the OOM kill, which loses every queued message; publishes fail while down."""
    result = incident_3am("unbounded")
    assert result.kills >= 1 and result.lost_by_kill > 1_000_000 and result.refused > 0
    assert result.peak_memory_bytes >= 2 * 1024**3 - 10_000 * 2_000 * 0.1


def test_memory_alarm_blocks_publishers_instead_of_dying():
    """With RabbitMQ's memory alarm the broker is never killed; the backlog moves to the producer."""
    result = incident_3am("unbounded", memory_policy="alarm")
    assert result.kills == 0 and result.lost_by_kill == 0 and result.alarms > 0
    assert result.peak_memory_bytes <= 0.6 * 2 * 1024**3 + 2 * 10_000 * 2_000 * 0.1
    assert result.producer_pending > 0


@pytest.mark.parametrize("overflow", ["block", "fail", "drop_oldest", "drop_newest"])
def test_bounded_queue_never_exceeds_its_limit(overflow):
    """Bounded: the depth never passes max_length, and the overflow shows up where its policy puts it."""
    result = incident_3am("bounded", overflow=overflow, max_length=50_000, duration=120)
    assert result.max_depth <= 50_000 and result.balances() and result.lost_by_kill == 0
    where = {
        "block": result.producer_pending,
        "fail": result.refused,
        "drop_oldest": result.dropped_oldest,
        "drop_newest": result.dropped_newest,
    }
    assert where[overflow] > 0
    assert sum(where.values()) == where[overflow]


def test_autoscaler_scales_out_above_the_threshold_and_back_in_after_the_burst():
    """Autoscaled: consumers are added while the depth is high; after the burst they go back to the minimum."""
    result = incident_3am("autoscaled", incident_until=200)
    assert result.max_consumers > 1 and result.consumers_series[-1] == 1
    first_out = next(i for i, c in enumerate(result.consumers_series) if c > 1)
    assert result.depth_series[first_out] > 20_000
    assert result.depth == 0 and result.lost_by_kill == 0
    assert result.consumer_seconds > 600


def test_autoscaling_keeps_up_where_a_single_consumer_cannot():
    """With up to 8 consumers the whole incident is consumed; with one the broker dies."""
    assert incident_3am("autoscaled").consumed == 6_000_000
    assert incident_3am("unbounded").consumed < 1_000_000


def test_credit_never_has_more_in_flight_than_granted():
    """Credit: the broker never holds more than the credit, and in-flight never exceeds it."""
    result = incident_3am("credit", credit=500)
    assert result.max_depth <= 500 and result.max_in_flight <= 500
    assert result.max_age < 1.0 and result.producer_pending > 0 and result.balances()


@settings(max_examples=25)
@given(variant=st.sampled_from(["unbounded", "bounded", "autoscaled", "credit"]),
       producer=st.integers(500, 20_000), consumer=st.integers(500, 5_000), tick=st.sampled_from([0.05, 0.1, 0.5]))
def test_every_variant_balances_for_any_rates(variant, producer, consumer, tick):
    """Whatever the rates and the tick, every message offered is accounted for."""
    result = incident_3am(variant, producer_rate=producer, consumer_rate=consumer, duration=60, tick=tick)
    assert result.balances()


def test_interrupt_returns_a_partial_balanced_result(monkeypatch):
    """An interrupt during the run returns what was done so far, marked interrupted, still balanced."""

    class Interrupting:
        def __init__(self, *args, **kwargs):
            self.calls = 0

        def update(self, amount):
            self.calls += 1
            if self.calls == 100:
                raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(incident_module, "ProgressBar", Interrupting)
    result = incident_3am("bounded")
    assert result.interrupted and result.balances() and result.offered < 6_000_000


def test_same_parameters_same_result():
    """The scenario is deterministic."""
    assert incident_3am("autoscaled", duration=120) == incident_3am("autoscaled", duration=120)


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(variant="infinite"), "variant"), (dict(overflow="explode"), "overflow"), (dict(producer_rate=-1),
     "producer_rate"), (dict(tick=0), "tick"), (dict(credit=0), "credit"), (dict(memory_policy="swap"),
     "memory_policy"), (dict(tick=5.0), "tick")],
)
def test_bad_parameters_are_refused(kwargs, name):
    """Each bad parameter is refused with its name in the message."""
    with pytest.raises(InvalidParameter, match=name):
        incident_3am(**kwargs)
