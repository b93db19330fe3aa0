"""Shared fixtures: a real Sora server on loopback and a real client, plus the test data."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sora_sdk.client import SoraClient
from sora_sdk.core.config import SoraConfig
from sora_sdk.server import SoraServer, create_server

DATA = Path(__file__).parent / "data"
TUM = DATA / "tum_fr1_desk_9frames"
REDWOOD = DATA / "redwood_livingroom1_5frames"


def test_config(**sections: dict[str, object]) -> SoraConfig:
    """Defaults with port 0 on loopback, plus per-section overrides."""
    cfg = SoraConfig()
    data_dir = tempfile.mkdtemp(prefix="sora-test-")
    cfg = dataclasses.replace(cfg, server=dataclasses.replace(cfg.server, host="127.0.0.1", port=0, data_dir=data_dir))
    for name, values in sections.items():
        cfg = dataclasses.replace(cfg, **{name: dataclasses.replace(getattr(cfg, name), **values)})
    return cfg


test_config.__test__ = False  # type: ignore[attr-defined]

#: Bearer tokens for servers with authentication: two principals, and an expired token of the first.
ANA, BEN = "ana-0123456789abcdef", "ben-0123456789abcdef"
TOKENS = f"""
[[tokens]]
token = "{ANA}"
principal = "ana"

[[tokens]]
token = "{BEN}"
principal = "ben"

[[tokens]]
token = "old-0123456789abcdef"
principal = "ana"
expires = 2020-01-01T00:00:00Z
"""


def auth_config(tmp_path: Path, **server: object) -> SoraConfig:
    """``test_config`` with authentication on (``TOKENS``), plus server overrides."""
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(TOKENS)
    return test_config(server={"auth_tokens_file": str(tokens), **server})


@pytest.fixture
async def server() -> AsyncIterator[SoraServer]:
    running = await create_server(test_config())
    yield running
    await running.stop(0.2)


@pytest.fixture
async def auth_server(tmp_path: Path) -> AsyncIterator[SoraServer]:
    """A server that needs a token from ``TOKENS`` on every method."""
    running = await create_server(auth_config(tmp_path))
    yield running
    await running.stop(0.2)


@pytest.fixture
async def client(server: SoraServer) -> AsyncIterator[SoraClient]:
    async with SoraClient(f"127.0.0.1:{server.port}") as c:
        yield c


@pytest.fixture(scope="session")
def tum_frames() -> list:
    from sora_sdk.datasets import read_tum

    return list(read_tum(TUM))


@pytest.fixture(scope="session")
def redwood_frames() -> list:
    from sora_sdk.datasets import read_redwood

    return list(read_redwood(REDWOOD))
