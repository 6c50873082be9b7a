"""Routing rules as pure functions, and the exchange types as small strategy objects.

* :func:`topic_matches`: a topic binding key is a dot-separated list of words where
  ``*`` stands for exactly one word and ``#`` for zero or more words
  (tutorial five: ``*.orange.*`` takes ``quick.orange.rabbit``; ``lazy.#`` takes
  ``lazy.orange.male.rabbit``; ``*.c`` does not take ``a.b.c``). Words are split on
  every dot, so an empty routing key has no words and ``a..b`` has an empty middle
  word, as in ``rabbit_exchange_type_topic:split_topic_key``.
* :func:`headers_match`: the ``x-match`` rules of ``rabbit_exchange_type_headers``:
  ``all`` (the default) needs every binding header present with an equal value,
  ``any`` needs one; binding keys starting with ``x-`` are ignored unless the mode is
  ``all-with-x`` or ``any-with-x``; a binding value of ``None`` (AMQP void) matches on
  presence alone; with no headers to compare, ``all`` matches and ``any`` does not.

Each exchange type is a router class with one job: given the exchange's bindings,
answer "which destinations does this routing key (and these headers) reach?".
Routers rebuild an index when bindings change (rare) so that routing (hot) is a
dict lookup for direct exchanges and a cached scan for topic exchanges. Results keep
binding order and contain each destination once: a queue matched by several bindings
gets one copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "EXCHANGE_TYPES",
    "X_MATCH_MODES",
    "Binding",
    "DirectRouter",
    "FanoutRouter",
    "HeadersRouter",
    "Router",
    "TopicRouter",
    "headers_match",
    "split_words",
    "topic_matches",
]

X_MATCH_MODES = ("all", "any", "all-with-x", "any-with-x")


def split_words(key: str) -> list[str]:
    """The words of a routing or binding key: ``""`` has none, ``"a..b"`` has three."""
    return key.split(".") if key else []


def topic_matches(pattern: str, routing_key: str) -> bool:
    """True if the topic binding key ``pattern`` takes a message with ``routing_key``.

    ``*`` matches exactly one word, ``#`` zero or more words; other words match
    themselves. Runs in O(words(pattern) x words(key)) (an NFA walk, no regex).
    """
    return _match_words(split_words(pattern), split_words(routing_key))


def _match_words(pattern: Sequence[str], words: Sequence[str]) -> bool:
    size = len(pattern)
    # positions reachable in the pattern, as a sorted list (deterministic, small)
    states = _closure(pattern, [0])
    for word in words:
        following: list[int] = []
        for i in states:
            if i == size:
                continue
            part = pattern[i]
            if part == "#":
                following.append(i)
            elif part == "*" or part == word:
                following.append(i + 1)
        if not following:
            return False
        states = _closure(pattern, following)
    return size in states


def _closure(pattern: Sequence[str], states: list[int]) -> list[int]:
    """Add the positions reachable by letting each ``#`` match zero words."""
    seen: dict[int, None] = {}
    size = len(pattern)
    for i in states:
        while True:
            if i in seen:
                break
            seen[i] = None
            if i < size and pattern[i] == "#":
                i += 1
                continue
            break
    return sorted(seen)


def _same_value(expected: Any, actual: Any) -> bool:
    # AMQP booleans and integers are different field types; Python's True == 1 is not.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def headers_match(binding_arguments: Mapping[str, Any] | None, message_headers: Mapping[str, Any] | None) -> bool:
    """True if a headers-exchange binding with ``binding_arguments`` takes a message with ``message_headers``.

    ``binding_arguments`` carries ``x-match`` (``all`` when absent, or unknown, as the
    broker does for legacy bindings); ``message_headers`` may be None.
    """
    arguments = binding_arguments or {}
    headers = message_headers or {}
    mode = arguments.get("x-match", "all")
    if mode not in X_MATCH_MODES:
        mode = "all"
    with_x = mode.endswith("-with-x")
    want_any = mode.startswith("any")
    matched_one = False
    matched_all = True
    for key, expected in arguments.items():
        if key == "x-match" or (not with_x and key.startswith("x-")):
            continue
        if key not in headers:
            matched_all = False
            continue
        if expected is None or _same_value(expected, headers[key]):
            matched_one = True
        else:
            matched_all = False
    return matched_one if want_any else matched_all


class Binding:
    """A binding from an exchange to a queue or an exchange, with its key and arguments.

    Two bindings are the same binding when source, destination, key and arguments
    are equal: binding twice is a no-op, as in RabbitMQ.
    """

    __slots__ = ("source", "destination", "routing_key", "arguments")

    def __init__(self, source: str, destination: Any, routing_key: str, arguments: dict[str, Any]) -> None:
        self.source = source
        self.destination = destination
        self.routing_key = routing_key
        self.arguments = arguments

    def same_as(self, destination: Any, routing_key: str, arguments: Mapping[str, Any]) -> bool:
        return self.destination is destination and self.routing_key == routing_key and self.arguments == arguments

    def __repr__(self) -> str:
        return f"<Binding {self.source!r} -> {self.destination!r} key={self.routing_key!r} args={self.arguments!r}>"


