"""A verifier's extra looks at an iteration's scene: another angle, one object close up, one object alone.

The scene is rebuilt from the iteration's program (the worker has moved on to the next reset by
then), so a look shows exactly what was scored; each look is saved with the iteration under
looks/verifier-<n>/. A look that cannot be taken (no such object) says why instead.
"""

from __future__ import annotations

from pathlib import Path

from harness.scene_types import RenderSettings
from harness.vision_types import Look, LookRequest
from orchestrator.scene import Scene

__all__ = ["look_settings", "take_looks"]


def look_settings(render: RenderSettings, request: LookRequest) -> RenderSettings:
    """The task's camera settings changed into the look: one view, orbited or framed on the object."""
    update: dict[str, object] = {"views": [request.view]}
    if request.kind == "orbit":
        update["orbit"] = (request.azimuth, request.elevation)
    else:
        update.update(framing="auto", focus_objects=[request.object], isolate=request.kind == "isolate")
    return render.model_copy(update=update)


async def take_looks(scene: Scene, code: str, render: RenderSettings, requests: list[LookRequest], dest: Path,
                     first: int, timeout_s: float) -> list[Look]:
    """Render the looks; the scene must be at its baseline (the program runs once, before the first look)."""
    looks: list[Look] = []
    program = code
    for number, request in enumerate(requests, first):
        if request.kind != "orbit" and not request.object:
            looks.append(Look(request=request, error=f"a {request.kind} look needs `object`: the object's name"))
            continue
        done = await scene.execute_and_render(program, look_settings(render, request), dest / f"verifier-{number}",
                                              timeout_s=timeout_s)
        if done.report.success:
            program = "pass"  # the scene holds the program's result now; looks leave it as it is
        if done.render is not None:
            looks.append(Look(request=request, image=done.render.views[request.view].path))
        else:
            looks.append(Look(request=request, error=done.render_error or done.report.feedback()))
    return looks
