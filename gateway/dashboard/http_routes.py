"""The dashboard over the HTTP gateway: pages, JSON, server-sent events, images and controls under /runs.

    GET  /runs, /runs/<run_id>                        the page (list of runs, or one run)
    GET  /runs/index.json                             every run's status, newest first
    GET  /runs/<run_id>/status.json                   the run's status (RunStatus)
    GET  /runs/<run_id>/events                        SSE: `status` at once, then one per finished iteration or change
    GET  /runs/<run_id>/iterations/<a>/<k>.json       one iteration (gateway.dashboard.iteration)
    GET  /runs/<run_id>/files/<path>                  a render or reference image of the run folder
    POST /runs/<run_id>/cancel | resume | fork        the controls (JSON body; fork: attempt, iteration, overrides)

Every path segment is checked against one pattern before it is used, and a file is served only
when its resolved path lies inside its run folder and names an image. Refusals are JSON
`{"error", "detail"}` with a status code. The token and Origin rules are the whole HTTP app's
(gateway.http_security), so they hold here as on /mcp; POSTs must send a JSON body, which a
cross-origin page cannot do without a CORS preflight this server never grants.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastmcp import FastMCP
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse

from gateway.dashboard.iteration import IMAGE_TYPES, landed_iteration_detail
from gateway.dashboard.page import page_csp, page_html
from gateway.errors import BadRequest, CoordinatorUnavailable, GatewayError
from gateway.handles import MAX_WAIT_S
from gateway.services import GatewayServices
from orchestrator.artifacts import RunFolder
from orchestrator.errors import OrchestratorError, RunNotFound, TaskError
from orchestrator.service import RunService, live

__all__ = ["register_dashboard_routes", "SSE_IDLE_S"]

SSE_IDLE_S = 15.0  # a comment line this often keeps proxies from closing a quiet stream
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # no empty, `.` or `..` segment, no separator
_ITERATION_FILE = re.compile(r"^(\d{1,5})\.json$")


class ForkRequest(BaseModel):
    """What POST /runs/<id>/fork accepts: the iteration to branch from and the fork_run overrides."""

    model_config = ConfigDict(extra="forbid")

    attempt: int = Field(ge=0)
    iteration: int = Field(ge=0)
    builder: str | None = None
    verifier: str | None = None
    attempts: int | None = Field(None, ge=1, le=16)
    iterations: int | None = Field(None, ge=1, le=50)
    max_cost_usd: float | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, gt=0)
    tool_calls: int | None = Field(None, ge=0, le=50)


class Refusal(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "detail": self.detail}, status_code=self.status)


def _page() -> HTMLResponse:
    return HTMLResponse(page_html(), headers={"Content-Security-Policy": page_csp(), "Referrer-Policy": "no-referrer",
                                              "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _segments(rest: str) -> list[str]:
    parts = rest.strip("/").split("/") if rest.strip("/") else []
    for part in parts:
        if not _SEGMENT.match(part):
            raise Refusal(400, "bad_path", f"invalid path segment {part!r}: names of letters, digits, '_', '-', '.' only")
    return parts


def _json(value: Any) -> JSONResponse:
    return JSONResponse(value.model_dump(mode="json") if isinstance(value, BaseModel) else value,
                        headers={"Cache-Control": "no-store"})


def _file(runs_dir: Path, run_id: str, parts: list[str]) -> FileResponse:
    root = RunFolder.open(runs_dir, run_id).root
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root) or path.suffix.lower() not in IMAGE_TYPES or not path.is_file():
        raise Refusal(404, "not_found", f"run {run_id} has no image {'/'.join(parts)!r}")
    return FileResponse(path, media_type=IMAGE_TYPES[path.suffix.lower()],
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


def _events(service: RunService, run_id: str) -> StreamingResponse:
    """One `status` event now, then one whenever the status changes (RunService.get wakes on every finished
    iteration), until the run stops running (here or, watched through its folder, in another process). The
    status is read before each wait, in the same event loop turn as the wait begins, so a change between two
    waits is never missed."""
    service.status(run_id)  # RunNotFound before the stream starts

    async def stream() -> AsyncIterator[str]:
        sent = None
        while True:
            status = service.status(run_id)
            data = status.model_dump_json()
            if data != sent:
                yield f"event: status\ndata: {data}\n\n"
                sent = data
            else:
                yield ": idle\n\n"
            if not live(status):
                return
            await service.get(run_id, wait_s=SSE_IDLE_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _control(service: RunService, run_id: str, action: str, request: Request) -> JSONResponse:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Refusal(415, "json_required", "send the request body as application/json")
    try:
        body = await request.json()
    except ValueError:
        raise Refusal(400, "bad_json", "the request body is not JSON") from None
    if action == "cancel":
        return _json({"cancelled": run_id, "status": (await service.cancel(run_id)).model_dump(mode="json")})
    if action == "resume":
        return _json({"run_id": await service.resume(run_id)})
    try:
        fork = ForkRequest.model_validate(body)
    except ValidationError as e:
        raise Refusal(400, "bad_request", f"fork: {e}") from None
    overrides = fork.model_dump(exclude={"attempt", "iteration"}, exclude_none=True)
    return _json({"run_id": await service.fork(run_id, fork.attempt, fork.iteration, **overrides)})


async def _dispatch(services: GatewayServices, request: Request) -> Response:
    parts, method = _segments(request.path_params["rest"]), request.method
    runs_dir = services.config.runs_dir
    if method == "GET" and len(parts) <= 1 and not (parts and parts[0].endswith(".json")):
        return _page()
    if method == "GET" and parts == ["index.json"]:
        return _json({"runs": [s.model_dump(mode="json") for s in services.runs().list()]})
    if method == "POST" and parts == ["session"]:  # reached only when the gateway has no token to exchange
        return _json({"session": "not needed: this gateway has no token"})
    run_id, rest = (parts[0], parts[1:]) if parts else ("", [])
    if method == "GET" and rest == ["status.json"]:
        wait_s = float(request.query_params.get("wait_s", 0) or 0)
        return _json(await services.runs().get(run_id, wait_s=max(0.0, min(wait_s, MAX_WAIT_S))))
    if method == "GET" and rest == ["events"]:
        return _events(services.runs(), run_id)
    if (method == "GET" and len(rest) == 3 and rest[0] == "iterations" and rest[1].isdigit()
            and (named := _ITERATION_FILE.match(rest[2]))):
        link = lambda folder, path: f"/runs/{quote(run_id)}/files/{quote(folder.rel(path))}"  # noqa: E731
        return _json(await landed_iteration_detail(runs_dir, run_id, int(rest[1]), int(named.group(1)), link))
    if method == "GET" and len(rest) >= 2 and rest[0] == "files":
        return _file(runs_dir, run_id, rest[1:])
    if method == "POST" and len(rest) == 1 and rest[0] in ("cancel", "resume", "fork"):
        return await _control(services.runs(), run_id, rest[0], request)
    raise Refusal(404, "not_found", f"no dashboard route {method} {request.url.path}")


def register_dashboard_routes(app: FastMCP, services: GatewayServices) -> None:
    @app.custom_route("/runs", methods=["GET"])
    async def runs_page(_request: Request) -> Response:
        return _page()

    @app.custom_route("/runs/{rest:path}", methods=["GET", "POST"])
    async def runs_tree(request: Request) -> Response:
        try:
            return await _dispatch(services, request)
        except Refusal as e:
            return e.response()
        except RunNotFound as e:
            return Refusal(404, "run_not_found", str(e)).response()
        except TaskError as e:
            return Refusal(400, "bad_request", str(e)).response()
        except OrchestratorError as e:  # e.g. resuming a run that is running
            return Refusal(409, "conflict", str(e)).response()
        except CoordinatorUnavailable as e:
            return Refusal(503, "coordinator_unavailable", str(e)).response()
        except BadRequest as e:  # no such iteration (yet)
            return Refusal(404, "not_found", str(e)).response()
        except GatewayError as e:
            return Refusal(500, "gateway_error", str(e)).response()
