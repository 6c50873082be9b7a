"""Exercises of notebook 08, SQS the managed queue.

* ``08.safe-worker``: handle one received message so that nothing is lost when a worker
  crashes and nothing is processed twice when a job outlasts the visibility timeout
  (delete only after the work, extend visibility while working).
* ``08.fifo-groups``: choose the MessageGroupId of an order event so that each customer's
  events are handled in order while different customers are handled in parallel.
* ``08.idempotent-payment`` and ``08.dlq-replay``: after fixing a handler, move the dead-letter queue's messages back to
  their source with a message move task, with a handler that makes replayed duplicates harmless.

Each checker runs the learner's code on :mod:`mqlab.sqs` in virtual time, with the simulated
standard-queue randomness switched off where it would blur the lesson (stated per checker).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Generator
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.sim import Simulation
from mqlab.sqs import SQS, ClientError, MessageState, Worker

__all__ = ["Job", "Payments", "group_id_for", "handle_payment", "start_replay", "work"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- 08.safe-worker -------------------------------------------------------------------------------------------


class Job:
    """The work a message asks for, split into parts of ``part_seconds`` each.

    ``parts(message)`` lists the parts of the job in ``message``; ``yield job.do(part)`` spends the
    part's virtual time. A worker may crash during a part (the checker stops it there, as a killed
    process would stop): the part then never finishes and nothing after it runs.
    """

    def __init__(self, sim: Simulation, part_seconds: float = 20.0) -> None:
        self.sim = sim
        self.part_seconds = part_seconds
        self.completed: dict[str, int] = {}  # job name -> times its last part finished
        self.crash_once: list[str] = []  # jobs whose first attempt crashes its worker
        self._parts: dict[Any, tuple[str, bool, bool]] = {}  # event -> (job, last part?, crash?)

    def parts(self, message: dict[str, Any]) -> list[str]:
        body = json.loads(message["Body"])
        return [f"{body['job']}/part-{i + 1}-of-{body['parts']}" for i in range(body["parts"])]

    def do(self, part: str) -> Any:
        """A kernel event that fires when ``part`` is done (``yield`` it)."""
        name, _, progress = part.partition("/part-")
        number, _, total = progress.partition("-of-")
        crash = name in self.crash_once and number == "1"
        if crash:
            self.crash_once.remove(name)
        event = self.sim.timeout(self.part_seconds)
        self._parts[event] = (name, number == total, crash)
        return event

    def finished(self, event: Any) -> bool:
        """Called by the worker after ``event`` fired: False if the worker crashed during that part."""
        name, last, crash = self._parts.pop(event, ("", False, False))
        if crash:
            return False
        if last:
            self.completed[name] = self.completed.get(name, 0) + 1
        return True


def work(client, queue_url, message, job):
    """Handle one received message: do every part of its job, then delete it."""
    handle = message["ReceiptHandle"]
    for part in job.parts(message):
        # Before each part, keep the message hidden for that part plus a margin (a heartbeat):
        # no other worker receives it while we work, and if we crash it comes back soon.
        client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle,
                                         VisibilityTimeout=int(2 * job.part_seconds))
        yield job.do(part)
    # Only now is the work done: deleting earlier would lose the message if we crashed.
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)


def check_safe_worker(work: Callable[..., Any], *, seed: int = 8, jobs: int = 12, workers: int = 2) -> Verdict:
    """Two workers on a queue with a 30 s visibility timeout; jobs of 1 to 4 parts of 20 s; a third
    of the jobs crash their worker during their first attempt (a replacement starts 5 s later).
    The standard queue's simulated duplicates and reordering are off: every duplicate seen is the code's."""
    sim = Simulation(seed=seed)
    sqs = SQS(sim, duplicate_probability=0.0, reorder_probability=0.0, short_poll_sample=1.0)
    client = sqs.client()
    url = client.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    job = Job(sim)
    rng = sim.substream("exercise:08.safe-worker")
    names = [f"job-{i + 1}" for i in range(jobs)]
    for i, name in enumerate(names):
        client.send_message(QueueUrl=url, MessageBody=json.dumps({"job": name, "parts": 1 + i % 4}))
    crashing = sorted(rng.sample(names, max(1, jobs // 3)), key=names.index)
    job.crash_once.extend(crashing)
    errors: list[str] = []
    untouched: list[BaseException] = []
    overlaps: list[str] = []
    busy: dict[str, int] = {}
    not_generator: list[str] = []

    queue = sqs.queue(url)

    def still_hidden(message: dict[str, Any]) -> bool:
        """True unless the message became receivable again (or was received again) while this worker was on it."""
        for stored in queue.live_messages():
            if stored.message_id == message["MessageId"]:
                return stored.state is MessageState.IN_FLIGHT and stored.handle == message["ReceiptHandle"]
        return True  # deleted: nobody else can receive it

    def one_worker() -> Generator[Any, Any, None]:
        while sim.now < 3000:
            response = yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20)
            for message in response.get("Messages", []):
                name = json.loads(message["Body"])["job"]
                busy[name] = busy.get(name, 0) + 1
                if busy[name] > 1:
                    overlaps.append(name)
                try:
                    steps = work(client, url, message, job)
                    if not inspect.isgenerator(steps):
                        not_generator.append(name)
                    else:
                        event = next(steps, None)
                        while event is not None:
                            yield event
                            if not job.finished(event):  # the worker process dies here, mid-part
                                steps.close()
                                busy[name] -= 1
                                sim.call_later(5, lambda: sim.process(one_worker()))
                                return
                            if not still_hidden(message):
                                overlaps.append(name)
                            event = steps.send(None)
                except StopIteration:
                    pass
                except (NotAttempted, NotImplementedError) as error:
                    untouched.append(error)
                    return
                except Exception as error:  # the learner's code raised: record it, keep the run going
                    errors.append(f"{name}: {_error_text(error)}")
                busy[name] -= 1

    for _ in range(workers):
        sim.process(one_worker())
    try:
        sim.run(until=3600)
    except Exception as error:
        errors.append(f"the simulation: {_error_text(error)}")
    if untouched:
        raise NotAttempted("work")
    stats = sqs.statistics(url)
    if not_generator:
        return failed(
            "not-a-generator",
            f"work() returned without yielding for {not_generator[0]}: no virtual time passed, so its parts never ran",
            "work() must be a generator: spend each part's time with `yield job.do(part)`.",
            "for part in job.parts(message): yield job.do(part); then delete the message.",
        )
    if errors:
        return failed(
            "raised",
            f"your work() raised for {errors[0]}",
            "read the exception: the client takes keyword arguments (QueueUrl=..., ReceiptHandle=...).",
            "the receipt handle is message['ReceiptHandle']; the queue is queue_url.",
        )
    lost = [n for n in names if job.completed.get(n, 0) == 0]
    if lost and stats.visible + stats.in_flight == 0:
        first = ([n for n in lost if n in crashing] or lost)[0]
        return failed(
            "delete-before-processing",
            f"{first} was deleted but its work never finished: its worker crashed after the delete, and nothing "
            f"was left in the queue to retry ({len(lost)} of {jobs} jobs lost)",
            "a deleted message is gone for good; what happens if the worker dies right after deleting?",
            "delete the message only after the last part of the job is done.",
        )
    if stats.deleted == 0:
        return failed(
            "never-deletes",
            f"no message was ever deleted: {stats.visible_again} visibility timeouts expired and the queue handed "
            f"out its {jobs} jobs {stats.deliveries} times",
            "receiving a message does not remove it from an SQS queue; which call does?",
            "call client.delete_message(QueueUrl=queue_url, ReceiptHandle=message['ReceiptHandle']) when done.",
        )
    twice = [n for n in names if job.completed.get(n, 0) > 1]
    if overlaps or twice:
        name = (overlaps or twice)[0]
        affected = _count(len(set(overlaps + twice)), "job")
        return failed(
            "visibility-too-short",
            f"{name}'s message became visible again while a worker was still on it: its job outlasts the 30 s "
            f"visibility timeout, so another worker could receive it and do the work twice ({affected} affected)",
            "a job of several 20 s parts outlasts the 30 s visibility timeout; how can a worker keep the message "
            "hidden while it is still working?",
            "before each part, call client.change_message_visibility(QueueUrl=queue_url, "
            "ReceiptHandle=message['ReceiptHandle'], VisibilityTimeout=...) with enough time for that part.",
        )
    if lost:
        return failed(
            "visibility-too-long",
            f"an hour later, {lost[0]} (whose first worker crashed) had still not been processed: the crashed "
            f"worker had hidden its message for longer than that",
            "a long visibility timeout also means a long wait after a crash; extend it a little at a time instead.",
            "extend by about one part's time plus a margin before each part (a heartbeat), not by hours at once.",
        )
    return passed(
        f"all {jobs} jobs done exactly once: {len(crashing)} crashed mid-job and were retried soon after, and long "
        f"jobs kept their message hidden while they worked"
    )


# -- 08.fifo-groups -------------------------------------------------------------------------------------------


def group_id_for(event):
    """The MessageGroupId of one order event: its customer."""
    # Order matters within one customer's events, not across customers:
    # one group per customer keeps each customer in order and lets customers run in parallel.
    return event["customer"]


def check_fifo_groups(group_id_for: Callable[[dict[str, Any]], Any], *, seed: int = 8, customers: int = 6,
                      events_per_customer: int = 4, workers: int = 3) -> Verdict:
    """Order events of several customers go to a FIFO queue; ``workers`` workers handle them, each event
    taking a random 2 to 10 s. Order must hold per customer, and customers must be served in parallel."""
    sim = Simulation(seed=seed)
    sqs = SQS(sim)
    client = sqs.client()
    url = client.create_queue(QueueName="orders.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "60"})["QueueUrl"]
    rng = sim.substream("exercise:08.fifo-groups")
    steps = ("created", "paid", "packed", "shipped", "delivered", "reviewed")
    events = []
    for c in range(customers):
        for s in range(events_per_customer):
            events.append({"customer": f"customer-{c + 1}", "seq": s + 1, "step": steps[s % len(steps)],
                           "order": f"order-{c + 1}-{s + 1}"})
    groups: dict[str, list[str]] = {}
    for event in events:
        try:
            group = group_id_for(dict(event))
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"group_id_for raised for {event}: {_error_text(error)}",
                          "the event is a dict with keys customer, seq, step and order.",
                          "return event['customer'].")
        try:
            client.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageGroupId=group)
        except (ClientError, TypeError, ValueError) as error:
            return failed("invalid-group-id", f"send_message refused the group id {group!r}: {_error_text(error)}",
                          "a MessageGroupId is a non-empty string of up to 128 letters, digits and punctuation.",
                          "return a string that names what must stay in order, such as the customer.")
        groups.setdefault(event["customer"], []).append(str(group))
    handled: dict[str, list[int]] = {}
    in_progress: dict[str, int] = {}
    state = {"busy": 0, "peak": 0, "overlap": None}

    def worker() -> Generator[Any, Any, None]:
        while True:
            response = yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20, MaxNumberOfMessages=1)
            for message in response.get("Messages", []):
                event = json.loads(message["Body"])
                customer = event["customer"]
                in_progress[customer] = in_progress.get(customer, 0) + 1
                if in_progress[customer] > 1 and state["overlap"] is None:
                    state["overlap"] = customer
                state["busy"] += 1
                state["peak"] = max(state["peak"], state["busy"])
                yield sim.timeout(rng.uniform(2.0, 10.0))
                handled.setdefault(customer, []).append(event["seq"])
                in_progress[customer] -= 1
                state["busy"] -= 1
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    for _ in range(workers):
        sim.process(worker())
    sim.run(until=3600)
    out_of_order = [c for c, seqs in handled.items() if seqs != sorted(seqs)]
    split = [c for c, ids in groups.items() if len(set(ids)) > 1]
    if out_of_order or state["overlap"] or split:
        customer = (out_of_order or split or [state["overlap"]])[0]
        ids = groups[customer]
        every_message = len({g for group_ids in groups.values() for g in group_ids}) == len(events)
        detail = (f"{customer}'s events were handled in the order {handled.get(customer)}"
                  if customer in out_of_order else f"two of {customer}'s events were handled at the same time")
        if every_message:
            return failed(
                "group-per-message",
                f"{detail}: every event had its own group ({', '.join(ids[:2])}, ...), so nothing kept them in order",
                "FIFO order holds only inside one message group; which events must stay in order?",
                "give all of one customer's events the same group id: the customer.",
            )
        return failed(
            "split-customer",
            f"{detail}: that customer's events were spread over the groups {sorted(set(ids))}",
            "FIFO order holds only inside one message group; events of one customer in two groups can overtake.",
            "the group id must depend on the customer only.",
        )
    total = customers * events_per_customer
    if sum(len(v) for v in handled.values()) != total:
        return failed("not-all-handled", f"only {sum(len(v) for v in handled.values())} of {total} events were "
                      "handled within an hour", "check that every event gets a group id.",
                      "return event['customer'].")
    distinct = len({g for ids in groups.values() for g in ids})
    if state["peak"] < min(workers, customers):
        kind = "one-group" if distinct == 1 else "too-few-groups"
        return failed(
            kind,
            f"order held, but with {distinct} group{'s' if distinct != 1 else ''} for {customers} customers at most "
            f"{state['peak']} of the {workers} workers {'was' if state['peak'] == 1 else 'were'} ever busy at once: "
            f"the others waited",
            "a group with a message in flight hands out nothing else; how many groups can be worked on at once?",
            "use one group per customer: their events stay in order and different customers proceed in parallel.",
        )
    return passed(
        f"the events of each of the {customers} customers were handled in order, and {state['peak']} workers were busy "
        f"at once on different customers"
    )


# -- 08.idempotent-payment and 08.dlq-replay ----------------------------------------------------------------


class Payments:
    """The payments database: ``charge`` records a payment, ``has`` tells whether one is recorded.

    ``charged`` maps a payment id to how many times it was charged (right: exactly once each).
    """

    def __init__(self) -> None:
        self.charged: dict[str, int] = {}

    def charge(self, payment_id: str, amount: float) -> None:
        self.charged[payment_id] = self.charged.get(payment_id, 0) + 1

    def has(self, payment_id: str) -> bool:
        return payment_id in self.charged


def handle_payment(message, payments):
    """Charge the payment in ``message``, unless it has been charged already."""
    payment = json.loads(message["Body"])
    if payments.has(payment["payment_id"]):
        return  # a duplicate, or a replay of a payment charged before its handler failed: done already
    payments.charge(payment["payment_id"], payment["amount"])


def start_replay(client, dlq_url):
    """Move every message of the dead-letter queue back to the queue it came from; return the task handle."""
    attributes = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    # Move tasks name queues by ARN. Without DestinationArn, each message goes back to its source queue.
    return client.start_message_move_task(SourceArn=attributes["QueueArn"])["TaskHandle"]


def _version_one(payments: Payments) -> Callable[[dict[str, Any]], None]:
    """The handler before the fix. EUR payments fail: above 250 before the charge (no exchange rate),
    otherwise after it (the receipt has no EUR format), so some dead-lettered payments were charged already."""

    def handle(message: dict[str, Any]) -> None:
        payment = json.loads(message["Body"])
        if payment["currency"] == "EUR" and payment["amount"] > 250:
            raise LookupError(f"no exchange rate for EUR (payment {payment['payment_id']})")
        if not payments.has(payment["payment_id"]):
            payments.charge(payment["payment_id"], payment["amount"])
        if payment["currency"] == "EUR":
            raise ValueError(f"receipt template has no EUR format (payment {payment['payment_id']})")

    return handle


class _Replay:
    """What happened in one run of the replay scenario."""

    def __init__(self) -> None:
        self.payments = Payments()
        self.ids: list[str] = []
        self.dead_lettered = 0
        self.charged_before_replay: list[str] = []
        self.left_in_dlq = 0
        self.refused: ClientError | None = None
        self.replay_error: str | None = None
        self.handler_errors: list[str] = []
        self.untouched = False
        self.task_status = "none"
        self.handle: Any = None
        self.duplicates = 0


def _replay_scenario(handler: Callable[..., Any], replay: Callable[..., Any], seed: int, count: int) -> _Replay:
    """Payments through a queue whose DLQ takes a message after 3 receives; version 1 of the handler runs for
    10 minutes, then the fixed ``handler`` takes over and ``replay`` moves the DLQ back. Standard-queue
    duplicates are raised to 5 % so that the fixed handler meets some too."""
    out = _Replay()
    sim = Simulation(seed=seed)
    sqs = SQS(sim, duplicate_probability=0.05)
    client = sqs.client()
    dlq_url = client.create_queue(QueueName="payments-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = client.create_queue(QueueName="payments", Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
    })["QueueUrl"]
    rng = sim.substream("exercise:08.dlq-replay")
    for i in range(count):
        currency = "EUR" if i % 3 == 1 else rng.choice(["USD", "GBP"])
        amount = round(rng.uniform(10, 490), 2) if currency != "EUR" else (120.0 if i % 2 else 380.0)
        payment_id = f"pay-{i + 1:03d}"
        out.ids.append(payment_id)
        client.send_message(QueueUrl=url, MessageBody=json.dumps(
            {"payment_id": payment_id, "amount": amount, "currency": currency}))
    old = Worker(client, url, _version_one(out.payments), wait_time_seconds=20)
    sim.run(until=600)
    old.stop()
    sim.run(until=630)
    out.dead_lettered = sqs.statistics(dlq_url).visible
    out.charged_before_replay = sorted(out.payments.charged)

    def fixed(message: dict[str, Any]) -> None:
        try:
            handler(message, out.payments)
        except (NotAttempted, NotImplementedError):
            out.untouched = True
            raise
        except Exception as error:
            out.handler_errors.append(_error_text(error))
            raise

    new = Worker(client, url, fixed, wait_time_seconds=20)
    try:
        out.handle = replay(client, dlq_url)
    except (NotAttempted, NotImplementedError):
        out.untouched = True
    except ClientError as error:
        out.refused = error
    except Exception as error:
        out.replay_error = _error_text(error)
    sim.run(until=1800)
    new.stop()
    out.left_in_dlq = sqs.statistics(dlq_url).visible
    out.duplicates = sqs.statistics(url).lost_deletes
    tasks = client.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    out.task_status = tasks[0]["Status"] if tasks else "none"
    sqs.ledger().check()
    return out


def check_idempotent_payment(handle_payment: Callable[..., Any], *, seed: int = 8, payments: int = 24) -> Verdict:
    """The fixed handler runs on the source queue while the dead-lettered payments are moved back to it."""
    run = _replay_scenario(handle_payment, start_replay, seed, payments)
    if run.untouched:
        raise NotAttempted("handle_payment")
    if run.handler_errors:
        return failed("raised", f"your handle_payment raised: {run.handler_errors[0]}",
                      "the message body is JSON: json.loads(message['Body']) gives payment_id, amount and currency.",
                      "charge with payments.charge(payment_id, amount).")
    twice = [p for p in run.ids if run.payments.charged.get(p, 0) > 1]
    if twice:
        before = twice[0] in run.charged_before_replay
        why = ("the old handler had charged it before failing, and the replay charged it again" if before
               else "the queue delivered it twice (at-least-once) and both copies were charged")
        return failed(
            "not-idempotent",
            f"payment {twice[0]} was charged {run.payments.charged[twice[0]]} times: {why} ({len(twice)} payments "
            f"charged more than once)",
            "a replayed or duplicated message may already have had its effect; what can the handler check first?",
            "return early when payments.has(payment_id) is already true; charge otherwise.",
        )
    missing = [p for p in run.ids if run.payments.charged.get(p, 0) == 0]
    if missing:
        return failed(
            "payment-missing",
            f"payment {missing[0]} was never charged ({len(missing)} of {len(run.ids)} missing)",
            "skipping is right for a payment already charged, and only for that.",
            "call payments.charge(payment['payment_id'], payment['amount']) when payments.has(...) is false.",
        )
    return passed(
        f"all {len(run.ids)} payments charged exactly once, although {len(run.charged_before_replay)} had been "
        f"charged before the fix and some messages arrived more than once"
    )


def check_dlq_replay(start_replay: Callable[..., Any], *, seed: int = 8, payments: int = 24) -> Verdict:
    """With the fixed (idempotent) handler running, the learner's replay must empty the DLQ into the source."""
    run = _replay_scenario(handle_payment, start_replay, seed, payments)
    if run.untouched:
        raise NotAttempted("start_replay")
    if run.refused is not None:
        code = run.refused.response["Error"]["Code"]
        return failed(
            "replay-refused",
            f"start_message_move_task refused: {code}: {run.refused}",
            "StartMessageMoveTask names queues by ARN (SourceArn=...), not by URL.",
            "read the DLQ's ARN with client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=['QueueArn']), "
            "and leave DestinationArn out so messages return to their source queue.",
        )
    if run.replay_error is not None:
        return failed("raised", f"start_replay raised {run.replay_error}",
                      "start_replay gets a client and the dead-letter queue's URL.",
                      "call client.start_message_move_task(SourceArn=<the DLQ's ARN>) and return its TaskHandle.")
    missing = [p for p in run.ids if run.payments.charged.get(p, 0) == 0]
    if missing and run.left_in_dlq < run.dead_lettered:
        return failed(
            "discarded",
            f"payment {missing[0]} was never charged ({len(missing)} missing): its message was taken out of the "
            f"dead-letter queue without being sent back for the fixed handler",
            "emptying a DLQ is not the same as replaying it; where should its messages go?",
            "move them back with client.start_message_move_task(SourceArn=<the DLQ's ARN>).",
        )
    if run.left_in_dlq:
        return failed(
            "dlq-not-drained",
            f"{run.left_in_dlq} of the {run.dead_lettered} dead-lettered payments are still in the dead-letter queue",
            "nothing takes messages out of a dead-letter queue by itself; which API call moves them back?",
            "client.start_message_move_task(SourceArn=<the DLQ's ARN>) moves them back to their source queue.",
        )
    return passed(
        f"the {run.dead_lettered} dead-lettered payments went back to 'payments' (move task {run.task_status}) and "
        f"the fixed handler charged every one of the {len(run.ids)} payments exactly once"
    )


safe_worker = register(Exercise(
    "08.safe-worker", "A worker that deletes after the work and extends visibility for slow jobs",
    check_safe_worker, work, handle="exercise_worker",
))
fifo_groups = register(Exercise(
    "08.fifo-groups", "FIFO group ids: order per customer, customers in parallel",
    check_fifo_groups, group_id_for, handle="exercise_groups",
))
idempotent_payment = register(Exercise(
    "08.idempotent-payment", "A payment handler that replayed and duplicated messages cannot charge twice",
    check_idempotent_payment, handle_payment, handle="exercise_payment",
))
dlq_replay = register(Exercise(
    "08.dlq-replay", "Drain a dead-letter queue back to its source with a message move task",
    check_dlq_replay, start_replay, handle="exercise_replay",
))
