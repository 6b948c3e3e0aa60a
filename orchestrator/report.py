"""report.html: the run at a glance — best result against the references first, then per attempt
its score curve, its iterations' renders and what failed, then the model log.

Self-contained HTML (inline CSS and SVG, no script, nothing fetched); images are relative paths
derived from the run folder's layout, so the page works when the folder is moved, copied or
served as is. Every piece of task, code, model or error text is escaped. While the run goes on,
a live version (orchestrator.live_report) carries a "live" badge and refreshes itself every few
seconds; the one written when the run ends does not.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.blueprint_types import plan_name
from orchestrator.artifacts import RunFolder, write_atomic
from orchestrator.blueprint_report import plans_html
from orchestrator.measured_row import measured_row
from orchestrator.memory import IterationStep
from orchestrator.run_models import models_used
from orchestrator.run_status import shared_convergence
from orchestrator.score_chart import score_svg
from orchestrator.spend import spend_of
from orchestrator.state import AttemptState, degradations, run_spend
from orchestrator.task import Task

__all__ = ["score_svg", "write_report", "LIVE_REFRESH_S"]

LIVE_REFRESH_S = 3  # a live report reloads itself this often (a file:// page has no other way to update)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d1d1f;background:#fafafa}
h1{margin:0 0 .2rem} h2{margin:.2rem 0 .6rem;font-size:1.25rem} h3{margin:1rem 0 .4rem;font-size:1rem}
a{color:inherit} figcaption a{text-decoration:none} figcaption a:hover{text-decoration:underline}
.muted{color:#6e6e73} .desc{white-space:pre-wrap;font-size:15px}
.card{background:#fff;border-radius:10px;padding:1rem 1.2rem;margin:1rem 0;box-shadow:0 1px 3px #0002}
.win{border-left:6px solid #34c759}
.badge{display:inline-block;padding:0 .5rem;border-radius:9px;background:#e5e5ea;font-size:12px;font-weight:600;
vertical-align:middle}
.ok{background:#d4f5dc;color:#0b6b24} .bad{background:#ffd9d6;color:#a1120a} .warn{background:#ffedc2;color:#7a4d00}
.busy{background:#d6e9ff;color:#0a4fa1}
.views{border-collapse:collapse} .views th{font-weight:600;text-align:center;padding:.2rem .4rem}
.views td{padding:.25rem .4rem;vertical-align:top} .views th[scope=row]{text-align:right;color:#6e6e73}
.wide{overflow-x:auto} .views img{width:200px;height:200px} svg{max-width:100%;height:auto}
h2 .muted{font-size:14px;font-weight:400}
img{object-fit:contain;background:#111;border-radius:6px;display:block}
.row{display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap}
.row figure{margin:0;text-align:center} .row figure img{width:170px;height:170px}
.strip{display:flex;gap:.5rem;overflow-x:auto;padding:.3rem .1rem .6rem}
.strip figure{margin:0;text-align:center;flex:0 0 auto}
.strip img,.strip .fail{width:112px;height:112px}
.strip .best img{outline:3px solid #34c759;outline-offset:-3px}
.fail{background:#fde2e0;color:#a1120a;border-radius:6px;display:flex;align-items:center;justify-content:center;
font:600 12px ui-monospace,monospace;padding:4px;box-sizing:border-box;overflow:hidden;word-break:break-all}
figcaption{font-size:12px;white-space:nowrap}
pre{background:#1d1d1f;color:#f5f5f7;padding:1rem;border-radius:8px;overflow-x:auto;font-size:12px;line-height:1.4}
.err{color:#a1120a} pre.err{background:#fff4f3;color:#5e0b05;border:1px solid #f4c7c3;max-height:16em}
details summary{cursor:pointer;margin:.5rem 0} h3 .muted{font-weight:400;font-size:13px}
.crit dt{font-weight:600;margin-top:.3rem} .crit dd{margin:0} .crit ul{margin:.1rem 0;padding-left:1.2rem}
table.log{border-collapse:collapse;font-size:12px}
.log td,.log th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.log td.n{text-align:right;font-variant-numeric:tabular-nums}
"""

