"""Exercises of notebook 09, choosing a tool.

* ``09.simplest-tool``: five short system descriptions; choose the simplest tool that meets each.
* ``09.break-even``: the message rate at which SQS's request bill equals a cluster's fixed monthly cost,
  following SQS's billing rules (64 KiB chunks, send + receive + delete).
* ``09.tool-for``: a rule from stated :class:`~mqlab.choosing.Requirements` to a tool, checked on every
  combination of a grid of requirements.

The answers come from :mod:`mqlab.choosing`, whose :func:`~mqlab.choosing.recommend` is the course's decision
rule; cluster prices are illustrative parameters, never quotes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from mqlab.choosing import TOOLS, Requirements, recommend, sqs_requests_per_message
from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register

__all__ = ["SYSTEMS", "break_even", "my_choices", "tool_for"]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- 09.simplest-tool -----------------------------------------------------------------------------------------

SYSTEMS: dict[str, str] = {
    "invoice-pdfs": "About 40 invoices an hour each need one PDF rendered by one of two workers. Nobody ever "
                    "re-reads old requests. The team is four developers on AWS with no one on call for servers.",
    "fraud-replay": "Card payments arrive at 2,000 a second. A new fraud model must be able to re-read the last "
                    "30 days of payments while billing keeps consuming live ones. A platform team runs clusters.",
    "account-ledger": "Each bank account's transactions must be applied in the order they happened (per account, "
                      "not globally), about 20 a second in all. The team uses only AWS-managed services.",
    "alert-routing": "Monitoring alerts must reach different teams' queues by rules on their routing key, such "
                     "as alert.eu.*.critical to the EU on-call and alert.#.billing to billing. The ops team "
                     "already runs a broker cluster; nothing needs replay.",
    "signup-emails": "When a user signs up, send one welcome email. A few hundred signups a day, no ordering, "
                     "no replay, no routing.",
}
"""Five systems, each in a few sentences (the notebook prints them)."""

_ANSWERS = {
    "invoice-pdfs": "SQS standard",
    "fraud-replay": "Kafka",
    "account-ledger": "SQS FIFO",
    "alert-routing": "RabbitMQ",
    "signup-emails": "SQS standard",
}

_WHY = {
    ("fraud-replay", "SQS"): (
        "missed-replay",
        "fraud-replay must re-read 30 days of payments, but a queue deletes each message once it is handled: "
        "there is nothing left to re-read",
        "which of the tools keeps messages after they are consumed, for as long as you configure?",
    ),
    ("fraud-replay", "RabbitMQ"): (
        "missed-replay",
        "fraud-replay must re-read 30 days of payments, but a RabbitMQ queue forgets a message once it is "
        "acknowledged",
        "which tool keeps a retained log that a new consumer group can read from any offset?",
    ),
    ("invoice-pdfs", "Kafka"): (
        "oversized",
        "invoice-pdfs is 40 messages an hour with no replay: a Kafka cluster meets it, but brings brokers, "
        "partitions and retention to operate, and every incident on it takes longer",
        "what is the simplest tool that gives one worker each job, with nothing to operate?",
    ),
    ("invoice-pdfs", "RabbitMQ"): (
        "oversized",
        "invoice-pdfs needs no routing rules, and nobody is on call for a broker: a managed queue does the job",
        "no routing, no replay, no cluster team: which tool has nothing to operate?",
    ),
    ("signup-emails", "Kafka"): (
        "oversized",
        "signup-emails is a few hundred messages a day with no replay: a cluster is far more than it needs",
        "pick the simplest tool that meets the requirement, not the one that could grow the most.",
    ),
    ("signup-emails", "RabbitMQ"): (
        "oversized",
        "signup-emails needs no routing: a broker to run is more than the job asks for",
        "which tool needs nothing to run at all?",
    ),
    ("account-ledger", "SQS standard"): (
        "missed-ordering",
        "account-ledger needs each account's transactions in order, but a standard queue orders on a best-effort "
        "basis only",
        "which SQS queue type keeps order, and per what?",
    ),
    ("account-ledger", "Kafka"): (
        "oversized",
        "account-ledger needs order per account and AWS-managed services only: a FIFO queue with the account as "
        "message group does that with nothing to run",
        "which managed queue keeps order per group id?",
    ),
    ("account-ledger", "RabbitMQ"): (
        "managed-only",
        "account-ledger's team may use only AWS-managed services and needs no routing rules: a broker is more than "
        "it asks for",
        "which AWS queue keeps order per group?",
    ),
    ("invoice-pdfs", "SQS FIFO"): (
        "fifo-without-need",
        "invoice-pdfs needs no ordering: a FIFO queue costs more per request and lets each group have only one "
        "message in flight, for nothing in return",
        "which requirement would make a FIFO queue worth it, and does invoice-pdfs have it?",
    ),
    ("signup-emails", "SQS FIFO"): (
        "fifo-without-need",
        "signup-emails needs no ordering: a FIFO queue's order buys nothing here",
        "without an ordering requirement, which SQS queue type is the simpler one?",
    ),
    ("alert-routing", "SQS"): (
        "missed-routing",
        "alert-routing needs routing by key patterns such as alert.eu.*.critical; SQS queues have no exchanges or "
        "bindings, so your code would have to do the routing",
        "which tool routes each message by rules on its routing key, in the broker?",
    ),
    ("alert-routing", "Kafka"): (
        "missed-routing",
        "alert-routing needs pattern routing to team queues and no replay: Kafka has no per-message routing rules "
        "(every consumer reads whole topics) and brings a log nobody needs",
        "which tool's topic exchange matches patterns like alert.eu.*.critical?",
    ),
}


def my_choices():
    """The simplest tool for each system (one of TOOLS)."""
    return {
        "invoice-pdfs": "SQS standard",   # 40 an hour, one worker each, nothing to run: a managed queue
        "fraud-replay": "Kafka",          # 30 days of replay while live consumers go on: only a log keeps history
        "account-ledger": "SQS FIFO",     # order per account (message group), AWS-managed only
        "alert-routing": "RabbitMQ",      # routing rules on keys (a topic exchange); the team runs a broker
        "signup-emails": "SQS standard",  # the same shape as invoice-pdfs
    }


def check_simplest_tool(my_choices: Callable[[], Any]) -> Verdict:
    """Compare each chosen tool with the simplest one that meets the system's requirements."""
    try:
        choices = my_choices()
    except (NotAttempted, NotImplementedError):
        raise
    except Exception as error:
        return failed("raised", f"my_choices() raised {_error_text(error)}",
                      "my_choices() returns a dict from system name to tool name.",
                      f"for example {{'invoice-pdfs': 'SQS standard', ...}}, with tools from {TOOLS}.")
    if not isinstance(choices, dict):
        return failed("not-a-dict", f"my_choices() returned {choices!r}, not a dict",
                      "return a dict from each system's name to one tool name.",
                      f"the keys are {list(SYSTEMS)}; the values come from {TOOLS}.")
    for system in SYSTEMS:
        if system not in choices:
            return failed("missing-system", f"no choice for {system!r}",
                          f"answer for all five systems: {list(SYSTEMS)}.", "read SYSTEMS[name] for each one.")
        if isinstance(choices[system], str) and "todo" in choices[system].lower():
            raise NotAttempted(system)
        if choices[system] not in TOOLS:
            return failed("unknown-tool", f"{system}: {choices[system]!r} is not one of {TOOLS}",
                          f"spell the tool exactly as in TOOLS: {TOOLS}.", "for example 'SQS FIFO' or 'Kafka'.")
    wrong = [s for s in SYSTEMS if choices[s] != _ANSWERS[s]]
    if not wrong:
        return passed("each system gets the simplest tool that meets its real requirements: a log only where "
                      "history must be re-read, a broker only where routing rules are the point, a FIFO queue "
                      "where order matters, and a plain managed queue everywhere else")
    system = wrong[0]
    chosen = choices[system]
    why = _WHY.get((system, chosen)) or _WHY.get((system, chosen.split()[0]))
    if why is None:
        why = ("other-choice", f"{system}: {chosen} is not the simplest tool that meets it",
               "list what the system really requires (replay? order? routing? who runs it?), then take the "
               "simplest tool that meets all of it.")
    key, message, nudge = why
    return failed(key, f"{message} ({len(wrong)} of {len(SYSTEMS)} choices to revisit)", nudge,
                  f"{system}: the simplest tool that meets it is {_ANSWERS[system]}; "
                  f"try mqlab.choosing.recommend on its requirements to see the reasons.")