class Router:
    """Strategy for one exchange type: ``rebuild(bindings)`` then ``route(routing_key, headers)``."""

    __slots__ = ()
    type_name = ""

    def validate_binding(self, routing_key: str, arguments: Mapping[str, Any]) -> str | None:
        """A RabbitMQ-worded reason to refuse this binding, or None."""
        return None

    def rebuild(self, bindings: Sequence[Binding]) -> None:
        raise NotImplementedError

    def route(self, routing_key: str, headers: Mapping[str, Any] | None) -> list[Any]:
        raise NotImplementedError


class DirectRouter(Router):
    """``direct``: destinations bound with exactly the message's routing key."""

    __slots__ = ("_index",)
    type_name = "direct"

    def __init__(self) -> None:
        self._index: dict[str, list[Any]] = {}

    def rebuild(self, bindings: Sequence[Binding]) -> None:
        index: dict[str, list[Any]] = {}
        for b in bindings:
            targets = index.setdefault(b.routing_key, [])
            if all(t is not b.destination for t in targets):
                targets.append(b.destination)
        self._index = index

    def route(self, routing_key: str, headers: Mapping[str, Any] | None) -> list[Any]:
        return self._index.get(routing_key, _EMPTY)


_EMPTY: list[Any] = []


class FanoutRouter(Router):
    """``fanout``: every bound destination, routing key ignored."""

    __slots__ = ("_all",)
    type_name = "fanout"

    def __init__(self) -> None:
        self._all: list[Any] = []

    def rebuild(self, bindings: Sequence[Binding]) -> None:
        self._all = _unique(b.destination for b in bindings)

    def route(self, routing_key: str, headers: Mapping[str, Any] | None) -> list[Any]:
        return self._all


class TopicRouter(Router):
    """``topic``: destinations whose binding key pattern matches the routing key (see :func:`topic_matches`).

    Results are cached per routing key until the bindings change.
    """

    __slots__ = ("_patterns", "_cache")
    type_name = "topic"
    CACHE_SIZE = 4096

    def __init__(self) -> None:
        self._patterns: list[tuple[list[str], Any]] = []
        self._cache: dict[str, list[Any]] = {}

    def rebuild(self, bindings: Sequence[Binding]) -> None:
        self._patterns = [(split_words(b.routing_key), b.destination) for b in bindings]
        self._cache = {}

    def route(self, routing_key: str, headers: Mapping[str, Any] | None) -> list[Any]:
        found = self._cache.get(routing_key)
        if found is None:
            words = split_words(routing_key)
            found = _unique(dest for pattern, dest in self._patterns if _match_words(pattern, words))
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            self._cache[routing_key] = found
        return found


class HeadersRouter(Router):
    """``headers``: destinations whose binding arguments match the message headers (see :func:`headers_match`)."""

    __slots__ = ("_bindings",)
    type_name = "headers"

    def __init__(self) -> None:
        self._bindings: list[tuple[dict[str, Any], Any]] = []

    def validate_binding(self, routing_key: str, arguments: Mapping[str, Any]) -> str | None:
        mode = arguments.get("x-match")
        if mode is None:
            return None
        if not isinstance(mode, str):
            kind = "bool" if isinstance(mode, bool) else "signedint" if isinstance(mode, int) else type(mode).__name__
            return f"Invalid x-match field type {kind} (value {mode!r}); expected longstr"
        if mode not in X_MATCH_MODES:
            return f'Invalid x-match field value <<"{mode}">>; expected all, any, all-with-x, or any-with-x'
        return None

    def rebuild(self, bindings: Sequence[Binding]) -> None:
        self._bindings = [(b.arguments, b.destination) for b in bindings]

    def route(self, routing_key: str, headers: Mapping[str, Any] | None) -> list[Any]:
        return _unique(dest for arguments, dest in self._bindings if headers_match(arguments, headers))


def _unique(destinations: Any) -> list[Any]:
    found: list[Any] = []
    for dest in destinations:
        if all(d is not dest for d in found):
            found.append(dest)
    return found


EXCHANGE_TYPES: dict[str, type[Router]] = {
    "direct": DirectRouter,
    "fanout": FanoutRouter,
    "topic": TopicRouter,
    "headers": HeadersRouter,
}
"""The exchange types RabbitMQ ships with (``x-consistent-hash`` and other plugins are not modelled)."""
