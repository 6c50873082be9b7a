"""The checkers of notebook 08 (SQS): each passes its reference solution, reports an untouched stub as not
attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import json

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb08_sqs as nb08


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 08.safe-worker -------------------------------------------------------------------------------------------


def delete_first(client, queue_url, message, job):
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    for part in job.parts(message):
        yield job.do(part)


def never_delete(client, queue_url, message, job):
    for part in job.parts(message):
        client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                         VisibilityTimeout=40)
        yield job.do(part)


def no_extension(client, queue_url, message, job):
    for part in job.parts(message):
        yield job.do(part)
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def hide_for_hours(client, queue_url, message, job):
    client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                     VisibilityTimeout=43_200)
    for part in job.parts(message):
        yield job.do(part)
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def extend_once_for_the_whole_job(client, queue_url, message, job):
    parts = job.parts(message)
    client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                     VisibilityTimeout=int(len(parts) * job.part_seconds + 10))
    for part in parts:
        yield job.do(part)
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize("seed", [0, 8, 9, 31])
def test_safe_worker_reference_passes(seed):
    """Deleting after the work, with a heartbeat before each part, passes under crashes and long jobs."""
    assert misconception("08.safe-worker", nb08.work, seed=seed) == "passed"
    assert misconception("08.safe-worker", nb08.work, seed=seed, jobs=24) == "passed"


def test_safe_worker_one_extension_long_enough_also_passes():
    """Extending once by the whole job's length is correct too: the check judges behaviour, not one recipe."""
    assert misconception("08.safe-worker", extend_once_for_the_whole_job) == "passed"


def test_safe_worker_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted, not as a failure."""

    def work(client, queue_url, message, job):
        todo()

    assert get("08.safe-worker").run_checker(work).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (delete_first, "delete-before-processing"),
    (never_delete, "never-deletes"),
    (no_extension, "visibility-too-short"),
    (hide_for_hours, "visibility-too-long"),
])
@pytest.mark.parametrize("seed", [0, 8, 9])
def test_safe_worker_wrong_answers_name_their_misconception(wrong, key, seed):
    """Deleting first loses crashed jobs; never deleting redelivers forever; no heartbeat lets a long job be
    received twice; hiding for hours strands a crashed job."""
    assert misconception("08.safe-worker", wrong, seed=seed) == key


def test_safe_worker_plain_function_and_raising_code_are_reported():
    """A work() that is not a generator, or that raises, gets a targeted failure instead of crashing the check."""

    def plain(client, queue_url, message, job):
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def raising(client, queue_url, message, job):
        client.delete_message(queue_url, message["ReceiptHandle"])
        yield

    assert misconception("08.safe-worker", plain) == "not-a-generator"
    verdict = get("08.safe-worker").run_checker(raising)
    assert verdict.misconception == "raised" and "TypeError" in verdict.message


# -- 08.fifo-groups -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 8, 9])
def test_fifo_groups_reference_passes(seed):
    """One group per customer keeps each customer in order with every worker busy."""
    assert misconception("08.fifo-groups", nb08.group_id_for, seed=seed) == "passed"
    assert misconception("08.fifo-groups", nb08.group_id_for, seed=seed, customers=12) == "passed"


def test_fifo_groups_stub_is_not_attempted():
    """An untouched stub is not attempted."""
    assert get("08.fifo-groups").run_checker(lambda event: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (lambda event: "orders", "one-group"),
    (lambda event: event["order"], "group-per-message"),
    (lambda event: event["step"], "split-customer"),
    (lambda event: str(int(event["customer"].split("-")[1]) % 2), "too-few-groups"),
    (lambda event: "", "invalid-group-id"),
])
def test_fifo_groups_wrong_answers_name_their_misconception(wrong, key):
    """One group serialises everything; a group per message or per step breaks a customer's order; two groups for
    six customers leave workers idle; an empty id is refused by SendMessage."""
    assert misconception("08.fifo-groups", wrong) == key


# -- 08.idempotent-payment and 08.dlq-replay ------------------------------------------------------------------


def charge_always(message, payments):
    payment = json.loads(message["Body"])
    payments.charge(payment["payment_id"], payment["amount"])


def discard_the_dlq(client, dlq_url):
    while True:
        response = client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if "Messages" not in response:
            return None
        for message in response["Messages"]:
            client.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize("seed", [0, 8, 9])
def test_replay_references_pass(seed):
    """The idempotent handler and the move task together charge every payment exactly once."""
    assert misconception("08.idempotent-payment", nb08.handle_payment, seed=seed) == "passed"
    assert misconception("08.dlq-replay", nb08.start_replay, seed=seed, payments=48) == "passed"


def test_replay_stubs_are_not_attempted():
    """Untouched stubs of either function are not attempted."""
    assert get("08.idempotent-payment").run_checker(lambda m, p: todo()).status is Status.NOT_ATTEMPTED
    assert get("08.dlq-replay").run_checker(lambda c, u: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (charge_always, "not-idempotent"),
    (lambda message, payments: None, "payment-missing"),
])
def test_idempotent_payment_wrong_answers(wrong, key):
    """Charging every delivery charges replayed payments twice; skipping everything charges nothing."""
    assert misconception("08.idempotent-payment", wrong) == key


@pytest.mark.parametrize(("wrong", "key"), [
    (lambda client, url: client.start_message_move_task(SourceArn=url)["TaskHandle"], "replay-refused"),
    (lambda client, url: None, "dlq-not-drained"),
    (discard_the_dlq, "discarded"),
])
def test_dlq_replay_wrong_answers(wrong, key):
    """A URL where an ARN belongs is refused; doing nothing leaves the DLQ full; deleting its messages loses them."""
    assert misconception("08.dlq-replay", wrong) == key


def test_every_checker_is_deterministic():
    """The same learner code and seed give the same verdict text."""
    for key, fn in [("08.safe-worker", no_extension), ("08.fifo-groups", lambda e: e["order"]),
                    ("08.idempotent-payment", charge_always), ("08.dlq-replay", nb08.start_replay)]:
        assert get(key).run_checker(fn, seed=3).message == get(key).run_checker(fn, seed=3).message
