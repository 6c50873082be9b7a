"""Standard queues' at-least-once delivery and best-effort order, simulated with seeded probabilities."""

from __future__ import annotations

from mqlab.sim import Simulation
from mqlab.sqs import SQS, Worker, limits


def run_workload(seed: int, **options) -> tuple[list[str], object, list]:
    """Send 200 messages, consume with a worker; return the bodies in handling order, the stats and the trace."""
    sim = Simulation(seed=seed, trace=True)
    sqs = SQS(sim, **options)
    client = sqs.client()
    url = client.create_queue(QueueName="orders")["QueueUrl"]
    for i in range(200):
        client.send_message(QueueUrl=url, MessageBody=f"m{i:03d}")
    seen: list[str] = []
    Worker(client, url, lambda m: seen.append(m["Body"]), visibility_timeout=5)
    sim.run(until=120)
    sqs.ledger().check()
    return seen, sqs.statistics(url), [(r.time, r.action, tuple(r.details.items())) for r in sim.trace]


def test_defaults_are_documented_values():
    """The defaults the docs promise: 1% missed deletes, 5% reordering, 90% short-poll sample."""
    sim = Simulation()
    sqs = SQS(sim)
    assert (sqs.duplicate_probability, sqs.reorder_probability, sqs.short_poll_sample) == (
        limits.DEFAULT_DUPLICATE_PROBABILITY, limits.DEFAULT_REORDER_PROBABILITY, limits.DEFAULT_SHORT_POLL_SAMPLE)
    assert (sqs.duplicate_probability, sqs.reorder_probability, sqs.short_poll_sample) == (0.01, 0.05, 0.9)


def test_exact_settings_give_order_and_exactly_once():
    """With probabilities 0, 0 and sample 1 a standard queue behaves like a FIFO with one group."""
    seen, stats, _ = run_workload(1, duplicate_probability=0.0, reorder_probability=0.0, short_poll_sample=1.0)
    assert seen == [f"m{i:03d}" for i in range(200)]
    assert stats.deleted == 200 and stats.lost_deletes == 0


def test_duplicates_come_back_after_a_missed_delete():
    """With duplicate_probability, some deletes miss a copy: the message is handled twice, and still ends deleted."""
    seen, stats, _ = run_workload(1, duplicate_probability=0.1, reorder_probability=0.0, short_poll_sample=1.0)
    assert stats.lost_deletes > 5
    assert len(seen) == 200 + stats.lost_deletes
    assert sorted(set(seen)) == [f"m{i:03d}" for i in range(200)]
    assert stats.deleted == 200


def test_reordering_passes_messages_over():
    """With reorder_probability some later messages are handled before earlier ones; none is lost."""
    seen, _, _ = run_workload(1, duplicate_probability=0.0, reorder_probability=0.2, short_poll_sample=1.0)
    assert seen != sorted(seen)
    assert sorted(seen) == [f"m{i:03d}" for i in range(200)]


def test_short_poll_may_return_nothing_although_messages_exist():
    """A short poll samples servers: with one message and sample 0.5, some polls come back empty; long polls
    never do."""
    sim = Simulation(seed=3)
    client = SQS(sim, short_poll_sample=0.5, reorder_probability=0.0, duplicate_probability=0.0).client()
    url = client.create_queue(QueueName="q")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="only")
    short = [len(client.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])) for _ in range(40)]
    assert 0 in short and 1 in short
    long = [len(client.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=1).get("Messages", []))
            for _ in range(40)]
    assert long == [1] * 40


def test_same_seed_same_history_other_seed_other_history():
    """Randomness comes from the simulation's seed only: one seed, one trace, byte for byte."""
    a = run_workload(11)
    b = run_workload(11)
    c = run_workload(12)
    assert a[0] == b[0] and a[2] == b[2]
    assert repr(a[2]).encode() == repr(b[2]).encode()
    assert a[2] != c[2]


def test_queues_draw_from_their_own_streams():
    """Adding another queue does not change what happens on the first one."""
    def history(extra_queue: bool) -> list:
        sim = Simulation(seed=5, trace=True)
        client = SQS(sim, short_poll_sample=0.5).client()
        url = client.create_queue(QueueName="a")["QueueUrl"]
        if extra_queue:
            other = client.create_queue(QueueName="b")["QueueUrl"]
        for i in range(20):
            client.send_message(QueueUrl=url, MessageBody=str(i))
            if extra_queue:
                client.send_message(QueueUrl=other, MessageBody=str(i))
                client.receive_message(QueueUrl=other, MaxNumberOfMessages=3)
        got = [client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) for _ in range(3)]
        return [[m["Body"] for m in batch] for batch in got]

    assert history(False) == history(True)
