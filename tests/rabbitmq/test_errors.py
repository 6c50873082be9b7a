"""Bad input: AMQP reply codes, the channel or connection they close, and messages that name the fix."""

from __future__ import annotations

import pytest
from rmq_support import Recorder, make_world

from mqlab.errors import MqlabError
from mqlab.rabbitmq import (
    BasicProperties,
    ChannelClosedByBroker,
    ChannelWrongStateError,
    ConnectionClosedByBroker,
    DefaultExchangeOperation,
    DuplicateConsumerTag,
    ExchangeInUse,
    ExchangeNotFound,
    ExclusiveQueueLocked,
    InequivalentArgument,
    InvalidArgument,
    InvalidFieldType,
    NotImplementedFeature,
    QueueInUse,
    QueueNotFound,
    ReservedName,
    ShortStringTooLong,
    UnknownDeliveryTag,
    UnknownExchangeType,
)


def test_errors_derive_from_mqlab_and_pika_names(world):
    """Channel errors are ChannelClosedByBroker (pika's name) and MqlabError, with code and text."""
    with pytest.raises(ChannelClosedByBroker) as info:
        world.ch.queue_declare("missing", passive=True)
    error = info.value
    assert isinstance(error, QueueNotFound) and isinstance(error, MqlabError)
    assert (error.reply_code, error.reply_text) == (404, "NOT_FOUND - no queue 'missing' in vhost '/'")
    assert "queue_declare('missing'" in str(error)


def test_channel_error_closes_the_channel_only(world):
    """A soft error closes the channel; the connection and its other channels stay open."""
    other = world.ch.connection.channel()
    with pytest.raises(ExchangeNotFound):
        world.ch.basic_publish("nope", "k", b"m")
    assert world.ch.is_closed and other.is_open and world.ch.connection.is_open
    with pytest.raises(ChannelWrongStateError) as info:
        world.ch.queue_declare("q")
    assert "404" in str(info.value) and "connection.channel()" in str(info.value)


def test_publish_to_missing_exchange_is_accounted(world):
    """A publish the broker refuses with a channel error is in the ledger as a publish error."""
    with pytest.raises(ExchangeNotFound):
        world.ch.basic_publish("nope", "k", b"m")
    assert world.broker.ledger().check().publish_errors == 1


def test_redeclare_with_different_properties_is_406(world):
    """Redeclaring a queue or exchange with different properties or arguments is PRECONDITION_FAILED."""
    world.ch.queue_declare("q", durable=True)
    with pytest.raises(InequivalentArgument) as info:
        world.ch.queue_declare("q", durable=False)
    assert info.value.reply_code == 406
    assert "inequivalent arg 'durable' for queue 'q'" in info.value.reply_text
    ch = world.ch.connection.channel()
    ch.queue_declare("ttl", arguments={"x-message-ttl": 1000})
    with pytest.raises(InequivalentArgument) as info:
        ch.queue_declare("ttl", arguments={"x-message-ttl": 2000})
    assert info.value.reply_text.endswith("received '2000' but current is '1000'")
    ch = world.ch.connection.channel()
    with pytest.raises(InequivalentArgument) as info:
        ch.queue_declare("ttl")
    assert info.value.reply_text.endswith("received none but current is the value '1000' of type 'signedint'")
    ch = world.ch.connection.channel()
    ch.queue_declare("ttl", arguments={"x-message-ttl": 1000, "x-unknown": "ignored"})  # unknown args not compared
    ch.exchange_declare("x", "direct")
    with pytest.raises(InequivalentArgument) as info:
        ch.exchange_declare("x", "fanout")
    assert "received 'fanout' but current is 'direct'" in info.value.reply_text


