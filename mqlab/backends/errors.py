"""Why a backend refused: a simulator-only feature, a broker that did not answer, a client not installed."""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = ["BrokerUnreachable", "InvalidBrokerSetting", "NotAvailableOnRealBroker", "RealClientMissing"]


class NotAvailableOnRealBroker(MqlabError):
    """Virtual time, fault injection, the trace, the ledger: things a real broker does not have.

    Raised instead of faking them, so a notebook section that needs the simulator says so plainly
    when it is pointed at a real broker.
    """

    def __init__(self, feature: str, broker: str, setting: str) -> None:
        self.feature = feature
        super().__init__(
            f"{feature} exists only in mqlab's simulator, and this {broker} backend talks to a real broker; "
            f"run this part on the simulator (unset {setting}, or pass 'simulator' as the setting) or skip it"
        )


class BrokerUnreachable(MqlabError):
    """The real broker named by the setting did not accept a connection."""


class RealClientMissing(MqlabError):
    """The real client library (pika, confluent-kafka, boto3) is not installed."""

    def __init__(self, module: str, broker: str, setting: str) -> None:
        self.module = module
        super().__init__(
            f"a real {broker} needs the {module!r} client, which is not installed; install the real clients with "
            f"`pip install -e .[real]` (or `pip install mqlab[real]`), or unset {setting} to use the simulator"
        )


class InvalidBrokerSetting(MqlabError, ValueError):
    """The setting that names a real broker is malformed."""
