"""Routing rules: the pure functions, and each exchange type inside the broker."""

from __future__ import annotations

import pytest
from rmq_support import World, drain

from mqlab.rabbitmq import BasicProperties, headers_match, topic_matches

# RabbitMQ tutorial five ("Topics"): Q1 is bound with *.orange.*, Q2 with *.*.rabbit and lazy.#
TUTORIAL_FIVE = [
    ("quick.orange.rabbit", {"Q1", "Q2"}),
    ("lazy.orange.elephant", {"Q1", "Q2"}),
    ("quick.orange.fox", {"Q1"}),
    ("lazy.brown.fox", {"Q2"}),
    ("lazy.pink.rabbit", {"Q2"}),
    ("quick.brown.fox", set()),
    ("orange", set()),
    ("quick.orange.male.rabbit", set()),
    ("lazy.orange.male.rabbit", {"Q2"}),
]
BINDINGS = {"Q1": ["*.orange.*"], "Q2": ["*.*.rabbit", "lazy.#"]}


@pytest.mark.parametrize(("routing_key", "expected"), TUTORIAL_FIVE)
def test_topic_matches_tutorial_five(routing_key, expected):
    """The routing table of RabbitMQ's topic tutorial holds for the pure function."""
    matched = {q for q, patterns in BINDINGS.items() if any(topic_matches(p, routing_key) for p in patterns)}
    assert matched == expected


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("#", "", True),                 # '#' matches zero words
        ("#", "a.b.c", True),
        ("a.#", "a", True),              # zero words after a
        ("#.a", "a", True),
        ("a.#.b", "a.b", True),
        ("a.#.b", "a.x.y.b", True),
        ("*", "", False),                # '*' needs exactly one word
        ("*", "a", True),
        ("*", "a.b", False),
        ("*.c", "a.b.c", False),         # kombu's regex gets this one wrong
        ("*.c", "b.c", True),
        ("a.*.#", "a", False),
        ("a.*.#", "a.b", True),
        ("#.#", "", True),
        ("a.b", "a.b", True),
        ("a.b", "a.bb", False),
        ("a..b", "a..b", True),          # empty words are words
        ("a.*.b", "a..b", True),
        ("", "", True),
        ("", "a", False),
    ],
)
def test_topic_matches_edge_cases(pattern, key, expected):
    """'*' is exactly one word, '#' zero or more, words are split on every dot."""
    assert topic_matches(pattern, key) is expected


@pytest.mark.parametrize(
    ("arguments", "headers", "expected"),
    [
        ({"x-match": "all", "format": "pdf", "type": "report"}, {"format": "pdf", "type": "report"}, True),
        ({"x-match": "all", "format": "pdf", "type": "report"}, {"format": "pdf"}, False),
        ({"x-match": "any", "format": "pdf", "type": "report"}, {"format": "pdf"}, True),
        ({"x-match": "any", "format": "pdf", "type": "report"}, {"format": "zip"}, False),
        ({"format": "pdf"}, {"format": "pdf", "extra": 1}, True),              # all is the default
        ({"x-match": "all"}, None, True),                                      # nothing to check: all matches
        ({"x-match": "any"}, {"a": 1}, False),                                 # nothing to match: any fails
        ({"x-match": "all", "x-trace": "1", "a": 1}, {"a": 1}, True),          # x- keys ignored
        ({"x-match": "all-with-x", "x-trace": "1", "a": 1}, {"a": 1}, False),  # unless -with-x
        ({"x-match": "any-with-x", "x-trace": "1"}, {"x-trace": "1"}, True),
        ({"x-match": "any", "x-trace": "1"}, {"x-trace": "1"}, False),
        ({"x-match": "all", "a": None}, {"a": "anything"}, True),              # void value: presence
        ({"x-match": "all", "a": 1}, {"a": True}, False),                      # bool is not int in AMQP
        ({"x-match": "all", "a": 1}, None, False),
    ],
)
def test_headers_match(arguments, headers, expected):
    """x-match all/any and the -with-x variants, as rabbit_exchange_type_headers decides."""
    assert headers_match(arguments, headers) is expected


def _declare_tutorial_five(world: World) -> None:
    ch = world.ch
    ch.exchange_declare("topic_logs", "topic")
    for queue, patterns in BINDINGS.items():
        ch.queue_declare(queue)
        for pattern in patterns:
            ch.queue_bind(queue, "topic_logs", pattern)


def test_topic_exchange_gives_one_copy_per_queue(world):
    """A queue matched by several bindings of a topic exchange gets the message once."""
    _declare_tutorial_five(world)
    for key, _ in TUTORIAL_FIVE:
        world.ch.basic_publish("topic_logs", key, key.encode())
    world.sim.run()
    q1, q2 = drain(world, "Q1"), drain(world, "Q2")
    assert q1 == [k.encode() for k, e in TUTORIAL_FIVE if "Q1" in e]
    assert q2 == [k.encode() for k, e in TUTORIAL_FIVE if "Q2" in e]
    assert q2.count(b"lazy.pink.rabbit") == 1
    assert world.broker.ledger().check().unroutable == 2 + 1  # quick.brown.fox, orange, quick.orange.male.rabbit


def test_default_exchange_routes_by_queue_name(world):
    """Every queue is reachable through the default exchange by its own name, and nothing else."""
    world.ch.queue_declare("a")
    world.ch.queue_declare("b")
    world.ch.basic_publish("", "a", b"1")
    world.ch.basic_publish("", "nope", b"2")
    assert drain(world, "a") == [b"1"] and drain(world, "b") == []
    assert world.broker.ledger().unroutable == 1


