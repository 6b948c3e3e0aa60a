"""A scene's restore point: the state a fresh worker is brought back to when the scene's worker is lost.

It is the baseline the scene was last reset to (also by execute_and_measure's or measure_programs' `baseline_id`) or saved as, or, after each successful execute_code
of a lease that checkpoints, a .blend saved under the scene's checkpoint id. Pool.call moves it
(`track`) and tells the caller where a recovered scene now stands (`describe`).
"""

from __future__ import annotations

from typing import Any

import mcp_types

from gateway.workers.leases import EMPTY, Lease, checkpoint_id

__all__ = ["track", "describe"]


async def track(lease: Lease, tool: str, arguments: dict[str, Any], result: mcp_types.CallToolResult,
                timeout_s: float) -> None:
    """Move the lease's restore point after a successful call that changed what the scene should come back to."""
    if tool == "reset_to_baseline" or (tool in ("execute_and_measure", "measure_programs")
                                       and arguments.get("baseline_id") is not None):
        lease.restore_point = str(arguments.get("baseline_id", EMPTY))
    elif tool == "save_baseline":
        lease.restore_point = str(arguments.get("name"))
    elif tool in ("execute_code", "execute_and_render") and lease.checkpoint_executes and _succeeded(tool, result):
        ckpt = checkpoint_id(lease.scene_id)
        saved = await lease.worker.call("save_baseline", {"name": ckpt}, timeout_s)
        if not saved.is_error:
            lease.restore_point = ckpt


def describe(lease: Lease) -> str:
    if lease.restore_point == checkpoint_id(lease.scene_id):
        return "its state after the last successful execute_code"
    return f"baseline {lease.restore_point!r}"


def _succeeded(tool: str, result: mcp_types.CallToolResult) -> bool:
    """Whether the code of an execute_code / execute_and_render result ran cleanly."""
    data = result.structured_content or {}
    report = (data.get("report") or {}) if tool == "execute_and_render" else data
    return bool(report.get("success"))
