"""The handles the gateway's tools mint and take back (the protocol is stateless: state travels as
these ids), with the pattern each must match, and the longest a call may wait on one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from orchestrator.waits import MAX_WAIT_S

__all__ = ["NAME_PATTERN", "SceneId", "BaselineId", "RunId", "JobId", "ProfileName", "MAX_WAIT_S"]

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
"""scene ids, baseline ids and profile names"""

SceneId = Annotated[str, Field(description="handle returned by reset_to_baseline", pattern=NAME_PATTERN)]
BaselineId = Annotated[str, Field(pattern=NAME_PATTERN, description="saved state; `empty` is built in")]
RunId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="handle returned by start_run")]
JobId = Annotated[str, Field(pattern=r"^asset-[0-9a-f]{12}$", description="handle returned by finalize_asset")]
ProfileName = Annotated[str, Field(pattern=NAME_PATTERN, description="unity, unreal, godot, gltf-web, mobile or a user profile")]
