"""The checkers of notebook 07 (Kafka): each passes its reference solution, reports an untouched stub as not
attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb07_kafka as nb07
from mqlab.kafka import OFFSET_BEGINNING, TopicPartition


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 07.ride-key ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7, 8])
def test_ride_key_reference_passes(seed):
    """Keying by the ride id keeps each ride in order and spreads rides over the partitions."""
    assert misconception("07.ride-key", nb07.key_for, seed=seed) == "passed"


def test_ride_key_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted, not as a failure."""

    def key_for(event):
        todo()

    assert get("07.ride-key").run_checker(key_for).status is Status.NOT_ATTEMPTED


def test_ride_key_without_a_key_scatters_rides():
    """No key: sticky partitioning spreads one ride's events over partitions, and order breaks."""
    verdict = get("07.ride-key").run_checker(lambda event: None)
    assert verdict.misconception == "no-key"
    assert "partitions" in verdict.message


def test_ride_key_by_event_type_splits_rides():
    """Keying by the event type puts one ride's events under several keys."""
    assert misconception("07.ride-key", lambda event: event["type"]) == "key-by-type"


def test_ride_key_by_driver_leaves_requests_unkeyed():
    """The driver is unknown when a ride is requested: those events have no key."""
    assert misconception("07.ride-key", lambda event: event["driver"]) == "some-events-unkeyed"


def test_ride_key_per_event_splits_rides():
    """A key unique to each event (ride and sequence number) spreads one ride over partitions."""
    assert misconception("07.ride-key", lambda event: f"{event['ride']}-{event['seq']}") == "ride-split"


def test_ride_key_constant_serialises_every_ride():
    """One key for everything keeps order but leaves most partitions empty."""
    assert misconception("07.ride-key", lambda event: event["city"]) == "too-few-keys"


def test_ride_key_wrong_type_and_exception_are_reported():
    """A key that is not bytes/str/None, or a key function that raises, is a failure naming the problem."""
    assert misconception("07.ride-key", lambda event: 42) == "bad-key-type"
    assert misconception("07.ride-key", lambda event: event["ride_id"]) == "raised"


# -- 07.commit-offsets ----------------------------------------------------------------------------------------


def commit_before(consumer, handle, stopping):
    consumer.subscribe(["payments"])
    while not stopping():
        msg = yield consumer.poll_event(1.0)
        if msg is None or msg.error() is not None:
            continue
        consumer.commit(message=msg, asynchronous=False)
        yield handle(msg)
    consumer.close()


def never_commit(consumer, handle, stopping):
    consumer.subscribe(["payments"])
    while not stopping():
        msg = yield consumer.poll_event(1.0)
        if msg is None or msg.error() is not None:
            continue
        yield handle(msg)
    consumer.close()


def commit_at_shutdown_only(consumer, handle, stopping):
    consumer.subscribe(["payments"])
    last = None
    while not stopping():
        msg = yield consumer.poll_event(1.0)
        if msg is None or msg.error() is not None:
            continue
        yield handle(msg)
        last = msg
    if last is not None:
        consumer.commit(message=last, asynchronous=False)
    consumer.close()


def commit_the_offset_itself(consumer, handle, stopping):
    consumer.subscribe(["payments"])
    while not stopping():
        msg = yield consumer.poll_event(1.0)
        if msg is None or msg.error() is not None:
            continue
        yield handle(msg)
        consumer.commit(offsets=[TopicPartition(msg.topic(), msg.partition(), msg.offset())], asynchronous=False)
    consumer.close()


def commit_sync_each(consumer, handle, stopping):
    consumer.subscribe(["payments"])
    while not stopping():
        msg = yield consumer.poll_event(1.0)
        if msg is None or msg.error() is not None:
            continue
        yield handle(msg)
        consumer.commit(message=msg, asynchronous=False)
    consumer.close()


@pytest.mark.parametrize("seed", [0, 7])
def test_commit_reference_passes(seed):
    """Committing after each handled record, and synchronously at shutdown, handles every payment once."""
    assert misconception("07.commit-offsets", nb07.consume_payments, seed=seed) == "passed"


def test_commit_synchronously_after_each_record_also_passes():
    """A synchronous commit after every record is correct too: the check judges behaviour, not one recipe."""
    assert misconception("07.commit-offsets", commit_sync_each) == "passed"


