"""The run dashboard in a real browser (Chromium through Playwright) against a real `colossus serve --http`
with a bearer token, real Blender workers and real runs of examples/tasks/red_block (parametric builder,
metrics verifier): live updates, cancel, the MCP App inside a host's bridge, and hostile requests.

Every page is checked for console errors and for requests leaving the gateway; screenshots land in
tests/artifacts/ (or $COLOSSUS_TEST_ARTIFACTS). Without Chromium the module skips, except under CI,
where .ci/run installs it and a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport

from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.gateway.conftest import PollingClient

PROJECT = Path(__file__).resolve().parents[2]
RED_BLOCK = PROJECT / "examples" / "tasks" / "red_block" / "task.toml"
HULL = PROJECT / "examples" / "tasks" / "hull" / "task.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("COLOSSUS_TEST_ARTIFACTS", PROJECT / "tests" / "artifacts"))
TRUTH = (RED_BLOCK.parent / "truth.py").read_text()
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100}  # $0.02 a call at the prices in the gateway's [models]
TOKEN = "dashboard-test-token"
FOREIGN = "https://evil.example"

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: chromium is missing (.ci/run installs it with apt)")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402


@dataclass
class Gateway:
    url: str
    runs_dir: Path
    process: subprocess.Popen[str]
    stderr: list[str] = field(default_factory=list)

    def iteration_file(self, run_id: str, attempt: int, iteration: int) -> Path:
        return self.runs_dir / run_id / "attempts" / f"attempt-{attempt:03d}" / "iterations" / f"iter-{iteration:03d}" / "verifier.json"


@pytest.fixture(scope="module")
def fake_model() -> Iterator[FakeOpenAIServer]:
    """The builder model of runs that ask for one: a local OpenAI-compatible server answering the truth."""
    with FakeOpenAIServer(default=Reply(text=f"The red block.\n```python\n{TRUTH}```", usage=USAGE)) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeOpenAIServer) -> Iterator[Gateway]:
    """`colossus serve --http` with a token, two Blender workers and a priced builder model, its stderr collected."""
    root = tmp_path_factory.mktemp("dashboard")
    config = root / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 2\nworkdir = "{root / "pool"}"\nhealth_interval_s = 3600\n'
                      f'[runs]\ndir = "{root / "runs"}"\n[models]\nbuilder = ["openai/gen"]\n'
                      f'[models.settings."openai/gen"]\napi_base = "{fake_model.base_url}"\napi_key = "k"\n'
                      'input_cost_per_token = 1e-5\noutput_cost_per_token = 1e-4\n'
                      '[gateway]\ntoolsets = ["core", "runs"]\n')  # anonymous HTTP: chosen at start (gateway.tools.toolsets)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--http", "--port", str(port),
                                "--config", str(config)], cwd=PROJECT, env={**os.environ, "COLOSSUS_TOKEN": TOKEN},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = Gateway(f"http://127.0.0.1:{port}", root / "runs", process)
    assert process.stderr is not None
    threading.Thread(target=lambda: started.stderr.extend(process.stderr), daemon=True).start()  # type: ignore[arg-type]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "".join(started.stderr)
        try:
            if httpx.get(f"{started.url}/runs", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield started
    process.terminate()
    process.wait(30)


@pytest.fixture(scope="module")
async def mcp(gateway: Gateway) -> AsyncIterator[Client]:
    async with PollingClient(StreamableHttpTransport(f"{gateway.url}/mcp", auth=TOKEN), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@asynccontextmanager
async def watched_page(browser: Browser, name: str, origin: str | None, height: int = 1000) -> AsyncIterator[Page]:
    """A fresh page whose console errors and requests are recorded; on a clean exit its screenshot is kept,
    and it must have logged no error and asked nothing of any origin but `origin` (None: of no origin)."""
    context = await browser.new_context(viewport={"width": 1200, "height": height})
    page = await context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    context.on("request", lambda r: requests.append(r.url))
    try:
        yield page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"dashboard_{name}.png", full_page=True)
        print(f"screenshot: {ARTIFACTS / f'dashboard_{name}.png'}")
    finally:
        await context.close()
    assert not errors, errors
    leaving = [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and (origin is None or f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" != origin)]
    assert not leaving, leaving


async def start_run(mcp: Client, attempts: int, iterations: int, task: Path = RED_BLOCK) -> str:
    """A cold run (the same task runs again and again here: recall would start it at the answer)."""
    started = await mcp.call_tool("start_run", {"task": str(task), "attempts": attempts, "iterations": iterations,
                                                "recall": False})
    return started.structured_content["run_id"]


async def wait_for_status(page: Page | Any, status: str, timeout_s: float) -> None:
    """Until the page's status badge reads `status` (a locator wait: the page's CSP forbids evaluating strings)."""
    await expect(page.locator("#status")).to_have_text(status, timeout=timeout_s * 1000)


async def test_serve_prints_the_dashboard_url(gateway: Gateway) -> None:
    line = next(line for line in gateway.stderr if "dashboard at" in line)
    assert f"{gateway.url}/runs" in line and TOKEN not in line


async def test_the_page_shows_each_iteration_within_a_second_of_its_checkpoint(gateway: Gateway, mcp: Client,
                                                                                 browser: Browser) -> None:
    run_id = await start_run(mcp, attempts=2, iterations=5)
    async with watched_page(browser, "live_run", gateway.url) as page:
        await page.goto(f"{gateway.url}/runs/{run_id}#token={TOKEN}")
        await wait_for_status(page, "completed", 90)
        await page.wait_for_selector("#views img")
        seen: dict[str, int] = await page.evaluate("window.colossusSeen")
        assert urlsplit(page.url).fragment == "", "the token must leave the address bar"
        ran = (await mcp.call_tool("get_run", {"run_id": run_id})).structured_content["attempts"]
        assert await page.locator("#attempts button[data-a]").count() == sum(a["iterations"] for a in ran) >= 5
        assert await page.locator("#attempts .card").count() == 2
        assert "front: " in await page.locator("#verifier").inner_text()  # the measured directions of the shown iteration
        assert "bpy" in await page.locator("#code").inner_text()
        await page.click("#home")  # the list of runs, and back to this one from it
        await page.click(f'#list a[data-run="{run_id}"]')
        await expect(page.locator("#title")).to_have_text("red_block")
        await page.wait_for_selector("#views img")
    first = min(seen.values())  # iterations already done when the page opened arrive together; the rest live
    delays = [ms / 1000 - gateway.iteration_file(run_id, *map(int, key.split("/"))).stat().st_mtime
              for key, ms in seen.items() if ms > first]
    print(f"dashboard delays after verifier.json (s): {sorted(round(d, 3) for d in delays)}")
    assert len(delays) >= 3, seen
    assert statistics.median(delays) <= 1.0 and max(delays) < 3.0, delays


async def test_each_blueprint_drawing_is_shown_beside_its_orthographic_render(gateway: Gateway, mcp: Client,
                                                                               browser: Browser) -> None:
    run_id = await start_run(mcp, attempts=1, iterations=2, task=HULL)  # the hull's side and top plans
    async with watched_page(browser, "blueprint_run", gateway.url) as page:
        await page.goto(f"{gateway.url}/runs/{run_id}#token={TOKEN}")
        await expect(page.locator("#status")).to_have_text(re.compile("completed|budget"), timeout=180_000)
        await page.click('#attempts button[data-a="0"][data-k="0"]')  # the start: 6 m short of the plans
        await expect(page.locator("#dtitle")).to_contain_text("iteration 0")
        for view in ("side", "top"):
            figure = page.locator("#views figure", has=page.locator(f'img[alt="render plan_{view}"]'))
            drawing = figure.locator(f'img[alt="reference plan_{view}"]')
            await expect(drawing).to_have_attribute("src", re.compile(f"/files/plans/{view}\\.png$"))
            assert await drawing.evaluate("img => img.complete && img.naturalWidth") > 0, "the drawing loads"
            assert await figure.locator(f'img[alt="render plan_{view}"]').evaluate("img => img.naturalWidth") > 0
            caption = await figure.locator("figcaption").inner_text()
            assert f"plan_{view} · drawing | orthographic render" in caption and re.search(r"IoU \d\.\d{3}", caption), caption
        await page.select_option("#wipeview", "plan_side")  # the wipe compares the drawing with the render too
        await expect(page.locator("#wipe-ref")).to_have_attribute("src", re.compile("/files/plans/side\\.png$"))
        assert "the overall length is" in await page.locator("#verifier").inner_text()  # the plans' directions, in metres


async def test_the_cancel_button_stops_the_run(gateway: Gateway, mcp: Client, browser: Browser) -> None:
    run_id = await start_run(mcp, attempts=1, iterations=50)
    async with watched_page(browser, "cancelled_run", gateway.url) as page:
        await page.goto(f"{gateway.url}/runs/{run_id}#token={TOKEN}")
        await page.wait_for_selector("#attempts button[data-a]", timeout=60_000)
        await page.click("#cancel")
        await wait_for_status(page, "cancelled", 30)
        assert await page.is_disabled("#cancel") and await page.is_enabled("#resume")
        await page.set_viewport_size({"width": 480, "height": 900})  # a host's side panel: nothing may stick out
        await page.wait_for_selector("#views img")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 480
    status = (await mcp.call_tool("get_run", {"run_id": run_id})).structured_content
    assert status["status"] == "cancelled" and not status["active"]
    done = status["attempts"][0]["iterations"]
    time.sleep(1.0)
    assert (await mcp.call_tool("get_run", {"run_id": run_id})).structured_content["attempts"][0]["iterations"] == done < 50


async def test_a_fork_from_an_iteration_starts_from_that_program(gateway: Gateway, mcp: Client, browser: Browser) -> None:
    source = await start_run(mcp, attempts=1, iterations=3)
    async with watched_page(browser, "forked_run", gateway.url) as page:
        await page.goto(f"{gateway.url}/runs/{source}#token={TOKEN}")
        await wait_for_status(page, "completed", 90)
        await page.click('#attempts button[data-a="0"][data-k="1"]')
        await expect(page.locator("#fork")).to_have_text("Fork from attempt 0, iteration 1")
        await page.click("#fork")
        await expect(page.locator("#facts")).to_contain_text(f"forked from {source} a0 i1", timeout=30_000)
        forked = urlsplit(page.url).path.rsplit("/", 1)[1]
        assert forked != source
        await wait_for_status(page, "completed", 90)
        await page.wait_for_selector("#views img")
    program = (gateway.runs_dir / source / "attempts" / "attempt-000" / "iterations" / "iter-001" / "code.py").read_text()
    assert (gateway.runs_dir / forked / "start.py").read_text() == program
    status = (await mcp.call_tool("get_run", {"run_id": forked})).structured_content
    assert {k: status["forked_from"][k] for k in ("run_id", "attempt", "iteration")} == {
        "run_id": source, "attempt": 0, "iteration": 1}


async def test_the_model_log_shows_each_call_and_the_spend(gateway: Gateway, mcp: Client, browser: Browser) -> None:
    source = await start_run(mcp, attempts=1, iterations=1)
    while (await mcp.call_tool("get_run", {"run_id": source, "wait_s": 20})).structured_content["active"]:
        pass
    run_id = (await mcp.call_tool("fork_run", {"run_id": source, "attempt": 0, "iteration": 0, "builder": "llm",
                                               "iterations": 2})).structured_content["run_id"]
    async with watched_page(browser, "model_log", gateway.url) as page:
        await page.goto(f"{gateway.url}/runs/{run_id}#token={TOKEN}")
        await wait_for_status(page, "completed", 90)  # the model writes the truth: converged at its first iteration
        await expect(page.locator("#facts")).to_contain_text("1100 tokens, $0.0200 (1 model call)")
        row = page.locator("#models tr").nth(1)
        await expect(row).to_contain_text("openai/gen")
        assert [await row.locator("td").nth(i).inner_text() for i in (0, 3, 5)] == ["builder", "1000 / 100", "$0.0200"]
        await expect(page.locator("#models")).to_contain_text("this iteration: 1100 tokens, $0.0200")


HOST_PAGE = """<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>test host</title><iframe id="app" sandbox="allow-scripts" style="width:1180px;height:1900px;border:0"></iframe>
<script>
/* The host's side of the MCP Apps bridge: answers ui/initialize, hands the app its tool call, and relays
   the app's tools/call to the gateway (window.hostCall, bound by the test to a real MCP client). */
