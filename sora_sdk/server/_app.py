"""Building and running the gRPC server.

``create_server(config)`` returns a started-ready server and its bound port (tests bind port 0);
``serve(config)`` runs it until SIGTERM/SIGINT and drains gracefully: health goes NOT_SERVING
first, open streams end with UNAVAILABLE (resumable), then the process exits.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from .._proto.sora.v1 import (
    avatar_pb2,
    avatar_pb2_grpc,
    perception_pb2,
    perception_pb2_grpc,
    scene_pb2,
    scene_pb2_grpc,
    sensor_pb2,
    sensor_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
)
from ..core._gc import tune_gc_for_serving
from ..core._malloc import set_mmap_threshold
from ..core._threads import niceness_target, parse_cpu_list, pin_process, raise_thread_niceness
from ..core.config import SoraConfig
from ..maphost import MapProcess, shared_map_process
from ..mapping import set_mesh_thread_nice
from ..session import SessionManager
from ._auth import AuthInterceptor, load_verifier
from ._quota import QuotaInterceptor, Quotas
from ._services import AvatarServicer, PerceptionServicer, SceneServicer, SensorServicer, SessionServicer

__all__ = ["SERVICE_NAMES", "SoraServer", "create_server", "serve"]

log = logging.getLogger("sora.server")

SERVICE_NAMES = (
    session_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
    sensor_pb2.DESCRIPTOR.services_by_name["SensorService"].full_name,
    scene_pb2.DESCRIPTOR.services_by_name["SceneService"].full_name,
    perception_pb2.DESCRIPTOR.services_by_name["PerceptionService"].full_name,
    avatar_pb2.DESCRIPTOR.services_by_name["AvatarService"].full_name,
)


@dataclass
class SoraServer:
    """A running server and what it owns; ``await stop()`` drains and releases everything."""

    server: grpc.aio.Server
    port: int
    config: SoraConfig
    sessions: SessionManager
    health: health.aio.HealthServicer
    executor: ThreadPoolExecutor
    quotas: Quotas | None = None
    background: ThreadPoolExecutor | None = None
    maps: MapProcess | None = None

    @property
    def address(self) -> str:
        return f"{self.config.server.host}:{self.port}"

    async def stop(self, grace_s: float | None = None) -> None:
        grace = self.config.server.shutdown_grace_s if grace_s is None else grace_s
        await self.health.enter_graceful_shutdown()
        # Every session stops taking frames, fuses what it has, saves, then its streams are told to
        # resume elsewhere (UNAVAILABLE); the grace bounds the fusing.
        await self.sessions.close_all(drain_timeout_s=grace)
        await self.server.stop(grace)
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.background is not None:
            self.background.shutdown(wait=False, cancel_futures=True)


def _options(config: SoraConfig) -> list[tuple[str, int]]:
    s = config.server
    return [
        ("grpc.max_receive_message_length", s.max_receive_message_bytes),
        ("grpc.max_send_message_length", s.max_send_message_bytes),
        # Keepalive with a ping timeout: without the timeout a frozen client (SIGSTOP) was not
        # noticed for 27-41 s; with it, in 2-3.4 s (NOTES.md).
        ("grpc.keepalive_time_ms", int(s.keepalive_time_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(s.keepalive_timeout_s * 1000)),
        ("grpc.http2.ping_timeout_ms", int(s.keepalive_timeout_s * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 1000),
        ("grpc.http2.max_pings_without_data", 0),
    ]


class _UnaryLimitInterceptor(grpc.aio.ServerInterceptor):
    """Unary methods carry small requests; only streams may send frame-sized messages.

    The channel-wide limit must admit raw RGB-D frames on the sensor stream, so a per-method
    limit for unary calls is enforced here, before any handler runs.
    """

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler
        limit = self.limit
        method = handler_call_details.method

        def check(request: object) -> None:
            size = request.ByteSize()  # type: ignore[attr-defined]
            if size > limit:
                raise _TooLarge(f"{method}: request is {size} bytes; unary requests are limited to {limit}")

        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary_unary(request, context):  # type: ignore[no-untyped-def]
                try:
                    check(request)
                except _TooLarge as e:
                    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e))
                return await inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, handler.request_deserializer, handler.response_serializer
            )
        inner_stream = handler.unary_stream

        async def unary_stream(request, context):  # type: ignore[no-untyped-def]
            try:
                check(request)
            except _TooLarge as e:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e))
            result = inner_stream(request, context)
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            else:
                await result

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )


class _TooLarge(Exception):
    pass


def server_credentials(config: SoraConfig) -> grpc.ServerCredentials | None:
    """TLS (and mTLS with a client CA) from the configured PEM files; None when TLS is off."""
    s = config.server
    if not s.tls_cert_file and not s.tls_key_file:
        if s.tls_client_ca_file:
            raise ValueError("server.tls_client_ca_file needs tls_cert_file and tls_key_file")
        return None
    if not (s.tls_cert_file and s.tls_key_file):
        raise ValueError("TLS needs both server.tls_cert_file and server.tls_key_file")
    cert = Path(s.tls_cert_file).read_bytes()
    key = Path(s.tls_key_file).read_bytes()
    ca = Path(s.tls_client_ca_file).read_bytes() if s.tls_client_ca_file else None
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)


def _background_thread(target: int | None) -> None:
    """Start-up of a map-work thread: at the background niceness (Linux; elsewhere it keeps its priority)."""
    if not raise_thread_niceness(target):
        logging.getLogger(__name__).warning("could not lower the background threads' priority")


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def create_server(config: SoraConfig | None = None) -> SoraServer:
    """Builds the server, binds it, and starts it. Bind port 0 to get a free port."""
    config = config or SoraConfig()
    executor = ThreadPoolExecutor(max_workers=config.server.resolved_workers(), thread_name_prefix="sora-work")
    # The maps' fusion, meshing, planes, objects and autosaves: continuous background work, run at a
    # lower priority so that a saturated CPU still serves the event loop (every stream's writes) first.
    set_mesh_thread_nice(config.server.background_nice)
    set_mmap_threshold(config.server.malloc_mmap_threshold_kib)
    background = ThreadPoolExecutor(
        max_workers=config.server.resolved_workers(),
        thread_name_prefix="sora-map",
        initializer=_background_thread,
        initargs=(niceness_target(config.server.background_nice),),
    )
    verifier = load_verifier(config)
    if config.objects.enabled and config.objects.detector_model:
        # Load (and check) the detector once, off the event loop: a wrong model fails the start, and
        # sessions and capability calls later find it loaded.
        from ..session._objects import shared_detector

        await asyncio.get_running_loop().run_in_executor(executor, shared_detector, config.objects)
    maps = None
    if config.server.map_process:
        maps = await asyncio.get_running_loop().run_in_executor(
            executor,
            functools.partial(
                shared_map_process,
                nice=config.server.background_nice,
                mmap_threshold_kib=config.server.malloc_mmap_threshold_kib,
                threads=config.server.resolved_workers(),
                sched_idle=config.server.map_sched_idle,
            ),
        )
    sessions = SessionManager(config, executor, verifier, background=background, maps=maps)
    # Sessions an earlier run kept on disk come back before the port opens, so a client that
    # reconnects after a crash finds its session (and its map as of the last autosave).
    await sessions.restore()
    interceptors: list[grpc.aio.ServerInterceptor] = []
    if verifier is not None:
        interceptors.append(AuthInterceptor(verifier))
    # After auth, so a refused call costs no quota; per client, so one client's excess stops only it.
    quotas = Quotas.from_config(config.server)
    interceptors.append(QuotaInterceptor(quotas, verifier))
    interceptors.append(_UnaryLimitInterceptor(config.server.max_unary_request_bytes))
    server = grpc.aio.server(options=_options(config), interceptors=interceptors)
    session_pb2_grpc.add_SessionServiceServicer_to_server(SessionServicer(sessions), server)
    sensor_pb2_grpc.add_SensorServiceServicer_to_server(SensorServicer(sessions), server)
    scene_pb2_grpc.add_SceneServiceServicer_to_server(SceneServicer(sessions, quotas), server)
    perception_pb2_grpc.add_PerceptionServiceServicer_to_server(PerceptionServicer(sessions, quotas), server)
    avatar_pb2_grpc.add_AvatarServiceServicer_to_server(AvatarServicer(sessions, quotas), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{config.server.host}:{config.server.port}"
    credentials = server_credentials(config)
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not bind {config.server.host}:{config.server.port}")
    await server.start()
    for name in (*SERVICE_NAMES, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("Sora server listening on %s:%d", config.server.host, port)
    return SoraServer(server, port, config, sessions, health_servicer, executor, quotas, background, maps)


async def serve(config: SoraConfig, *, insecure: bool = False, ready: asyncio.Event | None = None) -> None:
    """Runs until SIGTERM or SIGINT, then drains.

    Refuses to listen beyond loopback without TLS unless ``insecure``: frames from a headset show
    the inside of someone's home.
    """
    if not is_loopback(config.server.host) and server_credentials(config) is None and not insecure:
        raise SystemExit(
            f"refusing to serve on {config.server.host} without TLS: set --server-tls-cert-file and "
            "--server-tls-key-file, or pass --insecure to accept unencrypted traffic on this network"
        )
    if config.server.cpus:
        # Before create_server starts any thread or the map process: they inherit it.
        try:
            pin_process(parse_cpu_list(config.server.cpus))
        except (ValueError, OSError) as err:
            raise SystemExit(f"server.cpus {config.server.cpus!r}: {err}") from None
    running = await create_server(config)
    # This process is the server's alone: what start-up loaded stays for its life (docs/operations.md).
    tune_gc_for_serving(config.server.gc_young_threshold)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"Sora server listening on {running.address} (Ctrl-C to stop)", flush=True)
    if ready is not None:
        ready.set()
    await stop.wait()
    print("draining: health NOT_SERVING, streams told to resume elsewhere …", flush=True)
    await running.stop()
