"""Upstream MCP servers behind the gateway: the vision server and the user's `mcpServers`.

Each upstream has one long-lived client kept by a supervisor task: connect, list tools, ping,
and on failure mark it unavailable and reconnect with backoff. Its tools are exposed through
fastmcp's `ProxyTool` under `<namespace>_<tool>`, tagged with the namespace (its toolset), by an
`UpstreamProvider`; while an upstream is down it contributes no tools and `mesh_status` says why,
so one broken server never takes the gateway down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastmcp import Client
from fastmcp.client.transports import ClientTransport
from fastmcp.exceptions import ToolError
from fastmcp.server.context import Context
from fastmcp.server.providers.base import Provider
from fastmcp.server.providers.proxy import ProxyTool
from fastmcp.tools.base import Tool, ToolResult
from mcp import MCPError
from mcp_types import METHOD_NOT_FOUND
from pydantic import BaseModel, Field

from gateway.errors import UpstreamUnavailable, describe, to_tool_error
from gateway.relay_client import RelayClient

__all__ = ["UpstreamState", "UpstreamStatus", "Upstream", "UpstreamProvider", "tool_name", "allocate_namespace"]

log = logging.getLogger(__name__)

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
UpstreamState = Literal["starting", "available", "unavailable", "stopped"]


def tool_name(namespace: str, name: str) -> str:
    """`namespace_name`, made to match ^[A-Za-z0-9_-]{1,63}$ (bad characters → `_`, long names hashed)."""
    raw = f"{namespace}_{name}" if namespace else name
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", raw) or "_"
    if len(clean) <= 63 and clean == raw:
        return clean
    digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
    return f"{clean[:54]}_{digest}"


def allocate_namespace(wanted: str, taken: set[str]) -> str:
    """A namespace not yet in `taken` (then added): `wanted`, else `wanted_2`, `wanted_3`, ..."""
    base = re.sub(r"[^A-Za-z0-9-]", "-", wanted)[:24] or "server"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


class UpstreamStatus(BaseModel):
    name: str = Field(description="name in the configuration")
    namespace: str = Field(description="tool prefix on the gateway")
    state: UpstreamState
    tools: list[str] = Field(default_factory=list, description="gateway names of its tools")
    error: str | None = None
    restarts: int = 0
    retry_in_s: float | None = None


class Upstream:
    """One supervised upstream server; `client()` is its live client or an UpstreamUnavailable."""

    def __init__(
        self,
        name: str,
        namespace: str,
        transport_factory: Callable[[], ClientTransport],
        *,
        ping_interval_s: float = 5.0,
        connect_timeout_s: float = 30.0,
        call_timeout_s: float = 45.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.name = name
        self.namespace = namespace
        self._transport_factory = transport_factory
        self._ping_interval_s = ping_interval_s
        self.connect_timeout_s = connect_timeout_s
        self.call_timeout_s = call_timeout_s
        self._backoff = (backoff_initial_s, backoff_max_s)
        self.state: UpstreamState = "starting"
        self.error: str | None = None
        self.restarts = 0
        self._retry_at: float | None = None
        self._client: Client | None = None
        self._tools: list[Tool] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"upstream-{self.name}")

    async def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the first connection attempt has settled; True when available."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        return self.state == "available"

    async def stop(self) -> None:
        self.state = "stopped"
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def notice_failure(self) -> None:
        """A call saw the connection fail: let the supervisor check now instead of at the next ping."""
        self._wake.set()

    async def _supervise(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                client = RelayClient(self._transport_factory(), name=f"colossus-{self.name}",
                                init_timeout=self.connect_timeout_s, timeout=self.call_timeout_s)
                async with client:
                    listed = await client.list_tools()
                    self._client = client
                    self._tools = [self._proxy(t) for t in listed]
                    self.state, self.error, self._retry_at = "available", None, None
                    self._ready.set()
                    delay = self._backoff[0]
                    await self._watch(client)
            except asyncio.CancelledError:
                self._client, self._tools = None, []
                raise
            except BaseException as e:  # noqa: BLE001 - any failure of an upstream is reported, never fatal
                log.warning("upstream %s unavailable: %s", self.name, e)
                self.error = describe(e, 500)
            self._client, self._tools = None, []
            if self.state == "available":
                self.restarts += 1
            self.state = "unavailable"
            self._ready.set()
            self._retry_at = time.monotonic() + delay
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    async def _watch(self, client: Client) -> None:
        """Ping until the connection fails (raises) — a crash between pings is noticed by the next call."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._ping_interval_s)
            self._wake.clear()
            try:
                await asyncio.wait_for(client.ping(), self.connect_timeout_s)
            except MCPError as e:
                if e.error.code != METHOD_NOT_FOUND:  # the modern protocol has no ping: any answer proves life
                    raise

    # -- use ---------------------------------------------------------------------------------

    def client(self) -> Client:
        if self.state != "available" or self._client is None:
            raise UpstreamUnavailable(
                f"MCP server {self.name!r} is {self.state}" + (f": {self.error}" if self.error else "")
                + "; the gateway retries it in the background (see mesh_status)"
            )
        return self._client

    @property
    def tools(self) -> Sequence[Tool]:
        return self._tools

    def status(self) -> UpstreamStatus:
        retry = max(0.0, self._retry_at - time.monotonic()) if self._retry_at else None
        return UpstreamStatus(name=self.name, namespace=self.namespace, state=self.state,
                              tools=[t.name for t in self._tools], error=self.error,
                              restarts=self.restarts, retry_in_s=retry)

    def _proxy(self, mcp_tool: Any) -> Tool:
        tool = UpstreamTool.from_mcp_tool(self.client, mcp_tool)
        renamed = tool.model_copy(update={"name": tool_name(self.namespace, mcp_tool.name), "tags": {self.namespace}})
        renamed._upstream = self
        return renamed


class UpstreamTool(ProxyTool):
    """A ProxyTool whose failures name the upstream and wake its supervisor."""

    _upstream: Upstream | None = None

    async def run(self, arguments: dict[str, Any], context: Context | None = None) -> ToolResult:
        try:
            return await super().run(arguments, context)
        except UpstreamUnavailable as e:
            raise to_tool_error(e) from e
        except ToolError:
            raise
        except Exception as e:
            if self._upstream is not None:
                self._upstream.notice_failure()
            name = self._upstream.name if self._upstream else "upstream"
            raise to_tool_error(UpstreamUnavailable(f"MCP server {name!r} failed during the call: {describe(e, 500)}")) from e


class UpstreamProvider(Provider):
    """Exposes one upstream's tools; none while it is down. Names clashing with `reserved` get a hash."""

    def __init__(self, upstream: Upstream, reserved: Callable[[], set[str]] = set) -> None:
        super().__init__()
        self.upstream = upstream
        self._reserved = reserved

    async def _list_tools(self) -> Sequence[Tool]:
        if self.upstream.state == "starting":  # at startup: wait (bounded) for the first connection attempt
            await self.upstream.wait_ready(self.upstream.connect_timeout_s)
        reserved = self._reserved()
        out = []
        for tool in self.upstream.tools:
            if tool.name in reserved:
                original = getattr(tool, "_backend_name", None) or tool.name
                tool = tool.model_copy(update={"name": tool_name(self.upstream.namespace, original + "#")})
            out.append(tool)
        return out
