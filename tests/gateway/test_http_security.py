"""HTTP access: a bearer token when required (401 without), the Origin allowlist (403 for foreign origins)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport

from gateway.config import HttpConfig
from gateway.errors import ConfigError
from gateway.http_security import http_middleware, required_token
from gateway.server import create_gateway
from tests.gateway.conftest import gateway_config

TOKEN = "s3cret-token"
TRUSTED = "https://trusted.example"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "t", "version": "0"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
async def url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A gateway (no workers needed) over HTTP on loopback, with a token and one trusted origin."""
    app = create_gateway(gateway_config(tmp_path_factory.mktemp("http"), pool={"workers": 0}))
    os.environ["COLOSSUS_TEST_TOKEN"] = TOKEN
    config = HttpConfig(token_env="COLOSSUS_TEST_TOKEN", allowed_origins=[TRUSTED])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    http = app.http_app(path="/mcp", middleware=http_middleware(config, "127.0.0.1"),
                        host_origin_protection="auto", allowed_origins=config.allowed_origins)
    server = uvicorn.Server(uvicorn.Config(http, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    await task
    del os.environ["COLOSSUS_TEST_TOKEN"]


async def post(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})


async def test_request_without_the_token_gets_401(url: str) -> None:
    response = await post(url)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert (await post(url, Authorization="Bearer wrong")).status_code == 401


async def test_request_with_the_token_is_served(url: str) -> None:
    assert (await post(url, Authorization=f"Bearer {TOKEN}")).status_code == 200
    async with Client(StreamableHttpTransport(url, auth=TOKEN)) as client:
        assert "mesh_status" in {t.name for t in await client.list_tools()}


async def test_foreign_origin_gets_403_and_an_allowed_one_passes(url: str) -> None:
    auth = f"Bearer {TOKEN}"
    assert (await post(url, Authorization=auth, Origin="https://evil.example")).status_code == 403
    assert (await post(url, Authorization=auth, Origin=TRUSTED)).status_code == 200
    assert (await post(url, Authorization=auth, Origin="http://localhost:3000")).status_code == 200


def test_binding_beyond_loopback_requires_a_token() -> None:
    config = HttpConfig(token_env="COLOSSUS_TOKEN_UNSET_IN_TESTS")
    assert required_token(config, "127.0.0.1") is None and required_token(config, "localhost") is None
    with pytest.raises(ConfigError, match=r"^\[CONFIG\] refusing to serve on 0.0.0.0: .*COLOSSUS_TOKEN_UNSET_IN_TESTS"):
        required_token(config, "0.0.0.0")


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLOSSUS_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "serve", "--http", "--host", "0.0.0.0"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "requires a bearer token in $COLOSSUS_TOKEN" in done.stderr