_STATUS_CLASS = {"converged": "ok", "failed": "bad", "timeout": "bad", "cancelled": "warn", "skipped": "warn",
                 "running": "busy", "pending": "busy"}
_LOG_OPEN_ROWS = 40  # a longer model log starts folded
_ERRORS_OPEN = 5  # so does a longer list of failed iterations


def _e(value: Any) -> str:
    return html.escape(str(value))


def _badge(text: str, cls: str = "") -> str:
    return f'<span class="badge {cls}">{_e(text)}</span>'


def _src(folder: RunFolder, path: Path) -> str:
    return html.escape(quote(folder.rel(path)))


def _render(folder: RunFolder, attempt: int, step: IterationStep, view: str) -> Path:
    """Where a render lives by the folder's layout: the path recorded in the step is absolute and goes
    stale when the run folder is moved."""
    return folder.renders_dir(attempt, step.index) / Path(step.renders[view]).name


def _failure(step: IterationStep) -> str:
    """Why an iteration produced no renders, in one line."""
    if step.error:
        return step.error
    report = step.execution
    if report is None:
        return "nothing ran"
    if report.exception is not None:
        return f"{report.exception.type}: {report.exception.message}"
    return report.error_class.value


def _views_table(folder: RunFolder, views: list[str], refs: dict[str, Path], attempt: int, step: IterationStep | None) -> str:
    """Reference and best render side by side per view, with the view's own score when there is one."""
    renders = {v: _render(folder, attempt, step, v) for v in step.renders} if step else {}
    per_view = step.compare.views if step and step.compare else {}
    views = [v for v in views if v in renders or v in refs]
    head = "".join(f"<th>{_e(v)}" + (f' <span class=muted>{per_view[v].score:.3f}</span>' if v in per_view else "") + "</th>"
                   for v in views)
    rows = [(name, row) for name, row in (("reference", refs), ("best", renders)) if row]
    body = "".join(f"<tr><th scope=row>{name}</th>" + "".join(
        f'<td><img src="{_src(folder, row[v])}" alt="{name} {_e(v)}"></td>' if v in row else "<td></td>" for v in views)
        + "</tr>" for name, row in rows)
    body += measured_row(per_view, views)
    return f"<div class=wide><table class=views><tr><th></th>{head}</tr>{body}</table></div>"


def _directions(step: IterationStep) -> str:
    """Which way the best render still differs from the reference, per view (measured, not a model's words)."""
    if step.compare is None or not step.compare.directions:
        return ""
    return f'<h3>Against the reference</h3><ul class=dirs>{"".join(f"<li>{_e(d)}</li>" for d in step.compare.directions)}</ul>'


def _plans(folder: RunFolder, attempt: int, step: IterationStep) -> str:
    """Each drawing (the run folder's copy in plans/) beside the step's orthographic render."""
    if step.blueprint is None:
        return ""
    drawings = {p.stem: p for p in (folder.root / "plans").glob("*.*")}
    return plans_html(step.blueprint, {v: (_src(folder, drawings[v]), _src(folder, _render(folder, attempt, step, plan_name(v))))
                                       for v in step.blueprint.views if v in drawings and plan_name(v) in step.renders})


