"""Exercises of notebook 04, poison messages and dead-letter queues.

* ``04.dead-letter``: a RabbitMQ consumer callback that retries a failed delivery a few times and then
  rejects it without requeue, so the queue's dead-letter exchange takes it (instead of requeueing it
  forever, or acknowledging it and losing it);
* ``04.backoff``: a retry delay with exponential backoff, jitter and a cap, so that clients that failed
  together do not come back together and no wait exceeds the budget;
* ``04.replay``: after a fix, replay from the DLQ only the messages that failed for the fixed reason, at a
  rate limit, into a handler that cannot charge twice.

Each checker runs the learner's code on the simulator (the RabbitMQ model, or many simulated clients) and
judges what happened to the messages, not how the code looks. Simplifications: the RabbitMQ runs give every
connection 1 ms of latency each way (with none, a requeue inside a consumer callback would come back within the
same instant, for ever); delivery counting follows RabbitMQ 3.10 to 4.2, where every return counts towards
``x-delivery-count`` (4.3 changed which returns count).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.faults.rabbitmq import RabbitPublisher
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.patterns.dlq import DLQReplayer
from mqlab.patterns.rabbitmq_dlq import RabbitDeadLetters, declare_with_dlq, rabbit_publish
from mqlab.rabbitmq import Broker
from mqlab.sim import Simulation

__all__ = ["Payments", "ReceiptError", "Receipts", "handle_order", "on_message", "replay_fixed", "retry_delay"]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _plural(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)


# -- 04.dead-letter -------------------------------------------------------------------------------------------


def on_message(channel, method, properties, body, process, max_attempts=3):
    """Handle one delivery: ack a success, retry a failure, dead-letter it after max_attempts tries."""
    # A quorum queue counts how many times it handed this message back: x-delivery-count
    # (absent on the first delivery). So this is try number 1 + that count.
    attempt = 1 + (properties.headers or {}).get("x-delivery-count", 0)
    try:
        process(body)
    except Exception:
        if attempt < max_attempts:
            channel.basic_nack(method.delivery_tag, requeue=True)  # maybe it was transient: try again
        else:
            channel.basic_reject(method.delivery_tag, requeue=False)  # give up: the DLX takes it
        return
    channel.basic_ack(method.delivery_tag)  # done: only now may the broker forget the message


class _DeadLetterRun:
    """What one run of the learner's callback did to the orders."""

    def __init__(self) -> None:
        self.deliveries: dict[int, int] = {}
        self.done: dict[int, int] = {}
        self.errors: list[str] = []
        self.untouched = False
        self.dead: dict[int, str] = {}
        self.unacked = 0
        self.waiting = 0
        self.ledger_balances = True
        self.handler_seconds = 0.0


def _dead_letter_run(on_message: Callable[..., Any], seed: int, orders: int, poison: list[int],
                     transient: list[int], max_attempts: int, duration: float) -> _DeadLetterRun:
    sim = Simulation(seed=seed)
    # no broker-side limit (counting is the consumer's job); 1 ms each way, as on a LAN
    broker = Broker(sim, latency=0.001, quorum_delivery_limit=None)
    setup = broker.connect(name="setup").channel()
    _, dlq = declare_with_dlq(setup, "orders", delivery_limit=None)
    run = _DeadLetterRun()
    failures_left = dict.fromkeys(transient, 1)

    def process(body: bytes) -> None:
        order = json.loads(body)
        number = order["order"]
        run.handler_seconds += 0.005
        if number in poison:
            raise ValueError(f"order {number}: malformed payload")
        if failures_left.get(number, 0) > 0:
            failures_left[number] -= 1
            raise TimeoutError(f"order {number}: stock service timed out")
        run.done[number] = run.done.get(number, 0) + 1

    channel = broker.connect(name="orders-service").channel()
    channel.basic_qos(prefetch_count=1)

    def callback(ch: Any, method: Any, properties: Any, body: bytes) -> None:
        number = json.loads(body)["order"]
        run.deliveries[number] = run.deliveries.get(number, 0) + 1
        try:
            on_message(ch, method, properties, body, process, max_attempts)
        except (NotAttempted, NotImplementedError):
            run.untouched = True
            raise
        except Exception as error:  # the learner's callback raised: keep it, the model redelivers later
            run.errors.append(f"order {number}: {_error_text(error)}")
            raise

    channel.basic_consume("orders", callback)
    publisher = RabbitPublisher(setup, "", "orders")
    for number in range(1, orders + 1):
        sim.call_at(number * 0.05, publisher.publish, number, json.dumps({"order": number}).encode())
    sim.run(until=duration)
    reader = broker.connect(name="inspector").channel()
    while True:
        method, properties, body = reader.basic_get(dlq, auto_ack=True)
        if method is None:
            break
        deaths = (properties.headers or {}).get("x-death") or [{}]
        run.dead[json.loads(body)["order"]] = str(deaths[0].get("reason", "?"))
    stats = broker.queue_statistics("orders")
    run.unacked = stats.unacked
    run.waiting = stats.ready + stats.unacked
    run.ledger_balances = broker.ledger().balances
    return run


