"""The length limit applies on enqueue, before a TTL can expire the message."""

from __future__ import annotations

from mqlab.rabbitmq import Broker
from mqlab.sim import Simulation


def test_max_length_zero_with_ttl_zero_dead_letters_as_maxlen():
    """x-max-length 0 (drop-head) and x-message-ttl 0: the arrival is dead-lettered with reason maxlen, not expired."""
    sim = Simulation(seed=0)
    channel = Broker(sim).connect().channel()
    channel.queue_declare("dead")
    channel.queue_declare("q1", arguments={"x-max-length": 0, "x-overflow": "drop-head", "x-message-ttl": 0,
                                           "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"})
    channel.basic_publish("", "q1", b"m")
    sim.run(until=1)
    _, properties, body = channel.basic_get("dead", auto_ack=True)
    assert body == b"m"
    assert properties.headers["x-death"][0]["reason"] == "maxlen"
