"""The root of mqlab's exception tree.

Every error mqlab raises on purpose derives from :class:`MqlabError`, so a
notebook can catch "anything the simulator refused" in one clause. Each model
adds one class per cause (an AMQP reply code, a Kafka error name, an SQS error
code) under this base, and every message names the object, the rule that was
broken and how to fix it.
"""

from __future__ import annotations


class MqlabError(Exception):
    """Base class for every error mqlab raises on purpose."""
