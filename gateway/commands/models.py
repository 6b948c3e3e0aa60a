"""`colossus models check`: ping every model of every configured role and say which answer.

The same check runs before `colossus run`/`resume`/`demo`/`fork` (`--no-check` skips it), over the
roles the run may call: a role none of whose models is alive, and whose chain lists no offline
backend to fall back on, stops the command before any Blender worker starts. A check is a ping:
one request per model, no retries, each model's own `timeout_s`. What an answer means:

- ok: it answered.
- busy (alive): 429, 503, 529 or "overloaded": rate limits and load pass; the run's own
  retries (honouring Retry-After) deal with them, so a busy model is warned about, not fatal.
- dead: 401, 403, 404, an unknown model, connection refused, any other error status, or no
  answer within the model's configured timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

__all__ = ["add_arguments", "run", "check", "preflight", "verdict"]

BUSY_STATUSES = {429, 503, 529}  # rate limited, unavailable for now, overloaded (Anthropic)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["check"], help="check: send a one-word prompt to each configured model")
    parser.add_argument("--config", help="colossus.toml")
    parser.add_argument("--json", action="store_true")


async def check(config: Any) -> list[dict[str, Any]]:
    """One row per model of every role: its state (ok, busy, dead), latency or the reason; `ok` is
    "alive" (ok or busy). Offline backends are always ok."""
    from harness.model_config import RouterSettings
    from harness.model_roles import ModelRoles

    rows = []
    for role in config.roles:
        for model in config.chain(role):
            if model not in config.remote_chain(role):
                rows.append({"role": role, "model": model, "ok": True, "state": "ok", "offline": True,
                             "detail": "offline backend"})
                continue
            single = ModelRoles(config.model_copy(update={"roles": {role: [model]}, "router": RouterSettings(num_retries=0)}))
            try:
                _, log = await single.complete(role, [{"role": "user", "content": "Reply with the word: ok"}], max_tokens=5)
                rows.append({"role": role, "model": model, "ok": True, "state": "ok",
                             "latency_ms": round(log.latency_ms, 1)})
            except Exception as e:  # report every failure, check the rest
                state, reason = verdict(e, config.settings_for(model).timeout_s)
                rows.append({"role": role, "model": model, "ok": state == "busy", "state": state, "reason": reason,
                             "detail": str(e)[:300]})
    return rows


def verdict(error: BaseException, timeout_s: float) -> tuple[str, str]:
    """What a failed ping says about the model: ("busy", why) or ("dead", why). See the module docstring."""
    chain = [error]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    status = next((e.status_code for e in chain if isinstance(getattr(e, "status_code", None), int)), None)
    text = " ".join(str(e) for e in chain).lower()
    if "Timeout" in names or "APITimeoutError" in names:
        return "dead", f"no answer within its configured timeout of {timeout_s:g} s"
    if "APIConnectionError" in names or any(m in text for m in ("connection error", "connection refused")):
        return "dead", "cannot connect (refused, or no such host)"
    if "overloaded" in text or status in BUSY_STATUSES:
        return "busy", f"busy (HTTP {status}): answers, but not now; the run retries it" if status else "overloaded"
    if status in (401, 403):
        return "dead", f"refused (HTTP {status}): check its API key"
    if status == 404 or any(m in text for m in ("not found", "does not exist", "provider not provided")):
        return "dead", f"unknown model (HTTP {status or 404})"
    return "dead", f"failed (HTTP {status})" if status else f"failed ({type(chain[-1]).__name__})"


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
            if r["state"] == "busy":
                print(f"models check: {role} model {r['model']} is {r['reason']}; running anyway", file=sys.stderr)
            elif r["state"] == "dead":
                print(f"models check: {role} model {r['model']} does not answer: {r['reason']}: {r['detail']}",
                      file=sys.stderr)
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
            detail = f"{r['latency_ms']} ms" if "latency_ms" in r else r.get("reason", r.get("detail", ""))
            print(f"{r['state']:4s} {r['role']:11s} {r['model']:40s} {detail}")
    return 0 if all(r["ok"] for r in rows) else 1
