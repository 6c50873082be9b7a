"""Choosing a partition for a record: librdkafka's partitioners, with sticky partitioning for null keys.

``partitioner`` (a producer property) names the rule, as in librdkafka:

* ``murmur2_random`` (mqlab's default, the Java client's rule): keyed records go to
  ``toPositive(murmur2(key)) % n``; records without a key are spread by sticky partitioning;
* ``murmur2``: the same, but records without a key all go to one partition (murmur2 of empty);
* ``consistent_random`` (librdkafka's own default): CRC32 of the key, sticky for null keys;
* ``consistent``: CRC32 of the key (null keys hash as empty);
* ``fnv1a_random`` / ``fnv1a``: FNV-1a of the key (the partitioner of librdkafka-based Go/.NET clients' peers);
* ``random``: sticky for every record.

Sticky partitioning (KIP-480 in Java, ``sticky.partitioning.linger.ms`` in librdkafka,
default 10 ms) sends null-key records to one randomly chosen partition until the
window passes, so batches fill up instead of being spread thin. The random choice
comes from the simulation's random streams, so a seed fixes it.

Simplification: Java switches the sticky partition when a batch is full;
librdkafka switches on time. The model follows librdkafka (time-based).
"""

from __future__ import annotations

import random
import zlib

from mqlab.kafka.murmur2 import murmur2

__all__ = ["PARTITIONERS", "StickyPartitioner", "fnv1a", "partition_for"]

PARTITIONERS = ("murmur2_random", "murmur2", "consistent_random", "consistent", "fnv1a_random", "fnv1a", "random")


def fnv1a(data: bytes) -> int:
    """32-bit FNV-1a, as librdkafka's ``fnv1a`` partitioner computes it (signed int, abs()'d)."""
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def _fnv_partition(key: bytes, n: int) -> int:
    h = fnv1a(key)
    signed = h - 0x100000000 if h & 0x80000000 else h
    return abs(signed) % n


def partition_for(partitioner: str, key: bytes, n: int) -> int:
    """The partition of a non-null ``key`` among ``n`` under the named keyed rule."""
    if partitioner.startswith("murmur2"):
        return (murmur2(key) & 0x7FFFFFFF) % n
    if partitioner.startswith("consistent"):
        return zlib.crc32(key) % n
    return _fnv_partition(key, n)


class StickyPartitioner:
    """Picks partitions for records without a key: one partition per linger window.

    States: no current choice, or a current partition valid until ``until`` (seconds).
    """

    __slots__ = ("rng", "linger", "current", "until", "count")

    def __init__(self, rng: random.Random, linger_ms: int) -> None:
        self.rng = rng
        self.linger = linger_ms / 1000.0
        self.current = -1
        self.until = -1.0
        self.count = 0

    def choose(self, now: float, n: int) -> int:
        if now < self.until and self.count == n and self.current >= 0:
            return self.current
        if n == 1:
            choice = 0
        elif self.current >= 0 and self.count == n:
            choice = self.rng.randrange(n - 1)  # a different partition from the last one
            if choice >= self.current:
                choice += 1
        else:
            choice = self.rng.randrange(n)
        self.current = choice
        self.count = n
        self.until = now + self.linger if self.linger > 0 else now
        return choice
