"""Per-client quotas: concurrent streams, camera frames and ingest bytes per second, subscriptions per session.

A *client* is its principal when authentication is on (two headsets with one token share a quota),
else its IP address (the port is left out, so opening more connections does not buy more quota;
clients behind one NAT share one). Limits come from ``[server]`` (``quota_*``; 0 turns one off)::

    streams per client        counter      every streaming call (sensor, watch, converse) holds one
    frames / s per client     token bucket camera frames on StreamSensorData, all of the client's streams
    ingest bytes / s          token bucket every message a client streams in (frames, audio, samples)
    subscriptions per session counter      WatchScene, WatchPerception and Converse on one session

A bucket refills at its rate and holds ``rate * quota_burst_s``, so a client may burst after a pause
but not exceed the rate on average. A call over a limit ends with RESOURCE_EXHAUSTED (reason
``QUOTA_EXCEEDED``; ErrorInfo metadata ``quota`` = the config key, ``limit``, ``retry_after_s``), and
only that client's call: every client has its own counters and buckets. A client's entry is dropped
once it holds no stream and has been idle for ``idle_expiry_s`` (long enough for its buckets to be
full again), so the table does not grow with the number of clients ever seen.

Counters and buckets sit behind one lock: the event loop is the only caller today, but the
bookkeeping stays correct if a sync server or an executor thread ever calls in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from ..core.config import ServerConfig
from ..core.errors import ResourceExhaustedError, UnauthenticatedError
from ._auth import PUBLIC_SERVICES, TokenVerifier, principal_of
from ._errors import abort_with

__all__ = ["QuotaInterceptor", "QuotaLimits", "Quotas", "TokenBucket", "client_key"]

REASON = "QUOTA_EXCEEDED"


@dataclass(frozen=True)
class QuotaLimits:
    """The limits of one client; 0 is unlimited. Units as the names say."""

    streams_per_client: int = 8
    frames_per_s: float = 60.0
    ingest_bytes_per_s: float = 64 << 20
    subscriptions_per_session: int = 16
    burst_s: float = 2.0

    @classmethod
    def from_config(cls, server: ServerConfig) -> QuotaLimits:
        return cls(
            streams_per_client=int(server.quota_streams_per_client),
            frames_per_s=float(server.quota_frames_per_s),
            ingest_bytes_per_s=float(server.quota_ingest_bytes_per_s),
            subscriptions_per_session=int(server.quota_subscriptions_per_session),
            burst_s=float(server.quota_burst_s),
        )


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` held; starts full.

    A cost above the capacity passes when the bucket is full and leaves it in debt, so a single
    message larger than the burst (a raw 4K frame under a small byte quota) is slowed, not refused
    forever.
    """

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, cost: float, now: float) -> float:
        """Takes ``cost`` tokens and returns 0.0, or takes nothing and returns the seconds until it could."""
        self._refill(now)
        need = min(cost, self.capacity)
        if self.tokens >= need:
            self.tokens -= cost
            return 0.0
        return (need - self.tokens) / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.capacity


class _Client:
    """One client's entry: open streams, its two buckets (None when that rate is unlimited), last activity."""

    __slots__ = ("bytes", "frames", "last_seen", "streams")

    def __init__(self, limits: QuotaLimits, now: float) -> None:
        self.streams = 0
        self.last_seen = now
        burst = max(limits.burst_s, 1e-3)
        self.frames = (
            TokenBucket(limits.frames_per_s, limits.frames_per_s * burst, now) if limits.frames_per_s else None
        )
        self.bytes = (
            TokenBucket(limits.ingest_bytes_per_s, limits.ingest_bytes_per_s * burst, now)
            if limits.ingest_bytes_per_s
            else None
        )


class _Lease:
    """One held unit of a counter; ``release()`` is idempotent (called from ``finally`` and done callbacks)."""

    __slots__ = ("_release", "_released")

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self._released = False

    def release(self, *_: object) -> None:
        if not self._released:
            self._released = True
            self._release()


