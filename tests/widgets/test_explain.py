"""Routing explanations agree with the broker's rules and say why."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.rabbitmq.routing import topic_matches
from mqlab.widgets import BindingSpec, InvalidBindingSpec, explain_routing, topic_alignment
from mqlab.widgets.explain import parse_bindings, parse_headers

TUTORIAL = [BindingSpec("Q1", "*.orange.*"), BindingSpec("Q2", "*.*.rabbit"), BindingSpec("Q2", "lazy.#")]


@pytest.mark.parametrize(
    ("key", "queues"),
    [
        ("quick.orange.rabbit", ("Q1", "Q2")),
        ("lazy.orange.elephant", ("Q1", "Q2")),
        ("quick.orange.fox", ("Q1",)),
        ("lazy.brown.fox", ("Q2",)),
        ("lazy.pink.rabbit", ("Q2",)),
        ("quick.brown.fox", ()),
        ("orange", ()),
        ("quick.orange.male.rabbit", ()),
        ("lazy.orange.male.rabbit", ("Q2",)),
    ],
)
def test_tutorial_five_cases(key, queues):
    """RabbitMQ tutorial five's examples route as the tutorial says; a queue matched twice gets one copy."""
    assert explain_routing("topic", TUTORIAL, key).queues == queues


def test_topic_reasons_show_the_alignment_or_the_obstacle():
    """A match shows which words each pattern word took; a miss names the word count or the differing word."""
    verdicts = explain_routing("topic", TUTORIAL, "lazy.pink.rabbit").verdicts
    assert verdicts[1].reason == "words line up: * ← lazy · * ← pink · rabbit ← rabbit"
    assert verdicts[2].reason.startswith("words line up: lazy ← lazy · # ← pink.rabbit (already has a copy")
    assert verdicts[0].reason == "word 2: the binding wants 'orange', the key has 'pink'"
    assert explain_routing("topic", TUTORIAL, "orange").verdicts[0].reason == (
        "'*.orange.*' has 3 words and no '#', so it needs exactly 3; 'orange' has 1"
    )
    assert "(already has a copy" in explain_routing("topic", TUTORIAL, "lazy.x.rabbit").verdicts[2].reason


def test_hash_matches_zero_words():
    """'#' may take no word at all: 'lazy.#' takes 'lazy', and the alignment says so."""
    assert topic_alignment("lazy.#", "lazy") == [("lazy", ["lazy"]), ("#", [])]


_words = st.lists(st.sampled_from(["a", "b", ""]), max_size=4).map(".".join)
_patterns = st.lists(st.sampled_from(["a", "b", "*", "#", ""]), max_size=4).map(".".join)


@given(_patterns, _words)
def test_alignment_agrees_with_topic_matches(pattern, key):
    """An alignment exists exactly when the broker's topic rule matches, and it covers the key's words."""
    alignment = topic_alignment(pattern, key)
    assert (alignment is not None) == topic_matches(pattern, key)
    if alignment is not None:
        assert [w for _, ws in alignment for w in ws] == (key.split(".") if key else [])


def test_direct_and_fanout_reasons():
    """Direct needs equality of keys; fanout ignores the key."""
    direct = explain_routing("direct", [BindingSpec("e", "error"), BindingSpec("i", "info")], "error")
    assert direct.queues == ("e",)
    assert direct.verdicts[1].reason == "binding key 'info' ≠ routing key 'error' (direct needs equality)"
    fanout = explain_routing("fanout", [BindingSpec("a"), BindingSpec("b")], "whatever")
    assert fanout.queues == ("a", "b")


def test_headers_reasons_per_argument():
    """Headers: each argument present-and-equal, missing or different; x-match decides; x- keys ignored."""
    bindings = [
        BindingSpec("all", arguments={"x-match": "all", "format": "pdf", "type": "report"}),
        BindingSpec("any", arguments={"x-match": "any", "format": "pdf", "type": "log"}),
        BindingSpec("x", arguments={"x-match": "all", "x-tenant": "a"}),
    ]
    result = explain_routing("headers", bindings, headers={"format": "pdf", "type": "log"})
    assert result.queues == ("any", "x")
    assert result.verdicts[0].reason == "x-match=all (all must match): format='pdf' ✓; type: wants 'report', has 'log'"
    assert result.verdicts[2].reason.endswith("no headers to compare: 'all' matches, 'any' does not")
    assert not explain_routing("headers", bindings[:1], headers={"format": "pdf"}).queues


def test_header_values_keep_amqp_types():
    """'1' parses as an int and 'true' as a bool, which the headers exchange keeps apart."""
    assert parse_headers("n=1, flag=true, s='1'") == {"n": 1, "flag": True, "s": "1"}
    binding = [BindingSpec("q", arguments={"flag": True})]
    assert not explain_routing("headers", binding, headers={"flag": 1}).queues


def test_unreadable_input_is_refused_with_an_example():
    """A binding line without 'queue:' or an unknown exchange type raises, showing the expected form."""
    with pytest.raises(InvalidBindingSpec, match=re.escape("write e.g. nyc: geo.us.nyc.#")):
        parse_bindings("no colon here", "topic")
    with pytest.raises(InvalidBindingSpec, match="key=value"):
        parse_headers("format")
    with pytest.raises(InvalidBindingSpec, match="x-consistent-hash"):
        explain_routing("x-consistent-hash", [], "k")
    assert parse_bindings("a: x\n\nb:", "direct") == [BindingSpec("a", "x"), BindingSpec("b", "")]
