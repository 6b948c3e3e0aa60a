"""Benchmark of cross-run recall (MEM-05), measured side by side in one run on real Blender.

    python bench/recall.py --json
    python bench/recall.py --lookup-only   # the look-up figure alone, in seconds, without Blender

A sequence of related tasks: the red_block object (one block on a ground plane) with other
proportions, placements and colours, reds and blues interleaved. Each task's references are
rendered in this run from a truth program the bench writes (red_block's truth.py with that
variant's values); its start program is red_block's own (right kind of object, wrong values).

- cold: every task alone, recall off (one attempt, parametric builder, metrics verifier).
- warm: the same tasks in sequence in a second runs folder, recall on, as a user would run them:
  task i may start from any of tasks 0..i-1.
- renders_ratio: per task with a predecessor, renders to reach the threshold warm ÷ cold; the
  median over the sequence (target ≤ 0.5). extra_renders: warm − cold per task, its median
  (target ≤ 1: recall never makes a run worse than cold by more than one render).
- lookup: a recall look-up (the query's references signed, the index searched, the hit's entry read)
  against an index of 1,000 runs (the warm runs' entries repeated with perturbed signatures, each
  with its run folder): `cached_ms`, the median of 20 with the index in memory (as in a serving
  gateway); `fresh_process_ms`, the median of 5 fresh processes, from nothing of the index loaded
  to the answer (side file read, run folders listed), as a new `colossus run` does (target ≤ 50 ms),
  and its process time (`fresh_process_cpu_ms`: what the machine's load does not inflate); beside
  `without_side_file_ms`, the same with the side file deleted first (the whole index parsed, as before
  the side file, and the side file written again): the baseline of the same run;
  `import_ms`, what importing orchestrator.recall costs such a process before that.
A run that never reaches the threshold counts the whole budget.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from loop import pool  # noqa: E402  (bench/loop.py, beside this file)
from gateway.commands.demo import EXAMPLES  # noqa: E402
from harness import serving  # noqa: E402
from harness.image_signature import signature  # noqa: E402
from orchestrator.checkpoint import Checkpoint  # noqa: E402
from orchestrator.params import apply_values  # noqa: E402
from orchestrator.recall import RecallEntry, RecallStore  # noqa: E402
from orchestrator.service import RunService  # noqa: E402
from orchestrator.task import load_task  # noqa: E402

BASE = EXAMPLES / "red_block"
# (width, depth, height), offset_x, colour: one family, other proportions and colours
VARIANTS = [
    ((1.6, 0.8, 1.2), 0.6, (0.80, 0.10, 0.08), "red"),
    ((0.9, 0.9, 1.8), -0.4, (0.10, 0.20, 0.80), "blue"),
    ((1.5, 0.8, 1.3), 0.5, (0.75, 0.12, 0.10), "red"),
    ((1.0, 0.8, 1.7), -0.5, (0.12, 0.25, 0.75), "blue"),
    ((1.8, 0.7, 1.1), 0.7, (0.85, 0.15, 0.05), "red"),
    ((0.8, 1.0, 1.9), -0.3, (0.08, 0.15, 0.85), "blue"),
    ((1.4, 0.9, 1.4), 0.4, (0.70, 0.08, 0.12), "red"),
    ((1.1, 0.9, 1.6), -0.45, (0.15, 0.22, 0.70), "blue"),
]


async def make_task(provider: Any, workdir: Path, i: int) -> Path:
    """Variant i as a task folder: red_block's files, its own truth program, references rendered from it here."""
    size, offset, colour, name = VARIANTS[i]
    folder = workdir / "tasks" / f"block_{i}"
    shutil.copytree(BASE, folder, ignore=shutil.ignore_patterns("ref"))
    truth = apply_values((BASE / "truth.py").read_text(), {"size": list(size), "offset_x": [offset], "color": list(colour)})
    (folder / "truth.py").write_text(truth)
    toml = folder / "task.toml"
    toml.write_text(toml.read_text().replace('name = "red_block"', f'name = "block_{i}"')
                    .replace("A red rectangular block", f"A {name} rectangular block"))
    (folder / "ref").mkdir()
    for view in ("front", "side", "top", "iso"):  # load_task wants the files; they are rendered just below
        (folder / "ref" / f"{view}.png").write_bytes((BASE / "ref" / f"{view}.png").read_bytes())
    task = load_task(toml)
    async with provider.lease() as scene:
        done = await scene.execute_and_render(truth, task.render, folder / "ref")
    assert done.render is not None and set(done.render.views) >= set(task.references), done
    return toml


async def renders(service: RunService, task: Path, recall: bool, budget: int, threshold: float) -> dict[str, Any]:
    run_id = await service.start(task, builder="parametric", verifier="metrics", attempts=1, iterations=budget,
                                 threshold=threshold, seed=0, recall=recall)
    status = await service.wait(run_id)
    steps = Checkpoint.read(Path(status.run_dir))[0].memory.steps
    hit = next((s.index + 1 for s in steps if s.score >= threshold), budget)
    recalled = status.recalled or {}
    return {"renders": hit, "best": round(status.best_score or 0.0, 4), "status": status.status,
            "error": status.attempts[0].error if status.attempts else status.error,
            "recalled": recalled.get("run_id"), "similarity": recalled.get("similarity")}


FRESH = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from orchestrator.recall import RecallStore
t1, c1 = time.perf_counter(), time.process_time()
memory, runs, text, refs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
hit = RecallStore(Path(memory), Path(runs)).lookup(text, {v: Path(p) for v, p in refs.items()})
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "lookup_ms": (t2 - t1) * 1000, "cpu_ms": (c2 - c1) * 1000,
                  "hit": hit and hit.entry.run_id}))
