"""Configuration as frozen dataclasses, loaded from TOML plus command-line overrides.

A TOML file mirrors the dataclass tree::

    [server]
    host = "127.0.0.1"
    port = 50051

    [mapper]
    voxel_size_m = 0.02

Every field documents its unit in its name and its meaning in the ``help`` metadata, which
``sora serve --help`` prints.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DialogueConfig",
    "MapperConfig",
    "ObjectsConfig",
    "SceneConfig",
    "ServerConfig",
    "SessionConfig",
    "SoraConfig",
    "load_config",
]


def _opt(default: Any, help: str) -> Any:  # noqa: A002 - mirrors argparse's name
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class MapperConfig:
    """TSDF fusion and incremental meshing."""

    voxel_size_m: float = _opt(0.02, "TSDF voxel edge length in metres")
    block_resolution: int = _opt(16, "voxels per block edge; a block is one mesh chunk")
    sdf_trunc_voxels: float = _opt(4.0, "truncation distance in voxels")
    block_budget: int = _opt(6000, "most TSDF blocks kept; beyond it far, stale blocks are evicted")
    eviction_radius_m: float = _opt(4.0, "blocks within this distance of the user are never evicted")
    depth_min_m: float = _opt(0.1, "depth readings nearer than this are ignored")
    depth_max_m: float = _opt(4.0, "depth readings farther than this are ignored")
    realtime_fusion_hz: float = _opt(
        0.0,
        "most REALTIME frames fused a second per session (the newest frame of each stream wins; the others are "
        "dropped as fusion_rate); LOSSLESS frames are never held back; 0: as fast as the host can",
    )
    mesh_interval_s: float = _opt(0.25, "how often dirty blocks are re-meshed")
    planes_interval_s: float = _opt(
        0.5,
        "least time between plane updates while frames stream (the chunks changed meanwhile are re-segmented "
        "together); planes also update before each object update and when the stream pauses",
    )
    weight_threshold: float = _opt(1.0, "voxels observed less than this are not meshed")
    remesh_tolerance_voxels: float = _opt(
        0.0,
        "a chunk is re-meshed only where the TSDF moved by more than this many voxels (or voxels were newly "
        "observed, or colour moved by more than 4 levels) since it was meshed; 0 re-meshes every change exactly",
    )
    mesh_threads: int = _opt(
        0, "CPU threads one mesh update is split over; 0: one per core up to 8 (a server's sessions: one fewer)"
    )
    device: str = _opt("auto", "compute device: auto (CUDA when present), cpu, cuda:0 …")
    odometry_max_translation_m: float = _opt(
        0.3, "server odometry: a frame-to-frame jump beyond this is reported as tracking loss"
    )

    @property
    def block_size_m(self) -> float:
        return self.voxel_size_m * self.block_resolution

    @property
    def sdf_trunc_m(self) -> float:
        return self.voxel_size_m * self.sdf_trunc_voxels


@dataclass(frozen=True)
class SceneConfig:
    """SceneStore history and subscriber queues."""

    history_versions: int = _opt(4096, "versions of deltas kept for resume, per session")
    history_bytes: int = _opt(
        64 << 20, "memory the kept deltas may take, per session (mesh deltas are large); the oldest go first"
    )
    subscriber_queue_items: int = _opt(512, "ordered items a subscriber may fall behind before it is cut off")
    snapshot_batch_bytes: int = _opt(1 << 20, "a snapshot is split into messages of about this size")


@dataclass(frozen=True)
class SessionConfig:
    """Per-session pipeline."""

    frame_queue: int = _opt(4, "frames waiting for fusion; REALTIME streams drop the oldest beyond it")
    max_sessions: int = _opt(64, "sessions a server holds at once")
    idle_timeout_s: float = _opt(0.0, "close a session with no client for this long; 0 keeps it")
    camera_hands: bool = _opt(True, "run MediaPipe Hands on colour frames (skips frames while busy)")
    autosave_interval_s: float = _opt(
        10.0,
        "save each changed session's map and anchors this often, so a crash loses at most this much and a "
        "restarted server restores its sessions; 0 keeps sessions in memory only",
    )


@dataclass(frozen=True)
class ObjectsConfig:
    """Objects in 3D: discovery on support planes, optional 2D detector for labels, tracks."""

    enabled: bool = _opt(True, "discover and track objects after each mesh update")
    interval_s: float = _opt(0.5, "least time between object updates while frames stream")
    confirm_observations: int = _opt(3, "object updates a new object must be found in before it is published ...")
    confirm_frames: float = _opt(
        8.0, "... unless its surface was already seen in this many depth frames (median TSDF weight)"
    )
    detector_model: str = _opt("", "2D detector for labels: Ultralytics-layout .onnx or TorchScript .pt/.torchscript")
    detector_labels: str = _opt(
        "", "label file for the detector (one per line, or names YAML/JSON); '' uses the model's"
    )
    detector_confidence: float = _opt(0.35, "least detection score kept, 0..1")
    detector_interval_s: float = _opt(0.5, "least time between detector runs on camera frames (latest frame wins)")
    detector_device: str = _opt("auto", "auto | cpu | cuda")


@dataclass(frozen=True)
class DialogueConfig:
    """The avatar's engines."""

    llm_base_url: str = _opt("", "OpenAI-compatible API root for DIALOGUE_ENGINE_LLM (e.g. http://127.0.0.1:8080/v1)")
    llm_model: str = _opt("", "model name sent to the LLM endpoint")
    llm_api_key_env: str = _opt("SORA_LLM_API_KEY", "environment variable holding the LLM endpoint's bearer token")
    memory_file: str = _opt("memory.sqlite", "per-user memory store, relative to server.data_dir")
    realtime_speech: bool = _opt(True, "pace speech chunks at playback speed (interrupts cut where the user is)")
    end_of_turn_silence_s: float = _opt(0.4, "pause that ends the user's spoken turn (the VAD's hangover), seconds")
    incremental_recognition: bool = _opt(
        True, "recognise the user's speech while they speak, so only the last step is left when they stop"
    )
    speculate_after_s: float = _opt(
        0.06, "pause after which the utterance so far is recognised before the turn ends, seconds; 0: off"
    )
    complete_sentence_end_s: float = _opt(
        0.12,
        "a turn heard as a complete scene-grammar sentence the grammar does not continue ends after this "
        "pause instead of end_of_turn_silence_s, seconds (a user who pauses that long after one and goes on "
        "starts a new turn); 0: always wait for end_of_turn_silence_s",
    )
    warm_up: bool = _opt(True, "load the engine's models when a conversation opens (the recogniser: on first audio)")