def _critique(folder: RunFolder, attempt: int, step: IterationStep) -> str:
    """What the VLM verifier said about an iteration, when one was asked, with the extra looks it took."""
    c = step.critique
    if c is None:
        return ""
    looks_dir = folder.iter_dir(attempt, step.index) / "looks"  # by the layout: stored paths go stale when moved
    looks = "".join(
        (f'<figure><img src="{_src(folder, looks_dir / f"verifier-{n}" / f"{lk.request.view}.png")}" alt="look {n}">'
         if lk.image else f'<figure><div class=fail title="{_e(lk.error)}">{_e(lk.request.kind)} failed</div>')
        + f'<figcaption>{_e(lk.request.kind)} {_e(lk.request.object or lk.request.view)}</figcaption></figure>'
        for n, lk in enumerate(c.looks, 1))
    scores = " · ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in c.scores.model_dump().items())
    lists = "".join(f"<dt>{name}</dt><dd><ul>{''.join(f'<li>{_e(x)}</li>' for x in xs)}</ul></dd>"
                    for name, xs in (("Issues", c.issues), ("Suggestions", c.suggestions), ("Good", c.positive_aspects)) if xs)
    taken = f'<p class=muted>Extra looks it took:</p><div class=strip>{looks}</div>' if looks else ""
    return (f'<h3>Verifier critique <span class=muted>overall {c.overall_score:.2f} · {scores}</span></h3>'
            f'<dl class=crit>{lists}</dl>{taken}')


def _best_card(folder: RunFolder, task: Task, refs: dict[str, Path], states: dict[int, AttemptState],
               best: dict[str, Any] | None, threshold: float) -> str:
    state = states.get(best["attempt"]) if best else None
    step = next((s for s in state.memory.steps if s.index == best["iteration"]), None) if state and best else None
    if step is None or not step.renders:
        failed = [s for st in states.values() for s in st.memory.steps if not s.renders]
        why = f'<p class=err>First failure: {_e(_failure(failed[0]))}</p>' if failed else ""
        refs_table = _views_table(folder, task.render.views, refs, 0, None) if refs else ""
        return f'<section class=card><h2>No iteration produced renders.</h2>{why}{refs_table}</section>'
    penalty = f' <span class=muted>(sentinel penalty {step.sentinel_penalty:.2f})</span>' if step.sentinel_penalty else ""
    reached = (_badge("reached the threshold", "ok") if best["score"] >= threshold
               else _badge(f"below the threshold {threshold:.2f}", "warn"))
    plan = f'<p class=muted>Plan: {_e(step.plan.strip())}</p>' if step.plan.strip() else ""
    return (f'<section class="card win"><h2>Best: <a href="#attempt-{state.index}">attempt {state.index}</a>, '
            f'iteration {step.index} — score {best["score"]:.3f}{penalty} {reached}</h2>'
            f'{_views_table(folder, task.render.views, refs, state.index, step)}{_directions(step)}'
            f'{_plans(folder, state.index, step)}{_critique(folder, state.index, step)}'
            f'<h3>Winning code</h3>{plan}{_tools(step)}<pre><code>{_e(step.code)}</code></pre></section>')


def _tools(step: IterationStep) -> str:
    """A tool-using builder's calls, in order (their code is part of the program below)."""
    if not step.tool_calls:
        return ""
    calls = ", ".join(_e(c.name) if c.ok else f'<span class=err title="{_e(c.result)}">{_e(c.name)} ✗</span>'
                      for c in step.tool_calls)
    return f'<p class=muted>Built through {len(step.tool_calls)} tool call(s): {calls}</p>'


def _face(step: IterationStep, views: list[str]) -> str:
    """The view that stands for an iteration in small: iso when rendered (it shows the most), else the first."""
    return next((v for v in ("iso", *views) if v in step.renders), next(iter(step.renders)))


