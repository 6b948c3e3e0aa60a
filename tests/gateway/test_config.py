"""The gateway's tables of colossus.toml: safe defaults, Claude Desktop's mcpServers shape, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastmcp.mcp_config import RemoteMCPServer, StdioMCPServer

from gateway.config import GatewayConfig, load_gateway_config
from gateway.errors import ConfigError
from gateway.services import GatewayServices


def test_defaults_are_safe() -> None:
    config = GatewayConfig()
    assert config.pool.workers == max(1, os.cpu_count() or 1)
    assert config.http.host == "127.0.0.1" and config.http.path == "/mcp"
    assert config.pool.base_port == 9876 and config.pool.idle_expiry_s == 600
    assert 0 < config.pool.queue_wait_s <= 45 and config.vision.enabled


def test_mcp_servers_take_the_claude_desktop_shape(tmp_path: Path) -> None:
    path = tmp_path / "colossus.toml"
    path.write_text(
        '[pool]\nworkers = 2\nremote = ["http://10.0.0.5:9876/mcp"]\n'
        '[mcpServers.files]\ncommand = "npx"\nargs = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]\n'
        '[mcpServers.files.env]\nDEBUG = "1"\n'
        '[mcpServers.search]\nurl = "https://example.com/mcp"\n'
    )
    config = load_gateway_config(path)
    assert config.pool.workers == 2 and config.pool.remote == ["http://10.0.0.5:9876/mcp"]
    files, search = config.mcp_servers["files"], config.mcp_servers["search"]
    assert isinstance(files, StdioMCPServer) and files.args[0] == "-y" and files.env == {"DEBUG": "1"}
    assert isinstance(search, RemoteMCPServer) and search.url == "https://example.com/mcp"
    assert config.config_path == path


def test_a_misspelt_pool_key_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "colossus.toml"
    path.write_text("[pool]\nworkerz = 3\n")
    with pytest.raises(ConfigError, match=r"^\[CONFIG\] invalid gateway configuration in .*colossus.toml(?s:.)*pool.workerz"):
        load_gateway_config(path)


def test_invalid_toml_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[pool\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_gateway_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_gateway_config(tmp_path / "missing.toml")


def test_only_a_callable_model_counts_as_a_configured_verifier(tmp_path: Path) -> None:
    def configured(verifier: str) -> bool:
        path = tmp_path / f"{abs(hash(verifier))}.toml"
        path.write_text(f"[models]\nverifier = {verifier}\n")
        return GatewayServices(GatewayConfig.from_raw({}, config_path=path)).verifier_configured()

    assert not configured('["metrics"]'), "the offline metrics verifier has no critique to give"
    assert configured('["metrics", "openai/gpt-4o"]')
