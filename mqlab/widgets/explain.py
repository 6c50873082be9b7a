"""Why a message reached (or missed) each queue: routing decisions explained binding by binding.

The verdicts come from the model's own rules (:func:`mqlab.rabbitmq.routing.topic_matches`
and :func:`~mqlab.rabbitmq.routing.headers_match`), so the playground can never disagree
with the broker; this module only adds the *why*:

* direct: the binding key equals the routing key, or not;
* fanout: every binding matches, the key is ignored;
* topic: how the words line up (``* ← quick · orange ← orange · * ← rabbit``), or where
  they cannot (wrong word count without ``#``, the first word that differs);
* headers: per binding argument, present and equal, missing, or different, and what the
  ``x-match`` mode makes of that.

A queue bound more than once gets one copy, as in RabbitMQ. When no binding matches, the
message is unroutable: the broker drops it, returns it to a ``mandatory`` publisher
(basic.return 312 NO_ROUTE), or hands it to the exchange's alternate exchange if it has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mqlab.rabbitmq.routing import EXCHANGE_TYPES, X_MATCH_MODES, headers_match, split_words, topic_matches
from mqlab.widgets.errors import InvalidBindingSpec

__all__ = [
    "BindingSpec",
    "BindingVerdict",
    "InvalidBindingSpec",
    "RoutingExplanation",
    "explain_routing",
    "parse_bindings",
    "parse_headers",
    "topic_alignment",
]


@dataclass(frozen=True)
class BindingSpec:
    """A binding from the exchange to ``queue`` with a ``routing_key`` and (headers exchanges) ``arguments``."""

    queue: str
    routing_key: str = ""
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if self.arguments:
            return ", ".join(f"{k}={v!r}" if not isinstance(v, str) else f"{k}={v}" for k, v in self.arguments.items())
        return repr(self.routing_key)


@dataclass(frozen=True)
class BindingVerdict:
    """One binding's verdict: did it take the message, and why."""

    binding: BindingSpec
    matched: bool
    reason: str


@dataclass(frozen=True)
class RoutingExplanation:
    """Every binding's verdict in binding order, and the queues reached (each once, in binding order)."""

    exchange_type: str
    verdicts: tuple[BindingVerdict, ...]
    queues: tuple[str, ...]

    @property
    def summary(self) -> str:
        if self.queues:
            copies = "copy" if len(self.queues) == 1 else "copies"
            return f"routed to {', '.join(self.queues)} ({len(self.queues)} {copies})"
        return ("unroutable: no binding matched; RabbitMQ drops it, returns it to a mandatory publisher "
                "(basic.return 312 NO_ROUTE) or passes it to the alternate exchange")


def topic_alignment(pattern: str, routing_key: str) -> list[tuple[str, list[str]]] | None:
    """How the words of ``routing_key`` line up with ``pattern``: ``[(pattern word, key words), ...]``.

    ``#`` takes as few words as it can; None when the pattern does not match. Agrees with
    :func:`~mqlab.rabbitmq.routing.topic_matches` (a property test checks it).
    """
    parts, words = split_words(pattern), split_words(routing_key)
    failed: set[tuple[int, int]] = set()

    def walk(i: int, j: int) -> list[tuple[str, list[str]]] | None:
        if (i, j) in failed:
            return None
        found: list[tuple[str, list[str]]] | None = None
        if i == len(parts):
            found = [] if j == len(words) else None
        elif parts[i] == "#":
            for k in range(j, len(words) + 1):
                rest = walk(i + 1, k)
                if rest is not None:
                    found = [("#", words[j:k]), *rest]
                    break
        elif j < len(words) and parts[i] in ("*", words[j]):
            rest = walk(i + 1, j + 1)
            found = None if rest is None else [(parts[i], [words[j]]), *rest]
        if found is None:
            failed.add((i, j))
        return found

    return walk(0, 0)


def _topic_reason(pattern: str, routing_key: str) -> tuple[bool, str]:
    matched = topic_matches(pattern, routing_key)
    alignment = topic_alignment(pattern, routing_key) if matched else None
    if alignment is not None:
        shown = " · ".join(f"{p} ← {'.'.join(ws) if ws else '(nothing)'}" for p, ws in alignment)
        return True, f"words line up: {shown}" if alignment else "both are empty"
    parts, words = split_words(pattern), split_words(routing_key)
    if "#" not in parts:
        if len(parts) != len(words):
            return False, (f"{pattern!r} has {len(parts)} words and no '#', so it needs exactly {len(parts)}; "
                           f"{routing_key!r} has {len(words)}")
        for index, (p, word) in enumerate(zip(parts, words), start=1):
            if p not in ("*", word):
                return False, f"word {index}: the binding wants {p!r}, the key has {word!r}"
    prefix = parts[: parts.index("#")] if "#" in parts else parts
    for index, (p, word) in enumerate(zip(prefix, words), start=1):
        if p not in ("*", word):
            return False, f"word {index}: the binding wants {p!r}, the key has {word!r}"
    return False, "no way to line the words up: '*' takes exactly one word, '#' zero or more, others must be equal"


