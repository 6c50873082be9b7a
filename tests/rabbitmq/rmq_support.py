"""Shared helpers for the RabbitMQ model tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mqlab.rabbitmq import Broker, Channel
from mqlab.sim import Simulation


@dataclass
class Recorder:
    """A consumer callback that records what it got and acks (or not)."""

    ack: bool = True
    got: list[tuple[Any, Any, bytes]] = field(default_factory=list)

    def __call__(self, channel: Channel, method: Any, properties: Any, body: bytes) -> None:
        self.got.append((method, properties, body))
        if self.ack:
            channel.basic_ack(method.delivery_tag)

    @property
    def bodies(self) -> list[bytes]:
        return [body for _, _, body in self.got]


@dataclass
class World:
    sim: Simulation
    broker: Broker
    ch: Channel


def make_world(seed: int = 0, trace: bool = False, **broker_settings: Any) -> World:
    sim = Simulation(seed=seed, trace=trace)
    broker = Broker(sim, **broker_settings)
    return World(sim, broker, broker.connect().channel())


def drain(world: World, queue: str) -> list[bytes]:
    """Every ready body of ``queue``, taken with basic_get and acked."""
    bodies = []
    while True:
        method, _, body = world.ch.basic_get(queue)
        if method is None:
            return bodies
        world.ch.basic_ack(method.delivery_tag)
        bodies.append(body)