def test_commit_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted."""

    def consume_payments(consumer, handle, stopping):
        consumer.subscribe(["payments"])
        while not stopping():
            yield consumer.poll_event(1.0)
            todo()

    assert get("07.commit-offsets").run_checker(consume_payments).status is Status.NOT_ATTEMPTED


def test_commit_before_processing_loses_a_payment():
    """Committing before the work: the crash mid-payment loses that payment."""
    verdict = get("07.commit-offsets").run_checker(commit_before)
    assert verdict.misconception == "commit-before-processing"
    assert "never handled" in verdict.message


def test_never_committing_repeats_everything():
    """Without commits (auto-commit off), the restarted worker starts from the beginning."""
    assert misconception("07.commit-offsets", never_commit) == "never-commits"


def test_committing_only_at_shutdown_repeats_after_a_crash():
    """A crash repeats everything handled since the last commit."""
    assert misconception("07.commit-offsets", commit_at_shutdown_only) == "commits-too-rarely"


def test_committing_the_offset_of_the_last_record_is_off_by_one():
    """Kafka commits the next offset to read; committing msg.offset() repeats one record per restart."""
    assert misconception("07.commit-offsets", commit_the_offset_itself) == "off-by-one"


def test_commit_learner_exception_and_no_subscription_are_reported():
    """A loop that raises, or one that never subscribes, fails with a targeted hint."""

    def raises(consumer, handle, stopping):
        msg = yield consumer.poll_event(1.0)
        consumer.commit(msg.offset())

    def no_subscribe(consumer, handle, stopping):
        while not stopping():
            msg = yield consumer.poll_event(1.0)
            if msg is not None:
                yield handle(msg)
        consumer.close()

    assert misconception("07.commit-offsets", raises) == "raised"
    assert misconception("07.commit-offsets", no_subscribe) == "nothing-handled"
    assert misconception("07.commit-offsets", lambda consumer, handle, stopping: None) == "not-a-generator"


# -- 07.replay-from-time --------------------------------------------------------------------------------------


def reuse_live_group(new_consumer, live, topic, since_ms):
    consumer = new_consumer({"group.id": "billing"})

    def rewind(consumer, partitions):
        wanted = [TopicPartition(tp.topic, tp.partition, since_ms) for tp in partitions]
        consumer.assign(consumer.offsets_for_times(wanted))

    consumer.subscribe([topic], on_assign=rewind)
    return consumer


def seek_the_live_consumer(new_consumer, live, topic, since_ms):
    wanted = [TopicPartition(tp.topic, tp.partition, since_ms) for tp in live.assignment()]
    for tp in live.offsets_for_times(wanted):
        live.seek(tp)
    consumer = new_consumer({"group.id": "fraud-check"})
    consumer.subscribe([topic])
    return consumer


def from_the_beginning(new_consumer, live, topic, since_ms):
    consumer = new_consumer({"group.id": "fraud-check", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    return consumer


def new_group_no_rewind(new_consumer, live, topic, since_ms):
    consumer = new_consumer({"group.id": "fraud-check"})
    consumer.subscribe([topic])
    return consumer


def manual_assignment(new_consumer, live, topic, since_ms):
    consumer = new_consumer({"group.id": "fraud-check", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic).topics[topic].partitions
    wanted = [TopicPartition(topic, p, since_ms) for p in partitions]
    consumer.assign(consumer.offsets_for_times(wanted))
    return consumer


def test_replay_reference_passes():
    """A new group that rewinds by time in on_assign reads the 30 days and leaves billing alone."""
    assert misconception("07.replay-from-time", nb07.start_fraud_check) == "passed"
    assert misconception("07.replay-from-time", nb07.start_fraud_check, seed=3, days=35) == "passed"


def test_replay_manual_assignment_also_passes():
    """assign() with offsets_for_times, without joining a group, is a correct answer too."""
    assert misconception("07.replay-from-time", manual_assignment) == "passed"


def test_replay_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted."""

    def start_fraud_check(new_consumer, live, topic, since_ms):
        todo()

    assert get("07.replay-from-time").run_checker(start_fraud_check).status is Status.NOT_ATTEMPTED


def test_replay_in_the_live_group_disturbs_billing():
    """Joining 'billing' rebalances it and rewinds its offsets: billing handles payments twice."""
    verdict = get("07.replay-from-time").run_checker(reuse_live_group)
    assert verdict.misconception == "reused-live-group"
    assert "rebalanced" in verdict.message


def test_replay_by_seeking_the_live_consumer_repeats_billing():
    """Seeking the live consumer moves billing back 30 days: payments are billed twice."""
    assert misconception("07.replay-from-time", seek_the_live_consumer) == "seeked-live-group"


def test_replay_from_the_beginning_reads_too_much():
    """auto.offset.reset=earliest starts at the oldest record, not at the time asked for."""
    assert misconception("07.replay-from-time", from_the_beginning) == "read-too-much"


def test_replay_without_rewinding_reads_nothing_old():
    """A new group starts at the end by default: nothing of the past 30 days is read."""
    verdict = get("07.replay-from-time").run_checker(new_group_no_rewind)
    assert verdict.misconception == "missed-records"
    assert "nothing from the past" in verdict.message


def test_replay_returning_nothing_or_raising_is_reported():
    """Forgetting to return the consumer, or raising, fails with a targeted hint."""

    def no_return(new_consumer, live, topic, since_ms):
        new_consumer({"group.id": "fraud-check"}).subscribe([topic])

    def bad_seek(new_consumer, live, topic, since_ms):
        consumer = new_consumer({"group.id": "fraud-check"})
        consumer.seek(TopicPartition(topic, 0, OFFSET_BEGINNING))
        return consumer

    assert misconception("07.replay-from-time", no_return) == "no-consumer"
    assert misconception("07.replay-from-time", bad_seek) == "raised"