def _headers_reason(arguments: Mapping[str, Any], headers: Mapping[str, Any]) -> tuple[bool, str]:
    matched = headers_match(arguments, headers)
    raw_mode = arguments.get("x-match", "all")
    mode = raw_mode if raw_mode in X_MATCH_MODES else "all"
    with_x = mode.endswith("-with-x")
    parts: list[str] = []
    for key, expected in arguments.items():
        if key == "x-match":
            continue
        if key.startswith("x-") and not with_x:
            parts.append(f"{key} ignored (x- keys count only with {mode}-with-x)")
            continue
        if key not in headers:
            parts.append(f"{key} missing")
        elif headers_match({"x-match": "all-with-x", key: expected}, {key: headers[key]}):
            parts.append(f"{key}={headers[key]!r} ✓" if expected is not None else f"{key} present ✓")
        else:
            parts.append(f"{key}: wants {expected!r}, has {headers[key]!r}")
    if not parts or all("ignored" in p for p in parts):
        detail = "no headers to compare: 'all' matches, 'any' does not"
    else:
        detail = "; ".join(parts)
    rule = "any one must match" if mode.startswith("any") else "all must match"
    return matched, f"x-match={mode} ({rule}): {detail}"


def explain_routing(
    exchange_type: str, bindings: Sequence[BindingSpec], routing_key: str = "",
    headers: Mapping[str, Any] | None = None,
) -> RoutingExplanation:
    """Each binding's verdict and reason for a message with ``routing_key`` and ``headers``."""
    if exchange_type not in EXCHANGE_TYPES:
        raise InvalidBindingSpec(
            f"exchange type {exchange_type!r} is not one RabbitMQ ships with; use one of {', '.join(EXCHANGE_TYPES)}"
        )
    verdicts: list[BindingVerdict] = []
    queues: dict[str, None] = {}
    for b in bindings:
        if exchange_type == "direct":
            matched = b.routing_key == routing_key
            reason = (f"binding key {b.routing_key!r} equals the routing key" if matched
                      else f"binding key {b.routing_key!r} ≠ routing key {routing_key!r} (direct needs equality)")
        elif exchange_type == "fanout":
            matched, reason = True, "fanout ignores the routing key: every bound queue gets a copy"
        elif exchange_type == "topic":
            matched, reason = _topic_reason(b.routing_key, routing_key)
        else:
            matched, reason = _headers_reason(b.arguments, headers or {})
        if matched:
            if b.queue in queues:
                reason += " (already has a copy from an earlier binding: one copy per queue)"
            queues.setdefault(b.queue, None)
        verdicts.append(BindingVerdict(b, matched, reason))
    return RoutingExplanation(exchange_type, tuple(verdicts), tuple(queues))


def _value(text: str) -> Any:
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lstrip("-").isdigit():
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_headers(text: str) -> dict[str, Any]:
    """``"format=pdf, size=3, urgent=true"`` → ``{"format": "pdf", "size": 3, "urgent": True}``.

    Numbers become ints and true/false booleans (AMQP keeps these types apart: a header
    ``1`` does not match a binding ``true``); quote a value to keep it a string.
    """
    found: dict[str, Any] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidBindingSpec(f"header {item!r} is not key=value; write e.g. format=pdf, size=3")
        found[key.strip()] = _value(value)
    return found


def parse_bindings(text: str, exchange_type: str) -> list[BindingSpec]:
    """One binding per line: ``queue: routing key`` (direct, topic, fanout) or ``queue: k=v, ...`` (headers)."""
    bindings: list[BindingSpec] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        queue, sep, rest = line.partition(":")
        if not sep or not queue.strip():
            example = "invoices: x-match=any, format=pdf" if exchange_type == "headers" else "nyc: geo.us.nyc.#"
            raise InvalidBindingSpec(f"line {number} ({line.strip()!r}) is not 'queue: key'; write e.g. {example}")
        if exchange_type == "headers":
            bindings.append(BindingSpec(queue.strip(), "", parse_headers(rest)))
        else:
            bindings.append(BindingSpec(queue.strip(), rest.strip()))
    return bindings