def check_dead_letter(on_message: Callable[..., Any], *, seed: int = 4, orders: int = 30,
                      max_attempts: int = 3) -> Verdict:
    """Orders go through a quorum queue with a dead-letter exchange and no delivery limit of its own. Two are
    poison (malformed: they fail every time); three fail once because a dependency timed out, then succeed."""
    rng = random.Random(f"04.dead-letter:{seed}")
    numbers = list(range(1, orders + 1))
    chosen = rng.sample(numbers, 5)
    poison, transient = sorted(chosen[:2]), sorted(chosen[2:])
    duration = 10.0
    run = _dead_letter_run(on_message, seed, orders, poison, transient, max_attempts, duration)
    if run.untouched:
        raise NotAttempted("on_message")
    if run.errors:
        return failed(
            "raised",
            f"your on_message raised for {run.errors[0]}",
            "the callback gets (channel, method, properties, body, process, max_attempts): call process(body) "
            "and settle with channel.basic_ack / basic_nack / basic_reject(method.delivery_tag, ...).",
            "wrap process(body) in try/except Exception; the attempt number is "
            "1 + (properties.headers or {}).get('x-delivery-count', 0).",
        )
    good = [n for n in numbers if n not in poison]
    lost_poison = [n for n in poison if n not in run.dead and run.deliveries.get(n, 0) <= max_attempts + 1]
    stuck_poison = [n for n in poison if n not in run.dead and n not in lost_poison]
    if stuck_poison:
        first = stuck_poison[0]
        share = 1 - sum(run.done.values()) * 0.005 / run.handler_seconds if run.handler_seconds else 0.0
        return failed(
            "requeue-forever",
            f"order {first} was delivered {run.deliveries[first]:,} times in {duration:g} s and is still in the "
            f"queue, never dead-lettered: {share:.0%} of the handler's time went on the "
            f"{_plural(len(poison), 'poison order')}",
            "requeue=True puts a failed message straight back; a message that can never succeed comes back for ever.",
            f"count the tries with the x-delivery-count header and, from try {max_attempts} on, reject with "
            "requeue=False so the dead-letter exchange takes it.",
        )
    missing = [n for n in good if run.done.get(n, 0) == 0]
    if run.unacked:
        return failed(
            "never-acks",
            f"at the end, {_plural(len(missing), 'good order')} had never been processed and the consumer still "
            f"held {_plural(run.unacked, 'unacknowledged delivery')}: with a prefetch of 1, a delivery that is "
            f"never acknowledged stops the broker from sending the next one",
            "a successful message must be acknowledged, or the broker never sends the next one.",
            "after process(body) returns, call channel.basic_ack(method.delivery_tag).",
        )
    if lost_poison:
        first = lost_poison[0]
        return failed(
            "acked-poison",
            f"order {first} failed on every try, yet it left the queue without reaching orders.dlq: it was "
            f"acknowledged, so RabbitMQ dropped it and nobody will ever see it again "
            f"({_plural(len(lost_poison), 'poison order')} lost silently)",
            "basic_ack means 'done, forget it', even when the handler failed.",
            "when you give up on a message, use channel.basic_reject(method.delivery_tag, requeue=False): the "
            "queue's dead-letter exchange then keeps it in orders.dlq, with an x-death header saying why.",
        )
    early = [n for n in transient if n in run.dead]
    if early:
        return failed(
            "gives-up-too-soon",
            f"order {early[0]} failed once because the stock service timed out and was dead-lettered at once, "
            f"although its next try would have worked ({_plural(len(early), 'order')} with a passing failure "
            f"ended in the DLQ)",
            "some failures pass (a timeout, a dependency restarting): a message deserves a few tries.",
            f"requeue (basic_nack with requeue=True) while the try number is below {max_attempts}; reject only "
            "after that.",
        )
    tries = {n: run.deliveries.get(n, 0) for n in poison}
    wrong_count = [n for n in poison if tries[n] != max_attempts]
    if wrong_count:
        first = wrong_count[0]
        more = tries[first] > max_attempts
        return failed(
            "too-many-tries" if more else "too-few-tries",
            f"order {first} was tried {tries[first]} times before it was dead-lettered, not {max_attempts}",
            "the first delivery has no x-delivery-count header; the second has x-delivery-count 1.",
            f"the try number is 1 + (properties.headers or {{}}).get('x-delivery-count', 0); reject when it "
            f"reaches {max_attempts}. (method.redelivered only says 'at least the second time'.)",
        )
    twice = [n for n in good if run.done.get(n, 0) > 1]
    if twice:
        return failed(
            "requeued-success",
            f"order {twice[0]} was processed {run.done[twice[0]]} times: it was requeued after it had succeeded",
            "requeue only what failed.",
            "ack on success, nack or reject only in the except branch.",
        )
    reasons = sorted({run.dead[n] for n in poison})
    return passed(
        f"orders {_ids(poison)} were tried {max_attempts} times each and dead-lettered (x-death reason "
        f"{', '.join(reasons)}); orders {_ids(transient)} failed once and succeeded on a retry; all {len(good)} "
        f"good orders were processed once"
    )


