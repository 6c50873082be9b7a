"""The routing playground, driven headless."""

from __future__ import annotations

from mqlab.widgets import RoutingPlayground


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_typing_a_routing_key_re_explains_and_redraws():
    """Changing the key changes the verdicts, the summary and which edges are drawn as matched."""
    playground = RoutingPlayground()
    before = playground.figure
    assert playground.explanation.queues == ("Q1", "Q2")
    playground.routing_key.value = "quick.orange.fox"
    assert playground.explanation.queues == ("Q1",)
    assert playground.figure is not before
    assert "routed to Q1 (1 copy)" in playground.status.value
    matched = _trace(playground.figure, "binding matched")
    assert list(matched.x).count(None) == 1  # one matched edge (each edge ends with a None separator)
    assert list(_trace(playground.figure, "binding did not match").x).count(None) == 2
    counts = {t.name: list(t.text) for t in playground.figure.data if t.name == "queue (ready count)"}
    assert counts == {"queue (ready count)": ["Q1<br>(1)", "Q2<br>(0)"]}
    assert "✗" in playground.table.value and "the key has 'orange'" not in playground.table.value


def test_editing_bindings_adds_a_queue():
    """A new binding line adds a queue to the table and the figure."""
    playground = RoutingPlayground()
    playground.bindings.value += "\nQ3: #"
    assert playground.explanation.queues == ("Q1", "Q2", "Q3")
    assert "Q3" in playground.table.value


def test_switching_exchange_type_loads_its_example_and_explains_once():
    """Choosing 'headers' loads a headers example and explains it with one redraw."""
    playground = RoutingPlayground()
    renders = playground.renders
    playground.exchange_type.value = "headers"
    assert playground.renders == renders + 1
    assert playground.explanation.exchange_type == "headers"
    assert playground.explanation.queues == ("any",)
    playground.headers.value = "format=pdf, type=report"
    assert playground.explanation.queues == ("pdf", "any")


def test_unreadable_bindings_show_an_error_instead_of_raising():
    """A malformed binding line puts the reason in the status line; the last figure stays."""
    playground = RoutingPlayground()
    figure = playground.figure
    playground.bindings.value = "oops"
    assert playground.explanation is None
    assert "is not &#x27;queue: key&#x27;" in playground.status.value
    assert playground.figure is figure
    assert "could not be read" in playground.note()


def test_unroutable_message_is_explained():
    """No match: the summary says what RabbitMQ does with an unroutable message."""
    playground = RoutingPlayground(exchange_type="direct", routing_key="debug")
    assert playground.explanation.queues == ()
    assert "312 NO_ROUTE" in playground.note()


def test_playground_loaded_from_a_live_broker_agrees_with_its_routing():
    """Loaded from a broker's exchange, the playground routes a key to the queues the broker routes it to."""
    from mqlab.rabbitmq import Broker
    from mqlab.sim import Simulation
    from mqlab.widgets.routing import bindings_of

    sim = Simulation(seed=1)
    broker = Broker(sim)
    ch = broker.connect().channel()
    ch.exchange_declare("rides", "topic")
    for queue, key in (("nyc", "geo.us.nyc.#"), ("us", "geo.us.*.*"), ("all", "#")):
        ch.queue_declare(queue)
        ch.queue_bind(queue, "rides", key)
    assert bindings_of(broker, "rides") == ("topic", "nyc: geo.us.nyc.#\nus: geo.us.*.*\nall: #")
    playground = RoutingPlayground.from_broker(broker, "rides", "geo.us.nyc.brooklyn")
    ch.basic_publish("rides", "geo.us.nyc.brooklyn", b"ride")
    sim.run()
    reached = tuple(q for q in ("nyc", "us", "all") if broker.queue_statistics(q).ready == 1)
    assert playground.explanation.queues == reached == ("nyc", "us", "all")
