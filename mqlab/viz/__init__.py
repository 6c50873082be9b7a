"""mqlab.viz: the pictures of the course, as plotly figures.

Every function takes plain data (the kernel's :class:`~mqlab.sim.TimeSeries` and
:class:`~mqlab.sim.TraceRecord`, or the small records defined here) and returns a
``plotly.graph_objects.Figure`` whose JSON is deterministic: build it twice, get the same
bytes. Adapters from the broker models and the scenario results live in :mod:`mqlab.viz.adapters`
(``from_rabbitmq``, ``from_kafka``, ``logview_from_kafka``, ``from_sqs``, ``steps_from_walkthrough``).

Importing this package switches plotly to the mimetype renderer
(:func:`~mqlab.viz.palette.use_offline_renderer`): figures render offline in JupyterLab and
notebooks do not store the plotly.js bundle.

=================================  ======================================================
figure                             what it shows
=================================  ======================================================
:func:`timeseries_figure`          metrics over virtual time, runs overlaid, faults marked
:func:`topology_figure`            exchanges → queues → consumers; topics → partitions
:func:`logview_figure`             per partition: retention, committed offsets, lag
:func:`journey_figure`             one message's life, from the trace
:func:`sequence_figure`            a delivery protocol with lost frames and acks
:func:`queueing_comparison_figure` simulated W and L next to M/M/c and Little's law
:func:`snapshot_figure`            the state at one instant, folded from the trace
=================================  ======================================================
"""

from mqlab.viz.adapters import from_kafka, from_rabbitmq, from_sqs, logview_from_kafka, steps_from_walkthrough
from mqlab.viz.errors import InvalidFigureInput
from mqlab.viz.journey import JourneyStep, journey_figure, journey_from_trace, message_ids
from mqlab.viz.logview import GroupOffsets, LogView, PartitionOffsets, logview_figure
from mqlab.viz.palette import COLORWAY, OKABE_ITO, TEMPLATE, base_figure, figure_bundle, use_offline_renderer
from mqlab.viz.queueing import queueing_comparison_figure, utilisation_sweep_figure
from mqlab.viz.sequence import ProtocolStep, protocol_from_trace, sequence_figure
from mqlab.viz.state import Snapshot, TraceTimeline, snapshot_figure, state_at
from mqlab.viz.timeseries import Marker, collect_series, markers_from_trace, timeseries_figure
from mqlab.viz.topology import (
    Edge,
    Node,
    Topology,
    kafka_topology,
    layout_positions,
    rabbitmq_topology,
    sqs_topology,
    topology_figure,
)

use_offline_renderer()

__all__ = [
    "COLORWAY",
    "OKABE_ITO",
    "TEMPLATE",
    "Edge",
    "GroupOffsets",
    "InvalidFigureInput",
    "JourneyStep",
    "LogView",
    "Marker",
    "Node",
    "PartitionOffsets",
    "ProtocolStep",
    "Snapshot",
    "Topology",
    "TraceTimeline",
    "base_figure",
    "collect_series",
    "figure_bundle",
    "from_kafka",
    "from_rabbitmq",
    "from_sqs",
    "journey_figure",
    "journey_from_trace",
    "kafka_topology",
    "layout_positions",
    "logview_figure",
    "logview_from_kafka",
    "markers_from_trace",
    "message_ids",
    "protocol_from_trace",
    "queueing_comparison_figure",
    "rabbitmq_topology",
    "sequence_figure",
    "snapshot_figure",
    "sqs_topology",
    "state_at",
    "steps_from_walkthrough",
    "timeseries_figure",
    "topology_figure",
    "use_offline_renderer",
    "utilisation_sweep_figure",
]