@dataclass(frozen=True)
class ServerConfig:
    """The gRPC endpoint."""

    host: str = _opt("127.0.0.1", "address to listen on")
    port: int = _opt(50051, "port to listen on; 0 picks a free one")
    max_receive_message_bytes: int = _opt(32 << 20, "largest message a client may send (a raw 1080p RGB-D frame fits)")
    max_send_message_bytes: int = _opt(64 << 20, "largest message the server sends")
    max_unary_request_bytes: int = _opt(1 << 20, "largest request on unary methods")
    keepalive_time_s: float = _opt(2.0, "HTTP/2 ping interval on idle connections")
    keepalive_timeout_s: float = _opt(2.0, "a peer that does not answer a ping in this time is dropped")
    shutdown_grace_s: float = _opt(2.0, "on SIGTERM, how long open streams get before they end")
    executor_workers: int = _opt(0, "threads for blocking work; 0 sizes the pool to the host")
    background_nice: int = _opt(
        10,
        "niceness added to the threads that fuse, mesh and segment the maps (Linux): when the CPU is "
        "saturated, streams and RPCs on the event loop come first; 0 runs them at the server's priority",
    )
    malloc_mmap_threshold_kib: int = _opt(
        128,
        "glibc: allocations above this many KiB get their own mapping, returned on free (fixes the threshold "
        "glibc otherwise raises, which lets large transient arrays pile up in per-thread arenas: RSS crept "
        "up for the whole hour-long soak); 0 leaves glibc's",
    )
    gc_young_threshold: int = _opt(
        10_000,
        "sora serve: after start-up, the objects alive are frozen out of Python's cyclic collector and young "
        "collections wait for this many new objects (Python's default 700): the collector's pauses cost the event "
        "loop a tenth of its CPU under load, a full one ~100 ms; 0 leaves Python's settings",
    )
    map_process: bool = _opt(
        True,
        "run every session's map (fusion, meshing, planes, objects, autosaves) in one child process at "
        "background_nice, so its Python work does not hold the serving process's GIL and a crash there "
        "costs the maps since their autosave, not the server; false keeps it on the server's threads",
    )
    map_sched_idle: bool = _opt(
        True,
        "Linux: the map process's threads run as SCHED_IDLE, after every other thread on the host, so a woken "
        "stream's thread takes a CPU from them at once (at background_nice alone the event loop still waited "
        "for a CPU ~0.2 s a second under the load bench); a host saturated by other work then slows the maps "
        "(REALTIME frames are dropped), never the streams; false: background_nice only",
    )
    cpus: str = _opt(
        "",
        "sora serve, Linux: the CPUs the serving process and its map process run on, as taskset takes them "
        "(0-3,6); on a host shared with other work, cores of Sora's own keep the event loop (every stream's "
        "writes) from waiting for a CPU; empty: any",
    )
    data_dir: str = _opt("~/.local/share/sora", "where saved maps, recordings and the avatar's memory are kept")
    tls_cert_file: str = _opt("", "PEM certificate chain; with tls_key_file turns TLS on")
    tls_key_file: str = _opt("", "PEM private key of tls_cert_file")
    tls_client_ca_file: str = _opt("", "PEM CA bundle; when set, clients must present a certificate it signed (mTLS)")
    auth_tokens_file: str = _opt(
        "", "TOML file of bearer tokens ([[tokens]]: token, principal, expires); empty: no auth"
    )
    auth_verifier: str = _opt("", "module:factory returning a token verifier (JWT/OIDC hook); overrides the file")
    # Quotas per client: its principal with auth on, else its IP address. 0 turns a limit off (docs/security.md).
    quota_streams_per_client: int = _opt(8, "open streaming calls (sensor, watch, converse) per client; 0: no limit")
    quota_frames_per_s: float = _opt(60.0, "camera frames per second per client, all its streams; 0: no limit")
    quota_ingest_bytes_per_s: int = _opt(64 << 20, "bytes per second a client may stream in; 0: no limit")
    quota_subscriptions_per_session: int = _opt(
        16, "WatchScene + WatchPerception + Converse calls open on one session; 0: no limit"
    )
    quota_burst_s: float = _opt(2.0, "rate quotas allow bursts of this many seconds' worth after a pause")

    def resolved_workers(self) -> int:
        return self.executor_workers or max(2, (os.cpu_count() or 2))

    def resolved_data_dir(self) -> Path:
        return Path(os.path.expanduser(self.data_dir))


