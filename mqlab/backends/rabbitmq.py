"""RabbitMQ on the simulator or on a real broker through pika, behind one setting.

::

    from mqlab.backends import RabbitMQBackend

    backend = RabbitMQBackend()          # the simulator, unless MQLAB_RABBITMQ_URL is set
    # RabbitMQBackend("amqp://guest:guest@127.0.0.1:5672/")   a real broker, through pika
    ch = backend.connect().channel()     # mqlab's Connection, or pika.BlockingConnection
    ch.queue_declare("tasks")
    ch.basic_publish("", "tasks", b"hello", backend.BasicProperties(delivery_mode=2))
    backend.run(1.0)                     # 1 s of virtual time, or of wall-clock time (callbacks run)

The channel is the object a learner programs against: mqlab's channel is shaped like pika's
``BlockingChannel`` (method names, keywords, ``UnroutableError``/``NackError`` with confirms), so
the same code runs on both. ``backend.exceptions`` is the module of the matching exception classes
(``mqlab.rabbitmq`` or ``pika.exceptions``), ``backend.BasicProperties`` the matching properties class.

On a real broker, ``backend.broker``, ``backend.sim``, ``backend.trace``, ``backend.ledger()``,
``backend.statistics()`` and fault injection raise :class:`NotAvailableOnRealBroker`.

Credentials come from the URL (``amqp://user:password@host:port/vhost``) or, when it has none,
from ``MQLAB_RABBITMQ_USER`` / ``MQLAB_RABBITMQ_PASSWORD``; otherwise pika's default (guest/guest,
which RabbitMQ accepts only from localhost).
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from mqlab.backends.base import Backend, redact
from mqlab.backends.errors import BrokerUnreachable, InvalidBrokerSetting
from mqlab.sim import Simulation

__all__ = ["HOW_TO_START_RABBITMQ", "RabbitMQBackend"]

HOW_TO_START_RABBITMQ = (
    "start a local broker with `sudo python3 tools/brokers.py start rabbitmq` (Debian/Ubuntu) or "
    "`docker run -d -p 5672:5672 rabbitmq:3.10-management`, or unset MQLAB_RABBITMQ_URL to use the simulator"
)


def _with_environment_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise InvalidBrokerSetting(
            f"MQLAB_RABBITMQ_URL must be an AMQP URL such as amqp://guest:guest@127.0.0.1:5672/ , got "
            f"{redact(url)!r}"
        )
    if parts.username is not None:
        return url
    user = os.environ.get("MQLAB_RABBITMQ_USER")
    if not user:
        return url
    password = os.environ.get("MQLAB_RABBITMQ_PASSWORD", "")
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RabbitMQBackend(Backend):
    """RabbitMQ: mqlab's :class:`~mqlab.rabbitmq.Broker`, or a real node through pika."""

    broker_name = "RabbitMQ"
    setting_variable = "MQLAB_RABBITMQ_URL"
    client_module = "pika"

    def __init__(self, url: str | None = None, *, sim: Simulation | None = None, seed: int = 0,
                 **broker_options: Any) -> None:
        """``url``: an AMQP URL, None for ``$MQLAB_RABBITMQ_URL`` (unset: the simulator), or ``"simulator"``.

        ``broker_options`` go to the simulated :class:`~mqlab.rabbitmq.Broker` (``latency``,
        ``quorum_delivery_limit`` ...); a real broker has its own configuration, so they are refused there.
        """
        super().__init__(url, sim, seed)
        self._connections: list[Any] = []
        self._broker: Any = None
        if self.address is None:
            from mqlab.rabbitmq import Broker

            self._broker = Broker(self.sim, **broker_options)
            return
        if broker_options:
            names = ", ".join(sorted(broker_options))
            raise self.not_available(f"simulator settings ({names})")
        self.address = _with_environment_credentials(self.address)
        self._pika = self._client()

    # -- what learners use -------------------------------------------------------------------
    def connect(self, name: str | None = None) -> Any:
        """A connection: mqlab's, or a ``pika.BlockingConnection`` (``.channel()`` on either)."""
        if self._broker is not None:
            connection = self._broker.connect(name=name)
        else:
            pika = self._pika
            assert self.address is not None
            parameters = pika.URLParameters(self.address)
            parameters.connection_attempts = 1
            parameters.socket_timeout = 5
            if name:
                parameters.client_properties = {"connection_name": name}
            try:
                connection = pika.BlockingConnection(parameters)
            except pika.exceptions.AMQPConnectionError as error:
                raise BrokerUnreachable(
                    f"could not connect to RabbitMQ at {redact(self.address)}: {error!r}; {HOW_TO_START_RABBITMQ}"
                ) from error
        self._connections.append(connection)
        return connection

    @property
    def BasicProperties(self) -> type:  # noqa: N802 -- the class's own name, as in pika
        """The message properties class of this backend (mqlab's or pika's)."""
        if self._broker is not None:
            from mqlab.rabbitmq import BasicProperties

            return BasicProperties
        return self._pika.BasicProperties

    @property
    def exceptions(self) -> Any:
        """The module holding this backend's exception classes (``UnroutableError``, ``ChannelClosedByBroker``...)."""
        if self._broker is not None:
            import mqlab.rabbitmq

            return mqlab.rabbitmq
        return self._pika.exceptions

    # -- simulator only ----------------------------------------------------------------------
    @property
    def broker(self) -> Any:
        """The simulated :class:`~mqlab.rabbitmq.Broker` (restart, topology, queue statistics): simulator only."""
        if self._broker is None:
            raise self.not_available("the simulated broker object (backend.broker)")
        return self._broker

    def ledger(self) -> Any:
        return self.broker.ledger()

    def statistics(self) -> Any:
        return self.broker.statistics()

    # -- time and closing --------------------------------------------------------------------
    def _pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            open_connections = [c for c in self._connections if c.is_open]
            if remaining <= 0:
                return
            if not open_connections:
                time.sleep(remaining)
                return
            share = max(remaining / len(open_connections), 0.001)
            for connection in open_connections:
                connection.process_data_events(time_limit=min(share, 0.05))

    def close(self) -> None:
        for connection in self._connections:
            if connection.is_open:
                with contextlib.suppress(Exception):  # it may already be half closed
                    connection.close()
        self._connections = []