def test_unknown_and_double_ack_are_406(world):
    """Acking a tag the channel does not hold (never delivered, or already acked) is PRECONDITION_FAILED."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"m")
    method, _, _ = ch.basic_get("q")
    ch.basic_ack(method.delivery_tag)
    with pytest.raises(UnknownDeliveryTag) as info:
        ch.basic_ack(method.delivery_tag)
    assert info.value.reply_text == "PRECONDITION_FAILED - unknown delivery tag 1" and ch.is_closed
    ch2 = ch.connection.channel()
    with pytest.raises(UnknownDeliveryTag):
        ch2.basic_nack(99)


def test_double_ack_inside_a_callback_is_recorded_and_requeues(world):
    """A callback that acks twice: the second ack closes the channel (406), the error is recorded, nothing
    is lost."""
    ch = world.ch
    ch.queue_declare("q")

    def twice(channel, method, properties, body):
        channel.basic_ack(method.delivery_tag)
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume("q", twice)
    ch.basic_publish("", "q", b"a")
    world.sim.run()
    assert ch.is_closed and "unknown delivery tag" in ch.errors[0].error
    assert world.broker.ledger().check().acked == 1


def test_async_error_with_latency_surfaces_on_next_call():
    """With latency, an ack error is found at the broker later; the next call on the channel raises it."""
    w = make_world(latency=0.01)
    w.ch.basic_ack(42)
    w.sim.run()
    assert w.ch.is_closed
    with pytest.raises(UnknownDeliveryTag):
        w.ch.basic_publish("", "q", b"m")
    with pytest.raises(ChannelWrongStateError):
        w.ch.basic_publish("", "q", b"m")


def test_unknown_exchange_type_closes_the_connection(world):
    """An unknown exchange type is COMMAND_INVALID (503), a connection error."""
    with pytest.raises(UnknownExchangeType) as info:
        world.ch.exchange_declare("x", "fancy")
    assert isinstance(info.value, ConnectionClosedByBroker) and info.value.reply_code == 503
    assert world.ch.connection.is_closed


def test_exclusive_queue_from_another_connection_is_405(world):
    """An exclusive queue used from another connection is RESOURCE_LOCKED."""
    world.ch.queue_declare("mine", exclusive=True)
    for action in (lambda ch: ch.queue_declare("mine", exclusive=True),
                   lambda ch: ch.basic_consume("mine", Recorder()),
                   lambda ch: ch.queue_purge("mine")):
        other = world.broker.connect().channel()
        with pytest.raises(ExclusiveQueueLocked) as info:
            action(other)
        assert info.value.reply_code == 405 and other.is_closed
    world.broker.connect().channel().basic_publish("", "mine", b"publishing is allowed")
    assert world.broker.queue_statistics("mine").ready == 1


def test_reserved_names_and_default_exchange_are_403(world):
    """amq.* names are reserved and the default exchange cannot be bound or deleted."""
    ch = world.ch
    with pytest.raises(ReservedName):
        ch.queue_declare("amq.mine")
    ch = ch.connection.channel()
    with pytest.raises(ReservedName):
        ch.exchange_declare("amq.mine", "topic")
    ch = ch.connection.channel()
    ch.queue_declare("q")
    with pytest.raises(DefaultExchangeOperation) as info:
        ch.queue_bind("q", "", "q")
    assert info.value.reply_code == 403


def test_missing_queue_and_exchange_on_bind_are_404(world):
    """Binding names a queue and an exchange that must exist."""
    world.ch.exchange_declare("x", "direct")
    with pytest.raises(QueueNotFound):
        world.ch.queue_bind("nope", "x")
    ch = world.ch.connection.channel()
    ch.queue_declare("q")
    with pytest.raises(ExchangeNotFound):
        ch.queue_bind("q", "nope")


def test_routing_key_longer_than_255_bytes(world):
    """Routing keys are AMQP short strings: over 255 bytes is refused before anything is sent."""
    with pytest.raises(ShortStringTooLong):
        world.ch.basic_publish("", "k" * 256, b"m")
    with pytest.raises(ShortStringTooLong):
        world.ch.basic_publish("", "é" * 128, b"m")  # 256 bytes in UTF-8
    world.ch.basic_publish("", "k" * 255, b"m")
    assert world.ch.is_open and world.broker.ledger().published == 1


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"x-max-length": "10"}, '"expected integer, got longstr"'),
        ({"x-max-length": -1}, "{value_negative,-1}"),
        ({"x-message-ttl": 1.5}, '"expected integer, got double"'),
        ({"x-expires": 0}, "{value_zero,0}"),
        ({"x-max-priority": 256}, "{max_value_exceeded,256}"),
        ({"x-dead-letter-exchange": 5}, "invalid type 'signedint' for arg 'x-dead-letter-exchange'"),
        ({"x-delivery-limit": 3}, "of queue type rabbit_classic_queue"),
        ({"x-overflow": "drop-tail"}, "invalid_overflow"),
        ({"x-dead-letter-routing-key": "k"}, "routing_key_but_no_dlx_defined"),
        ({"x-single-active-consumer": "yes"}, "{unacceptable_type,longstr}"),
        ({"x-queue-type": "lazy"}, "unsupported queue type 'lazy'"),
    ],
)
def test_bad_queue_arguments_are_406(world, arguments, fragment):
    """Queue arguments of the wrong type or value are PRECONDITION_FAILED, naming the argument."""
    with pytest.raises(InvalidArgument) as info:
        world.ch.queue_declare("q", arguments=arguments)
    assert info.value.reply_code == 406 and fragment in info.value.reply_text


def test_bad_client_values(world):
    """Values pika could not encode are refused client-side, without closing the channel."""
    with pytest.raises(InvalidFieldType):
        world.ch.basic_publish("", "q", {"not": "bytes"})
    with pytest.raises(InvalidFieldType):
        world.ch.basic_consume("q", "not callable")
    with pytest.raises(InvalidFieldType):
        world.ch.basic_qos(prefetch_count=-1)
    assert world.ch.is_open


def test_bad_expiration_is_406(world):
    """A per-message expiration must be a string of milliseconds."""
    world.ch.queue_declare("q")
    with pytest.raises(InvalidArgument) as info:
        world.ch.basic_publish("", "q", b"m", BasicProperties(expiration="soon"))
    assert info.value.reply_text == "PRECONDITION_FAILED - invalid expiration 'soon': no_integer"


def test_delete_conditions(world):
    """queue_delete(if_unused / if_empty) and exchange_delete(if_unused) refuse with 406 when not met."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"m")
    with pytest.raises(QueueInUse):
        ch.queue_delete("q", if_empty=True)
    ch = ch.connection.channel()
    ch.basic_consume("q", Recorder(ack=False))
    with pytest.raises(QueueInUse):
        ch.queue_delete("q", if_unused=True)
    ch = ch.connection.channel()
    ch.exchange_declare("x", "fanout")
    ch.queue_bind("q", "x")
    with pytest.raises(ExchangeInUse):
        ch.exchange_delete("x", if_unused=True)


