"""mqlab.widgets: the controls of the course (ipywidgets), each with a static fallback.

=============================  ===========================================================
control                        what it does
=============================  ===========================================================
:class:`RoutingPlayground`     bindings + routing key/headers in; which queues and why out
:class:`ScenarioDashboard`     sliders bound to a scenario's parameters; re-run and redraw
:func:`queueing_dashboard`     M/M/1 simulation next to theory, as a ready dashboard
``*_dashboard`` in scenarios   cascade, retry storm, 3 a.m. incident, guarantees, lost ack
:class:`TimeScrubber`          a slider over virtual time showing the state at each instant
:class:`LiveControls`          play, pause, step and speed for a paced run
:class:`MessageInspector`      pick a message id, see its journey and headers
=============================  ===========================================================

Every control displays as a live widget where a widget frontend runs and as a static
figure with a one-line note elsewhere (nbval, papermill, a notebook viewer); see
:mod:`mqlab.widgets.base` for the strategy. Controls can be driven from code (set a
control's ``value``, call ``button.click()``), which is how the tests drive them headless.
"""

from mqlab.widgets.base import Control, Debouncer, frontend_possible, show_figure
from mqlab.widgets.dashboard import Param, ScenarioDashboard, mm1_scenario, queueing_dashboard
from mqlab.widgets.errors import InvalidBindingSpec, InvalidParameterSpec
from mqlab.widgets.explain import BindingSpec, explain_routing, topic_alignment
from mqlab.widgets.inspector import MessageInspector
from mqlab.widgets.live import LiveControls
from mqlab.widgets.routing import RoutingPlayground
from mqlab.widgets.scenarios import (
    cascade_dashboard,
    guarantees_dashboard,
    incident_dashboard,
    lost_ack_dashboard,
    retry_storm_dashboard,
)
from mqlab.widgets.scrubber import TimeScrubber

__all__ = [
    "BindingSpec",
    "Control",
    "Debouncer",
    "InvalidBindingSpec",
    "InvalidParameterSpec",
    "LiveControls",
    "MessageInspector",
    "Param",
    "RoutingPlayground",
    "ScenarioDashboard",
    "TimeScrubber",
    "cascade_dashboard",
    "explain_routing",
    "frontend_possible",
    "guarantees_dashboard",
    "incident_dashboard",
    "lost_ack_dashboard",
    "mm1_scenario",
    "queueing_dashboard",
    "retry_storm_dashboard",
    "show_figure",
    "topic_alignment",
]
