"""Transactions: atomic writes to several partitions, and consume-transform-produce.

A producer with a ``transactional.id`` calls ``init_transactions()`` once (the coordinator
gives it a producer id and a new *epoch*, fencing any older instance with the same
transactional.id and aborting what that instance left open), then repeats
``begin_transaction()`` / ``produce()`` ... / ``send_offsets_to_transaction()`` /
``commit_transaction()`` (or ``abort_transaction()``).

On the log, a transaction's records are written as they are produced, but readers with
``isolation.level=read_committed`` (librdkafka's default) stop at the **last stable offset**
(LSO: the first offset of the earliest transaction still open on the partition). Ending the
transaction writes a *control record* (COMMIT or ABORT marker) to every partition it touched;
the marker takes an offset, so transactional topics show offset gaps. Aborted records stay in
the log and go into the partition's aborted-transaction index, which read_committed readers
use to skip them; ``read_uncommitted`` readers see them.

Offsets sent with ``send_offsets_to_transaction`` are committed for the consumer group only
if the transaction commits: the consumed input and the produced output succeed or fail
together.

States of a producer's transaction: ``UNINITIALIZED -> READY -> IN_TRANSACTION -> READY``;
``ABORTABLE_ERROR`` (a batch failed: only abort is allowed) and ``FENCED`` (fatal).

Simplifications: markers are written at once (no PrepareCommit phase visible); a partition
without a leader at commit time gets no marker (its records stay below the LSO until... the
next transaction of the same producer ends there); the coordinator's timeout
(``transaction.timeout.ms``) aborts the transaction without bumping the epoch.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from mqlab.kafka.errors import InvalidTxnState, KafkaError, ProducerFenced

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster
    from mqlab.kafka.partition import Partition
    from mqlab.kafka.producer import Producer

__all__ = ["ProducerTransaction", "TransactionCoordinator", "TxnStatus"]


class TxnStatus(Enum):
    UNINITIALIZED = "uninitialized"
    READY = "ready"
    IN_TRANSACTION = "in_transaction"
    ABORTABLE_ERROR = "abortable_error"
    FENCED = "fenced"


class _Txn:
    """The coordinator's record of one transactional.id."""

    __slots__ = ("transactional_id", "pid", "epoch", "partitions", "offsets", "timer", "open", "timed_out")

    def __init__(self, transactional_id: str, pid: int) -> None:
        self.transactional_id = transactional_id
        self.pid = pid
        self.epoch = -1
        self.partitions: dict[Partition, None] = {}
        self.offsets: dict[str, dict[tuple[str, int], int]] = {}
        self.timer: Any = None
        self.open = False
        self.timed_out = False


class TransactionCoordinator:
    """The cluster's transaction coordinator: producer ids, epochs, markers."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.txns: dict[str, _Txn] = {}

    def init_producer(self, transactional_id: str) -> tuple[int, int]:
        txn = self.txns.get(transactional_id)
        if txn is None:
            txn = self.txns[transactional_id] = _Txn(transactional_id, self.cluster.new_producer_id())
        if txn.open:
            self.finish(txn, commit=False)
        txn.epoch += 1
        if self.cluster.sim.tracing:
            self.cluster.sim.log(self.cluster.name, "txn_init", transactional_id=transactional_id, pid=txn.pid,
                                 epoch=txn.epoch)
        return txn.pid, txn.epoch

    def add_partition(self, txn: _Txn, partition: Partition, timeout_ms: int) -> None:
        if not txn.open:
            txn.open = True
            txn.timer = self.cluster.sim.call_later(timeout_ms / 1000.0, self._expire, (txn, txn.epoch))
        if partition not in txn.partitions:
            txn.partitions[partition] = None

    def _expire(self, job: tuple[_Txn, int]) -> None:
        txn, epoch = job
        txn.timer = None
        if txn.open and txn.epoch == epoch:
            if self.cluster.sim.tracing:
                self.cluster.sim.log(self.cluster.name, "txn_timed_out", transactional_id=txn.transactional_id)
            self.finish(txn, commit=False)
            txn.timed_out = True

    def finish(self, txn: _Txn, commit: bool) -> None:
        """Write the COMMIT/ABORT markers and (on commit) the transaction's group offsets."""
        cluster = self.cluster
        now_ms = cluster.now_ms
        if txn.timer is not None:
            txn.timer.cancel()
            txn.timer = None
        for partition in txn.partitions:
            if partition.deleted or partition.replicas.leader is None:
                continue
            first = partition.open_txns.pop(txn.pid, None)
            offset = partition.log.append_control(txn.pid, commit, now_ms)
            state = partition.replicas
            state.leo[state.leader] = offset + 1
            if len(state.isr) == 1:
                state.hw = offset + 1
            cluster.counters.control_records += 1
            if not commit and first is not None:
                partition.aborted.setdefault(txn.pid, []).append((first, offset))
            partition.wake()
            if not partition.fetch_pending and state.lagging_followers(cluster.alive):
                partition.fetch_pending = True
                cluster.sim.call_later(cluster.replication_delay, cluster._replicate, (partition, offset + 1))
        if commit:
            for group_id, offsets in txn.offsets.items():
                cluster.group(group_id).commit_offsets(offsets, member_id=None, generation=-1, transactional=True)
        if cluster.sim.tracing:
            cluster.sim.log(cluster.name, "txn_committed" if commit else "txn_aborted",
                            transactional_id=txn.transactional_id, pid=txn.pid,
                            partitions=[(p.topic.name, p.index) for p in txn.partitions])
        txn.partitions = {}
        txn.offsets = {}
        txn.open = False


