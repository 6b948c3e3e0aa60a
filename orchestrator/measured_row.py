"""The report's "measured" row: per view, the subjects the numbers were measured on, and how.

Beside the reference and the best render, a person sees the render's subject (green), the
reference's (red) and their overlap (yellow), with whether they came from the scene or from
colours, and why scene-based measurement was unavailable when it was.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from harness.vision_types import ViewMetrics

__all__ = ["measured_row"]


def measured_row(per_view: Mapping[str, ViewMetrics], views: list[str]) -> str:
    """A table row of mask overlays, or "" when no view carries one."""
    if not any(m.subject_masks for m in per_view.values()):
        return ""
    cells = []
    for view in views:
        metrics = per_view.get(view)
        if metrics is None or not metrics.subject_masks:
            cells.append("<td></td>")
            continue
        r = metrics.residuals
        how = f"{r.measured_by}, IoU {metrics.silhouette_iou:.2f}" if r is not None else f"IoU {metrics.silhouette_iou:.2f}"
        note = f"<br><span class=err>{html.escape(r.note)}</span>" if r is not None and r.note else ""
        cells.append(f'<td><img src="{metrics.subject_masks}" alt="subjects measured in {html.escape(view)}: render green, '
                     f'reference red, both yellow"><span class=muted>{html.escape(how)}</span>{note}</td>')
    return ('<tr><th scope=row title="render green, reference red, overlap yellow">measured</th>'
            + "".join(cells) + "</tr>")
