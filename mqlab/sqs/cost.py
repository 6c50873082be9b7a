"""The request meter: what a workload would cost on SQS.

SQS bills API requests, not messages (AWS pricing page):

* every action is a request, including a ReceiveMessage that returns nothing
  (an *empty receive*: the reason short polling an idle queue costs money);
* each 64 KiB chunk of a request's payload is billed as one request, so a
  200 KiB SendMessage is 4 requests and a batch is billed by its total payload;
* standard queues cost $0.40 and FIFO queues $0.50 per million requests
  (us-east-1, first tier). Both prices are settings; the monthly free tier
  (first million requests) is not applied, so figures compare workloads.

The payload of a send is its bodies and message attributes; of a receive, the
bodies and attributes it returns; other actions bill one request each.
"""

from __future__ import annotations

from dataclasses import dataclass

from mqlab.sqs import limits

__all__ = ["CostMeter", "CostReport", "billed_requests"]


def billed_requests(payload_bytes: int) -> int:
    """Requests billed for one call carrying ``payload_bytes``: one per started 64 KiB chunk, at least one."""
    if payload_bytes <= limits.BILLING_CHUNK_BYTES:
        return 1
    return -(-payload_bytes // limits.BILLING_CHUNK_BYTES)


@dataclass(frozen=True)
class CostReport:
    """What one queue (or the whole account) has been billed so far."""

    requests: int
    """API calls made."""
    billed_requests: int
    """Requests billed after 64 KiB chunking."""
    empty_receives: int
    """ReceiveMessage calls that returned no message (billed like any other)."""
    by_action: tuple[tuple[str, int], ...]
    """Billed requests per API action, in the order actions were first used."""
    price_per_million: float
    dollars: float


class CostMeter:
    """Counts the calls made against one queue (or the account) and the requests they bill."""

    __slots__ = ("_by_action", "empty_receives", "price_per_million", "requests", "billed")

    def __init__(self, price_per_million: float) -> None:
        if not price_per_million >= 0:
            raise ValueError(f"price_per_million must be a number >= 0 (dollars), got {price_per_million!r}")
        self.price_per_million = price_per_million
        self.requests = 0
        self.billed = 0
        self.empty_receives = 0
        self._by_action: dict[str, int] = {}

    def record(self, action: str, payload_bytes: int = 0) -> None:
        """One call of ``action`` carrying ``payload_bytes`` of billable payload."""
        billed = 1 if payload_bytes <= 65_536 else -(-payload_bytes // 65_536)
        self.requests += 1
        self.billed += billed
        by_action = self._by_action
        if action in by_action:
            by_action[action] += billed
        else:
            by_action[action] = billed

    def record_empty_receive(self) -> None:
        self.empty_receives += 1

    def report(self) -> CostReport:
        return CostReport(
            requests=self.requests,
            billed_requests=self.billed,
            empty_receives=self.empty_receives,
            by_action=tuple(self._by_action.items()),
            price_per_million=self.price_per_million,
            dollars=self.billed * self.price_per_million / 1_000_000,
        )
