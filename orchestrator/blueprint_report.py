"""report.html's blueprint section: each drawing beside the best iteration's orthographic render,
with the view's IoU and profile agreement, the plan sizes and what still differs, in metres."""

from __future__ import annotations

import html

from harness.blueprint_types import BlueprintReport

__all__ = ["plans_html"]


def plans_html(report: BlueprintReport, images: dict[str, tuple[str, str]]) -> str:
    """`images`: view → (drawing src, render src), already URL-quoted and escaped."""
    views = [v for v in report.views if v in images]
    if not views:
        return ""
    head = "".join(f"<th>{html.escape(v)} <span class=muted>IoU {report.views[v].iou:.3f} · profile "
                   f"{report.views[v].profile_agreement:.3f}</span></th>" for v in views)
    rows = "".join(f"<tr><th scope=row>{name}</th>" + "".join(
        f'<td><img src="{images[v][k]}" alt="{name} {html.escape(v)}"></td>' for v in views) + "</tr>"
        for k, name in ((0, "drawing"), (1, "orthographic render")))
    sizes = " · ".join(f"{html.escape(k)} {report.overall_m[k]:.2f} m (render {d:+.2f} m)"
                       for k, d in report.overall_residual_m.items())
    dirs = "".join(f"<li>{html.escape(d)}</li>" for d in report.directions)
    return (f'<h3>Against the plans <span class=muted>score {report.score:.3f} · span {report.span_m:g} m · '
            f'{sizes}</span></h3><div class=wide><table class=views><tr><th></th>{head}</tr>{rows}</table></div>'
            + (f"<ul class=dirs>{dirs}</ul>" if dirs else ""))
