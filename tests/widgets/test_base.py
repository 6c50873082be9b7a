"""Display strategy and debouncing shared by every control."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from mqlab.viz.palette import PLOTLY_MIMETYPE
from mqlab.widgets import Debouncer, RoutingPlayground, frontend_possible
from mqlab.widgets.base import WIDGET_VIEW_MIMETYPE


class _KernelComm:
    """Stands in for a kernel's comm: anything that is not ipywidgets' DummyComm."""

    comm_id = "test"

    def send(self, *args, **kwargs):
        pass

    def on_msg(self, *args, **kwargs):
        pass

    def close(self, *args, **kwargs):
        pass


def test_without_a_kernel_the_bundle_is_static():
    """Outside a kernel: a text note and the static figure, and no widget view that nothing could render."""
    bundle = RoutingPlayground()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", PLOTLY_MIMETYPE}
    assert bundle["text/plain"] == ("Routing playground: topic exchange, key 'quick.orange.rabbit': routed to Q1, Q2 "
                                    "(2 copies) (static view; interactive in JupyterLab)")
    assert bundle[PLOTLY_MIMETYPE]["layout"]["title"]["text"].startswith("topic exchange")


def test_in_a_kernel_the_bundle_adds_the_widget_view(monkeypatch):
    """With a kernel comm the widget view is added (JupyterLab prefers it); MQLAB_STATIC=1 leaves it out."""
    playground = RoutingPlayground()
    playground.box.comm = _KernelComm()
    assert frontend_possible(playground.box)
    bundle = playground._repr_mimebundle_()
    assert set(bundle) == {"text/plain", PLOTLY_MIMETYPE, WIDGET_VIEW_MIMETYPE}
    assert bundle[WIDGET_VIEW_MIMETYPE]["model_id"] == playground.box.model_id
    monkeypatch.setenv("MQLAB_STATIC", "1")
    assert WIDGET_VIEW_MIMETYPE not in playground._repr_mimebundle_()


def test_static_bundle_is_deterministic():
    """Two identical controls give identical static bundles (nbval compares them)."""
    assert RoutingPlayground()._repr_mimebundle_() == RoutingPlayground()._repr_mimebundle_()


def test_debouncer_without_a_loop_runs_at_once():
    """With no running event loop (a script, a test) every trigger runs the action immediately."""
    calls = []
    debouncer = Debouncer(lambda: calls.append(1), delay=0.5)
    debouncer.trigger()
    debouncer.trigger()
    assert calls == [1, 1]
    assert not debouncer.pending


def test_debouncer_collapses_a_burst_into_one_call():
    """On an event loop, a burst of triggers runs the action once, after the delay following the last."""
    calls = []

    async def burst() -> None:
        debouncer = Debouncer(lambda: calls.append(1), delay=0.02)
        for _ in range(5):
            debouncer.trigger()
        await asyncio.sleep(0)  # let the loop run once: the timer has not fired yet
        assert calls == [] and debouncer.pending
        await asyncio.sleep(0.1)
        assert not debouncer.pending
        debouncer.trigger()
        debouncer.flush()

    asyncio.run(burst())
    assert calls == [1, 1]


def test_core_imports_stay_free_of_plotting_libraries():
    """`import mqlab` and the kernel load neither plotly nor ipywidgets nor anyio (they are the course extra)."""
    code = (
        "import sys, mqlab, mqlab.sim, mqlab.queueing\n"
        "bad = sorted(m for m in ('plotly', 'ipywidgets', 'anyio') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
