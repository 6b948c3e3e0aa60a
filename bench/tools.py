"""What the gateway's tools/list costs a host, in tokens, per tool and per toolset.

    python bench/tools.py [--json] [--toolsets NAMES] [--per-tool]

Starts `colossus serve` over stdio (one Blender worker, the vision server on, so the `blender_*`
and `vision_*` tools are listed), takes tools/list with an MCP client and counts tokens with
litellm's `token_counter` (gpt-4o tokenizer):

- model-visible: name, description and input schema, the part a host's model reads every turn;
- whole: the tool's entry as sent (output schema, annotations, `_meta` included).

A tool's toolset is its tag in `_meta.fastmcp.tags` (the gateway tags each tool with one);
`-` when it has none. `--toolsets all` measures every tool the gateway can offer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from harness.launcher import WorkerLaunch

PROJECT = Path(__file__).resolve().parents[1]
TOKENIZER_MODEL = "gpt-4o"


def tokens(value: Any) -> int:
    """Tokens of a value as JSON (Python's default separators, as the issue's baseline was counted)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from litellm import token_counter

    return int(token_counter(model=TOKENIZER_MODEL, text=json.dumps(value)))


def visible_part(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("name", "description", "inputSchema") if k in entry}


def entry_costs(entry: dict[str, Any]) -> dict[str, Any]:
    """One tool's cost from its wire entry (camelCase keys, as a host receives it)."""
    tags = ((entry.get("_meta") or {}).get("fastmcp") or {}).get("tags") or ["-"]
    return {"name": entry["name"], "toolset": ",".join(tags), "model_visible": tokens(visible_part(entry)),
            "whole": tokens(entry), "chars": len(json.dumps(entry))}


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the list as one JSON array, and per toolset the tool count and summed token costs."""
    per_tool = [entry_costs(e) for e in entries]
    per_set: dict[str, dict[str, int]] = defaultdict(lambda: {"tools": 0, "model_visible": 0, "whole": 0})
    for t in per_tool:
        row = per_set[t["toolset"]]
        row["tools"] += 1
        row["model_visible"] += t["model_visible"]
        row["whole"] += t["whole"]
    return {"tools": len(entries), "model_visible": tokens([visible_part(e) for e in entries]),
            "whole": tokens(entries), "toolsets": dict(sorted(per_set.items())), "per_tool": per_tool}


async def list_tools(toolsets: str | None, workdir: Path) -> list[dict[str, Any]]:
    """tools/list of a fresh gateway, as wire dicts."""
    config = workdir / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 1\nworkdir = "{(workdir / "pool").as_posix()}"\nhealth_interval_s = 3600\n'
                      f'[runs]\ndir = "{(workdir / "runs").as_posix()}"\n')
    args = ["-m", "gateway.cli", "serve", "--config", str(config)] + (["--toolsets", toolsets] if toolsets else [])
    transport = StdioTransport(sys.executable, args, env=WorkerLaunch(workdir=workdir).env(), cwd=str(PROJECT),
                               keep_alive=False, log_file=workdir / "gateway.log")
    async with Client(transport, init_timeout=120) as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]


def measure(toolsets: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="colossus-bench-tools-") as tmp:
        entries = asyncio.run(list_tools(toolsets, Path(tmp)))
    return {"toolsets_flag": toolsets or "(default)", **summarise(entries)}


def print_table(result: dict[str, Any], per_tool: bool) -> None:
    print(f"colossus serve {'--toolsets ' + result['toolsets_flag'] if result['toolsets_flag'] != '(default)' else ''}".strip())
    print(f"{'toolset':24s} {'tools':>5s} {'model-visible':>13s} {'whole':>8s}")
    for name, row in result["toolsets"].items():
        print(f"{name:24s} {row['tools']:5d} {row['model_visible']:13,d} {row['whole']:8,d}")
    print(f"{'total (one list)':24s} {result['tools']:5d} {result['model_visible']:13,d} {result['whole']:8,d}")
    if per_tool:
        print(f"\n{'tool':40s} {'toolset':10s} {'visible':>8s} {'whole':>8s} {'chars':>8s}")
        for t in sorted(result["per_tool"], key=lambda t: -t["whole"]):
            print(f"{t['name']:40s} {t['toolset']:10s} {t['model_visible']:8,d} {t['whole']:8,d} {t['chars']:8,d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--toolsets", help="passed to colossus serve (e.g. all, core,assets); default: the server's")
    parser.add_argument("--per-tool", action="store_true", help="also list every tool's cost")
    args = parser.parse_args()
    result = measure(args.toolsets)
    if args.json:
        print(json.dumps(result if args.per_tool else {k: v for k, v in result.items() if k != "per_tool"}))
    else:
        print_table(result, args.per_tool)
    return 0


if __name__ == "__main__":
    sys.exit(main())
