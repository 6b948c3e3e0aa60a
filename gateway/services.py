"""Everything the gateway's tools use, started and stopped together by the server's lifespan.

The pool, the upstream servers (vision + the user's mcpServers), the Vision client over the
vision server, the [models] table, and the coordinator's RunService.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Any

from fastmcp.client.transports import ClientTransport, StdioTransport, StreamableHttpTransport

from gateway.config import GatewayConfig
from gateway.errors import CoordinatorUnavailable
from gateway.history import HISTORY_FILE, ExecutionHistory
from gateway.mesh import Upstream, allocate_namespace
from gateway.workers.asset_adapters import leased_pair
from gateway.workers.pool import Pool
from gateway.workers.pool_scene import PoolSceneProvider
from gateway.vision_client import VisionClient
from harness.config_file import load_config
from harness.model_config import ModelsConfig
from orchestrator.assets.jobs import AssetJobs
from orchestrator.assets.profiles import finalize_config
from orchestrator.service import RunService

__all__ = ["GatewayServices", "PROJECT_ROOT", "RESERVED_NAMESPACES"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESERVED_NAMESPACES = {"blender", "vision", "core", "runs", "assets", "geonodes", "all"}
"""Prefixes an mcpServers entry cannot take: the gateway's own, which are also its toolsets' names."""


class GatewayServices:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.pool = Pool(config.pool)
        self.provider = PoolSceneProvider(self.pool)
        taken = set(RESERVED_NAMESPACES)
        self.vision_upstream = (
            Upstream("vision", "vision", self._vision_transport) if config.vision.enabled else None
        )
        self.upstreams: list[Upstream] = [self.vision_upstream] if self.vision_upstream else []
        for name, server in config.mcp_servers.items():
            self.upstreams.append(Upstream(name, allocate_namespace(name, taken), server.to_transport))
        self.vision = VisionClient(self.vision_upstream) if self.vision_upstream else None
        self.history = ExecutionHistory(config.runs_dir / HISTORY_FILE)
        self._runs: RunService | None = None
        self._assets: AssetJobs | None = None

    async def start(self) -> None:
        self.pool.start()
        for upstream in self.upstreams:
            upstream.start()

    async def stop(self) -> None:
        if self._runs is not None:
            with contextlib.suppress(Exception):
                await self._runs.aclose()
        if self._assets is not None:
            await self._assets.aclose()
        await asyncio.gather(*(u.stop() for u in self.upstreams), return_exceptions=True)
        await self.pool.stop()

    @functools.cached_property
    def models(self) -> ModelsConfig:
        """The [models] table, read once (an invalid one raises on every use, naming the problem)."""
        return ModelsConfig.load(self.config.config_path)

    def verifier_configured(self) -> bool:
        try:
            return self.models.has_remote("verifier")  # `metrics` alone is the offline verifier: no critique
        except Exception:  # noqa: BLE001 - an unreadable [models] table means no verifier
            return False

    def run_service(self, listener: Any = None) -> RunService:
        """A RunService on this pool and vision server; CoordinatorUnavailable when runs cannot work here."""
        if self.vision is None:
            raise CoordinatorUnavailable("runs need the vision server, which is disabled in [vision]")
        try:
            return RunService(self.provider, self.vision, self.config.runs_dir, self.models, listener=listener,
                              assets=self.assets())
        except Exception as e:  # noqa: BLE001 - reported to the host as the coordinator being unavailable
            raise CoordinatorUnavailable(f"the run coordinator could not start: {e}") from e

    def runs(self) -> RunService:
        """The gateway's RunService, created on first use."""
        if self._runs is None:
            self._runs = self.run_service()
        return self._runs

    def assets(self) -> AssetJobs:
        """Finalize jobs on this pool, with the user's profiles folder from [finalize] (created on first use)."""
        if self._assets is None:
            path = self.config.config_path
            profiles = finalize_config(load_config(path) if path else {}, path).profiles_dir
            self._assets = AssetJobs(lambda: leased_pair(self.pool), self.config.runs_dir, profiles)
        return self._assets

    def _vision_transport(self) -> ClientTransport:
        vision = self.config.vision
        if vision.url:
            return StreamableHttpTransport(vision.url)
        roots = [self.pool.workdir, self.config.runs_dir, PROJECT_ROOT / "examples", *vision.allowed_roots]
        args = list(vision.command or [sys.executable, "-m", "servers.viewport_vision"])
        for root in roots:
            if root is not None:
                args += ["--allowed-root", str(Path(root).resolve())]
        config_file = vision.config or self.config.config_path
        if config_file:
            args += ["--config", str(config_file)]
        return StdioTransport(args[0], args[1:], env=dict(os.environ), cwd=str(PROJECT_ROOT))
