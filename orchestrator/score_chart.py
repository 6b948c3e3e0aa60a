"""The score curve of an attempt as inline SVG: one mark per iteration on a fixed 0..1 scale.

report.html draws one per attempt; being plain SVG text, it needs no script and fetches nothing.
"""

from __future__ import annotations

__all__ = ["score_svg"]


def score_svg(points: list[tuple[int, float | None]], threshold: float, best: int | None = None,
              width: int = 560, height: int = 170) -> str:
    """Score per iteration (None: the iteration failed, drawn as a red cross on the axis) on a fixed
    0..1 scale with gridlines, the threshold dashed and the attempt's best iteration ringed."""
    left, right, top, bottom = 34, 96, 10, 30
    pw, ph = width - left - right, height - top - bottom
    span = max(1, len(points) - 1)
    x = lambda i: left + 8 + (pw - 16) * i / span  # inset: a mark at 0 clears the y labels
    y = lambda s: top + ph * (1 - max(0.0, min(1.0, s)))
    out = [(f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="score per iteration" '
            f'font-size="10" font-family="system-ui,sans-serif">')]
    for g in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{left}" y1="{y(g):.1f}" x2="{left + pw}" y2="{y(g):.1f}" stroke="{"#bbb" if g == 0 else "#eee"}"/>'
                   f'<text x="{left - 5}" y="{y(g) + 3:.1f}" text-anchor="end" fill="#888">{g:g}</text>')
    step = max(1, -(-len(points) // 10))  # at most ~10 labels on the x axis
    last = len(points) - 1
    for i in [*(i for i in range(0, last, step) if last - i >= step / 2), last]:  # the last label never collides
        out.append(f'<text x="{x(i):.1f}" y="{top + ph + 13}" text-anchor="middle" fill="#888">{points[i][0]}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 3}" text-anchor="middle" fill="#888">iteration</text>')
    ty = y(threshold)
    out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{left + pw}" y2="{ty:.1f}" stroke="#34c759" stroke-dasharray="5 3"/>'
               f'<text x="{left + pw + 5}" y="{ty + 3:.1f}" fill="#1f8a3a">threshold {threshold:.2f}</text>')
    ran = [(i, s) for i, (_, s) in enumerate(points) if s is not None]
    if len(ran) > 1:
        line = " ".join(f"{x(i):.1f},{y(s):.1f}" for i, s in ran)
        out.append(f'<polyline points="{line}" fill="none" stroke="#0a84ff" stroke-width="1.5"/>')
    dots = len(points) <= 120  # past that the dots are a smear; the line and the crosses stay
    for i, (index, s) in enumerate(points):
        if s is None:
            cx, cy = x(i), y(0.0)
            out.append(f'<path d="M{cx - 3:.1f} {cy - 3:.1f}l6 6m0 -6l-6 6" stroke="#d70015" stroke-width="1.5">'
                       f'<title>iteration {index}: failed</title></path>')
        elif index == best:
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(s):.1f}" r="5" fill="#fff" stroke="#34c759" stroke-width="2.5">'
                       f'<title>iteration {index}: {s:.3f} (best)</title></circle>')
        elif dots:
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(s):.1f}" r="2.5" fill="#0a84ff">'
                       f'<title>iteration {index}: {s:.3f}</title></circle>')
    return "".join(out) + "</svg>"