def _thumb(folder: RunFolder, state: AttemptState, step: IterationStep, views: list[str], best: int | None) -> str:
    """One iteration in the strip: its render opens full size, its caption opens the code that made it."""
    code = _src(folder, folder.iter_dir(state.index, step.index) / "code.py")
    if not step.renders:
        report = step.execution
        label = "error" if step.error or report is None else report.error_class.value
        if report is not None and report.exception is not None and not step.error:
            label = report.exception.type
        return (f'<figure><div class=fail title="{_e(_failure(step))}">{_e(label)}</div>'
                f'<figcaption><a class=err href="{code}">iter {step.index} · failed</a></figcaption></figure>')
    view = _face(step, views)
    cls = ' class="best"' if step.index == best else ""
    src = _src(folder, _render(folder, state.index, step, view))
    return (f'<figure{cls}><a href="{src}"><img loading="lazy" src="{src}" alt="iteration {step.index}, {_e(view)} view" '
            f'title="iteration {step.index}: {step.score:.3f}"></a>'
            f'<figcaption><a href="{code}">iter {step.index} · {step.score:.3f}</a></figcaption></figure>')


def _attempt_card(folder: RunFolder, task: Task, state: AttemptState, threshold: float, winner: bool) -> str:
    steps = state.memory.steps
    top = state.best
    failed = [s for s in steps if not s.renders or s.error or s.evaluator_errors]
    facts = [f"{len(steps)} iteration(s)"]
    if top:
        facts.insert(0, f"best {top.score:.3f} at iteration {top.index}")
    if calls := sum(len(s.tool_calls) for s in steps):
        facts.append(f"{calls} tool call(s)")
    if any(not s.renders for s in steps):
        facts.append(f"{sum(1 for s in steps if not s.renders)} failed")
    if state.started_at and state.finished_at:
        facts.append(f"{state.finished_at - state.started_at:.1f} s")
    head = (f'<h2>Attempt {state.index} {_badge(state.status, _STATUS_CLASS.get(state.status, ""))} '
            f'{_badge(state.strategy.prompt_variant)}' + (" " + _badge("best of the run", "ok") if winner else "")
            + f'</h2><p class=muted>{" · ".join(facts)}</p>')
    best_fig = ""
    if top:
        src = _src(folder, _render(folder, state.index, top, _face(top, task.render.views)))
        best_fig = (f'<figure><a href="{src}"><img src="{src}" alt="best of attempt {state.index}"></a>'
                    f'<figcaption>best · iter {top.index} · {top.score:.3f}</figcaption></figure>')
    chart = ""  # an attempt that never ran (skipped, pending) has no curve
    if steps:
        chart = score_svg([(s.index, s.score if s.renders else None) for s in steps], threshold, top.index if top else None)
    strip = "".join(_thumb(folder, state, s, task.render.views, top.index if top else None) for s in steps)
    parts = [head, f'<div class=row>{chart}{best_fig}</div>', f"<div class=strip>{strip}</div>"]
    if state.error:
        parts.append(f'<p class=err>Attempt stopped: {_e(state.error)}</p>')
    if why := shared_convergence(state, threshold):
        parts.append(f"<p class=muted>{_e(why)}</p>")
    if failed:
        items = []
        for s in failed:
            lines = ([] if s.renders else [_failure(s)]) + [f"evaluator: {e}" for e in s.evaluator_errors]
            trace = s.execution.exception.traceback if s.execution and s.execution.exception and not s.renders else ""
            items.append(f"<li>iteration {s.index}: {_e('; '.join(lines))}"
                         + (f"<pre class=err>{_e(trace)}</pre>" if trace else "") + "</li>")
        opened = " open" if len(failed) <= _ERRORS_OPEN else ""
        parts.append(f"<details{opened}><summary class=err>{len(failed)} iteration(s) with errors</summary>"
                     f"<ul>{''.join(items)}</ul></details>")
    return f'<section class="card{" win" if winner else ""}" id="attempt-{state.index}">{"".join(parts)}</section>'


