"""The server as hosts see it: its tool list, and the real stdio and streamable-HTTP entry points."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from servers.viewport_vision.server import create_server

REPO = Path(__file__).resolve().parents[3]


def _render_like(path: Path, dx: int = 0) -> Path:
    img = np.full((128, 128, 3), 60, np.uint8)
    cv2.rectangle(img, (44 + dx, 40), (84 + dx, 100), (40, 60, 200), -1)
    cv2.imwrite(str(path), img)
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    # StdioTransport does not inherit the environment: give the child what it needs, and no config file
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "COLOSSUS_CONFIG": str(tmp_path / "colossus.toml")}


async def test_the_tool_list_is_lean_and_still_validates_what_it_does_not_spell_out(tmp_path: Path) -> None:
    async with Client(create_server([tmp_path])) as client:
        tools = {t.name: t for t in await client.list_tools()}
        bad = await client.call_tool("sentinel", {"images": {"front": str(_render_like(tmp_path / "f.png"))},
                                                  "thresholds": {"min_coverage": 7}}, raise_on_error=False)
    assert set(tools) == {"sentinel", "compare", "check", "critique", "investigate", "phash", "blueprint"}
    reports = {"sentinel", "compare", "check", "critique", "investigate", "blueprint"}
    assert all(tools[name].output_schema is None for name in reports), "nested report schemas cost a host thousands of tokens"
    assert len(json.dumps([t.model_dump(mode="json", exclude_none=True) for t in tools.values()])) < 9_000
    assert tools["check"].input_schema["properties"]["scene_info"]["type"] == ["object", "null"]
    assert bad.is_error and "min_coverage" in bad.content[0].text, "thresholds are still validated as the full model"


async def test_check_gives_what_sentinel_and_compare_give_separately(tmp_path: Path) -> None:
    blank = tmp_path / "side.png"
    cv2.imwrite(str(blank), np.full((128, 128, 3), 60, np.uint8))
    renders = {"front": str(_render_like(tmp_path / "front.png")), "side": str(blank)}
    refs = {"front": str(_render_like(tmp_path / "ref.png", dx=6))}
    async with Client(create_server([tmp_path])) as client:
        both = (await client.call_tool("check", {"renders": renders, "references": refs})).structured_content
        sentinel_only = (await client.call_tool("check", {"renders": renders})).structured_content
        alone = (await client.call_tool("sentinel", {"images": renders})).structured_content
        scored = (await client.call_tool("compare", {"renders": renders, "references": refs})).structured_content
    def timeless(report: dict) -> dict:
        return {k: v for k, v in report.items() if k != "elapsed_ms"}
    assert timeless(both["sentinel"]) == timeless(alone) == timeless(sentinel_only["sentinel"])
    assert any(i["view"] == "side" for i in alone["issues"]), "the blank view should be flagged"
    assert timeless(both["compare"]) == timeless(scored) and both["compare"]["missing_references"] == ["side"]
    assert sentinel_only["compare"] is None


async def test_stdio_entry_point_serves_sentinel_and_compare(tmp_path: Path) -> None:
    (tmp_path / "colossus.toml").write_text("[models]\n")
    front, ref = _render_like(tmp_path / "front.png"), _render_like(tmp_path / "ref.png", dx=6)
    transport = StdioTransport(sys.executable, ["-m", "servers.viewport_vision", "--allowed-root", str(tmp_path)],
                               env=_env(tmp_path), cwd=str(REPO))
    async with Client(transport) as client:
        report = (await client.call_tool("sentinel", {"images": {"front": str(front)}})).structured_content
        scored = (await client.call_tool("compare", {"renders": {"front": str(front)}, "references": {"front": str(ref)}})).structured_content
        refused = await client.call_tool("phash", {"image": str(REPO / "pyproject.toml")}, raise_on_error=False)
    assert report["passed"] and report["issues"] == []
    assert 0.5 < scored["score"] < 1.0
    assert refused.content[0].text.startswith("[PATH_OUTSIDE_ROOTS]")


async def test_streamable_http_entry_point_serves_phash(tmp_path: Path) -> None:
    (tmp_path / "colossus.toml").write_text("[models]\n")
    image = _render_like(tmp_path / "front.png")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "servers.viewport_vision", "--allowed-root", str(tmp_path), "--http", "--port", str(port)],
        cwd=REPO, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"HTTP server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            result = await client.call_tool("phash", {"image": str(image)})
        assert len(result.structured_content["phash"]) == 16
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_config_file_stops_the_server_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "colossus.toml").write_text("[models]\nverifier = 3\n")
    proc = subprocess.run([sys.executable, "-m", "servers.viewport_vision", "--config", str(tmp_path / "colossus.toml")],
                          cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "[models].verifier" in proc.stderr
