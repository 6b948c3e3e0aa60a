"""`colossus show RUN`: a run's status, attempts, scores and best result."""

from __future__ import annotations

import argparse

from gateway.commands.runs import add_run_arguments, one_run

__all__ = ["add_arguments", "run"]

add_arguments = add_run_arguments


def run(args: argparse.Namespace) -> int:
    status = one_run(args, "show", lambda service, run_id: service.status(run_id))
    if status is None:
        return 2
    if args.json:
        print(status.model_dump_json())
        return 0
    print(f"{status.run_id}  [{status.status}]  task {status.task}  builder {status.builder}  verifier {status.verifier}")
    print(f"folder: {status.run_dir}")
    if status.forked_from:
        f = status.forked_from
        print(f"forked from {f['run_id']}, attempt {f['attempt']}, iteration {f['iteration']} (score {f['score']:.3f})")
    for a in status.attempts:
        curve = " ".join(f"{s:.2f}" for s in a.scores)
        print(f"  attempt {a.attempt} [{a.status}] {a.strategy}: best {a.best_score:.3f} over {a.iterations} iteration(s): {curve}")
        if a.error:
            print(f"    error: {a.error}")
    if status.best:
        b = status.best
        print(f"best: attempt {b['attempt']} iteration {b['iteration']} score {b['score']:.3f}")
        for view, path in b.get("renders", {}).items():
            print(f"  {view}: {status.run_dir}/{path}")
    return 0