@dataclass(frozen=True)
class SoraConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    mapper: MapperConfig = field(default_factory=MapperConfig)
    scene: SceneConfig = field(default_factory=SceneConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    objects: ObjectsConfig = field(default_factory=ObjectsConfig)
    dialogue: DialogueConfig = field(default_factory=DialogueConfig)

    def with_overrides(self, overrides: dict[str, Any]) -> SoraConfig:
        """``{"server.port": 0, "mapper.voxel_size_m": 0.01}`` -> a new config."""
        sections: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            section, _, name = dotted.partition(".")
            sections.setdefault(section, {})[name] = value
        return _apply(self, sections)


def _apply(cfg: SoraConfig, sections: dict[str, dict[str, Any]]) -> SoraConfig:
    changes: dict[str, Any] = {}
    known = {f.name: f for f in dataclasses.fields(cfg)}
    for section, values in sections.items():
        if section not in known:
            raise ValueError(f"unknown config section [{section}]; known: {', '.join(known)}")
        current = getattr(cfg, section)
        fields = {f.name: f for f in dataclasses.fields(current)}
        typed: dict[str, Any] = {}
        for name, value in values.items():
            if name not in fields:
                raise ValueError(f"unknown option {section}.{name}; known: {', '.join(fields)}")
            default = fields[name].default
            typed[name] = type(default)(value) if default is not dataclasses.MISSING else value
        changes[section] = dataclasses.replace(current, **typed)
    return dataclasses.replace(cfg, **changes)


def load_config(path: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None) -> SoraConfig:
    """Defaults, then the TOML file (if any), then ``overrides`` (dotted names)."""
    cfg = SoraConfig()
    if path is not None:
        with open(path, "rb") as f:
            data = tomllib.load(f)
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ValueError(f"config: top-level key {section!r} must be a [section]")
        cfg = _apply(cfg, data)
    if overrides:
        cfg = cfg.with_overrides(overrides)
    return cfg