def _model_log(states: dict[int, AttemptState]) -> str:
    calls = [(state.index, step.index, c) for state in states.values() for step in state.memory.steps for c in step.calls]
    if not calls:
        return '<p class="muted">No model calls: this run used only offline backends.</p>'
    rows = []
    for attempt, index, c in calls:
        tokens = f"{c.tokens_in or 0} / {c.tokens_out or 0}" if c.tokens_in is not None else "–"
        cost = f"${c.cost_usd:.4f}" if c.cost_usd is not None else "–"
        rows.append(f'<tr><td><a href="#attempt-{attempt}">{attempt}</a></td><td>{index}</td><td>{_e(c.role)}</td>'
                    f'<td>{_e(c.model or "none (every model failed)")}</td><td class=n>{c.fallbacks_taken}</td>'
                    f'<td class=n>{tokens}</td>'
                    f'<td class=n>{c.latency_ms:.0f} ms</td><td class=n>{cost}</td><td>{_e("; ".join(c.errors))}</td></tr>')
    tin = sum(c.tokens_in or 0 for *_, c in calls)
    tout = sum(c.tokens_out or 0 for *_, c in calls)
    spent = spend_of(c for *_, c in calls)
    totals = (f"{len(calls)} call(s) · {sum(c.fallbacks_taken > 0 for *_, c in calls)} with fallbacks · "
              f"tokens {tin} in / {tout} out · {sum(c.latency_ms for *_, c in calls) / 1000:.1f} s waiting"
              + (f" · ${spent.cost_usd:.4f}" if spent.cost_known else " · cost unknown"))
    head = ("<tr><th>attempt</th><th>iter</th><th>role</th><th>served by</th><th>fallbacks</th><th>tokens in / out</th>"
            "<th>latency</th><th>cost</th><th>errors</th></tr>")
    opened = " open" if len(rows) <= _LOG_OPEN_ROWS else ""
    return f'<details{opened}><summary>{totals}</summary><table class=log>{head}{"".join(rows)}</table></details>'


def _asset_cards(folder: RunFolder) -> list[str]:
    """One card per finalized asset (asset/<profile>/validation.json): verdict, a render per LOD, failed checks."""
    cards = []
    for verdict_file in sorted(folder.root.glob("asset/*/validation.json")):
        verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
        renders = verdict_file.parent / "renders"
        lods = "".join(
            f'<figure><img src="{_src(folder, renders / (lod["name"] + ".png"))}" alt="{_e(lod["name"])}">'
            f'<figcaption>{_e(lod["name"])} · {lod["triangles"]} triangles</figcaption></figure>'
            for lod in verdict["lods"])
        failed = [c for c in verdict["checks"] if not c["passed"]]
        rows = "".join(f"<li>{_e(c['name'])}{'' if c['required'] else ' (not required)'}: {_e(c['detail'])}</li>"
                       for c in failed)
        badge = _badge("valid", "ok") if verdict["valid"] else _badge("not valid", "bad")
        cards.append(f'<section class=card><h2>Asset: {_e(verdict["profile"])} {badge}</h2>'
                     f'<div class=row>{lods}</div>'
                     f'<p class=muted>{len(verdict["checks"]) - len(failed)} of {len(verdict["checks"])} checks passed'
                     f'{" · failed:" if failed else ""}</p><ul>{rows}</ul></section>')
    return cards


def _degraded(states: dict[int, AttemptState]) -> str:
    rows = degradations(states)
    if not rows:
        return ""
    items = "".join(f"<li>attempt {d['attempt']}, iteration {d['iteration']}: {_e(d['role'])} → {_e(d['backend'])} "
                    f"<span class=muted>({_e(d['reason'])})</span></li>" for d in rows)
    return (f'<section class=card><h2>{_badge("degraded", "warn")} Offline backends took over</h2>'
            f"<p>Every remote model of a role failed, so the offline entry of its chain answered instead.</p>"
            f"<ul>{items}</ul></section>")


def _rendered(task: Task, states: dict[int, AttemptState]) -> str:
    """What the loop rendered on: Cycles' device, samples and tier as the newest render reported, or Workbench."""
    cycles = [s.cycles for st in states.values() for s in st.memory.steps if s.cycles is not None]
    if cycles:
        return f"rendered on {_e(cycles[-1].describe())}"
    return "rendered with Workbench (preview)" if task.render.preset == "preview" else "rendered with Cycles"