# -- 09.break-even --------------------------------------------------------------------------------------------


def break_even(cluster_monthly_dollars, body_bytes, price_per_million):
    """Messages per second at which SQS's bill equals a cluster's fixed monthly cost."""
    # Each call is billed one request per started 64 KiB of its payload (at least one): a ceiling division.
    chunks = max(1, -(-body_bytes // 65_536))
    # A message costs a send and a receive (both carry the body) and a delete (carries none).
    requests_per_message = chunks + chunks + 1
    dollars_per_message = requests_per_message * price_per_million / 1_000_000
    messages_per_month = cluster_monthly_dollars / dollars_per_message
    return messages_per_month / (730 * 3600)  # 730 hours in a month, 3,600 seconds in an hour


_BREAK_EVEN_CASES = ((1500.0, 1024, 0.40), (600.0, 200 * 1024, 0.40), (3000.0, 65_536, 0.50),
                     (900.0, 65 * 1024, 0.40), (250.0, 300 * 1024, 0.50))


def _rate(cost: float, price: float, requests_per_message: float) -> float:
    return cost / (requests_per_message * price / 1_000_000) / (730 * 3600)


def _wrong_rates(cost: float, body: int, price: float) -> dict[str, float]:
    chunks = max(1, math.ceil(body / 65_536))
    right = _rate(cost, price, 2 * chunks + 1)
    return {
        "forgot-chunks": _rate(cost, price, 3),
        "send-only": _rate(cost, price, chunks),
        "forgot-delete": _rate(cost, price, 2 * chunks),
        "forgot-receive": _rate(cost, price, chunks + 1),
        "chunked-delete": _rate(cost, price, 3 * chunks),
        "empty-receive-per-message": _rate(cost, price, 2 * chunks + 2),
        "per-hour": right * 3600,
        "per-month": right * 730 * 3600,
    }


_BREAK_EVEN_HINTS = {
    "forgot-chunks": ("a message of {body:,} bytes is more than one 64 KiB chunk, and SQS bills each started chunk "
                      "as a request",
                      "chunks = max(1, ceil(body_bytes / 65,536)); the send and the receive each cost `chunks`."),
    "send-only": ("a message is not only sent: a consumer also receives it and deletes it, and each call is billed",
                  "count send + receive + delete per message."),
    "forgot-delete": ("after the work the consumer deletes the message: DeleteMessage is a billed request too",
                      "add one request per message for the delete (it carries no body, so one chunk)."),
    "forgot-receive": ("the consumer's ReceiveMessage is billed, and it carries the body, so chunks count",
                       "the receive costs `chunks` requests, like the send."),
    "chunked-delete": ("a DeleteMessage carries a receipt handle, not the body: it is one request whatever the "
                       "message's size",
                       "send and receive cost `chunks` each; the delete costs 1."),
    "empty-receive-per-message": ("at the break-even rate, consumers are busy: a long poll returns messages, so "
                                  "empty receives are not one per message",
                                  "count send + receive + delete; leave out empty receives at this rate."),
    "per-hour": ("the answer is in messages per hour; the check wants messages per second",
                 "divide messages per month by 730 × 3,600 seconds."),
    "per-month": ("the answer is in messages per month; the check wants messages per second",
                  "divide messages per month by 730 × 3,600 seconds."),
}


def check_break_even(break_even: Callable[[float, int, float], Any]) -> Verdict:
    """Run the learner's formula on five (cluster cost, body size, price) cases, including bodies of several
    64 KiB chunks, and compare with SQS's billing rules (as :func:`mqlab.choosing.sqs_requests_per_message`)."""
    for cost, body, price in _BREAK_EVEN_CASES:
        try:
            got = break_even(cost, body, price)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"break_even({cost:g}, {body}, {price}) raised {_error_text(error)}",
                          "the arguments are dollars a month, bytes per message and dollars per million requests.",
                          "return a float: messages per second.")
        if not isinstance(got, (int, float)) or isinstance(got, bool) or not math.isfinite(got) or got <= 0:
            return failed("not-a-rate", f"break_even({cost:g}, {body}, {price}) returned {got!r}",
                          "return a positive number of messages per second.",
                          "dollars a month / dollars per message / seconds in a month.")
        right = _rate(cost, price, sqs_requests_per_message(body))
        if math.isclose(got, right, rel_tol=0.01):
            continue
        for key, value in _wrong_rates(cost, body, price).items():
            if math.isclose(got, value, rel_tol=0.01) and not math.isclose(value, right, rel_tol=0.01):
                nudge, hint = _BREAK_EVEN_HINTS[key]
                return failed(key, f"for a ${cost:,.0f}/month cluster and {body:,}-byte messages at ${price} per "
                                   f"million requests you found {got:,.1f} msg/s; the billing rules give "
                                   f"{right:,.1f} msg/s", nudge.format(body=body), hint)
        return failed("other", f"for a ${cost:,.0f}/month cluster and {body:,}-byte messages at ${price} per "
                               f"million requests you found {got:,.4g} msg/s; the billing rules give {right:,.1f}",
                      "work it out per message: requests per message × price per request, then divide the "
                      "monthly cost by it.",
                      "requests per message = 2 × chunks + 1; a month is 730 h.")
    cost, body, price = _BREAK_EVEN_CASES[1]
    return passed(f"your break-even rates match SQS's billing rules in all {len(_BREAK_EVEN_CASES)} cases, e.g. a "
                  f"${cost:,.0f}/month cluster against {body // 1024} KiB messages breaks even at "
                  f"{_rate(cost, price, sqs_requests_per_message(body)):,.1f} msg/s")


# -- 09.tool-for ----------------------------------------------------------------------------------------------


def tool_for(requirements):
    """The simplest tool (one of TOOLS) that meets the requirements."""
    r = requirements
    # Re-reading history, or a rate only a partitioned log is built for: the log.
    if r.replay_days > 0 or r.messages_per_second >= 50_000:
        return "Kafka"
    # Routing by rules on keys or headers is what a broker's exchanges are for.
    if r.routing_rules:
        return "RabbitMQ"
    # Otherwise a managed queue: FIFO only when order is needed.
    return "SQS FIFO" if r.ordering != "none" else "SQS standard"


def _grid() -> list[Requirements]:
    out = []
    for replay, ordering, fan_out, rate, team, routing, managed in itertools.product(
            (0, 30), ("none", "per_key", "total"), (1, 5), (0.011, 200.0, 100_000.0), (False, True), (False, True),
            (False, True)):
        out.append(Requirements(replay, ordering, fan_out, rate, team, routing, managed))
    return out


def _describe(r: Requirements) -> str:
    return (f"replay_days={r.replay_days}, ordering={r.ordering!r}, fan_out={r.fan_out}, messages_per_second="
            f"{r.messages_per_second:g}, team_runs_cluster={r.team_runs_cluster}, routing_rules={r.routing_rules}, "
            f"managed_only={r.managed_only}")


def check_tool_for(tool_for: Callable[[Requirements], Any]) -> Verdict:
    """Compare the learner's rule with :func:`mqlab.choosing.recommend` on every combination of a grid of
    requirements (replay, ordering, fan-out, rate, team, routing, managed-only)."""
    grid = _grid()
    mistakes: dict[str, list[tuple[Requirements, Any, str]]] = {}
    for r in grid:
        try:
            got = tool_for(r)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"tool_for({_describe(r)}) raised {_error_text(error)}",
                          "requirements is a Requirements object: read r.replay_days, r.ordering, r.routing_rules...",
                          f"return one of {TOOLS}.")
        want = recommend(r).tool
        if got == want:
            continue
        if got not in TOOLS:
            key = "unknown-tool"
        elif r.replay_days > 0 and got != "Kafka":
            key = "missed-replay"
        elif want == "Kafka":
            key = "missed-throughput"
        elif got == "Kafka":
            key = "oversized"
        elif r.routing_rules and got != "RabbitMQ":
            key = "missed-routing"
        elif got == "RabbitMQ":
            key = "routing-without-need"
        elif r.ordering != "none" and got == "SQS standard":
            key = "missed-ordering"
        elif got == "SQS FIFO":
            key = "fifo-without-need"
        else:
            key = "other"
        mistakes.setdefault(key, []).append((r, got, want))
    if not mistakes:
        return passed(f"your rule picks the simplest tool on all {len(grid)} combinations: Kafka only for replay or "
                      f"a very high rate, RabbitMQ only for routing rules, FIFO only when order is needed")
    order = ("unknown-tool", "missed-replay", "missed-throughput", "oversized", "missed-routing",
             "routing-without-need", "missed-ordering", "fifo-without-need", "other")
    key = next(k for k in order if k in mistakes)
    r, got, want = mistakes[key][0]
    total = sum(len(v) for v in mistakes.values())
    hints = {
        "unknown-tool": ("return exactly one of the names in TOOLS.", f"TOOLS = {TOOLS}"),
        "missed-replay": ("a consumer that must re-read days of history needs messages kept after consumption.",
                          "when replay_days > 0, only Kafka's retained log meets it."),
        "missed-throughput": ("at about 50,000 msg/s and more, which design spreads the load over partitions?",
                              "choose Kafka from 50,000 msg/s up, even without replay."),
        "oversized": ("a cluster is the answer only when a requirement needs it: which ones do?",
                      "Kafka for replay_days > 0 or about 50,000 msg/s and more; otherwise something simpler."),
        "missed-routing": ("per-message routing rules (patterns on keys, headers) are a broker's job.",
                           "when routing_rules is true (and no replay), choose RabbitMQ."),
        "routing-without-need": ("without routing rules, what does the broker give that a managed queue does not?",
                                 "RabbitMQ only when routing_rules is true."),
        "missed-ordering": ("a standard queue orders on a best-effort basis only.",
                            "when ordering is 'per_key' or 'total', choose SQS FIFO (group id = the key)."),
        "fifo-without-need": ("FIFO queues cost more and limit each group to one message in flight: only when "
                              "order is needed.", "ordering == 'none' -> SQS standard."),
        "other": ("compare your rule with the order of the questions: replay or huge rate? routing? order?",
                  "Kafka, then RabbitMQ, then SQS FIFO or SQS standard."),
    }
    return failed(key, f"for {_describe(r)} your rule chose {got!r}; the simplest tool that meets it is {want} "
                       f"({total} of {len(grid)} combinations differ)", *hints[key])


simplest_tool = register(Exercise(
    "09.simplest-tool", "The simplest tool for five systems", check_simplest_tool, my_choices,
    handle="exercise_simplest",
))
break_even_exercise = register(Exercise(
    "09.break-even", "The break-even rate between SQS and a fixed-cost cluster", check_break_even, break_even,
    handle="exercise_break_even",
))
tool_for_exercise = register(Exercise(
    "09.tool-for", "From requirements to the simplest tool", check_tool_for, tool_for, handle="exercise_tool_for",
))