class Quotas:
    """The server's quota book: counters and buckets per client, subscription counts per session."""

    def __init__(
        self, limits: QuotaLimits, *, clock: Callable[[], float] = time.monotonic, idle_expiry_s: float = 60.0
    ) -> None:
        self.limits = limits
        self._clock = clock
        # Idle long enough that a dropped entry's buckets would have been full again anyway.
        self.idle_expiry_s = max(idle_expiry_s, 2.0 * limits.burst_s)
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._subscriptions: dict[str, int] = {}
        self._last_sweep = clock()

    @classmethod
    def from_config(cls, server: ServerConfig) -> Quotas:
        return cls(QuotaLimits.from_config(server))

    def __len__(self) -> int:
        """Clients with an entry (holding a stream, or seen within ``idle_expiry_s``)."""
        return len(self._clients)

    @property
    def sessions_tracked(self) -> int:
        return len(self._subscriptions)

    # ---- per client ---------------------------------------------------------------------

    def _client(self, key: str, now: float) -> _Client:
        if now - self._last_sweep > self.idle_expiry_s / 2:
            self._sweep(now)
        entry = self._clients.get(key)
        if entry is None:
            entry = self._clients[key] = _Client(self.limits, now)
        entry.last_seen = now
        return entry

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        stale = [
            k for k, c in self._clients.items() if c.streams == 0 and now - c.last_seen > self.idle_expiry_s
        ]  # fmt: skip
        for k in stale:
            del self._clients[k]

    def open_stream(self, key: str) -> _Lease:
        """Counts one more stream of ``key``; raises ResourceExhaustedError beyond the limit."""
        limit = self.limits.streams_per_client
        with self._lock:
            entry = self._client(key, self._clock())
            if limit and entry.streams >= limit:
                raise _exceeded("concurrent streams", "quota_streams_per_client", limit, "streams per client")
            entry.streams += 1

        def release() -> None:
            with self._lock:
                entry.streams -= 1
                entry.last_seen = self._clock()
                # Not deleted here: the buckets must outlive the stream, or a client could reset them
                # by reconnecting. The sweep drops the entry once it has been idle long enough.

        return _Lease(release)

    def charge_ingest(self, key: str, *, frames: int, nbytes: int) -> None:
        """Charges one streamed-in message; raises ResourceExhaustedError (charging nothing) when over."""
        with self._lock:
            now = self._clock()
            entry = self._client(key, now)
            wait_frames = entry.frames.take(frames, now) if frames and entry.frames is not None else 0.0
            if wait_frames:
                raise _exceeded(
                    "camera frames", "quota_frames_per_s", self.limits.frames_per_s, "frames/s per client", wait_frames
                )
            wait_bytes = entry.bytes.take(nbytes, now) if entry.bytes is not None else 0.0
            if wait_bytes:
                if frames and entry.frames is not None:
                    entry.frames.tokens += frames  # the message is refused: give its frame back
                raise _exceeded(
                    "ingest bytes",
                    "quota_ingest_bytes_per_s",
                    self.limits.ingest_bytes_per_s,
                    "bytes/s per client",
                    wait_bytes,
                )

    # ---- per session --------------------------------------------------------------------

    def subscribe(self, session_id: str) -> _Lease:
        """Counts one more subscription to ``session_id``; raises ResourceExhaustedError beyond the limit."""
        limit = self.limits.subscriptions_per_session
        with self._lock:
            count = self._subscriptions.get(session_id, 0)
            if limit and count >= limit:
                raise _exceeded("subscriptions", "quota_subscriptions_per_session", limit, "subscriptions per session")
            self._subscriptions[session_id] = count + 1

        def release() -> None:
            with self._lock:
                left = self._subscriptions.get(session_id, 0) - 1
                if left > 0:
                    self._subscriptions[session_id] = left
                else:
                    self._subscriptions.pop(session_id, None)

        return _Lease(release)

    def admit_subscriber(self, context: Any, session_id: str) -> None:
        """The servicer's hook for WatchScene / WatchPerception / Converse: counts the call as a subscription
        of ``session_id`` until it ends, however it ends (raises ResourceExhaustedError beyond the limit)."""
        lease = self.subscribe(session_id)
        try:
            context.add_done_callback(lease.release)
        except Exception:
            lease.release()
            raise


