"""The gateway's tables of colossus.toml: [gateway], [pool], [http], [vision] and [mcpServers], validated once.

Defaults are safe: one worker per core, timeouts on everything, HTTP on 127.0.0.1 only.
`mcpServers` has the shape Claude Desktop uses (command/args/env, or url), so a user can paste it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from fastmcp.mcp_config import RemoteMCPServer, StdioMCPServer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.errors import ConfigError
from harness.config_file import config_path, load_config

__all__ = ["PoolConfig", "HttpConfig", "VisionConfig", "SurfaceConfig", "GatewayConfig", "load_gateway_config"]


class PoolConfig(BaseModel):
    """How many Blender workers, how they start, and when the gateway gives up on one."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "ray"] = Field("local", description="local: subprocesses of the gateway; "
                                             "ray: one Ray actor per worker, anywhere in a Ray cluster")
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=0, le=64,
                         description="Blender workers started by the gateway (Ray actors with backend 'ray')")
    ray_address: str = Field("auto", description="backend 'ray': the cluster to join, 'auto' or host:port of its head")
    ray_gpus: float = Field(0.0, ge=0, description="backend 'ray': GPUs each worker actor reserves (0: CPU nodes too)")
    remote: list[str] = Field(default_factory=list, description="streamable-HTTP URLs of workers on other machines")
    mode: Literal["bpy", "binary"] = "bpy"
    blender_binary: str | None = None
    transport: Literal["stdio", "http"] = Field("stdio", description="how the gateway talks to local workers")
    host: str = "127.0.0.1"
    base_port: int = Field(9876, ge=1024, le=65535, description="first port for local HTTP workers (BL-04)")
    workdir: Path | None = Field(None, description="pool folder (baselines, renders); a temporary one when unset")
    memory_limit_mb: int = Field(4096, ge=128, description="a worker's memory limit: its own allocations fail "
                                 "beyond it (MemoryError, the scene kept); one 10 % over is replaced")
    call_timeout_s: float = Field(30.0, gt=0, le=600, description="cheap calls (info, reset, save)")
    render_timeout_s: float = Field(45.0, gt=0, le=600)
    asset_timeout_s: float = Field(600.0, gt=0, le=3600, description="a single asset_* stage called by a host (a "
                                                                     "bake of a big mesh); finalize_asset is the "
                                                                     "non-blocking way")
    exec_grace_s: float = Field(5.0, ge=0, description="added to execute_code's own timeout before the worker is killed")
    idle_expiry_s: float = Field(600.0, gt=0, description="a lease unused this long is released")
    queue_limit: int = Field(16, ge=0, description="leases that may wait for a worker; more fail at once")
    queue_wait_s: float = Field(30.0, ge=0, le=45)
    warm_spare: bool = True
    health_interval_s: float = Field(10.0, gt=0)
    startup_timeout_s: float = Field(60.0, gt=0)
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    code_policy: Literal["log", "block"] = Field(
        "log", description="code reaching outside the scene (import os, subprocess, open, ...): `log` warns in the "
                           "report, `block` refuses it with error class POLICY before Blender runs it (harness.validator)")

    @model_validator(mode="after")
    def _ray_workers_are_stdio_actors(self) -> PoolConfig:
        if self.backend == "ray" and self.remote:
            raise ValueError("backend 'ray' places every worker in the cluster: leave `remote` empty")
        if self.backend == "ray" and self.transport != "stdio":
            raise ValueError("backend 'ray' talks to each Blender over stdio inside its actor: set transport = 'stdio'")
        return self


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    path: str = "/mcp"
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="browser origins allowed besides same-origin loopback; a foreign Origin gets 403",
    )
    token_env: str = Field("COLOSSUS_TOKEN", description="environment variable holding the bearer token")


class VisionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    command: list[str] | None = Field(None, description="defaults to this Python running servers.viewport_vision")
    url: str | None = Field(None, description="use a vision server already running over HTTP instead")
    config: Path | None = Field(None, description="colossus.toml passed on (its [models] table)")
    allowed_roots: list[Path] = Field(default_factory=list, description="image folders besides the pool, runs and examples")


class SurfaceConfig(BaseModel):
    """[gateway]: what hosts see of the gateway."""

    model_config = ConfigDict(extra="forbid")

    toolsets: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] = Field(
        default_factory=lambda: ["core"], min_length=1,
        description="toolsets offered at start (`all`: every one); a session turns more on with enable_toolset")


class GatewayConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    gateway: SurfaceConfig = Field(default_factory=SurfaceConfig)
    pool: PoolConfig = Field(default_factory=PoolConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    vision: VisionConfig = Field(default_factory=VisionConfig)
    mcp_servers: dict[str, StdioMCPServer | RemoteMCPServer] = Field(default_factory=dict, alias="mcpServers")
    runs_dir: Path = Path("runs")
    config_path: Path | None = Field(None, description="the file these tables came from")

    @classmethod
    def from_raw(cls, raw: dict[str, Any], config_path: Path | None = None) -> GatewayConfig:
        wanted = {k: raw[k] for k in ("gateway", "pool", "http", "vision", "mcpServers") if k in raw}
        if "runs" in raw and isinstance(raw["runs"], dict) and "dir" in raw["runs"]:
            wanted["runs_dir"] = raw["runs"]["dir"]
        try:
            return cls.model_validate({**wanted, "config_path": config_path})
        except ValidationError as e:  # one line per problem, as `table.key: what is wrong`
            where = f" in {config_path}" if config_path else ""
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'top level'}: {err['msg']}"
                                 for err in e.errors())
            raise ConfigError(f"invalid gateway configuration{where}: {problems}") from e


def load_gateway_config(explicit: str | os.PathLike[str] | None = None) -> GatewayConfig:
    """Read colossus.toml (see harness.config_file for where it is looked up) into a GatewayConfig."""
    path = config_path(explicit)
    try:
        raw = load_config(explicit)
    except (FileNotFoundError, ValueError) as e:
        raise ConfigError(str(e)) from e
    return GatewayConfig.from_raw(raw, path if raw else None)
