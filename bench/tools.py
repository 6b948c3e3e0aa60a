"""What the gateway's tools/list costs a host, in tokens, per tool and per toolset.

    python bench/tools.py [--json] [--toolsets NAMES] [--per-tool]

Starts `colossus serve` over stdio twice in one run, as a host would meet it (the default
toolsets, or --toolsets) and with `--toolsets all` (every tool: the baseline), each with one
Blender worker and the vision server so the `blender_*` and `vision_*` tools are listed. It takes
tools/list with an MCP client and counts tokens with litellm's `token_counter` (gpt-4o tokenizer)
over JSON as Python writes it by default:

- model_visible: name, description and input schema, the part a host's model reads every turn;
- whole: the entries as sent (output schemas, annotations and `_meta` included).

A tool's toolset is its tag in `_meta.fastmcp.tags`; ratios are the chosen list over `all`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from harness.launcher import WorkerLaunch
from harness.tool_tokens import count_tokens, visible_part

PROJECT = Path(__file__).resolve().parents[1]


def entry_costs(entry: dict[str, Any]) -> dict[str, Any]:
    """One tool's cost from its wire entry (camelCase keys, as a host receives it)."""
    tags = ((entry.get("_meta") or {}).get("fastmcp") or {}).get("tags") or ["-"]
    return {"name": entry["name"], "toolset": ",".join(tags), "model_visible": count_tokens(visible_part(entry)),
            "whole": count_tokens(entry), "chars": len(json.dumps(entry))}


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the list as one JSON array, and per toolset the tool count and summed token costs."""
    per_tool = [entry_costs(e) for e in entries]
    per_set: dict[str, dict[str, int]] = defaultdict(lambda: {"tools": 0, "model_visible": 0, "whole": 0})
    for t in per_tool:
        row = per_set[t["toolset"]]
        row["tools"] += 1
        row["model_visible"] += t["model_visible"]
        row["whole"] += t["whole"]
    return {"tools": len(entries), "model_visible": count_tokens([visible_part(e) for e in entries]),
            "whole": count_tokens(entries), "toolsets": dict(sorted(per_set.items())), "per_tool": per_tool}


async def list_tools(toolsets: str | None, workdir: Path) -> list[dict[str, Any]]:
    """tools/list of a fresh gateway, as wire dicts."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 1\nworkdir = "{(workdir / "pool").as_posix()}"\nhealth_interval_s = 3600\n'
                      f'[runs]\ndir = "{(workdir / "runs").as_posix()}"\n')
    args = ["-m", "gateway.cli", "serve", "--config", str(config)] + (["--toolsets", toolsets] if toolsets else [])
    transport = StdioTransport(sys.executable, args, env=WorkerLaunch(workdir=workdir).env(), cwd=str(PROJECT),
                               keep_alive=False, log_file=workdir / "gateway.log")
    async with Client(transport, init_timeout=120) as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]


def measure(toolsets: str | None, workdir: Path) -> dict[str, Any]:
    chosen = summarise(asyncio.run(list_tools(toolsets, workdir / "chosen")))
    every = summarise(asyncio.run(list_tools("all", workdir / "all")))
    return {"toolsets_flag": toolsets or "(default)", "chosen": chosen, "all": every,
            "model_visible_ratio": round(chosen["model_visible"] / every["model_visible"], 3),
            "whole_ratio": round(chosen["whole"] / every["whole"], 3)}


def print_list(title: str, result: dict[str, Any], per_tool: bool) -> None:
    print(title)
    print(f"  {'toolset':22s} {'tools':>5s} {'model-visible':>13s} {'whole':>8s}")
    for name, row in result["toolsets"].items():
        print(f"  {name:22s} {row['tools']:5d} {row['model_visible']:13,d} {row['whole']:8,d}")
    print(f"  {'total (one list)':22s} {result['tools']:5d} {result['model_visible']:13,d} {result['whole']:8,d}")
    if per_tool:
        print(f"\n  {'tool':38s} {'toolset':10s} {'visible':>8s} {'whole':>8s} {'chars':>8s}")
        for t in sorted(result["per_tool"], key=lambda t: -t["whole"]):
            print(f"  {t['name']:38s} {t['toolset']:10s} {t['model_visible']:8,d} {t['whole']:8,d} {t['chars']:8,d}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--toolsets", help="passed to colossus serve (e.g. core,assets); default: the server's")
    parser.add_argument("--per-tool", action="store_true", help="also give every tool's cost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colossus-bench-tools-") as tmp:
        result = measure(args.toolsets, Path(tmp))
    if not args.per_tool:
        for key in ("chosen", "all"):
            result[key].pop("per_tool")
    if args.json:
        print(json.dumps(result))
        return 0
    print_list(f"colossus serve {'--toolsets ' + args.toolsets if args.toolsets else '(default toolsets)'}",
               result["chosen"], args.per_tool)
    print_list("colossus serve --toolsets all (baseline)", result["all"], args.per_tool)
    print(f"chosen / all: model-visible {result['model_visible_ratio']}, whole {result['whole_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
