"""Kafka's murmur2 hash, bit for bit as the Java client computes it.

``org.apache.kafka.common.utils.Utils.murmur2`` is MurmurHash2 (32-bit) with
seed ``0x9747b28c``, reading the key in little-endian 4-byte words and
returning a *signed* Java ``int``. The default partitioner maps a key to
``toPositive(murmur2(key)) % numPartitions`` where ``toPositive(n) = n & 0x7fffffff``
(not ``abs``: ``abs(Integer.MIN_VALUE)`` is negative in Java).

Checked against the vectors of Kafka's ``UtilsTest.testMurmur2`` ("21" ->
-973932308, "foobar" -> -790332482, ...) and, in the tests, against librdkafka's
own Java-compatible implementation (``confluent_kafka.murmur2``) when installed.
"""

from __future__ import annotations

from struct import unpack_from

__all__ = ["default_partition", "murmur2", "to_positive"]

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """The Java client's murmur2 of ``data``, as a signed 32-bit int."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"murmur2 hashes bytes, got {type(data).__name__}; encode the key first (key.encode())")
    data = bytes(data)
    length = len(data)
    h = (_SEED ^ length) & _MASK
    m = _M
    whole = length & ~3
    for word in unpack_from(f"<{whole >> 2}I", data):
        k = (word * m) & _MASK
        k ^= k >> 24
        k = (k * m) & _MASK
        h = ((h * m) & _MASK) ^ k
    tail = length & 3
    if tail:
        if tail == 3:
            h ^= data[whole + 2] << 16
        if tail >= 2:
            h ^= data[whole + 1] << 8
        h ^= data[whole]
        h = (h * m) & _MASK
    h ^= h >> 13
    h = (h * m) & _MASK
    h ^= h >> 15
    return h - 0x100000000 if h & 0x80000000 else h


def to_positive(number: int) -> int:
    """Java's ``Utils.toPositive``: clear the sign bit (``n & 0x7fffffff``)."""
    return number & 0x7FFFFFFF


def default_partition(key: bytes, num_partitions: int) -> int:
    """The partition the Java client's default partitioner picks for a non-null ``key``."""
    if not isinstance(num_partitions, int) or isinstance(num_partitions, bool) or num_partitions <= 0:
        raise ValueError(
            f"num_partitions must be a positive int, got {num_partitions!r}; a topic has at least one partition"
        )
    return (murmur2(key) & 0x7FFFFFFF) % num_partitions
