"""The coordinator: runs → attempts → iterations of the inverse-graphics loop.

Blender and vision are reached only through the `Scene`, `SceneProvider` and `Vision` protocols
(orchestrator.scene), which the gateway implements; `RunService` is what the gateway and the CLI use.
"""

from orchestrator.errors import OrchestratorError, RunNotFound, TaskError
from orchestrator.scene import Scene, SceneProvider, Vision
from orchestrator.service import RunService, RunStatus
from orchestrator.task import Task, inline_task, load_task

__all__ = [
    "RunService",
    "RunStatus",
    "Task",
    "load_task",
    "inline_task",
    "Scene",
    "SceneProvider",
    "Vision",
    "OrchestratorError",
    "TaskError",
    "RunNotFound",
]
