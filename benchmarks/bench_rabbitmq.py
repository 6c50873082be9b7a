"""RabbitMQ model: full message cycle rate, against queue.Queue and kombu's in-memory transport.

One cycle is: ``basic_publish`` through a direct exchange, routing into a queue, push
delivery to a consumer callback in virtual time, and ``basic_ack``. The peers do the
nearest thing they can: ``queue.Queue`` a ``put`` and a ``get``; kombu's ``memory://``
transport a ``Producer.publish`` through a direct exchange, ``drain_events`` into a
consumer callback and ``message.ack()``. All are measured in the same run, taking turns
(``harness.interleaved_best``: best CPU time of each, so load from other work on the
machine neither skews the ratios nor counts as the subject's time).

Two shapes: the headline publishes in batches of 100 and lets the consumer catch up
after each (a steady state; ``queue.Queue`` does 100 puts then 100 gets); the second
publishes everything first, which keeps every message alive at once and makes
Python's cyclic garbage collector a large share of the cost.

Goals (issue "mqlab.rabbitmq"): at least 1.0x ``queue.Queue`` and 25x kombu. Not met.
Measured (2 shared cores, Python 3.11, CPU time, subjects interleaved; median of three
runs): 0.49x ``queue.Queue`` and 9.9x kombu in the steady state (about 600k full cycles
per second against 1.2M ``queue.Queue`` put/get pairs and 61k kombu cycles).
Where the time goes (profile): roughly half on the publish side (checks, routing, the
Message and the queue's copy) and half on delivery, the callback frame and the ack:
about a dozen Python calls per message, each already short (no tracing cost when
``sim.tracing`` is off, no per-message dicts, bound methods and constants hoisted).
The cyclic garbage collector is not a factor here (the same time with it disabled), and
further local rewrites (routing a direct exchange without the router call, reordering
``Queue.offer``) measured within 1%. A ``queue.Queue`` put/get pair costs about as much
as one of those halves, so 1.0x would need the whole AMQP cycle done in the time of one
stdlib put and get; the model does not skip any step to get there.
"""

from __future__ import annotations

import queue as stdlib_queue
from collections.abc import Callable

from harness import Row, interleaved_best, rate

from mqlab.rabbitmq import Broker
from mqlab.sim import Simulation

BENCH = "rabbitmq full cycle (publish→ack)"
BACKLOG = "rabbitmq cycle, all published first"
BATCH = 100


def mqlab_cycle(count: int, exchange_type: str = "direct", prefetch: int = 0, batch: int = 0) -> int:
    """Publish ``count`` messages through an exchange; a callback consumer acks each; returns acked.

    ``batch`` > 0: publish that many, run the simulation, repeat (a steady state, the
    backlog never exceeds ``batch``); 0: publish everything, then run (a backlog of ``count``).
    """
    sim = Simulation(seed=1)
    broker = Broker(sim)
    ch = broker.connect().channel()
    ch.exchange_declare("bench", exchange_type)
    ch.queue_declare("work")
    ch.queue_bind("work", "bench", "jobs.created" if exchange_type != "fanout" else "")
    if exchange_type == "topic":
        ch.queue_bind("work", "bench", "jobs.#")  # two matching bindings, still one copy
    if prefetch:
        ch.basic_qos(prefetch_count=prefetch)
    ack = ch.basic_ack

    def on_message(channel, method, properties, body):
        ack(method.delivery_tag)

    ch.basic_consume("work", on_message)
    publish = ch.basic_publish
    body = b"x" * 64
    if batch:
        run = sim.run
        for _ in range(count // batch):
            for _ in range(batch):
                publish("bench", "jobs.created", body)
            run()
    else:
        for _ in range(count):
            publish("bench", "jobs.created", body)
        sim.run()
    acked = broker.queue("work").acked
    assert acked == count, (acked, count)
    return acked


def stdlib_cycle(count: int, batch: int = 0) -> int:
    """``put`` then ``get`` ``count`` items, in batches of ``batch`` (0: all puts, then all gets)."""
    q: stdlib_queue.Queue[bytes] = stdlib_queue.Queue()
    put = q.put
    get = q.get
    body = b"x" * 64
    size = batch or count
    for _ in range(count // size):
        for _ in range(size):
            put(body)
        for _ in range(size):
            get()
    return count


def kombu_cycle(count: int) -> int:
    from kombu import Connection, Consumer, Exchange, Producer, Queue

    exchange = Exchange("bench", type="direct", durable=False)
    queue = Queue("work", exchange, routing_key="jobs.created", durable=False)
    done = [0]

    def on_message(body, message):
        message.ack()
        done[0] += 1

    with Connection("memory://") as connection:
        channel = connection.channel()
        producer = Producer(channel, exchange=exchange, routing_key="jobs.created")
        queue(channel).declare()
        body = b"x" * 64
        for _ in range(count):
            producer.publish(body, content_type="application/octet-stream", content_encoding="binary")
        with Consumer(channel, [queue], callbacks=[on_message], accept=["application/octet-stream"]):
            while done[0] < count:
                connection.drain_events(timeout=1)
        channel.close()
    return done[0]


def run(quick: bool = False) -> list[Row]:
    n = 20_000 if quick else 200_000
    n_kombu = 2_000 if quick else 20_000
    rounds = 3 if quick else 5
    subjects: dict[str, Callable[[], object]] = {
        "mqlab": lambda: mqlab_cycle(n, batch=BATCH),
        "queue.Queue": lambda: stdlib_cycle(n, batch=BATCH),
    }
    try:
        import kombu  # noqa: F401

        subjects["kombu"] = lambda: kombu_cycle(n_kombu)
    except ImportError:
        pass
    best = interleaved_best(subjects, repeat=rounds)
    rows = [
        Row(BENCH, "mqlab direct", rate(n, best["mqlab"]), "msg/s", note=f"batches of {BATCH}"),
        Row(BENCH, "queue.Queue put/get", rate(n, best["queue.Queue"]), "msg/s",
            note=f"batches of {BATCH}; no routing, no acks"),
    ]
    if "kombu" in best:
        rows.append(Row(BENCH, "kombu memory://", rate(n_kombu, best["kombu"]), "msg/s", note=f"n={n_kombu:,}"))
    else:
        rows.append(Row(BENCH, "kombu memory://", 0.0, "msg/s", note="kombu not installed"))
    best = interleaved_best({
        "mqlab": lambda: mqlab_cycle(n),
        "queue.Queue": lambda: stdlib_cycle(n),
        "prefetch": lambda: mqlab_cycle(n, "direct", prefetch=50),
    }, repeat=max(2, rounds - 2))
    rows.append(Row(BACKLOG, "mqlab direct", rate(n, best["mqlab"]), "msg/s", note=f"backlog of {n:,}"))
    rows.append(Row(BACKLOG, "queue.Queue put/get", rate(n, best["queue.Queue"]), "msg/s", note=f"backlog of {n:,}"))
    rows.append(Row(BACKLOG, "mqlab direct, prefetch=50", rate(n, best["prefetch"]), "msg/s",
                    note=f"backlog of {n:,}"))
    seconds = interleaved_best({"topic": lambda: mqlab_cycle(n, "topic", batch=BATCH)}, repeat=3)["topic"]
    rows.append(Row(BENCH + ", topic", "mqlab topic (2 bindings)", rate(n, seconds), "msg/s",
                    note=f"batches of {BATCH}"))
    return rows
