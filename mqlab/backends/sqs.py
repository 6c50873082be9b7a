"""SQS on the simulator or on a real endpoint through boto3, behind one setting.

::

    from mqlab.backends import SQSBackend

    backend = SQSBackend()               # the simulator, unless MQLAB_SQS_ENDPOINT is set
    # SQSBackend("http://127.0.0.1:5000")     moto_server (or any SQS-compatible endpoint)
    # SQSBackend("aws")                       Amazon SQS itself (boto3's usual endpoint and credentials)
    client = backend.client()            # mqlab's SQSClient, or boto3.client("sqs")
    url = client.create_queue(QueueName="orders")["QueueUrl"]

mqlab's client has boto3's method names, keyword arguments and response shapes, so the same code
runs on both. ``backend.ClientError`` is the matching error class (mqlab's or botocore's); both
carry ``response["Error"]["Code"]``.

Credentials: from the endpoint URL (``http://KEY:SECRET@127.0.0.1:5000``), else boto3's usual
chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles outside the repository); for a
loopback endpoint with none at all, a placeholder pair, because moto accepts any. The region is
``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else ``us-east-1``.

On a real endpoint, ``backend.sim``, ``backend.service`` (the simulated SQS: ledger, statistics,
cost), the trace and fault injection raise :class:`NotAvailableOnRealBroker`.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mqlab.backends.base import Backend, redact
from mqlab.backends.errors import BrokerUnreachable, InvalidBrokerSetting
from mqlab.sim import Simulation

__all__ = ["HOW_TO_START_SQS", "SQSBackend"]

HOW_TO_START_SQS = (
    "start a local SQS with `python3 tools/brokers.py start sqs` (moto_server) and set MQLAB_SQS_ENDPOINT "
    "to the address it prints, or unset MQLAB_SQS_ENDPOINT to use the simulator"
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class SQSBackend(Backend):
    """SQS: mqlab's :class:`~mqlab.sqs.SQS`, or a real endpoint through boto3."""

    broker_name = "SQS"
    setting_variable = "MQLAB_SQS_ENDPOINT"
    client_module = "boto3"

    def __init__(self, endpoint: str | None = None, *, sim: Simulation | None = None, seed: int = 0,
                 **service_options: Any) -> None:
        """``endpoint``: an HTTP(S) URL, ``"aws"``, None for ``$MQLAB_SQS_ENDPOINT`` (unset: the simulator)."""
        super().__init__(endpoint, sim, seed)
        self._service: Any = None
        self._clients: list[Any] = []
        if self.address is None:
            from mqlab.sqs import SQS

            self._service = SQS(self.sim, **service_options)
            return
        if service_options:
            raise self.not_available(f"simulator settings ({', '.join(sorted(service_options))})")
        self._boto3 = self._client()
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._endpoint_url, self._credentials = self._parse(self.address)

    def _parse(self, address: str) -> tuple[str | None, dict[str, str]]:
        if address.lower() == "aws":
            return None, {}
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidBrokerSetting(
                f"MQLAB_SQS_ENDPOINT must be an http(s) URL such as http://127.0.0.1:5000 or the word aws, "
                f"got {redact(address)!r}"
            )
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        if parts.username:
            return url, {"aws_access_key_id": parts.username, "aws_secret_access_key": parts.password or ""}
        has_environment = os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")
        if parts.hostname in _LOOPBACK and not has_environment:
            return url, {"aws_access_key_id": "mqlab-local", "aws_secret_access_key": "mqlab-local"}
        return url, {}

    def client(self) -> Any:
        """A client: mqlab's boto3-shaped ``SQSClient``, or ``boto3.client("sqs")`` (checked to answer)."""
        if self._service is not None:
            client = self._service.client()
            self._clients.append(client)
            return client
        client = self._boto3.client(
            "sqs", endpoint_url=self._endpoint_url, region_name=self.region, **self._credentials
        )
        from botocore.exceptions import BotoCoreError

        try:
            client.list_queues(MaxResults=1)
        except BotoCoreError as error:
            raise BrokerUnreachable(
                f"could not reach SQS at {self._endpoint_url or 'AWS'} (region {self.region}): {error}; "
                f"{HOW_TO_START_SQS}"
            ) from error
        self._clients.append(client)
        return client

    @property
    def ClientError(self) -> type:  # noqa: N802 -- botocore's class name
        """The error class of this backend's client (mqlab's ``ClientError`` or botocore's)."""
        if self._service is not None:
            from mqlab.sqs import ClientError

            return ClientError
        from botocore.exceptions import ClientError

        return ClientError

    @property
    def service(self) -> Any:
        """The simulated :class:`~mqlab.sqs.SQS` (ledger, statistics, cost): simulator only."""
        if self._service is None:
            raise self.not_available("the simulated SQS service (backend.service)")
        return self._service

    def ledger(self) -> Any:
        return self.service.ledger()

    def statistics(self, queue_url: str | None = None) -> Any:
        if queue_url is None:
            raise TypeError("statistics(queue_url): name the queue whose statistics you want")
        return self.service.statistics(queue_url)
