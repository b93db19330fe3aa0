"""Authentication, authorisation and TLS on a real server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest

from sora_sdk import PermissionDeniedError, UnauthenticatedError
from sora_sdk.client import SoraClient
from sora_sdk.server import create_server
from tests.conftest import test_config


async def test_every_method_needs_a_valid_token(auth_server, tum_frames) -> None:
    target = f"127.0.0.1:{auth_server.port}"
    for token in (None, "wrong-token-0123456789", "old-0123456789abcdef"):
        async with SoraClient(target, token=token) as c:
            assert await c.health() == "SERVING"  # load balancers probe health without a token
            with pytest.raises(UnauthenticatedError):
                await c.create_session()
            with pytest.raises(UnauthenticatedError):
                await c.list_sessions()
    async with SoraClient(target, token="ana-0123456789abcdef") as ana:
        session = await ana.create_session()
        await session.stream_frames(tum_frames[:2], lossless=True, color_encoding="raw", depth_encoding="raw")
    # Streams are checked too, before their handler runs.
    async with SoraClient(target) as anonymous:
        stranger = await _foreign_handle(anonymous, session.session_id)
        with pytest.raises(UnauthenticatedError):
            async for _ in stranger.watch_scene(auto_resume=False):
                pass
        with pytest.raises(UnauthenticatedError):
            await stranger.stream_frames(tum_frames[:1], lossless=True)


async def _foreign_handle(client: SoraClient, session_id: str):
    from sora_sdk._proto.sora.v1 import session_pb2
    from sora_sdk.client import Session

    return Session(client, session_pb2.Session(session_id=session_id))


async def test_a_token_sees_only_its_own_sessions_and_learns_nothing_of_others(auth_server, tum_frames) -> None:
    target = f"127.0.0.1:{auth_server.port}"
    async with (
        SoraClient(target, token="ana-0123456789abcdef") as ana,
        SoraClient(target, token="ben-0123456789abcdef") as ben,
    ):
        mine = await ana.create_session(display_name="ana's flat")
        await mine.stream_frames(tum_frames[:2], lossless=True, color_encoding="raw", depth_encoding="raw")
        await ben.create_session(display_name="ben's office")
        assert [s.display_name for s in await ana.list_sessions()] == ["ana's flat"]
        intruder = await _foreign_handle(ben, mine.session_id)
        missing = await _foreign_handle(ben, "0" * 32)
        errors = []
        for handle in (intruder, missing):
            with pytest.raises(PermissionDeniedError) as e:
                await handle.get_scene(include_mesh=True)
            errors.append(str(e.value).replace(handle.session_id, "ID"))
            with pytest.raises(PermissionDeniedError):
                await handle.stream_frames(tum_frames[2:3], lossless=True, color_encoding="raw", depth_encoding="raw")
            with pytest.raises(PermissionDeniedError):
                async for _ in handle.watch_scene(auto_resume=False):
                    pass
            with pytest.raises(PermissionDeniedError):
                await handle.close()
        assert errors[0] == errors[1]  # same answer whether the session exists or not
        info = await mine.refresh()
        assert info.stats.frames_integrated == 2  # ben's attempts changed nothing


def _make_certs(d: Path) -> dict[str, Path]:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    ext = d / "san.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr")  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.cnf", "-out", f"{name}.pem")  # fmt: skip
    return {n: d / n for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


async def test_tls_and_mutual_tls(tmp_path: Path) -> None:
    c = _make_certs(tmp_path)
    cfg = test_config(
        server={
            "tls_cert_file": str(c["server.pem"]),
            "tls_key_file": str(c["server.key"]),
            "tls_client_ca_file": str(c["ca.pem"]),
        }
    )
    running = await create_server(cfg)
    target = f"localhost:{running.port}"
    try:
        ca = c["ca.pem"].read_bytes()
        with_cert = grpc.ssl_channel_credentials(ca, c["client.key"].read_bytes(), c["client.pem"].read_bytes())
        async with SoraClient(target, credentials=with_cert) as client:
            assert (await client.create_session()).session_id
        async with SoraClient(target, credentials=grpc.ssl_channel_credentials(ca)) as no_cert:
            with pytest.raises(Exception):  # noqa: B017 - the handshake fails (UNAVAILABLE)
                await no_cert.create_session()
        async with SoraClient(target) as plaintext:
            with pytest.raises(Exception):  # noqa: B017
                await plaintext.create_session()
    finally:
        await running.stop(0.2)


def test_serve_refuses_a_public_address_without_tls() -> None:
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "sora_sdk.cli.main", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode != 0
    assert "refusing to serve on 0.0.0.0 without TLS" in res.stderr + res.stdout
    assert "--insecure" in res.stderr + res.stdout
