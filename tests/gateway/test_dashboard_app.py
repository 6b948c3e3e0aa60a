"""The dashboard as an MCP App: declared by start_run and get_run, served as ui://colossus/run with its CSP
metadata, and a page that reaches for nothing outside itself (a host's sandbox would block it)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from fastmcp import Client

from gateway.dashboard.page import page_csp, page_html
from gateway.server import create_gateway
from tests.gateway.conftest import gateway_config


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    app = create_gateway(gateway_config(tmp_path_factory.mktemp("app"), pool={"workers": 0}))
    async with Client(app) as connected:
        yield connected


async def test_start_run_and_get_run_declare_the_run_dashboard(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools_mcp()).tools}
    for name in ("start_run", "get_run"):
        assert tools[name].meta["ui"] == {"resourceUri": "ui://colossus/run"}, tools[name].meta
    assert "ui" not in (tools["list_runs"].meta or {})
    assert tools["get_iteration"].annotations.read_only_hint is True


async def test_the_dashboard_resource_is_an_mcp_app_page_with_a_csp_naming_no_domain(client: Client) -> None:
    listed = {str(r.uri): r for r in (await client.list_resources_mcp()).resources}
    assert listed["ui://colossus/run"].mime_type == "text/html;profile=mcp-app"
    content = (await client.read_resource_mcp("ui://colossus/run")).contents[0]
    assert content.mime_type == "text/html;profile=mcp-app"
    assert content.meta["ui"]["csp"] == {"connectDomains": [], "resourceDomains": []}
    assert content.text == page_html()


def test_the_page_is_self_contained_and_small() -> None:
    html = page_html()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "the page must not load anything external"
    style = re.search(r"<style>(.*?)</style>", html, flags=re.S)
    assert style and not re.search(r"@import|url\(", style.group(1))
    assert len(html.encode()) < 32_000, len(html.encode())
    csp = page_csp()  # the HTTP side allows exactly its own inline script and style
    assert "default-src 'none'" in csp and csp.count("'sha256-") == 2 and "unsafe-inline" not in csp


async def test_get_iteration_of_an_unknown_run_is_a_clear_tool_error(client: Client) -> None:
    result = await client.call_tool_mcp("get_iteration", {"run_id": "2020-01-01T00-00-00Z_none", "attempt": 0, "iteration": 0})
    assert result.is_error and "no run '2020-01-01T00-00-00Z_none'" in result.content[0].text
    result = await client.call_tool_mcp("get_iteration", {"run_id": "../etc", "attempt": 0, "iteration": 0})
    assert result.is_error and "run_id" in result.content[0].text
