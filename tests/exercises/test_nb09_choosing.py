"""The checkers of notebook 09 (choosing a tool): each passes its reference solution, reports an untouched stub as
not attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import math

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb09_choosing as nb09


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 09.simplest-tool -----------------------------------------------------------------------------------------


def choices_with(**changes):
    answer = nb09.my_choices()
    answer.update({k.replace("_", "-"): v for k, v in changes.items()})
    return lambda: answer


def test_simplest_tool_reference_passes_and_stub_is_not_attempted():
    """The reference choices pass; a stub calling todo() is not attempted."""
    assert misconception("09.simplest-tool", nb09.my_choices) == "passed"
    assert get("09.simplest-tool").run_checker(lambda: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("changes", "key"), [
    ({"fraud_replay": "SQS standard"}, "missed-replay"),
    ({"fraud_replay": "RabbitMQ"}, "missed-replay"),
    ({"invoice_pdfs": "Kafka"}, "oversized"),
    ({"signup_emails": "RabbitMQ"}, "oversized"),
    ({"account_ledger": "SQS standard"}, "missed-ordering"),
    ({"alert_routing": "SQS FIFO"}, "missed-routing"),
    ({"invoice_pdfs": "SQS"}, "unknown-tool"),
    ({"signup_emails": "SQS FIFO"}, "fifo-without-need"),
])
def test_simplest_tool_wrong_choices_name_the_missed_requirement(changes, key):
    """SQS where 30 days of replay is needed misses replay; Kafka for 40 msgs/hour is oversized; a standard queue
    for per-account order misses ordering; SQS for pattern routing misses routing; a misspelt tool is named; FIFO
    where nothing needs order is named too."""
    assert misconception("09.simplest-tool", choices_with(**changes)) == key


def test_simplest_tool_hint_names_the_missed_requirement():
    """The failure message says what the system requires that the choice does not give."""
    verdict = get("09.simplest-tool").run_checker(choices_with(fraud_replay="SQS standard"))
    assert "30 days" in verdict.message and "Kafka" in verdict.hints[-1]


def test_simplest_tool_bad_shapes_are_reported():
    """A non-dict or a missing system is a targeted failure, not a crash."""
    assert misconception("09.simplest-tool", lambda: ["Kafka"]) == "not-a-dict"
    assert misconception("09.simplest-tool", lambda: {"invoice-pdfs": "SQS standard"}) == "missing-system"


# -- 09.break-even --------------------------------------------------------------------------------------------


def per_message(requests):
    return lambda cost, body, price: cost / (requests(body) * price / 1e6) / (730 * 3600)


def chunks(body):
    return max(1, math.ceil(body / 65_536))


def test_break_even_reference_passes_and_stub_is_not_attempted():
    """The reference formula passes; a stub is not attempted."""
    assert misconception("09.break-even", nb09.break_even) == "passed"
    assert get("09.break-even").run_checker(lambda c, b, p: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (per_message(lambda body: 3), "forgot-chunks"),
    (per_message(lambda body: chunks(body)), "send-only"),
    (per_message(lambda body: 2 * chunks(body)), "forgot-delete"),
    (per_message(lambda body: 3 * chunks(body)), "chunked-delete"),
    (per_message(lambda body: 2 * chunks(body) + 2), "empty-receive-per-message"),
    (lambda cost, body, price: nb09.break_even(cost, body, price) * 3600, "per-hour"),
    (lambda cost, body, price: 42.0, "other"),
    (lambda cost, body, price: -1, "not-a-rate"),
])
def test_break_even_wrong_answers_name_their_misconception(wrong, key):
    """Forgetting 64 KiB chunks, counting only the send, forgetting the delete, chunking the delete, adding an
    empty receive per message and answering per hour each get their own hint."""
    assert misconception("09.break-even", wrong) == key


def test_break_even_raising_code_is_reported():
    """A formula that raises is reported with the exception's name."""
    verdict = get("09.break-even").run_checker(lambda cost, body, price: cost / 0)
    assert verdict.misconception == "raised" and "ZeroDivisionError" in verdict.message


# -- 09.tool-for ----------------------------------------------------------------------------------------------


def test_tool_for_reference_passes_and_stub_is_not_attempted():
    """The reference rule passes on the whole grid; a stub is not attempted."""
    assert misconception("09.tool-for", nb09.tool_for) == "passed"
    assert get("09.tool-for").run_checker(lambda r: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (lambda r: "Kafka", "oversized"),
    (lambda r: "SQS standard", "missed-replay"),
    (lambda r: "Kafka" if r.replay_days else ("RabbitMQ" if r.routing_rules else "SQS standard"), "missed-throughput"),
    (lambda r: "Kafka" if r.replay_days or r.messages_per_second >= 50_000 else "SQS standard", "missed-routing"),
    (lambda r: nb09.tool_for(r) if r.routing_rules or r.replay_days or r.messages_per_second >= 50_000
     else "RabbitMQ", "routing-without-need"),
    (lambda r: nb09.tool_for(r).replace("SQS FIFO", "SQS standard"), "missed-ordering"),
    (lambda r: nb09.tool_for(r).replace("SQS standard", "SQS FIFO"), "fifo-without-need"),
    (lambda r: "sqs", "unknown-tool"),
])
def test_tool_for_wrong_rules_name_their_misconception(wrong, key):
    """Kafka for everything is oversized; a queue for everything misses replay; ignoring rate, routing or order
    misses them; a broker or FIFO queue without need is named; a misspelt tool is named."""
    assert misconception("09.tool-for", wrong) == key


def test_every_checker_is_deterministic():
    """The same learner code gives the same verdict text."""
    for key, fn in [("09.simplest-tool", choices_with(invoice_pdfs="Kafka")),
                    ("09.break-even", per_message(lambda body: 3)), ("09.tool-for", lambda r: "Kafka")]:
        assert get(key).run_checker(fn).message == get(key).run_checker(fn).message