class ProducerTransaction:
    """The producer's side of transactions (what librdkafka's transaction manager tracks)."""

    def __init__(self, producer: Producer, transactional_id: str, timeout_ms: int) -> None:
        self.producer = producer
        self.transactional_id = transactional_id
        self.timeout_ms = timeout_ms
        self.status = TxnStatus.UNINITIALIZED
        self.epoch = -1
        self.error: str | None = None

    @property
    def _coordinator(self) -> TransactionCoordinator:
        return self.producer.cluster.transactions

    def _record(self) -> _Txn:
        txn = self._coordinator.txns[self.transactional_id]
        if txn.epoch != self.epoch:
            self.status = TxnStatus.FENCED
        if self.status is TxnStatus.FENCED:
            raise ProducerFenced(KafkaError(
                "_FENCED",
                f"producer {self.producer.name}: a newer producer with transactional.id "
                f"{self.transactional_id!r} called init_transactions() and fenced this one; this instance "
                f"can do nothing more: close it",
                fatal=True,
            ))
        return txn

    def _require(self, *allowed: TxnStatus, action: str) -> _Txn:
        if self.status is TxnStatus.UNINITIALIZED:
            raise InvalidTxnState(KafkaError(
                "_STATE", f"producer {self.producer.name}: {action} before init_transactions(); call it once first"
            ))
        txn = self._record()
        if self.status not in allowed:
            hint = {
                TxnStatus.READY: "no transaction is in progress: call begin_transaction() first",
                TxnStatus.IN_TRANSACTION: "a transaction is already in progress: commit or abort it first",
                TxnStatus.ABORTABLE_ERROR: f"the transaction failed ({self.error}); call abort_transaction()",
            }[self.status]
            raise InvalidTxnState(KafkaError(
                "_STATE", f"producer {self.producer.name}: cannot {action}: {hint}",
                txn_requires_abort=self.status is TxnStatus.ABORTABLE_ERROR,
            ))
        return txn

    def init(self) -> None:
        if self.status not in (TxnStatus.UNINITIALIZED, TxnStatus.READY):
            raise InvalidTxnState(KafkaError(
                "_STATE", f"producer {self.producer.name}: init_transactions() called twice"
            ))
        pid, epoch = self._coordinator.init_producer(self.transactional_id)
        producer = self.producer
        producer.pid = pid
        producer.epoch = epoch
        producer._sequences.clear()
        self.epoch = epoch
        self.status = TxnStatus.READY

    def begin(self) -> None:
        txn = self._require(TxnStatus.READY, action="begin_transaction()")
        txn.timed_out = False
        self.status = TxnStatus.IN_TRANSACTION
        self.error = None

    def check_can_produce(self) -> None:
        if self.status is not TxnStatus.IN_TRANSACTION:
            self._require(TxnStatus.IN_TRANSACTION, action="produce() with a transactional.id")
        elif self._coordinator.txns[self.transactional_id].epoch != self.epoch:
            self._record()

    def add_partition(self, partition: Partition) -> None:
        txn = self._coordinator.txns[self.transactional_id]
        if partition not in txn.partitions or not txn.open:
            self._coordinator.add_partition(txn, partition, self.timeout_ms)

    def batch_failed(self, error: str) -> None:
        if self.status is TxnStatus.IN_TRANSACTION:
            self.status = TxnStatus.ABORTABLE_ERROR
            self.error = error

    def send_offsets(self, positions: list[Any], group_metadata: Any) -> None:
        txn = self._require(TxnStatus.IN_TRANSACTION, action="send_offsets_to_transaction()")
        group_id = getattr(group_metadata, "group_id", None)
        if not group_id:
            raise InvalidTxnState(KafkaError(
                "_INVALID_ARG",
                "send_offsets_to_transaction needs consumer.consumer_group_metadata() from a consumer with a group.id",
            ))
        offsets = txn.offsets.setdefault(group_id, {})
        for tp in positions:
            if tp.offset >= 0:
                offsets[(tp.topic, tp.partition)] = tp.offset
        txn.open = True

    def end(self, commit: bool) -> None:
        if commit:
            txn = self._require(TxnStatus.IN_TRANSACTION, action="commit_transaction()")
            if txn.timed_out:
                self.status = TxnStatus.ABORTABLE_ERROR
                self.error = "transaction.timeout.ms expired and the coordinator aborted the transaction"
                raise InvalidTxnState(KafkaError(
                    "INVALID_TXN_STATE",
                    f"producer {self.producer.name}: the transaction ran longer than transaction.timeout.ms="
                    f"{self.timeout_ms} and was aborted by the coordinator; call abort_transaction()",
                    txn_requires_abort=True,
                ))
        else:
            txn = self._require(TxnStatus.IN_TRANSACTION, TxnStatus.ABORTABLE_ERROR, action="abort_transaction()")
        if txn.open:
            self._coordinator.finish(txn, commit)
        self.status = TxnStatus.READY
        self.error = None
