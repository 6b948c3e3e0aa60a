"""The orchestrator's public surface is small and pinned; it never drags in Blender or litellm."""

import subprocess
import sys

import orchestrator


def test_the_public_names_are_exactly_these():
    assert sorted(orchestrator.__all__) == sorted([
        "RunService", "RunStatus", "Task", "load_task", "inline_task", "Scene", "SceneProvider", "Vision",
        "OrchestratorError", "TaskError", "RunNotFound"])
    assert all(hasattr(orchestrator, name) for name in orchestrator.__all__)


def test_importing_the_orchestrator_loads_neither_bpy_nor_litellm_nor_fastmcp():
    code = "import sys, orchestrator; print(sorted(m for m in ('bpy', 'litellm', 'fastmcp') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