def _exceeded(what: str, key: str, limit: float, unit: str, retry_after_s: float = 0.0) -> ResourceExhaustedError:
    shown = str(int(limit)) if float(limit).is_integer() else f"{limit:g}"
    retry = f"; retry in {retry_after_s:.2f} s" if retry_after_s else "; retry once one has ended"
    metadata = {"quota": f"server.{key}", "limit": shown, "unit": unit}
    if retry_after_s:
        metadata["retry_after_s"] = f"{retry_after_s:.3f}"
    return ResourceExhaustedError(
        f"{what} over quota: server.{key} = {shown} {unit}{retry}", reason=REASON, metadata=metadata
    )


def client_key(context: Any, verifier: TokenVerifier | None) -> str:
    """Who a call's quota is charged to: ``principal:NAME`` with authentication, else ``peer:ADDRESS``.

    ``context.peer()`` is ``ipv4:10.0.0.7:51234``, ``ipv6:[::1]:51234`` or ``unix:/path``; the port is
    left out (a client would otherwise get a fresh quota per connection).
    """
    if verifier is not None:
        return "principal:" + principal_of(verifier, context.invocation_metadata()).name
    peer = str(context.peer() or "")
    scheme, _, rest = peer.partition(":")
    if scheme in ("ipv4", "ipv6") and ":" in rest:
        rest = rest.rsplit(":", 1)[0]
    return f"peer:{scheme}:{rest}"


def _message_kind(message: Any) -> str | None:
    try:
        return message.WhichOneof("message")  # type: ignore[no-any-return]
    except (AttributeError, ValueError):
        return None


class QuotaInterceptor(grpc.aio.ServerInterceptor):
    """Holds a stream slot for every streaming call and meters what client streams send.

    Runs after :class:`AuthInterceptor` (a refused call costs no quota). Health and reflection are
    left alone: load balancers and tools call them without a token.
    """

    def __init__(self, quotas: Quotas, verifier: TokenVerifier | None) -> None:
        self.quotas = quotas
        self.verifier = verifier

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method or ""
        if handler is None or method.startswith(PUBLIC_SERVICES):
            return handler
        if not (handler.request_streaming or handler.response_streaming):
            return handler
        quotas, verifier = self.quotas, self.verifier
        des, ser = handler.request_deserializer, handler.response_serializer

        async def admit(context: grpc.aio.ServicerContext) -> tuple[str, _Lease]:
            """The caller's quota key and its stream slot, held until the call ends; or the call is aborted."""
            try:
                key = client_key(context, verifier)
                lease = quotas.open_stream(key)
            except (ResourceExhaustedError, UnauthenticatedError) as err:
                await abort_with(context, err)
                raise  # abort raises AbortError; this is never reached
            context.add_done_callback(lease.release)
            return key, lease

        async def metered(key: str, requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for message in requests:
                frames = 1 if _message_kind(message) == "camera_frame" else 0
                quotas.charge_ingest(key, frames=frames, nbytes=message.ByteSize())
                yield message

        async def drain(result: Any) -> AsyncIterator[Any]:
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            else:  # a handler that writes with context.write and returns None
                await result

        if handler.request_streaming and handler.response_streaming:
            inner_ss = handler.stream_stream

            async def stream_stream(request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
                key, lease = await admit(context)
                try:
                    async for item in drain(inner_ss(metered(key, request_iterator), context)):
                        yield item
                finally:
                    lease.release()

            return grpc.stream_stream_rpc_method_handler(stream_stream, des, ser)
        if handler.request_streaming:
            inner_su = handler.stream_unary

            async def stream_unary(request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
                key, lease = await admit(context)
                try:
                    return await inner_su(metered(key, request_iterator), context)
                finally:
                    lease.release()

            return grpc.stream_unary_rpc_method_handler(stream_unary, des, ser)
        inner_us = handler.unary_stream

        async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
            _, lease = await admit(context)
            try:
                async for item in drain(inner_us(request, context)):
                    yield item
            finally:
                lease.release()

        return grpc.unary_stream_rpc_method_handler(unary_stream, des, ser)