"""


def lookup_ms(warm_store: RecallStore, query: Path, workdir: Path, size: int = 1000, repeats: int = 20) -> dict[str, Any]:
    """An index of `size` runs made from the warm runs' entries (signatures perturbed, ids renamed, a folder each)."""
    rng = random.Random(0)
    base = warm_store.entries()
    entries = []
    for n in range(size):
        entry = base[n % len(base)]
        sigs = {v: s.model_copy(update={"phash": f"{int(s.phash, 16) ^ rng.getrandbits(64) & rng.getrandbits(64):016x}",
                                        "colour": [c * rng.uniform(0.8, 1.2) for c in s.colour]})
                for v, s in entry.reference_signatures.items()}
        entries.append(entry.model_copy(update={"run_id": f"synthetic_{n:04d}", "reference_signatures": sigs}))
    runs = workdir / "lookup-runs"
    for entry in entries:
        (runs / entry.run_id).mkdir(parents=True)
    store = RecallStore(runs / ".memory", runs)
    store._write(entries)  # noqa: SLF001 - the bench writes a synthetic index directly
    task = load_task(query)
    text, refs = f"{task.name} {task.description}", dict(task.references)
    cached = []
    for _ in range(repeats):
        t = time.perf_counter()
        expected = store.lookup(text, refs)
        cached.append((time.perf_counter() - t) * 1000)
    def fresh_process(side_file: bool) -> dict[str, Any]:
        if not side_file:
            store.side_path.unlink()
        return json.loads(subprocess.run(
            [sys.executable, "-c", FRESH, str(runs / ".memory"), str(runs), text, json.dumps({v: str(p) for v, p in refs.items()})],
            cwd=PROJECT, check=True, capture_output=True, text=True).stdout)

    without = [fresh_process(side_file=False) for _ in range(3)]  # the baseline: the whole index parsed (and the side file made)
    fresh = [fresh_process(side_file=True) for _ in range(5)]
    assert all(f["hit"] == (expected and expected.entry.run_id) for f in fresh + without), (fresh, without, expected)
    return {"indexed_runs": len(store.entries()), "hit": expected and expected.entry.run_id,
            "cached_ms": round(statistics.median(cached), 2),
            "fresh_process_ms": round(statistics.median(f["lookup_ms"] for f in fresh), 2),
            "fresh_process_cpu_ms": round(statistics.median(f["cpu_ms"] for f in fresh), 2),
            "without_side_file_ms": round(statistics.median(f["lookup_ms"] for f in without), 2),
            "import_ms": round(statistics.median(f["import_ms"] for f in fresh), 2), "target_ms": 50}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="colossus-bench-recall-"))
    try:
        async with pool(workdir, workers=1) as services:
            tasks = [await make_task(services.provider, workdir, i) for i in range(args.tasks)]
            cold_service = RunService(services.provider, services.vision, workdir / "runs" / "cold")
            warm_service = RunService(services.provider, services.vision, workdir / "runs" / "warm")
            rows = []
            for i, task in enumerate(tasks):
                cold = await renders(cold_service, task, False, args.budget, args.threshold)
                warm = await renders(warm_service, task, True, args.budget, args.threshold)
                rows.append({"task": i, "variant": VARIANTS[i][3], "cold": cold, "warm": warm})
                print(f"task {i} ({VARIANTS[i][3]}): cold {cold['renders']} renders, warm {warm['renders']} "
                      f"(recalled {warm['recalled']}, similarity {warm['similarity']})", file=sys.stderr)
            later = rows[1:]
            ratios = [r["warm"]["renders"] / r["cold"]["renders"] for r in later]
            extra = [r["warm"]["renders"] - r["cold"]["renders"] for r in later]
            result = {
                "tasks": rows, "threshold": args.threshold, "budget": args.budget,
                "renders_ratio": {"median": round(statistics.median(ratios), 3), "per_task": [round(x, 3) for x in ratios],
                                  "target": 0.5},
                "extra_renders": {"median": statistics.median(extra), "worst": max(extra), "target": 1},
                "lookup": lookup_ms(warm_service.recall, tasks[-1], workdir),
            }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def lookup_only() -> dict[str, Any]:
    """The look-up figure alone, without Blender: the index's runs are red_block itself (its references as
    both references and best renders, its truth as the program), repeated with perturbed signatures."""
    workdir = Path(tempfile.mkdtemp(prefix="colossus-bench-recall-"))
    try:
        refs = {p.stem: s for p in sorted((BASE / "ref").glob("*.png")) if (s := signature(p)) is not None}
        task = load_task(BASE / "task.toml")
        store = RecallStore(workdir / "base", None)
        store._write([RecallEntry(run_id=f"base_{i}", task_name=task.name, task_text=f"{task.name} {task.description}",  # noqa: SLF001
                                  outcome="completed", score=0.93, code=(BASE / "truth.py").read_text(),
                                  reference_signatures=refs, render_signatures=refs) for i in range(len(VARIANTS))])
        return {"lookup": lookup_ms(store, BASE / "task.toml", workdir)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=len(VARIANTS))
    parser.add_argument("--budget", type=int, default=16, help="iterations per run")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--lookup-only", action="store_true", help="only the look-up figure, from red_block's own "
                                                                   "references (no Blender)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = lookup_only() if args.lookup_only else serving.run(main(args))
    print(json.dumps(result, indent=None if args.json else 2))