def test_direct_exchange_exact_key_and_multiple_bindings(world):
    """A direct exchange delivers to every queue bound with exactly the routing key."""
    ch = world.ch
    ch.exchange_declare("direct_logs", "direct")
    for q, keys in {"errors": ["error"], "all": ["info", "warning", "error"]}.items():
        ch.queue_declare(q)
        for k in keys:
            ch.queue_bind(q, "direct_logs", k)
    for k in ["info", "error", "debug"]:
        ch.basic_publish("direct_logs", k, k.encode())
    assert drain(world, "errors") == [b"error"]
    assert drain(world, "all") == [b"info", b"error"]


def test_fanout_ignores_routing_key(world):
    """A fanout exchange copies each message to every bound queue, whatever the key."""
    ch = world.ch
    ch.exchange_declare("logs", "fanout")
    for q in ["a", "b", "c"]:
        ch.queue_declare(q)
        ch.queue_bind(q, "logs", "ignored")
    ch.basic_publish("logs", "anything", b"m")
    assert [drain(world, q) for q in "abc"] == [[b"m"]] * 3
    ledger = world.broker.ledger().check()
    assert (ledger.routed, ledger.routed_copies) == (1, 3)


def test_headers_exchange_routes_on_headers(world):
    """A headers exchange ignores the routing key and matches the headers against binding arguments."""
    ch = world.ch
    ch.exchange_declare("h", "headers")
    ch.queue_declare("pdf_reports")
    ch.queue_declare("any_pdf_or_zip")
    ch.queue_bind("pdf_reports", "h", "", {"x-match": "all", "format": "pdf", "type": "report"})
    ch.queue_bind("any_pdf_or_zip", "h", "", {"x-match": "any", "format": "pdf", "format2": "zip"})
    ch.basic_publish("h", "", b"1", BasicProperties(headers={"format": "pdf", "type": "report"}))
    ch.basic_publish("h", "", b"2", BasicProperties(headers={"format": "pdf"}))
    ch.basic_publish("h", "", b"3")
    assert drain(world, "pdf_reports") == [b"1"]
    assert drain(world, "any_pdf_or_zip") == [b"1", b"2"]


def test_alternate_exchange_catches_unroutable(world):
    """Messages an exchange cannot route go to its alternate-exchange."""
    ch = world.ch
    ch.exchange_declare("unrouted", "fanout")
    ch.queue_declare("lost_and_found")
    ch.queue_bind("lost_and_found", "unrouted")
    ch.exchange_declare("main", "direct", arguments={"alternate-exchange": "unrouted"})
    ch.queue_declare("known")
    ch.queue_bind("known", "main", "k")
    ch.basic_publish("main", "k", b"routed")
    ch.basic_publish("main", "other", b"caught")
    assert drain(world, "known") == [b"routed"]
    assert drain(world, "lost_and_found") == [b"caught"]


def test_exchange_to_exchange_binding_and_internal(world):
    """An exchange bound to another receives what the source routes by the key; internal ones refuse clients."""
    from mqlab.rabbitmq import InternalExchangePublish

    ch = world.ch
    ch.exchange_declare("ingress", "topic")
    ch.exchange_declare("billing", "fanout", internal=True)
    ch.exchange_bind("billing", "ingress", "billing.#")
    ch.queue_declare("invoices")
    ch.queue_bind("invoices", "billing")
    ch.basic_publish("ingress", "billing.invoice.created", b"i1")
    ch.basic_publish("ingress", "shipping.created", b"s1")
    assert drain(world, "invoices") == [b"i1"]
    with pytest.raises(InternalExchangePublish) as info:
        ch.basic_publish("billing", "", b"direct")
    assert info.value.reply_code == 403


def test_exchange_cycle_is_routed_once(world):
    """Exchange-to-exchange cycles do not loop and a queue reached twice gets one copy."""
    ch = world.ch
    ch.exchange_declare("x1", "fanout")
    ch.exchange_declare("x2", "fanout")
    ch.exchange_bind("x2", "x1")
    ch.exchange_bind("x1", "x2")
    ch.queue_declare("q")
    ch.queue_bind("q", "x1")
    ch.queue_bind("q", "x2")
    ch.basic_publish("x1", "", b"m")
    assert drain(world, "q") == [b"m"]


def test_mandatory_unroutable_is_returned(world):
    """A mandatory message no queue takes comes back to the publisher's return callback (312 NO_ROUTE)."""
    returned = []
    world.ch.add_on_return_callback(lambda ch, method, props, body: returned.append((method, body)))
    world.ch.basic_publish("", "nobody", b"r", mandatory=True)
    world.ch.basic_publish("", "nobody", b"dropped")
    world.sim.run()
    assert [(m.reply_code, m.reply_text, m.routing_key, b) for m, b in returned] == [(312, "NO_ROUTE", "nobody", b"r")]
    ledger = world.broker.ledger().check()
    assert (ledger.returned, ledger.unroutable) == (1, 1)


def test_unbind_stops_routing(world):
    """After queue_unbind the binding no longer routes."""
    ch = world.ch
    ch.exchange_declare("d", "direct")
    ch.queue_declare("q")
    ch.queue_bind("q", "d", "k")
    ch.queue_unbind("q", "d", "k")
    ch.basic_publish("d", "k", b"m")
    assert drain(world, "q") == []