# -- 04.backoff -----------------------------------------------------------------------------------------------


def retry_delay(attempt, rng, base=0.5, cap=30.0):
    """Seconds to wait before retry number `attempt` (1, 2, 3 ...): exponential, capped, with full jitter."""
    ceiling = min(cap, base * 2 ** (attempt - 1))  # 0.5, 1, 2, 4 ... never more than the cap
    return rng.uniform(0, ceiling)  # full jitter: anywhere below the ceiling, so clients spread out


def check_backoff(retry_delay: Callable[..., Any], *, seed: int = 4, clients: int = 200, retries: int = 10,
                  base: float = 0.5, cap: float = 30.0, window: float = 0.1) -> Verdict:
    """``clients`` clients failed at t = 0 together (their dependency went down); each retries ``retries``
    times with the learner's delays, drawn from its own random stream. Checked: no delay is negative or
    above the cap, delays grow, and the retries of different clients do not bunch up in time."""
    sim = Simulation(seed=seed)
    schedules: list[list[float]] = []
    for client in range(clients):
        rng = sim.substream(f"client-{client}")
        delays: list[float] = []
        for attempt in range(1, retries + 1):
            try:
                value = retry_delay(attempt, rng, base, cap)
            except (NotAttempted, NotImplementedError):
                raise
            except Exception as error:
                return failed("raised", f"retry_delay({attempt}, rng) raised {_error_text(error)}",
                              "retry_delay gets the retry number (1 for the first retry) and a random.Random.",
                              "return min(cap, base * 2 ** (attempt - 1)) with some jitter from rng.uniform.")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
                return failed("bad-value", f"retry_delay({attempt}, rng) returned {value!r}, not a number of "
                              "seconds >= 0",
                              "return a delay in seconds (a float).",
                              "for instance rng.uniform(0, min(cap, base * 2 ** (attempt - 1))).")
            delays.append(float(value))
        schedules.append(delays)
    if all(d == 0 for delays in schedules for d in delays):
        return failed(
            "retry-at-once",
            f"every delay was 0 s: all {clients} clients retried {retries} times within the same instant, a retry "
            f"storm against a service that has just failed",
            "a retry with no wait hits the failing service again before anything could have changed.",
            f"start from a base delay ({base} s) and double it on each retry.",
        )
    over = [(c, a, d) for c, delays in enumerate(schedules) for a, d in enumerate(delays, 1) if d > cap + 1e-9]
    if over:
        client, attempt, delay = over[0]
        return failed(
            "no-cap",
            f"retry {attempt} of client {client} waited {delay:,.1f} s, beyond the {cap:g} s cap "
            f"({_plural(len(over), 'delay')} over the cap): doubling without a limit soon means waits of hours",
            "exponential growth needs a ceiling: the caller's time budget.",
            "take min(cap, base * 2 ** (attempt - 1)) before adding jitter.",
        )
    means = [sum(s[a] for s in schedules) / clients for a in range(retries)]
    if means[5] <= 1.5 * means[0]:
        return failed(
            "no-backoff",
            f"the delays do not grow: retry 1 waited {means[0]:.2f} s on average and retry 6 still {means[5]:.2f} s, "
            f"so during a long outage every client keeps hitting the service at the same pace",
            "the longer a dependency has been failing, the longer it will probably take to recover.",
            "double the delay's ceiling on each retry: base * 2 ** (attempt - 1), capped.",
        )
    buckets: dict[int, int] = {}
    for delays in schedules:
        at = 0.0
        for delay in delays:
            at += delay
            key = math.floor(at / window)
            buckets[key] = buckets.get(key, 0) + 1
    peak_key = max(buckets, key=lambda k: (buckets[k], -k))
    peak = buckets[peak_key]
    if peak > clients // 2:
        return failed(
            "no-jitter",
            f"{peak} of the {clients} clients retried within the same {window * 1000:g} ms (at t = "
            f"{peak_key * window:.1f} s): clients that failed together retry together, and hit the recovering "
            f"service all at once, again and again",
            "identical delays keep identical clients in lockstep; what would make each client's wait a little "
            "different?",
            "draw the delay at random below its ceiling: rng.uniform(0, ceiling) (full jitter), or "
            "ceiling / 2 + rng.uniform(0, ceiling / 2) (equal jitter).",
        )
    longest = max(d for delays in schedules for d in delays)
    return passed(
        f"{clients} clients that failed together spread their retries out (at most {peak} in any "
        f"{window * 1000:g} ms, instead of all {clients}); the mean delay grew from {means[0]:.2f} s to "
        f"{means[-1]:.1f} s and none exceeded the {cap:g} s cap (longest {longest:.1f} s)"
    )