def _models_facts(given: dict[str, list[str]], used: dict[str, list[str]]) -> list[str]:
    """One fact per role the run called: the models that answered, and the chain it was given."""
    return [f"{_e(role)}: {_e(', '.join(used[role]))} <span class=muted>(chain {_e(' → '.join(given.get(role, [])))})</span>"
            for role in sorted(used)]


def write_report(folder: RunFolder, task: Task, states: dict[int, AttemptState], best: dict[str, Any] | None,
                 threshold: float | None = None, live: bool = False) -> None:
    """Write report.html. The references shown are the run folder's own copies in ref/ (named by view):
    the task given may be the original, whose reference paths lie outside the folder. `live`: the run
    is still going (a badge naming the iterations done, and a refresh)."""
    threshold = task.budget.threshold if threshold is None else threshold
    record = folder.read_run()
    config = record.config.model_dump() if record.config else {}
    ref_dir = folder.root / "ref"
    refs = {p.stem: p for p in sorted(ref_dir.iterdir()) if p.stem in task.references} if ref_dir.is_dir() else {}
    elapsed = record.finished_at - (record.created_at or 0) if record.finished_at else None
    facts = [f"status <b>{_e(record.status)}</b>", f"builder {_e(config.get('builder', '?'))}",
             f"verifier {_e(config.get('verifier', '?'))}", f"{len(states)} attempt(s)", f"threshold {threshold:.2f}"]
    if elapsed is not None:
        facts.append(f"{elapsed:.1f} s")
    spent = run_spend(states)
    if spent.calls or config.get("max_cost_usd") or config.get("max_tokens"):
        caps = [f"${config['max_cost_usd']:.4f}" if config.get("max_cost_usd") else "",
                f"{config['max_tokens']:,} tokens" if config.get("max_tokens") else ""]
        cap = " / ".join(c for c in caps if c)
        facts.append(f"spent {_e(spent.describe())}" + (f" of {_e(cap)}" if cap else ""))
    facts.append(f"written {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    if record.forked_from:
        origin = record.forked_from
        facts.append(f"forked from {_e(origin.get('run_id'))}, attempt {_e(origin.get('attempt'))}, "
                     f"iteration {_e(origin.get('iteration'))}")
    facts += _models_facts(record.models, models_used(states))
    facts.append(_rendered(task, states))
    if record.recalled:
        r = record.recalled
        facts.append(f"started warm from {_e(r['run_id'])} (similarity {r['similarity']:.2f}: {_e(r['why'])}; "
                     f"used {_e('; '.join(r['used']))})")
    winner = best["attempt"] if best else None
    done = sum(s.done_iterations for s in states.values())
    badge = f" {_badge(f'live · {done} iteration(s) done · refreshes every {LIVE_REFRESH_S} s', 'busy')}" if live else ""
    parts = [('<!doctype html><html lang=en><meta charset=utf-8>'
              '<meta name=viewport content="width=device-width,initial-scale=1">'
              + (f'<meta http-equiv="refresh" content="{LIVE_REFRESH_S}">' if live else "")
              + f"<title>{_e(task.name)} · Colossus run</title><style>{_CSS}</style>"),
             (f"<h1>{_e(task.name)}{badge}</h1><p class=muted>{_e(folder.run_id)} · {' · '.join(facts)}</p>"
              f"<p class=desc>{_e(task.description)}</p>"),
             _degraded(states),
             _best_card(folder, task, refs, states, best, threshold),
             *(_attempt_card(folder, task, s, threshold, s.index == winner) for s in states.values()),
             *_asset_cards(folder),
             f'<section class=card><h2>Model log</h2>{_model_log(states)}</section></html>']
    write_atomic(folder.root / "report.html", "\n".join(parts))
