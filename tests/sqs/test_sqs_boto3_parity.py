"""The same code against boto3 (on moto's in-process SQS) and against mqlab: same keys, same error codes.

moto is a test-only peer here: where it is more lenient than AWS (it accepts out-of-range queue
attributes, for example), the case is left out; everything compared is documented AWS behaviour.
"""

from __future__ import annotations

import pytest

from mqlab.sim import Simulation
from mqlab.sqs import SQS

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")


def scenario(client) -> list[tuple]:
    """Run one script of calls; record response keys, or the error's class name, Code and exception name."""
    out: list[tuple] = []

    def call(method, **kwargs):
        try:
            response = method(**kwargs)
        except Exception as error:  # recording whatever each client raises
            info = getattr(error, "response", {}).get("Error", {})
            out.append((method.__name__, "error", type(error).__name__, info.get("Code")))
            return None
        out.append((method.__name__, "ok", sorted(k for k in response if k != "ResponseMetadata")))
        return response

    url = client.create_queue(QueueName="q")["QueueUrl"]
    fifo = client.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    call(client.get_queue_url, QueueName="nope")
    call(client.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
    call(client.receive_message, QueueUrl=url)
    call(client.send_message_batch, QueueUrl=url, Entries=[])
    call(client.send_message_batch, QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(11)])
    call(client.send_message_batch, QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "m"}] * 2)
    call(client.send_message_batch, QueueUrl=url, Entries=[{"Id": "a b", "MessageBody": "m"}])
    call(client.delete_message, QueueUrl=url, ReceiptHandle="junk")
    call(client.create_queue, QueueName="q", Attributes={"VisibilityTimeout": "60"})
    call(client.send_message, QueueUrl=fifo, MessageBody="m", MessageDeduplicationId="d")
    call(client.send_message, QueueUrl=fifo, MessageBody="m", MessageGroupId="g")
    call(client.send_message, QueueUrl=url, MessageBody="m",
         MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    call(client.send_message, QueueUrl=fifo, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d")
    received = call(client.receive_message, QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"])
    call(client.receive_message, QueueUrl=fifo, AttributeNames=["SequenceNumber"])
    call(client.list_queues)
    call(client.list_queues, QueueNamePrefix="zzz")
    call(client.send_message_batch, QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "m"}])
    call(client.delete_message_batch, QueueUrl=url,
         Entries=[{"Id": "a", "ReceiptHandle": received["Messages"][0]["ReceiptHandle"]}])
    call(client.get_queue_attributes, QueueUrl=url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"])
    call(client.purge_queue, QueueUrl=url)
    call(client.purge_queue, QueueUrl=url)
    out.append(("message keys", sorted(received["Messages"][0])))
    out.append(("attribute keys", sorted(received["Messages"][0]["Attributes"])))
    out.append(("MD5OfMessageAttributes", received["Messages"][0]["MD5OfMessageAttributes"]))
    return out


def test_same_script_same_shapes_and_error_codes(monkeypatch):
    """Response keys, error classes and error codes agree with boto3 talking to moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        expected = scenario(boto3.client("sqs", region_name="us-east-1"))
    sqs = SQS(Simulation(seed=1), duplicate_probability=0.0, reorder_probability=0.0, short_poll_sample=1.0)
    actual = scenario(sqs.client())
    for real, simulated in zip(expected, actual):
        if real[1:3] == ("error", "ClientError"):  # boto3's generic class; ours is a named subclass
            assert simulated[1] == "error" and simulated[3] == real[3], (real, simulated)
        elif real[0] == "attribute keys":
            assert set(real[1]) - {"SenderId"} <= set(simulated[1]), (real, simulated)
        else:
            assert simulated == real, (real, simulated)