# -- 04.replay ------------------------------------------------------------------------------------------------


class ReceiptError(Exception):
    """Version 1's bug: no receipt template for the order's currency."""


class Payments:
    """The payment provider: ``charge(order_id, amount)`` takes the money; ``has(order_id)`` says if it did."""

    def __init__(self) -> None:
        self.charged: dict[Any, int] = {}
        self.amounts: dict[Any, float] = {}

    def charge(self, order_id: Any, amount: float) -> None:
        self.charged[order_id] = self.charged.get(order_id, 0) + 1
        self.amounts[order_id] = amount

    def has(self, order_id: Any) -> bool:
        return order_id in self.charged


class Receipts:
    """The receipt mailer: ``send(order_id, currency)``; sending one twice is harmless (keyed by order).

    Until ``fixed``, it has no template for EUR and raises :class:`ReceiptError` (version 1's bug).
    """

    def __init__(self) -> None:
        self.sent: dict[Any, int] = {}
        self.fixed = False

    def send(self, order_id: Any, currency: str) -> None:
        if currency == "EUR" and not self.fixed:
            raise ReceiptError(f"no receipt template for {currency}")
        self.sent[order_id] = self.sent.get(order_id, 0) + 1


def handle_order(order_id, body, payments, receipts):
    """Version 2 of the order handler: charge once, however often the order arrives; then send the receipt."""
    order = json.loads(body)  # a malformed body still raises: it goes back to the DLQ
    # Version 1 may have charged this order and then failed on the receipt: check before charging.
    if not payments.has(order_id):
        payments.charge(order_id, order["amount"])
    receipts.send(order_id, order["currency"])  # the step that failed before; harmless to repeat


