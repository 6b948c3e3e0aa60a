"""report.html: the run at a glance — best result first, then per attempt its score curve and renders.

Self-contained HTML (inline CSS and SVG); images are relative paths into the run folder, so the
page works when the folder is copied or served as is.
"""

from __future__ import annotations

import html
import time
from typing import Any

from orchestrator.artifacts import RunFolder, write_atomic
from orchestrator.state import AttemptState
from orchestrator.task import Task

__all__ = ["write_report", "score_svg"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d1d1f;background:#fafafa}
h1{margin-bottom:.2rem} .muted{color:#6e6e73} .card{background:#fff;border-radius:10px;padding:1rem 1.2rem;
margin:1rem 0;box-shadow:0 1px 3px #0002} .best{border-left:6px solid #34c759}
.strip{display:flex;gap:.5rem;overflow-x:auto;padding:.3rem 0} .strip figure{margin:0;text-align:center}
.strip img{width:128px;height:128px;object-fit:contain;background:#eee;border-radius:6px;display:block}
.strip figcaption{font-size:12px} .win img{outline:3px solid #34c759}
.refs img,.bestimgs img{width:180px;border-radius:6px;background:#eee}
pre{background:#1d1d1f;color:#f5f5f7;padding:1rem;border-radius:8px;overflow-x:auto;font-size:12px}
table{border-collapse:collapse;font-size:12px} td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.badge{display:inline-block;padding:0 .5rem;border-radius:9px;background:#e5e5ea;font-size:12px}
"""


def score_svg(scores: list[float], threshold: float, width: int = 360, height: int = 120) -> str:
    """The score per iteration as an inline SVG line chart with the threshold dashed."""
    pad = 24
    n = max(1, len(scores) - 1)
    xs = [pad + (width - 2 * pad) * i / n for i in range(len(scores))]
    y = lambda s: height - pad - (height - 2 * pad) * max(0.0, min(1.0, s))  # noqa: E731
    points = " ".join(f"{x:.1f},{y(s):.1f}" for x, s in zip(xs, scores))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y(s):.1f}" r="3" fill="#0a84ff"><title>iter {i}: {s:.3f}</title></circle>'
                   for i, (x, s) in enumerate(zip(xs, scores)))
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="score curve">'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<line x1="{pad}" y1="{y(threshold):.1f}" x2="{width - pad}" y2="{y(threshold):.1f}" stroke="#34c759" stroke-dasharray="4 3"/>'
            f'<text x="{width - pad}" y="{y(threshold) - 3:.1f}" font-size="10" text-anchor="end" fill="#34c759">threshold {threshold:.2f}</text>'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#ccc"/>'
            f'<text x="4" y="{y(1.0) + 4:.1f}" font-size="10" fill="#888">1</text><text x="4" y="{y(0.0) + 4:.1f}" font-size="10" fill="#888">0</text>'
            f'<polyline points="{points}" fill="none" stroke="#0a84ff" stroke-width="2"/>{dots}</svg>')


def _img(folder: RunFolder, path: str, caption: str, cls: str = "") -> str:
    return (f'<figure class="{cls}"><img loading="lazy" src="{html.escape(folder.rel(path))}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _calls_table(states: dict[int, AttemptState]) -> str:
    rows = []
    for state in states.values():
        for step in state.memory.steps:
            for c in step.calls:
                tokens = f"{c.tokens_in or 0}/{c.tokens_out or 0}" if c.tokens_in is not None else "–"
                cost = f"${c.cost_usd:.4f}" if c.cost_usd is not None else "–"
                rows.append(f"<tr><td>{state.index}</td><td>{step.index}</td><td>{html.escape(c.role)}</td>"
                            f"<td>{html.escape(c.model or 'none')}</td><td>{c.fallbacks_taken}</td><td>{tokens}</td>"
                            f"<td>{c.latency_ms:.0f} ms</td><td>{cost}</td><td>{html.escape('; '.join(c.errors))}</td></tr>")
    if not rows:
        return '<p class="muted">No model calls: this run used only offline backends.</p>'
    head = "<tr><th>attempt</th><th>iter</th><th>role</th><th>served by</th><th>fallbacks</th><th>tokens in/out</th><th>latency</th><th>cost</th><th>errors</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def write_report(folder: RunFolder, task: Task, states: dict[int, AttemptState], best: dict[str, Any] | None,
                 threshold: float | None = None) -> None:
    threshold = task.budget.threshold if threshold is None else threshold
    meta = folder.read_run()
    parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(task.name)} · Colossus run</title><style>{_CSS}</style>",
             f"<h1>{html.escape(task.name)}</h1><p class=muted>{html.escape(folder.run_id)} · status "
             f"<b>{html.escape(str(meta.get('status', '?')))}</b> · builder {html.escape(str(meta.get('config', {}).get('builder', '?')))}"
             f" · verifier {html.escape(str(meta.get('config', {}).get('verifier', '?')))} · written "
             f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}</p><p>{html.escape(task.description)}</p>"]
    if task.references:
        refs = "".join(_img(folder, f"ref/{v}{p.suffix.lower() or '.png'}", f"reference {v}") for v, p in sorted(task.references.items()))
        parts.append(f'<div class="card refs"><h3>References</h3><div class=strip>{refs}</div></div>')
    if best:
        imgs = "".join(_img(folder, p, v) for v, p in sorted(best["renders"].items()))
        state = states[best["attempt"]]
        step = next(s for s in state.memory.steps if s.index == best["iteration"])
        parts.append(f'<div class="card best"><h2>Best: attempt {best["attempt"]}, iteration {best["iteration"]} — '
                     f'score {best["score"]:.3f}</h2><div class="strip bestimgs">{imgs}</div>'
                     f"<h3>Winning code</h3><pre>{html.escape(step.code)}</pre></div>")
    else:
        parts.append('<div class="card"><h2>No iteration produced renders yet.</h2></div>')
    for state in states.values():
        scores = [s.score for s in state.memory.steps]
        win = best and best["attempt"] == state.index
        strip = "".join(
            _img(folder, s.renders.get("iso") or next(iter(s.renders.values())), f"iter {s.index} · {s.score:.3f}",
                 "win" if win and s.index == best["iteration"] else "")
            if s.renders else f"<figure><div style='width:128px;height:128px;background:#fdd;border-radius:6px'></div>"
                              f"<figcaption>iter {s.index} · failed</figcaption></figure>"
            for s in state.memory.steps)
        parts.append(f'<div class="card"><h3>Attempt {state.index} <span class=badge>{state.status}</span> '
                     f'<span class=badge>{html.escape(state.strategy.prompt_variant)}</span> '
                     f'<span class=muted>best {state.best_score:.3f} over {len(scores)} iteration(s)</span></h3>'
                     f'{score_svg(scores, threshold) if scores else ""}<div class=strip>{strip}</div>'
                     + (f"<p class=muted>{html.escape(state.error)}</p>" if state.error else "") + "</div>")
    parts.append(f'<div class="card"><h3>Model log</h3>{_calls_table(states)}</div>')
    write_atomic(folder.root / "report.html", "\n".join(parts))
