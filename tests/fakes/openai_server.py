"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies.

The only test double allowed for remote model providers: litellm (or any OpenAI client) talks to
it over real HTTP. Replies are queued per model name as the client sends it in the body (litellm
strips the `openai/` provider prefix, so `openai/vlm-a` arrives as `vlm-a`). A reply is text, an
HTTP error status (with headers such as Retry-After), or either after a delay. Every request body is recorded for assertions.

    with FakeOpenAIServer() as fake:
        fake.script("vlm-a", Reply(status=500), '{"ok": true}')
        ... api_base=fake.base_url ...
        assert len(fake.requests) == 1

As a pytest fixture: `from tests.fakes.openai_server import openai_server` in a test module.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

__all__ = ["Reply", "RecordedRequest", "FakeOpenAIServer", "openai_server"]


@dataclass
class Reply:
    """One scripted answer. status != 200 sends an OpenAI-style error body instead of a completion."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0
    usage: dict[str, int] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"} on a 429
    reasoning: str | None = None  # a thinking model's reasoning, sent apart as message.reasoning_content (GLM, DeepSeek)


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0  # what the server answered
    received_s: float = field(default_factory=time.monotonic)  # when it arrived (backoff assertions)

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    def image_urls(self) -> list[str]:
        """Every image_url of every message, in order."""
        urls: list[str] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        image = part["image_url"]
                        urls.append(image["url"] if isinstance(image, dict) else image)
        return urls


@dataclass
class _State:
    queues: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    default: Reply | None = None
    latency_s: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeOpenAIServer:
    """Serves POST /v1/chat/completions (and /chat/completions) and GET /v1/models."""

    def __init__(self, latency_s: float = 0.0, default: Reply | str | None = None) -> None:
        self._state = _State(latency_s=latency_s, default=_as_reply(default) if default is not None else None)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # scripting -------------------------------------------------------------------------------
    def script(self, model: str, *replies: Reply | str | int) -> None:
        """Queue replies for `model`: a str is a 200 answer, an int an HTTP error status."""
        with self._state.lock:
            self._state.queues[model].extend(_as_reply(r) for r in replies)

    def set_default(self, reply: Reply | str | int | None) -> None:
        """Answer given when a model's queue is empty (None: HTTP 500 'no scripted reply')."""
        with self._state.lock:
            self._state.default = _as_reply(reply) if reply is not None else None

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.model == model]

    def pending(self, model: str) -> int:
        with self._state.lock:
            return len(self._state.queues.get(model, ()))

    # lifecycle --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The api_base a client needs, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeOpenAIServer":
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _as_reply(r: Reply | str | int) -> Reply:
    if isinstance(r, Reply):
        return r
    if isinstance(r, bool):
        raise TypeError("a scripted reply is a Reply, a str or an int status")
    if isinstance(r, int):
        return Reply(status=r, text=f"scripted HTTP {r}")
    return Reply(text=r)


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            with self.state.lock:
                names = sorted(self.state.queues)
            self._send(200, {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "fake"} for n in names]})
        else:
            self._send(404, _error(f"no route GET {self.path}", "not_found"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0].rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, _error(f"no route POST {self.path}", "not_found"))
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as e:
            self._send(400, _error(f"request body is not JSON: {e}", "invalid_request_error"))
            return
        record = RecordedRequest(self.path, body, {k.lower(): v for k, v in self.headers.items()})
        with self.state.lock:
            self.state.requests.append(record)
            queue = self.state.queues.get(record.model)
            reply = queue.popleft() if queue else self.state.default
            latency = self.state.latency_s
        if latency:
            time.sleep(latency)
        if reply is None:
            record.status = 500
            self._send(500, _error(f"no scripted reply for model {record.model!r}", "server_error"))
            return
        if reply.delay_s:
            time.sleep(reply.delay_s)
        record.status = reply.status
        if reply.status != 200:
            self._send(reply.status, _error(reply.text or f"scripted HTTP {reply.status}", "server_error"), reply.headers)
        elif body.get("stream"):
            self._send(400, _error("the fake server does not stream", "invalid_request_error"))
        else:
            self._send(200, _completion(record, reply, len(raw)))

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): nothing to answer
            pass


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _completion(record: RecordedRequest, reply: Reply, request_bytes: int) -> dict[str, Any]:
    usage = reply.usage or {"prompt_tokens": max(1, request_bytes // 4), "completion_tokens": max(1, len(reply.text) // 4)}
    usage = {**usage, "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)}
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": record.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": usage,
    }


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A started fake server, stopped after the test."""
    with FakeOpenAIServer() as server:
        yield server
