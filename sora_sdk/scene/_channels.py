"""Delivery policies shared by every stream: an ordered log with cursors, and latest-wins slots.

Both live on the event loop thread: producers (the session pipeline, after awaiting its executor
work) append; consumers (one per gRPC stream) read at their own pace.

Why a log with cursors instead of a queue per subscriber: the history a resuming client needs
and the backlog of a slow subscriber are the same items, so one bounded ring serves both, a
publish costs O(1) whatever the number of subscribers, and a stalled subscriber holds no memory
of its own. A subscriber whose cursor falls more than ``max_lag`` items behind is cut off with
RESOURCE_EXHAUSTED and the position to resume from (DESIGN.md: "ordered streams that fall too far
behind are ended").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..core.errors import ResourceExhaustedError
from ..core.scene import StreamPosition

__all__ = ["EpochChanged", "LatestSlot", "LogItem", "LogReader", "OrderedLog"]


class EpochChanged(LookupError):
    """The log started a new epoch (map load) under a reader: its positions mean nothing now."""


T = TypeVar("T")


@dataclass(frozen=True)
class LogItem(Generic[T]):
    position: StreamPosition
    value: T


class _Signal:
    """Wakes every waiter when something new is published (a broadcast edge).

    Each waiter awaits a future of its own: a cancelled waiter cancels only its own, and waking costs one
    ``set_result`` a waiter (a shared future behind ``asyncio.shield`` cost two more callbacks each, for
    every subscriber at every update).
    """

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def fire(self) -> None:
        waiters, self._waiters = self._waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(None)

    async def wait(self) -> None:
        f: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(f)
        try:
            await f
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):  # fired meanwhile
                self._waiters.remove(f)
            raise


class OrderedLog(Generic[T]):
    """A bounded history of ordered items, numbered 1, 2, 3 … within an epoch.

    Bounded by ``capacity`` items and, with ``size_of``, by ``max_bytes`` (the newest item is always
    kept): mesh deltas are large, and 4,096 versions of them grew a busy session by ~10 MB/s.
    """

    def __init__(
        self,
        *,
        epoch: int,
        capacity: int,
        max_lag: int,
        max_bytes: int = 0,
        size_of: Callable[[T], int] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.epoch = epoch
        self.capacity = capacity
        self.max_lag = max_lag
        self.max_bytes = max_bytes if size_of is not None else 0
        self._size_of = size_of
        self._sizes: deque[int] = deque()
        self._bytes = 0
        self._items: deque[LogItem[T]] = deque()
        self._sequence = 0
        self._signal = _Signal()
        self._closed: BaseException | None = None
        self._readers: set[LogReader[T]] = set()

    @property
    def position(self) -> StreamPosition:
        return StreamPosition(self.epoch, self._sequence)

    @property
    def oldest_sequence(self) -> int:
        """The oldest sequence still kept (``sequence + 1`` when the log is empty)."""
        return self._items[0].position.sequence if self._items else self._sequence + 1

    def append(self, value: T) -> StreamPosition:
        self._sequence += 1
        pos = StreamPosition(self.epoch, self._sequence)
        self._items.append(LogItem(pos, value))
        size = self._size_of(value) if self._size_of is not None else 0
        self._sizes.append(size)
        self._bytes += size
        while len(self._items) > self.capacity or (
            self.max_bytes and self._bytes > self.max_bytes and len(self._items) > 1
        ):
            self._items.popleft()
            self._bytes -= self._sizes.popleft()
        self._check_lag()
        self._signal.fire()
        return pos

    def restart(self, epoch: int) -> None:
        """Start a new epoch (map load, reset): history is gone; readers re-snapshot."""
        self.epoch = epoch
        self._sequence = 0
        self._items.clear()
        self._sizes.clear()
        self._bytes = 0
        self._signal.fire()

    def close(self, error: BaseException) -> None:
        """Ends every reader with ``error`` (session closed, server draining)."""
        self._closed = error
        self._signal.fire()

    @property
    def kept_bytes(self) -> int:
        """What the kept items weigh by ``size_of`` (0 without it)."""
        return self._bytes

    def can_resume(self, position: StreamPosition) -> bool:
        """Whether every item after ``position`` is still kept."""
        return (
            position.epoch == self.epoch
            and position.sequence <= self._sequence
            and position.sequence + 1 >= self.oldest_sequence
        )

    def items_after(self, sequence: int, limit: int | None = None) -> list[LogItem[T]]:
        start = sequence + 1 - self.oldest_sequence
        if start < 0:
            raise IndexError("history no longer kept")
        stop = len(self._items) if limit is None else min(len(self._items), start + limit)
        return [self._items[i] for i in range(start, stop)]

    def reader(self, after: StreamPosition) -> LogReader[T]:
        """A cursor that reads the items after ``after``; close it when done."""
        r = LogReader(self, after)
        self._readers.add(r)
        return r

    def _check_lag(self) -> None:
        for r in list(self._readers):
            if self._sequence - r.cursor > self.max_lag:
                r.mark_lagged()


class LogReader(Generic[T]):
    """One subscriber's position in an OrderedLog.

    ``lagged`` is set, and the reader closed, the moment the log runs ``max_lag`` items ahead of it,
    even while its stream is stuck in a network write: from then on it pins nothing in the log, and its
    stream ends with the position to resume from as soon as the write returns.
    """

    def __init__(self, log: OrderedLog[T], after: StreamPosition) -> None:
        self._log = log
        self.epoch = after.epoch
        self.cursor = after.sequence
        self.lagged = False

    @property
    def position(self) -> StreamPosition:
        return StreamPosition(self.epoch, self.cursor)

    def mark_lagged(self) -> None:
        self.lagged = True
        self.close()

    def lag_error(self, resume: StreamPosition | None = None) -> ResourceExhaustedError:
        """The error that ends a lagging stream; ``resume`` is the last position the client will have."""
        pos = resume if resume is not None else self.position
        behind = self._log.position.sequence - pos.sequence
        return ResourceExhaustedError(
            f"subscriber fell {behind} versions behind (limit {self._log.max_lag}); "
            f"resume from epoch {pos.epoch} sequence {pos.sequence}",
            reason="SUBSCRIBER_TOO_SLOW",
            metadata={"resume_epoch": str(pos.epoch), "resume_sequence": str(pos.sequence)},
        )

    async def next_batch(self, limit: int = 64) -> list[LogItem[T]]:
        """The next items in order; waits when there are none.

        Raises ResourceExhaustedError when lagging too far, LookupError when the log started a
        new epoch under this reader (the caller re-snapshots), or the log's close error.
        """
        log = self._log
        while True:
            if log._closed is not None:
                raise log._closed
            if self.lagged or (log.epoch == self.epoch and self.cursor + 1 < log.oldest_sequence):
                raise self.lag_error()
            if log.epoch != self.epoch:
                raise EpochChanged("epoch changed")
            if log._sequence > self.cursor:
                items = log.items_after(self.cursor, limit)
                self.cursor = items[-1].position.sequence
                return items
            await log._signal.wait()

    async def wait(self) -> None:
        """Returns when the log has something after this reader's cursor (or was closed)."""
        log = self._log
        while log._closed is None and log._sequence <= self.cursor and log.epoch == self.epoch:
            await log._signal.wait()

    def close(self) -> None:
        self._log._readers.discard(self)


class LatestSlot(Generic[T]):
    """Latest-wins: readers see only the newest value; a slow reader skips, never queues."""

    def __init__(self) -> None:
        self._version = 0
        self._value: T | None = None
        self._signal = _Signal()
        self._closed: BaseException | None = None

    @property
    def version(self) -> int:
        return self._version

    @property
    def value(self) -> T | None:
        return self._value

    def publish(self, value: T) -> None:
        self._value = value
        self._version += 1
        self._signal.fire()

    def close(self, error: BaseException) -> None:
        self._closed = error
        self._signal.fire()

    async def wait_newer(self, seen_version: int) -> tuple[int, T]:
        while True:
            if self._closed is not None:
                raise self._closed
            if self._version > seen_version and self._value is not None:
                return self._version, self._value
            await self._signal.wait()