const frame = document.getElementById("app");
const post = (msg) => frame.contentWindow.postMessage(Object.assign({jsonrpc: "2.0"}, msg), "*");
window.addEventListener("message", async (e) => {
  const m = e.data;
  if (e.source !== frame.contentWindow || !m || m.jsonrpc !== "2.0") return;
  if (m.method === "ui/notifications/size-changed") {
    window.SIZE = m.params;
  } else if (m.method === "ui/initialize") {
    post({id: m.id, result: {protocolVersion: "2026-01-26", hostInfo: {name: "test-host", version: "0"},
                             hostCapabilities: {serverTools: {}}, hostContext: {theme: "light"}}});
  } else if (m.method === "ui/notifications/initialized") {  /* the model's call that declared the app, then its result */
    post({method: "ui/notifications/tool-input", params: {arguments: window.TOOL.arguments}});
    post({method: "ui/notifications/tool-result", params: await window.hostCall(window.TOOL.name, window.TOOL.arguments)});
  } else if (m.method === "tools/call") {
    try { post({id: m.id, result: await window.hostCall(m.params.name, m.params.arguments)}); }
    catch (err) { post({id: m.id, error: {code: -32000, message: String(err)}}); }
  }
});
</script>"""


async def test_the_mcp_app_renders_and_updates_inside_a_host(gateway: Gateway, mcp: Client, browser: Browser) -> None:
    resource = (await mcp.read_resource_mcp("ui://colossus/run")).contents[0]
    assert resource.mime_type == "text/html;profile=mcp-app"
    calls: list[str] = []

    async def host_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        calls.append(name)
        result = await mcp.call_tool_mcp(name, arguments)
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    start = {"name": "start_run", "arguments": {"task": str(RED_BLOCK), "attempts": 1, "iterations": 4, "recall": False}}
    async with watched_page(browser, "mcp_app", None, height=1950) as page:
        await page.expose_function("hostCall", host_call)
        await page.set_content(HOST_PAGE)
        await page.evaluate("([tool, html]) => { window.TOOL = tool; document.getElementById('app').srcdoc = html; }",
                            [start, resource.text])
        app = page.frame_locator("#app")
        await wait_for_status(app, "completed", 90)
        await app.locator("#views img").first.wait_for()
        assert await app.locator("#attempts button[data-a]").count() == 4
        sources = await app.locator("#views img").evaluate_all("imgs => imgs.map(i => i.src)")
        assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
        assert (await page.evaluate("window.SIZE"))["height"] > 500, "the app tells the host its size"
        frame = next(f for f in page.frames if f != page.main_frame)
        seen = await frame.evaluate("window.colossusSeen")
        assert len(set(seen.values())) >= 2, "the app showed iterations as they landed, not all at once"
        source = (await frame.evaluate("S.status"))["run_id"]
        await app.locator('#attempts button[data-a="0"][data-k="2"]').click()  # the controls go through the bridge too
        await app.locator("#fork").click()
        await expect(app.locator("#facts")).to_contain_text(f"forked from {source} a0 i2", timeout=30_000)
        await wait_for_status(app, "completed", 90)
    assert calls[0] == "start_run" and {"get_run", "get_iteration", "fork_run"} <= set(calls)


def _get(gateway: Gateway, path: str, **headers: str) -> httpx.Response:
    return httpx.get(gateway.url + path, headers=headers, timeout=10)


def _refused(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json") and response.json()["error"] == error


async def test_hostile_requests_get_clear_json_refusals(gateway: Gateway, mcp: Client) -> None:
    run_id = next(p.name for p in gateway.runs_dir.iterdir() if (p / "run.json").is_file())
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/runs/..%2F..%2Fetc%2Fpasswd/status.json", "/runs/%2e%2e/%2e%2e/etc/status.json",
                 f"/runs/{run_id}/files/..%2F..%2F..%2Fetc%2Fpasswd", f"/runs/{run_id}/iterations/..%2F0/0.json"):
        _refused(_get(gateway, path, **auth), 400, "bad_path")
    _refused(_get(gateway, f"/runs/{run_id}/files/checkpoint/cache.db", **auth), 404, "not_found")
    outside = gateway.runs_dir.parent / "secret.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\nnot for the browser")
    (gateway.runs_dir / run_id / "ref" / "leak.png").symlink_to(outside)
    _refused(_get(gateway, f"/runs/{run_id}/files/ref/leak.png", **auth), 404, "not_found")
    _refused(_get(gateway, "/runs/2020-01-01T00-00-00Z_none/status.json", **auth), 404, "run_not_found")
    reference = _get(gateway, f"/runs/{run_id}/files/ref/front.png", **auth)
    assert reference.status_code == 200 and reference.headers["content-type"] == "image/png"

    _refused(_get(gateway, f"/runs/{run_id}/status.json"), 401, "unauthorized")
    _refused(_get(gateway, f"/runs/{run_id}/events", Cookie="colossus_dashboard=99999999999.forged"), 401, "unauthorized")
    _refused(_get(gateway, "/runs/index.json", Cookie=f"colossus_dashboard=1.{'0' * 64}"), 401, "unauthorized")
    session = httpx.post(f"{gateway.url}/runs/session", headers=auth, timeout=10)
    cookie = session.cookies["colossus_dashboard"]
    assert "httponly" in session.headers["set-cookie"].lower() and "samesite=strict" in session.headers["set-cookie"].lower()
    assert _get(gateway, f"/runs/{run_id}/status.json", Cookie=f"colossus_dashboard={cookie}").json()["run_id"] == run_id
    _refused(httpx.post(f"{gateway.url}/mcp", json={}, headers={"Cookie": f"colossus_dashboard={cookie}"}),
             401, "unauthorized")  # the session opens the dashboard only, never /mcp
    page = _get(gateway, f"/runs/{run_id}")  # the page holds no run data: it loads without the token
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"

    _refused(_get(gateway, f"/runs/{run_id}/status.json", Origin=FOREIGN, **auth), 403, "forbidden_origin")
    _refused(_get(gateway, f"/runs/{run_id}/status.json", Host="evil.example", **auth), 421, "misdirected_request")
    _refused(httpx.post(f"{gateway.url}/runs/{run_id}/cancel", json={}, headers={"Origin": FOREIGN, **auth}),
             403, "forbidden_origin")
    _refused(httpx.post(f"{gateway.url}/runs/{run_id}/cancel", content="{}", headers=auth), 415, "json_required")


async def test_without_the_token_the_page_says_how_to_give_it(gateway: Gateway, browser: Browser) -> None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"{gateway.url}/runs")
        await expect(page.locator("#msg")).to_contain_text("this gateway needs its token: open /runs#token=")
        await page.goto("about:blank")  # else only the fragment changes, and the page stays as it was
        await page.goto(f"{gateway.url}/runs#token=wrong")
        await expect(page.locator("#msg")).to_contain_text("the token was refused (HTTP 401)")
        assert await page.locator("#list").is_hidden()
    finally:
        await context.close()