def test_duplicate_consumer_tag_and_prefetch_size(world):
    """A consumer tag is unique per channel; prefetch_size is not implemented by RabbitMQ (540)."""
    world.ch.queue_declare("q")
    world.ch.basic_consume("q", Recorder(), consumer_tag="t")
    with pytest.raises(DuplicateConsumerTag):
        world.ch.basic_consume("q", Recorder(), consumer_tag="t")
    with pytest.raises(NotImplementedFeature):
        world.ch.basic_qos(prefetch_size=1024)


def test_closed_channel_says_so(world):
    """Every method of a closed channel raises ChannelWrongStateError naming the channel."""
    world.ch.close()
    for call in (lambda: world.ch.basic_publish("", "q", b"m"), lambda: world.ch.basic_ack(1),
                 lambda: world.ch.queue_declare("q"), world.ch.close):
        with pytest.raises(ChannelWrongStateError) as info:
            call()
        assert "channel 1" in str(info.value)


@pytest.mark.parametrize(
    ("properties", "fragment"),
    [
        (BasicProperties(delivery_mode=3), "delivery_mode"),
        (BasicProperties(priority=256), "priority"),
        (BasicProperties(priority="high"), "priority"),
        (BasicProperties(headers=[("a", 1)]), "headers"),
    ],
)
def test_bad_properties_are_refused_client_side(world, properties, fragment):
    """Properties pika could not encode are refused before anything is sent."""
    with pytest.raises(InvalidFieldType) as info:
        world.ch.basic_publish("", "q", b"m", properties)
    assert fragment in str(info.value) and world.broker.ledger().published == 0


def test_publisher_may_reuse_its_properties_object(world):
    """The broker keeps a copy of the properties: changing the object after publishing changes nothing."""
    world.ch.queue_declare("q")
    properties = BasicProperties(headers={"n": 1})
    world.ch.basic_publish("", "q", b"1", properties)
    properties.headers["n"] = 2
    world.ch.basic_publish("", "q", b"2", properties)
    first, second = world.broker.queue("q").ready_entries()
    assert (first.message.properties.headers, second.message.properties.headers) == ({"n": 1}, {"n": 2})


def test_invalid_x_match_is_406(world):
    """A headers binding with an x-match other than all, any, all-with-x, any-with-x is refused."""
    world.ch.exchange_declare("h", "headers")
    world.ch.queue_declare("q")
    with pytest.raises(InvalidArgument) as info:
        world.ch.queue_bind("q", "h", "", {"x-match": "some"})
    assert 'Invalid x-match field value <<"some">>' in info.value.reply_text


def test_redeclaring_a_shared_queue_as_exclusive_is_405(world):
    """Asking for exclusivity on an existing non-exclusive queue is RESOURCE_LOCKED, as RabbitMQ answers it."""
    world.ch.queue_declare("shared")
    with pytest.raises(ExclusiveQueueLocked) as info:
        world.ch.queue_declare("shared", exclusive=True)
    assert info.value.reply_code == 405 and "exclusive property value does not match" in info.value.reply_text
