"""`colossus models check`: ping every model of every configured role and say which answer."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["check"], help="check: send a one-word prompt to each configured model")
    parser.add_argument("--config", help="colossus.toml")
    parser.add_argument("--json", action="store_true")


async def _check(config) -> list[dict]:
    from harness.model_roles import ModelRoles

    rows = []
    for role in config.roles:
        for model in config.chain(role):
            if model not in config.remote_chain(role):
                rows.append({"role": role, "model": model, "ok": True, "detail": "offline backend"})
                continue
            single = ModelRoles(config.model_copy(update={"roles": {role: [model]}}))
            try:
                _, log = await single.complete(role, [{"role": "user", "content": "Reply with the word: ok"}], max_tokens=5)
                rows.append({"role": role, "model": model, "ok": True, "latency_ms": round(log.latency_ms, 1)})
            except Exception as e:  # report every failure, check the rest
                rows.append({"role": role, "model": model, "ok": False, "detail": str(e)[:300]})
    return rows


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
    rows = asyncio.run(_check(config))
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            mark = "ok  " if r["ok"] else "FAIL"
            detail = f"{r['latency_ms']} ms" if "latency_ms" in r else r.get("detail", "")
            print(f"{mark} {r['role']:11s} {r['model']:40s} {detail}")
    return 0 if all(r["ok"] for r in rows) else 1
