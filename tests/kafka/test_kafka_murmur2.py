"""murmur2 and the default partitioner, against the Java client's published vectors."""

from __future__ import annotations

import pytest

from mqlab.kafka import default_partition, murmur2

# Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
JAVA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("data", "expected"), list(JAVA_VECTORS.items()))
def test_murmur2_matches_the_java_client(data: bytes, expected: int) -> None:
    """murmur2 returns the same signed 32-bit int as Utils.murmur2 in the Java client."""
    assert murmur2(data) == expected


def test_default_partition_uses_to_positive_not_abs() -> None:
    """The partition is (murmur2(key) & 0x7fffffff) % n: 'foobar' -> 16 of 50 and 6 of 10."""
    assert default_partition(b"foobar", 50) == 16
    assert default_partition(b"foobar", 10) == 6
    assert default_partition(b"21", 7) == (-973932308 & 0x7FFFFFFF) % 7


def test_default_partition_agrees_with_librdkafka() -> None:
    """librdkafka's Java-compatible murmur2 partitioner picks the same partition for 3,000 keys."""
    ck = pytest.importorskip("confluent_kafka")
    if not hasattr(ck, "murmur2"):
        pytest.skip("confluent_kafka.murmur2 needs confluent-kafka >= 2.16")
    for i in range(1000):
        key = f"user-{i}".encode()
        for n in (3, 12, 50):
            assert default_partition(key, n) == ck.murmur2(key, n)


def test_bad_inputs_are_refused_with_the_fix() -> None:
    """A str key or a non-positive partition count is refused, saying what to do."""
    with pytest.raises(TypeError, match="encode the key"):
        murmur2("foobar")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one partition"):
        default_partition(b"k", 0)
