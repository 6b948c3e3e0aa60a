"""`colossus models check`: ping every model of every configured role and say which answer.

The same check runs before `colossus run`/`resume`/`demo` (`--no-check` skips it), over the roles
the run may call: a role none of whose models answers, and whose chain lists no offline backend
to fall back on, stops the command before any Blender worker starts. A check is a ping: one
request per model, no retries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

__all__ = ["add_arguments", "run", "check", "preflight"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["check"], help="check: send a one-word prompt to each configured model")
    parser.add_argument("--config", help="colossus.toml")
    parser.add_argument("--json", action="store_true")


async def check(config: Any) -> list[dict[str, Any]]:
    """One row per model of every role: ok, latency or the error; offline backends are always ok."""
    from harness.model_config import RouterSettings
    from harness.model_roles import ModelRoles

    rows = []
    for role in config.roles:
        for model in config.chain(role):
            if model not in config.remote_chain(role):
                rows.append({"role": role, "model": model, "ok": True, "offline": True, "detail": "offline backend"})
                continue
            single = ModelRoles(config.model_copy(update={"roles": {role: [model]}, "router": RouterSettings(num_retries=0)}))
            try:
                _, log = await single.complete(role, [{"role": "user", "content": "Reply with the word: ok"}], max_tokens=5)
                rows.append({"role": role, "model": model, "ok": True, "latency_ms": round(log.latency_ms, 1)})
            except Exception as e:  # report every failure, check the rest
                rows.append({"role": role, "model": model, "ok": False, "detail": str(e)[:300]})
    return rows


def preflight(config_file: str | None, roles: set[str], chosen: dict[str, list[str]] | None = None) -> str | None:
    """Before a run that may call `roles`: the problem that should stop it, or None. Failing models of a
    role that still has a working one (or an offline fallback) are warned about on stderr, not fatal.
    `chosen`: the run's own chains (--model), checked instead of colossus.toml's for those roles."""
    from harness.model_choice import with_models
    from harness.model_config import ModelConfigError, ModelsConfig

    try:
        config = with_models(ModelsConfig.load(config_file), chosen or {})
    except (ModelConfigError, ValueError, FileNotFoundError) as e:
        return f"models check: {e}"
    used = {role: chain for role, chain in config.roles.items() if role in roles}
    if not any(config.remote_chain(role) for role in used):
        return None
    rows = asyncio.run(check(config.model_copy(update={"roles": used})))
    dead = []
    for role in used:
        mine = [r for r in rows if r["role"] == role]
        for r in mine:
            if not r["ok"]:
                print(f"models check: {role} model {r['model']} does not answer: {r['detail']}", file=sys.stderr)
        if not any(r["ok"] for r in mine):
            dead.append(role)
    if dead:
        return (f"models check: no model of role(s) {', '.join(dead)} answers and no offline backend is listed to "
                "fall back on; fix [models] in colossus.toml or pass --no-check")
    return None


def run(args: argparse.Namespace) -> int:
    from harness.model_config import ModelConfigError, ModelsConfig

    try:
        config = ModelsConfig.load(args.config)
    except (ModelConfigError, ValueError, FileNotFoundError) as e:
        print(f"colossus models: {e}", file=sys.stderr)
        return 2
    if not config.roles:
        print("no model roles configured: add a [models] table to colossus.toml (see README)", file=sys.stderr)
        return 2
    rows = asyncio.run(check(config))
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            mark = "ok  " if r["ok"] else "FAIL"
            detail = f"{r['latency_ms']} ms" if "latency_ms" in r else r.get("detail", "")
            print(f"{mark} {r['role']:11s} {r['model']:40s} {detail}")
    return 0 if all(r["ok"] for r in rows) else 1
