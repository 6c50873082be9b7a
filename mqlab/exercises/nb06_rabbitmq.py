"""Exercises of notebook 06, RabbitMQ the broker.

* ``06.region-bindings``: bind two queues to a topic exchange so that EU orders (``orders.eu.<country>``)
  reach the EU queue, every order reaches the audit queue, and nothing else lands in either.
* ``06.ack-after-work``: a kernel-process consumer that acknowledges a message only once its work is done
  and rejects poison messages without requeueing them, so that they dead-letter; checked under consumer
  crashes.
* ``06.retry-with-delay``: declare a retry topology in which a rejected message waits in a queue with a
  TTL and comes back to the work queue through dead-lettering, a fixed delay later.

Each checker runs the learner's code on :mod:`mqlab.rabbitmq` in virtual time and judges what the broker
did (which queue got which message, what was lost, what was redelivered), never the code's shape, so any
correct design passes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.rabbitmq import BasicProperties, Broker, Channel
from mqlab.sim import Simulation

__all__ = ["Work", "bind_orders", "declare_retry", "worker"]


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _drain(ch: Channel, queue: str) -> list[tuple[Any, Any, bytes]]:
    """Every ready message of ``queue``, taken with basic_get and acked, in queue order."""
    got = []
    while True:
        method, properties, body = ch.basic_get(queue)
        if method is None:
            return got
        ch.basic_ack(method.delivery_tag)
        got.append((method, properties, body))


# -- 06.region-bindings -------------------------------------------------------------------------------------

ORDER_KEYS = (
    "orders.eu.fr", "orders.us.ny", "orders.eu.de", "orders.apac.jp", "orders.eu.es",
    "orders.us.ny.brooklyn", "orders.eu.fr.paris", "orders.apac",
)
OTHER_KEYS = ("payments.eu.fr", "eu.orders.fr", "inventory.eu.de", "ordersx.eu.fr")


def _expected_eu(key: str) -> bool:
    words = key.split(".")
    return len(words) == 3 and words[0] == "orders" and words[1] == "eu"


def bind_orders(ch):
    """Bind the EU queue and the audit queue to the topic exchange 'orders'."""
    # '*' stands for exactly one word: orders.eu.fr and orders.eu.de, never orders.us.ny.
    ch.queue_bind("orders-eu", "orders", routing_key="orders.eu.*")
    # '#' stands for zero or more words: every order, however many words its key has.
    ch.queue_bind("orders-audit", "orders", routing_key="orders.#")


def check_region_bindings(bind_orders: Callable[[Channel], Any], *, seed: int = 6) -> Verdict:
    """Declare the exchange and the two queues, run the learner's bindings, publish order keys of one to
    four words and a few keys that are not orders, and compare what each queue received with the rule."""
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    ch = broker.connect().channel()
    ch.exchange_declare("orders", "topic")
    for queue in ("orders-eu", "orders-audit"):
        ch.queue_declare(queue)
    try:
        bind_orders(ch)
    except (NotAttempted, NotImplementedError):
        raise
    except Exception as error:
        return failed(
            "raised",
            f"bind_orders raised {_error_text(error)}",
            "the exchange 'orders' and the queues 'orders-eu' and 'orders-audit' already exist: only bind them.",
            "ch.queue_bind(queue_name, 'orders', routing_key=pattern), once per queue.",
        )
    sim.run()
    if ch.is_closed:
        ch = broker.connect().channel()
    keys = list(ORDER_KEYS + OTHER_KEYS)
    sim.substream("exercise:06.region-bindings").shuffle(keys)
    for key in keys:
        ch.basic_publish("orders", key, key.encode())
    sim.run()
    eu = [body.decode() for _, _, body in _drain(ch, "orders-eu")]
    audit = [body.decode() for _, _, body in _drain(ch, "orders-audit")]
    leaked_eu = [k for k in eu if not _expected_eu(k)]
    missed_eu = [k for k in keys if _expected_eu(k) and k not in eu]
    leaked_audit = [k for k in audit if not k.startswith("orders.")]
    missed_audit = [k for k in keys if k.startswith("orders.") and k not in audit]
    twice = sorted({k for k in eu + audit if eu.count(k) > 1 or audit.count(k) > 1})
    if not eu and not audit:
        return failed(
            "no-bindings",
            f"none of the {len(keys)} published messages reached either queue: the exchange had no binding that "
            f"matched",
            "a queue receives nothing from an exchange until a binding joins them.",
            "ch.queue_bind('orders-eu', 'orders', routing_key='orders.eu.*') is one of the two bindings.",
        )
    if twice:
        return failed(
            "duplicate-copies",
            f"{twice[0]!r} arrived more than once in one queue",
            "RabbitMQ puts at most one copy of a message in a queue, whatever the number of matching bindings; "
            "did you publish something yourself?",
            "bind_orders only declares bindings; it publishes nothing.",
        )
    if leaked_eu:
        region = next((k for k in leaked_eu if k.split(".")[1:2] != ["eu"]), leaked_eu[0])
        if region.split(".")[1:2] != ["eu"] and region.startswith("orders."):
            return failed(
                "eu-too-wide",
                f"the EU queue received {region!r}, an order from another region ({len(leaked_eu)} keys leaked into "
                f"orders-eu: {', '.join(leaked_eu[:3])})",
                "which words of the key does your EU pattern pin down? A '#' right after 'orders.' accepts any region.",
                "pin the region: 'orders.eu.*' matches orders.eu.<one word> and nothing else.",
            )
        return failed(
            "eu-too-wide",
            f"the EU queue received {region!r}, which has {len(region.split('.'))} words "
            f"({_count(len(leaked_eu), 'unexpected key')} in orders-eu)",
            "'#' matches zero or more words, '*' exactly one: which one does orders.eu.<country> need?",
            "bind orders-eu with 'orders.eu.*'.",
        )
    if missed_eu:
        return failed(
            "eu-missing",
            f"the EU order {missed_eu[0]!r} never reached orders-eu ({len(missed_eu)} of "
            f"{sum(_expected_eu(k) for k in keys)} EU orders missing)",
            "a topic binding key without wildcards only matches that exact key; the country word varies.",
            "bind orders-eu with 'orders.eu.*': '*' stands for the country.",
        )
    if leaked_audit:
        return failed(
            "audit-too-wide",
            f"the audit queue received {leaked_audit[0]!r}, which is not an order ({len(leaked_audit)} such keys)",
            "a binding key of '#' alone matches every key; the audit queue wants orders only.",
            "bind orders-audit with 'orders.#'.",
        )
    if missed_audit:
        sizes = {len(k.split(".")) for k in audit}
        multi = [k for k in missed_audit if len(k.split(".")) not in sizes]
        if audit and len(sizes) == 1 and len(multi) == len(missed_audit):
            return failed(
                "audit-star-not-hash",
                f"the audit queue lost {multi[0]!r}: orders whose keys do not have exactly "
                f"{len(audit[0].split('.'))} words never reached it ({len(missed_audit)} orders missing)",
                "'*' matches exactly one word, so 'orders.*' or 'orders.*.*' fix the number of words; some order "
                "keys have two words, some four.",
                "bind orders-audit with 'orders.#': '#' matches zero or more words.",
            )
        return failed(
            "audit-missing",
            f"the order {missed_audit[0]!r} never reached orders-audit ({len(missed_audit)} orders missing)",
            "the audit queue must receive every order, from every region.",
            "bind orders-audit with 'orders.#'.",
        )
    return passed(
        f"orders-eu received exactly the {len(eu)} EU orders of three words, orders-audit all {len(audit)} orders of "
        f"two to four words, and the {len(OTHER_KEYS)} other keys reached neither"
    )


# -- 06.ack-after-work --------------------------------------------------------------------------------------


class Poison(Exception):
    """This message can never be processed: retrying it will fail the same way."""


@dataclass
class Work:
    """The processing a worker does: ``yield work.do(body)`` spends ``seconds`` of virtual time.

    ``do`` raises :class:`Work.Poison` at once for a poison message (a body starting ``poison``).
    The checker may kill a worker *during* a job: the job then never completes and the worker's
    code after the ``yield`` never runs, as when a process is killed.
    """

    sim: Simulation
    seconds: float = 1.0
    Poison = Poison
    completed: dict[str, int] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    crash_during: list[str] = field(default_factory=list)
    _events: dict[Any, tuple[str, bool]] = field(default_factory=dict)

    def do(self, body: bytes) -> Any:
        """A kernel event that fires when the job in ``body`` is done (``yield`` it)."""
        name = body.decode() if isinstance(body, (bytes, bytearray)) else str(body)
        self.attempts[name] = self.attempts.get(name, 0) + 1
        if name.startswith("poison"):
            raise Poison(f"{name}: malformed, can never be processed")
        crash = name in self.crash_during
        if crash:
            self.crash_during.remove(name)
        event = self.sim.timeout(self.seconds)
        self._events[event] = (name, crash)
        return event

    def finished(self, event: Any) -> bool:
        """Called after ``event`` fired: False when the worker was killed during that job."""
        name, crash = self._events.pop(event, ("", False))
        if crash:
            return False
        if name:
            self.completed[name] = self.completed.get(name, 0) + 1
        return True


def worker(ch, queue, work):
    """Consume queue: ack each message after its work is done; dead-letter poison messages."""
    for event in ch.consume(queue):                 # manual acknowledgements (auto_ack stays False)
        method, _properties, body = yield event
        try:
            yield work.do(body)                     # the work itself; raises work.Poison for a hopeless message
        except work.Poison:
            # requeue=False: the broker dead-letters it instead of handing it out again, forever
            ch.basic_reject(method.delivery_tag, requeue=False)
            continue
        ch.basic_ack(method.delivery_tag)           # only now: a crash before this line loses nothing


@dataclass
class _AckRun:
    names: list[str]
    poison: list[str]
    work: Work
    broker: Broker
    untouched: bool = False
    not_generator: bool = False
    errors: list[str] = field(default_factory=list)
    poison_crashes: int = 0
    crashes: int = 0
    left: list[str] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)
    auto_acked: int = 0
    unacked_at_end: int = 0
    redelivered: int = 0


def _ack_scenario(learner: Callable[..., Any], seed: int, jobs: int, workers: int, prefetch: int) -> _AckRun:
    sim = Simulation(seed=seed)
    broker = Broker(sim, latency=0.005)
    admin = broker.connect(name="admin").channel()
    admin.exchange_declare("work.dlx", "fanout")
    admin.queue_declare("work.dead")
    admin.queue_bind("work.dead", "work.dlx")
    admin.queue_declare("work", arguments={"x-dead-letter-exchange": "work.dlx"})
    rng = sim.substream("exercise:06.ack-after-work")
    names = [f"job-{i + 1}" for i in range(jobs)]
    poison = sorted(rng.sample(range(2, jobs + 2), 2))
    bodies = list(names)
    for offset, position in enumerate(poison):
        bodies.insert(position - 1 + offset, f"poison-{offset + 1}")
    for body in bodies:
        admin.basic_publish("", "work", body.encode(), BasicProperties(delivery_mode=2))
    work = Work(sim)
    work.crash_during.extend(sorted(rng.sample(names[: jobs // 2], 2), key=names.index))
    run = _AckRun(names, [b for b in bodies if b.startswith("poison")], work, broker)
    connections: list[Any] = []

    def start(index: int) -> None:
        if sim.now < 40:
            sim.process(one_worker(index), name=f"worker-{index}")

    def one_worker(index: int) -> Generator[Any, Any, None]:
        connection = broker.connect(name=f"worker-{index}")
        connections.append(connection)
        ch = connection.channel()
        ch.basic_qos(prefetch_count=prefetch)

        def crash() -> None:
            run.crashes += 1
            if connection.is_open:
                connection.close()
            sim.call_later(1.0, start, index)

        try:
            steps = learner(ch, "work", work)
        except (NotAttempted, NotImplementedError):
            run.untouched = True
            return
        except Exception as error:
            run.errors.append(_error_text(error))
            return
        if not inspect.isgenerator(steps):
            run.not_generator = True
            return
        value: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                event = steps.throw(thrown) if thrown is not None else steps.send(value)
            except StopIteration:
                return
            except (NotAttempted, NotImplementedError):
                run.untouched = True
                return
            except Poison:
                run.poison_crashes += 1
                crash()
                return
            except Exception as error:
                if connection.is_open:
                    run.errors.append(_error_text(error))
                    crash()
                return
            thrown, value = None, None
            try:
                value = yield event
            except Exception as error:
                thrown = error
                continue
            if event in work._events and not work.finished(event):
                steps.close()
                crash()
                return

    for index in range(workers):
        start(index + 1)
    try:
        sim.run(until=60)
    except Exception as error:
        run.errors.append(f"the simulation: {_error_text(error)}")
    run.unacked_at_end = broker.queue_statistics("work").unacked
    run.redelivered = broker.queue_statistics("work").redelivered
    for connection in connections:
        if connection.is_open:
            connection.close()
    sim.run(until=sim.now + 1)
    run.auto_acked = broker.ledger().auto_acked
    run.left = [body.decode() for _, _, body in _drain(admin, "work")]
    run.dead = [(body.decode(), (props.headers or {}).get("x-death", [{}])[0].get("reason", ""))
                for _, props, body in _drain(admin, "work.dead")]
    return run


def check_ack_after_work(worker: Callable[..., Any], *, seed: int = 6, jobs: int = 16, workers: int = 2,
                         prefetch: int = 3) -> Verdict:
    """Two workers (prefetch 3) on a queue of jobs with two poison messages; two jobs kill their worker in the
    middle of the work (a replacement connects 1 s later). Passes when every job was done, each poison message
    is in the dead-letter queue (reason ``rejected``), and nothing is left in the work queue."""
    run = _ack_scenario(worker, seed, jobs, workers, prefetch)
    if run.untouched:
        raise NotAttempted("worker")
    if run.not_generator:
        return failed(
            "not-a-generator",
            "worker() returned without yielding: a kernel-process consumer must yield the events of ch.consume()",
            "write it as a generator: `for event in ch.consume(queue): method, properties, body = yield event`.",
            "then `yield work.do(body)` for the work, and settle the delivery with ch.basic_ack / ch.basic_reject.",
        )
    if run.errors:
        return failed(
            "raised",
            f"your worker raised {run.errors[0]}",
            "read the exception: delivery tags come from method.delivery_tag, and each is settled once.",
            "ack with ch.basic_ack(method.delivery_tag); reject with ch.basic_reject(method.delivery_tag, "
            "requeue=False).",
        )
    if run.poison_crashes:
        return failed(
            "poison-crashes-worker",
            f"work.Poison escaped your worker {_count(run.poison_crashes, 'time')}: each time the worker died, the "
            f"broker requeued the poison message, and the next worker died on it too",
            "a message that can never succeed must be settled, not left to kill its consumer.",
            "catch work.Poison around `yield work.do(body)` and call ch.basic_reject(method.delivery_tag, "
            "requeue=False).",
        )
    lost = [n for n in run.names if run.work.completed.get(n, 0) == 0 and n not in run.left]
    wrongly_dead = [name for name, _ in run.dead if not name.startswith("poison")]
    if wrongly_dead:
        return failed(
            "rejects-good-work",
            f"{wrongly_dead[0]} ended in the dead-letter queue although its work could succeed",
            "reject only what raised work.Poison; everything else is acked after its work.",
            "put the basic_reject inside `except work.Poison:` and the basic_ack after the work.",
        )
    if lost and run.auto_acked:
        return failed(
            "auto-ack-loses",
            f"{lost[0]} was never processed and is gone ({_count(len(lost), 'job')} lost): with auto_ack the broker "
            f"forgot each message as it sent it ({run.auto_acked} auto-acked deliveries), so those still buffered in "
            f"a worker that crashed went with it",
            "with auto_ack=True a delivery counts as acknowledged the moment it leaves the broker.",
            "consume with manual acknowledgements (the default, auto_ack=False) and ack after the work.",
        )
    if lost:
        return failed(
            "ack-before-work",
            f"{lost[0]} was acknowledged but never processed ({_count(len(lost), 'job')} lost): its worker crashed "
            f"after the ack and before the work finished, and an acked message is gone from RabbitMQ",
            "once acked, a message exists nowhere: what if the worker dies between the ack and the end of the work?",
            "call ch.basic_ack(method.delivery_tag) after `yield work.do(body)`, not before.",
        )
    poison_attempts = max(run.work.attempts.get(p, 0) for p in run.poison)
    poison_dead = [name for name, reason in run.dead if name.startswith("poison") and reason == "rejected"]
    if len(poison_dead) < len(run.poison) and poison_attempts > 10:
        return failed(
            "requeue-loop",
            f"a poison message was delivered {poison_attempts} times in 60 s and never reached the dead-letter "
            f"queue: each reject put it back at the head of the queue",
            "requeue=True hands a message straight back to a consumer, which fails on it again.",
            "reject poison with ch.basic_reject(method.delivery_tag, requeue=False): the queue's dead-letter "
            "exchange takes it.",
        )
    never_done = [n for n in run.names if run.work.completed.get(n, 0) == 0]
    if run.unacked_at_end or never_done or run.left:
        stuck = run.left[0] if run.left else (never_done[0] if never_done else "a message")
        if len(poison_dead) < len(run.poison) and all(n.startswith("poison") for n in run.left) and not never_done:
            return failed(
                "poison-not-settled",
                f"the poison messages were neither acked nor rejected: they stayed unacked until the workers "
                f"disconnected, then went back to the queue ({', '.join(run.left)})",
                "every delivery must be settled, the poison ones included, or it holds a prefetch slot forever.",
                "in `except work.Poison:`, call ch.basic_reject(method.delivery_tag, requeue=False).",
            )
        return failed(
            "never-acks",
            f"{stuck} was still in the work queue after 60 s ({run.unacked_at_end} deliveries unacked at the end, "
            f"{len(never_done)} jobs never done): with prefetch {prefetch}, unacked deliveries stop the flow",
            "RabbitMQ keeps a delivery until it is acked, and sends no more than the prefetch count unacked.",
            "after `yield work.do(body)`, call ch.basic_ack(method.delivery_tag).",
        )
    repeated = sum(1 for n in run.names if run.work.completed.get(n, 0) > 1)
    crashes = _count(run.crashes, "worker crash", "worker crashes")
    redeliveries = _count(run.redelivered, "redelivery", "redeliveries")
    return passed(
        f"all {len(run.names)} jobs done despite {crashes} ({redeliveries}, {_count(repeated, 'job')} done twice: "
        f"at-least-once), and both poison messages dead-lettered with x-death reason 'rejected'"
    )


# -- 06.retry-with-delay ------------------------------------------------------------------------------------

RETRY_DELAY = 5.0
"""Seconds a rejected message must wait before it comes back to the work queue."""


def declare_retry(ch):
    """Declare 'work' and 'work.wait' so that a message rejected from 'work' returns to it 5 s later."""
    # A rejected message leaves 'work' through the default exchange, with routing key 'work.wait'.
    ch.queue_declare("work", arguments={
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "work.wait",
    })
    # Nobody consumes 'work.wait': each message expires after 5000 ms and is dead-lettered back to 'work'.
    ch.queue_declare("work.wait", arguments={
        "x-message-ttl": 5000,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "work",
    })


def check_retry_with_delay(declare_retry: Callable[[Channel], Any], *, seed: int = 6, messages: int = 6,
                           failures: int = 2) -> Verdict:
    """Run the learner's declarations, publish messages to the default exchange with key 'work', and consume
    'work' with a handler that rejects (requeue=False) each message on its first ``failures`` deliveries and
    acks it after. Passes when every message is acked, each retry came 5 s (± 0.5 s) after its reject, and the
    x-death header of the last delivery counts the rejections."""
    sim = Simulation(seed=seed)
    broker = Broker(sim, latency=0.001)
    ch = broker.connect().channel()
    try:
        declare_retry(ch)
    except (NotAttempted, NotImplementedError):
        raise
    except Exception as error:
        return failed(
            "raised",
            f"declare_retry raised {_error_text(error)}",
            "queue arguments are a dict: x-message-ttl is an int of milliseconds, exchange names and routing keys "
            "are strings.",
            "two queue_declare calls are enough: 'work' and 'work.wait', each with x-dead-letter-* arguments.",
        )
    sim.run()
    if ch.is_closed or "work" not in broker.queues:
        return failed(
            "no-work-queue",
            "after declare_retry there is no queue called 'work'" if "work" not in broker.queues
            else "declare_retry closed its channel with a channel error",
            "declare both queues, 'work' and 'work.wait'.",
            "ch.queue_declare('work', arguments={...}) and ch.queue_declare('work.wait', arguments={...}).",
        )
    attempts: dict[str, list[tuple[float, list[dict[str, Any]]]]] = {}
    rejected_at: dict[str, list[float]] = {}

    def handler(channel: Channel, method: Any, properties: Any, body: bytes) -> None:
        name = body.decode()
        deaths = list((properties.headers or {}).get("x-death") or [])
        attempts.setdefault(name, []).append((sim.now, deaths))
        if len(attempts[name]) <= failures:
            rejected_at.setdefault(name, []).append(sim.now)
            channel.basic_reject(method.delivery_tag, requeue=False)
        else:
            channel.basic_ack(method.delivery_tag)

    consumer = broker.connect(name="consumer").channel()
    consumer.basic_consume("work", handler)
    names = [f"task-{i + 1}" for i in range(messages)]
    rng = sim.substream("exercise:06.retry-with-delay")
    start_times = sorted(round(rng.uniform(0, 3), 3) for _ in names)
    for name, at in zip(names, start_times):
        sim.call_at(at, ch.basic_publish, "", "work", name.encode())
    sim.run(until=120)
    done = [n for n in names if len(attempts.get(n, [])) > failures]
    topology = broker.topology()
    args = {q["name"]: q["arguments"] for q in topology["queues"]}
    work_args = args.get("work", {})
    wait_names = [q for q in args if q != "work"]
    ledger = broker.ledger()
    if any(len(attempts.get(n, [])) > 1 and attempts[n][1][0] - rejected_at[n][0] < RETRY_DELAY - 0.5
           for n in names):
        name = next(n for n in names if len(attempts.get(n, [])) > 1
                    and attempts[n][1][0] - rejected_at[n][0] < RETRY_DELAY - 0.5)
        gap = attempts[name][1][0] - rejected_at[name][0]
        return failed(
            "no-delay",
            f"{name} came back {gap:.2f} s after it was rejected, not 5 s",
            "the delay comes from the time a message spends in the wait queue before it expires.",
            "give the wait queue 'x-message-ttl': 5000 (milliseconds), and let nothing consume it.",
        )
    if len(done) < len(names):
        name = next(n for n in names if n not in done)
        tried = len(attempts.get(name, []))
        if "x-dead-letter-exchange" not in work_args:
            return failed(
                "no-dlx-on-work",
                f"{name} was rejected once and then vanished: 'work' has no x-dead-letter-exchange, so RabbitMQ "
                f"discarded what the consumer rejected",
                "a rejected message (requeue=False) goes to its queue's dead-letter exchange, if it has one; if not, "
                "it is dropped.",
                "declare 'work' with 'x-dead-letter-exchange': '' and 'x-dead-letter-routing-key': 'work.wait'.",
            )
        stuck = {q: broker.queue_statistics(q) for q in wait_names}
        full = [q for q, s in stuck.items() if s.ready]
        if "x-message-ttl" in work_args and not any("x-message-ttl" in args[q] for q in wait_names):
            return failed(
                "ttl-on-work-queue",
                f"{name} was rejected and never came back; the TTL is on 'work' itself, so it only limits how long "
                f"fresh messages may wait there, while rejected ones sit in {full[0] if full else 'the wait queue'!r} "
                f"forever",
                "which queue should a message wait in? The TTL belongs there.",
                "move 'x-message-ttl': 5000 to the wait queue, whose dead-letter exchange sends expired messages back "
                "to 'work'.",
            )
        if full and not any("x-message-ttl" in args[q] for q in full):
            return failed(
                "wait-without-ttl",
                f"{name} reached {full[0]!r} after its reject and stayed there: nothing ever makes it leave",
                "a message leaves a queue nobody consumes only when it expires.",
                f"give {full[0]!r} 'x-message-ttl': 5000 and an x-dead-letter-exchange that leads back to 'work'.",
            )
        looped = [q for q, s in stuck.items() if s.dead_lettered.get("expired", 0) > messages]
        if looped or ledger.dropped.get("dead_letter_unroutable") or any(
                "x-dead-letter-routing-key" not in args[q] for q in wait_names if "x-message-ttl" in args[q]):
            where = (f"it expired from {looped[0]!r} and went straight back into it, again and again"
                     if looped else "it expired from the wait queue and did not reach 'work'")
            return failed(
                "missing-dead-letter-routing-key",
                f"{name} was tried {_count(tried, 'time')} and never returned to 'work': {where}",
                "without x-dead-letter-routing-key, a dead-lettered message keeps its last routing key, here the "
                "key that led it into the wait queue.",
                "declare the wait queue with 'x-dead-letter-routing-key': 'work' (and 'x-dead-letter-exchange': '').",
            )
        return failed(
            "not-retried",
            f"{name} was tried {_count(tried, 'time')} and never acked within 120 s",
            "follow one rejected message: which queue does it reach, and what makes it leave that queue?",
            "work → (reject, DLX) → work.wait → (TTL 5000 ms, DLX) → work.",
        )
    late = [(n, attempts[n][1][0] - rejected_at[n][0]) for n in names
            if attempts[n][1][0] - rejected_at[n][0] > RETRY_DELAY + 0.5]
    if late:
        name, gap = late[0]
        return failed(
            "wrong-delay",
            f"{name} came back {gap:.1f} s after its reject; the retry delay should be 5 s",
            "x-message-ttl is in milliseconds.",
            "'x-message-ttl': 5000 on the wait queue.",
        )
    deaths = attempts[names[0]][-1][1]
    rejected = sum(d.get("count", 0) for d in deaths if d.get("reason") == "rejected")
    if rejected != failures:
        return failed(
            "x-death-miscounted",
            f"the last delivery of {names[0]} carried x-death entries counting {rejected} rejections, not {failures}",
            "each pass through dead-lettering adds to x-death; a message that took another path was not counted.",
            "send rejected messages through the wait queue only, and back through dead-lettering only.",
        )
    return passed(
        f"all {len(names)} messages acked after {failures} rejections each; every retry came "
        f"{RETRY_DELAY:g} s after its reject, and the last delivery's x-death counted {rejected} rejections from "
        f"'work' and {sum(d.get('count', 0) for d in deaths if d.get('reason') == 'expired')} expiries"
    )


region_bindings = register(Exercise(
    "06.region-bindings", "Topic bindings: EU orders to the EU queue, every order to audit, nothing else",
    check_region_bindings, bind_orders, handle="exercise_bindings",
))
ack_after_work = register(Exercise(
    "06.ack-after-work", "A consumer that acks after the work and dead-letters poison messages",
    check_ack_after_work, worker, handle="exercise_worker",
))
retry_with_delay = register(Exercise(
    "06.retry-with-delay", "Retry after a delay: a TTL wait queue and dead-lettering back to the work queue",
    check_retry_with_delay, declare_retry, handle="exercise_retry",
))