def replay_fixed(replayer, rate_limit):
    """Replay the orders that failed on the (now fixed) receipt bug, no faster than rate_limit per second."""
    # Look first: replayer.groups() shows how many died of what.
    job = replayer.replay(lambda letter: letter.error == "ReceiptError", rate=rate_limit)
    return job  # the malformed orders stay in the DLQ: replaying them would only fail again


class _ReplayRun:
    def __init__(self) -> None:
        self.payments = Payments()
        self.receipts = Receipts()
        self.ids: list[int] = []
        self.malformed: list[int] = []
        self.receipt_bug: list[int] = []
        self.charged_before: list[int] = []
        self.dead_before = 0
        self.replayed_at: list[float] = []
        self.replayed_ids: list[int] = []
        self.errors: list[str] = []
        self.handler_errors: list[str] = []
        self.untouched = False
        self.dead_after: dict[int, str] = {}
        self.groups_before: tuple[Any, ...] = ()


def _replay_run(replay_fixed: Callable[..., Any], handle_order: Callable[..., Any], seed: int, orders: int,
                rate_limit: float) -> _ReplayRun:
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    setup = broker.connect(name="setup").channel()
    _, dlq = declare_with_dlq(setup, "orders", delivery_limit=2)
    rng = random.Random(f"04.replay:{seed}")
    run = _ReplayRun()
    run.ids = list(range(1, orders + 1))
    run.malformed = sorted(rng.sample(run.ids, max(2, orders // 10)))
    rest = [n for n in run.ids if n not in run.malformed]
    run.receipt_bug = sorted(rng.sample(rest, max(3, orders // 4)))
    fixed = {"on": False}

    def version_one(order_id: int, body: bytes) -> None:
        order = json.loads(body)
        if not run.payments.has(order_id):
            run.payments.charge(order_id, order["amount"])
        run.receipts.send(order_id, order["currency"])  # raises ReceiptError for EUR: the bug

    def version_two(order_id: int, body: bytes) -> None:
        try:
            handle_order(order_id, body, run.payments, run.receipts)
        except (NotAttempted, NotImplementedError):
            run.untouched = True
            raise
        except Exception as error:
            if not isinstance(error, (json.JSONDecodeError, KeyError)):
                run.handler_errors.append(f"order {order_id}: {_error_text(error)}")
            raise

    def handler(order_id: int, body: bytes) -> None:
        (version_two if fixed["on"] else version_one)(order_id, body)

    worker = RabbitWorker(broker, "orders", handler, name="orders-service", service_time=0.01)
    publisher = RabbitPublisher(setup, "", "orders")
    for number in run.ids:
        if number in run.malformed:
            body = b'{"amount": 12.5, "currency": '  # cut off in transit by a buggy producer
        else:
            currency = "EUR" if number in run.receipt_bug else "USD"
            body = json.dumps({"amount": round(5 + number * 1.25, 2), "currency": currency}).encode()
        sim.call_at(number * 0.02, publisher.publish, number, body)
    sim.run(until=30)
    run.charged_before = sorted(run.payments.charged)
    errors = worker.last_errors(kind_only=True)
    store = RabbitDeadLetters(broker, dlq, errors=errors)
    run.dead_before = len(store.messages())
    publish = rabbit_publish(broker)

    def recording_publish(destination: str, letter: Any) -> bool:
        ok = publish(destination, letter)
        if ok:
            run.replayed_at.append(sim.now)
            run.replayed_ids.append(letter.message_id)
        return ok

    replayer = DLQReplayer(sim, store, recording_publish)
    run.groups_before = replayer.groups()
    fixed["on"] = True  # version 2 is deployed: the receipt bug is fixed
    run.receipts.fixed = True
    try:
        replay_fixed(replayer, rate_limit)
    except (NotAttempted, NotImplementedError):
        run.untouched = True
    except Exception as error:
        run.errors.append(_error_text(error))
    live = list(range(orders + 1, orders + 1 + max(4, orders // 4)))  # live traffic goes on during the replay
    run.ids.extend(live)
    start = sim.now
    for i, number in enumerate(live):
        body = json.dumps({"amount": round(5 + number * 1.25, 2), "currency": "EUR" if i % 2 else "USD"}).encode()
        sim.call_at(start + 0.3 * (i + 1), publisher.publish, number, body)
    sim.run(until=sim.now + 120)
    for letter in store.messages():
        run.dead_after[letter.message_id] = letter.error or letter.reason
    return run


def _replay_errors(run: _ReplayRun) -> Verdict | None:
    if run.errors:
        return failed(
            "raised",
            f"replay_fixed raised {run.errors[0]}",
            "replay_fixed gets the DLQ replay tool and the rate limit; replayer.groups() and replayer.list() show "
            "what the DLQ holds.",
            "return replayer.replay(lambda letter: letter.error == 'ReceiptError', rate=rate_limit).",
        )
    if run.handler_errors:
        return failed(
            "handler-raised",
            f"your handle_order raised for {run.handler_errors[0]}",
            "handle_order gets the order id, the JSON body (bytes), the payments service and the receipt mailer.",
            "order = json.loads(body); charge with payments.charge(order_id, order['amount']) unless "
            "payments.has(order_id); then receipts.send(order_id, order['currency']).",
        )
    return None


def check_replay(replay_fixed: Callable[..., Any], *, seed: int = 4, orders: int = 40,
                 rate_limit: float = 5.0) -> Verdict:
    """Version 1 of an order handler charged EUR orders and then failed on their receipt; they and a few
    malformed orders were dead-lettered (RabbitMQ, delivery limit 2). Version 2 (idempotent) is deployed; the
    learner's replay must bring back what the fix can handle, at most ``rate_limit`` per second."""
    run = _replay_run(replay_fixed, handle_order, seed, orders, rate_limit)
    if run.untouched:
        raise NotAttempted("replay_fixed")
    error = _replay_errors(run)
    if error is not None:
        return error
    if not run.replayed_ids:
        return failed(
            "nothing-replayed",
            f"nothing left the DLQ: its {run.dead_before} messages are still there, and the "
            f"{_plural(len(run.receipt_bug), 'EUR order')} the fix can now handle still have no receipt",
            "a DLQ is only useful if something takes the messages out again after the fix.",
            "call replayer.replay(where, rate=rate_limit), with `where` choosing the letters to send back.",
        )
    per_second = _peak_per_second(run.replayed_at)
    if per_second > rate_limit + 1e-9:
        gaps = [b - a for a, b in zip(run.replayed_at, run.replayed_at[1:], strict=False)]
        fastest = min(gaps) if gaps else math.inf
        gap = f"{fastest * 1000:.0f} ms apart" if fastest > 0 else "at the same instant"
        return failed(
            "too-fast",
            f"{per_second} messages were replayed within one second ({gap}), above the limit of "
            f"{rate_limit:g} per second: a replay at full speed can swamp the consumers it is meant to help",
            "a replay competes with live traffic; the replay tool can pace itself.",
            "pass rate=rate_limit to replayer.replay(...).",
        )
    unfixable = [n for n in run.replayed_ids if n in run.malformed]
    if unfixable:
        return failed(
            "replayed-unfixable",
            f"order {unfixable[0]} was replayed, although it died of a malformed body that version 2 cannot read "
            f"either: it failed again and went straight back to the DLQ "
            f"({_plural(len(unfixable), 'malformed order')} replayed for nothing)",
            "the fix covers one cause of failure; replayer.groups() shows the causes side by side.",
            "replay only the letters whose error is the fixed one: where=lambda letter: letter.error == "
            "'ReceiptError'.",
        )
    left = [n for n in run.receipt_bug if n in run.dead_after]
    if left:
        return failed(
            "fixed-left-behind",
            f"order {left[0]} failed only on the receipt bug, which is fixed, but was not brought back "
            f"({_plural(len(left), 'such order')} still in the DLQ)",
            "replay every letter of the fixed group, not a sample of it.",
            "where=lambda letter: letter.error == 'ReceiptError', with no limit.",
        )
    span = run.replayed_at[-1] - run.replayed_at[0] if len(run.replayed_at) > 1 else 0.0
    return passed(
        f"the {len(run.receipt_bug)} orders of the fixed receipt bug went back over {span:g} s (at most "
        f"{per_second} in any second); the {len(run.malformed)} malformed orders stay in the DLQ for a human "
        f"to look at"
    )


def check_idempotent(handle_order: Callable[..., Any], *, seed: int = 4, orders: int = 40,
                     rate_limit: float = 5.0) -> Verdict:
    """The same story with the reference replay: the learner's version 2 handler must charge each order once."""
    run = _replay_run(replay_fixed, handle_order, seed, orders, rate_limit)
    if run.untouched:
        raise NotAttempted("handle_order")
    error = _replay_errors(run)
    if error is not None:
        return error
    twice = [n for n in run.ids if run.payments.charged.get(n, 0) > 1]
    if twice:
        return failed(
            "not-idempotent",
            f"order {twice[0]} was charged {run.payments.charged[twice[0]]} times: version 1 had charged it before "
            f"failing on the receipt, and the replay charged it again ({_plural(len(twice), 'customer')} charged "
            f"twice)",
            "a dead-lettered message may already have had part of its effect; what can the handler check first?",
            "return early when payments.has(order_id) is true; charge otherwise.",
        )
    good = [n for n in run.ids if n not in run.malformed]
    uncharged = [n for n in good if run.payments.charged.get(n, 0) != 1]
    if uncharged:
        return failed(
            "payment-missing",
            f"order {uncharged[0]} was never charged ({_plural(len(uncharged), 'order')} unpaid)",
            "skip an order only when it was charged already.",
            "if not payments.has(order_id): payments.charge(order_id, order['amount']).",
        )
    no_receipt = [n for n in good if run.receipts.sent.get(n, 0) == 0]
    if no_receipt:
        return failed(
            "skipped-whole-message",
            f"order {no_receipt[0]} was charged but its customer never got a receipt: the handler skipped the "
            f"whole message because the charge was done, and the receipt was the step that had failed "
            f"({_plural(len(no_receipt), 'order')} without a receipt)",
            "an idempotent handler skips the steps already done, not the message.",
            "guard only the charge with payments.has(order_id); always send the receipt (it is keyed by order, "
            "so a second one is harmless).",
        )
    before = len([n for n in run.receipt_bug if n in run.charged_before])
    return passed(
        f"every one of the {len(good)} good orders was charged exactly once and got its receipt, although "
        f"{before} of the replayed orders had been charged before they failed"
    )


def _peak_per_second(times: list[float]) -> int:
    """The most events in any window of one second (closed on the left, open on the right)."""
    peak = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0 - 1e-9:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


dead_letter = register(Exercise(
    "04.dead-letter", "Retry a failed delivery a few times, then dead-letter it",
    check_dead_letter, on_message, handle="exercise_dead_letter",
))
backoff = register(Exercise(
    "04.backoff", "Exponential backoff with a cap and jitter",
    check_backoff, retry_delay, handle="exercise_backoff",
))


replay = register(Exercise(
    "04.replay", "Replay only what the fix can handle, at a rate limit",
    check_replay, replay_fixed, handle="exercise_replay",
))
idempotent = register(Exercise(
    "04.idempotent-replay", "A handler that a replay cannot make charge twice",
    check_idempotent, handle_order, handle="exercise_idempotent",
))
