"""`colossus history`: the execution history of host-driven calls (gateway.history), newest last.

    colossus history [--failures] [--since 2h|2026-11-28T09:00] [--limit N] [--json] [--runs-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["add_arguments", "run", "parse_since"]

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--failures", action="store_true", help="only calls that failed (error class set)")
    parser.add_argument("--since", help="a duration ago (90s, 30m, 2h, 1d) or an ISO time (UTC unless it says otherwise)")
    parser.add_argument("--limit", type=int, default=50, help="the newest N entries (default 50; 0: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON array of entries")
    parser.add_argument("--runs-dir", type=Path, help="runs folder holding .history/ (default: [runs] dir, else ./runs)")
    parser.add_argument("--config", help="colossus.toml")


def parse_since(text: str, now: float | None = None) -> float:
    """Unix time from `2h` (ago) or an ISO 8601 time; ValueError names what was expected."""
    now = time.time() if now is None else now
    if match := _AGO.match(text.strip()):
        return now - float(match.group(1)) * _UNIT_S[match.group(2)]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a duration such as 30m, 2h, 1d or an ISO time such as "
                         "2026-11-28T09:00") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def run(args: argparse.Namespace) -> int:
    from gateway.config import load_gateway_config
    from gateway.errors import ConfigError
    from gateway.history import HISTORY_FILE, ExecutionHistory

    try:
        since = parse_since(args.since) if args.since else None
        runs_dir = args.runs_dir or load_gateway_config(args.config).runs_dir
    except (ValueError, ConfigError) as e:
        print(f"colossus history: {e}", file=sys.stderr)
        return 2
    entries = ExecutionHistory(runs_dir / HISTORY_FILE).read(since=since, failures=args.failures)
    if args.limit > 0:
        entries = entries[-args.limit:]
    if args.json:
        print(json.dumps([e.model_dump(mode="json") for e in entries]))
        return 0
    if not entries:
        print(f"no host calls recorded in {runs_dir / HISTORY_FILE}" + (" matching the filters" if since or args.failures else ""))
        return 0
    for e in entries:
        stamp = datetime.fromtimestamp(e.at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        outcome = "ok" if e.success else (e.error_class or "failed")
        first = next((line for line in e.code.splitlines() if line.strip()), "")[:60]
        print(f"{stamp}  {e.tool:12s} {e.scene_id or '-':18s} {outcome:16s} {e.duration_ms:8.0f} ms  {first}")
    return 0
