"""orchestrator.scene.Vision over an MCP client to the viewport-vision server (mounted as vision_*).

Images travel as paths: the vision server is started with the pool, runs and examples folders
as allowed roots, so renders are never re-encoded on the way. Calls go straight to the session
(no input-required driver, no second schema check): results are parsed into our own models.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastmcp.exceptions import ToolError

from gateway.errors import UpstreamUnavailable
from gateway.mesh import Upstream
from gateway.relay_client import error_text
from harness.blueprint_types import Blueprint, BlueprintReport
from harness.scene_types import SceneInfo
from harness.vision_types import CheckResult, CritiqueTurn, Look, VerifierOutput

__all__ = ["VisionClient"]


RECONNECT_WAITS_S = (0.5, 1.0, 2.0, 4.0)


class VisionClient:
    def __init__(self, upstream: Upstream, timeout_s: float = 45.0,
                 reconnect_waits_s: tuple[float, ...] = RECONNECT_WAITS_S) -> None:
        self.upstream = upstream
        self.timeout_s = timeout_s
        self.reconnect_waits_s = reconnect_waits_s

    async def _call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """One tool call; a dropped server is waited for while the mesh reconnects it (backoff).

        An error the server reports (bad image, no verifier, unparseable critique) is final: it
        would fail the same way again, and a repeated critique would be paid for twice.
        """
        waits = iter(self.reconnect_waits_s)
        while True:
            try:
                return await self._call_once(tool, arguments)
            except UpstreamUnavailable:
                wait_s = next(waits, None)
                if wait_s is None:
                    raise
                await asyncio.sleep(wait_s)

    async def _call_once(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        client = self.upstream.client()
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await client.session.call_tool(tool, arguments)
        except Exception as e:
            self.upstream.notice_failure()
            raise UpstreamUnavailable(f"vision server failed during {tool}: {e}") from e
        if result.is_error:
            raise ToolError(error_text(result))
        data = result.structured_content or {}
        return data["result"] if set(data) == {"result"} else data

    async def check(self, renders: dict[str, Path], references: dict[str, Path] | None,
                    scene_info: SceneInfo | None) -> CheckResult:
        args: dict[str, Any] = {"renders": _paths(renders)}
        if references:
            args["references"] = _paths(references)
        if scene_info is not None:
            args["scene_info"] = scene_info.model_dump(mode="json")
        return CheckResult.model_validate(await self._call("check", args))

    async def blueprint(self, renders: dict[str, Path], blueprint: Blueprint) -> BlueprintReport:
        args = {"renders": _paths(renders), "blueprint": blueprint.model_dump(mode="json")}
        return BlueprintReport.model_validate(await self._call("blueprint", args))

    async def critique(self, images: dict[str, Path], task: str, reference: dict[str, Path] | None) -> VerifierOutput:
        args: dict[str, Any] = {"images": _paths(images), "task": task}
        if reference:
            args["reference"] = _paths(reference)
        return VerifierOutput.model_validate(await self._call("critique", args))

    async def investigate(self, images: dict[str, Path], task: str, reference: dict[str, Path] | None,
                          looks: list[Look], max_looks: int, models: list[str] | None = None) -> CritiqueTurn:
        args: dict[str, Any] = {"images": _paths(images), "task": task, "max_looks": max_looks,
                                "looks": [look.model_dump(mode="json") for look in looks]}
        if models:
            args["models"] = models
        if reference:
            args["reference"] = _paths(reference)
        return CritiqueTurn.model_validate(await self._call("investigate", args))


def _paths(images: dict[str, Path]) -> dict[str, str]:
    return {view: str(path) for view, path in images.items()}
