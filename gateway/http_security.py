"""Who may talk to the gateway over HTTP: a bearer token when exposed, and an Origin allowlist.

Bound to loopback, the gateway is reachable only from this machine, so a token is optional
(still enforced when COLOSSUS_TOKEN is set). Bound to any other address, serving without a token
is refused. The Origin check (DNS-rebinding protection) is fastmcp's HostOriginGuardMiddleware;
the token check is ours, a constant-time compare in front of every request.

The run dashboard (/runs) is opened by a browser, which cannot add a header to a page load, an
<img> or an EventSource. So its pages (markup and script, no run data) load without the token,
and the page exchanges the token, given once in the URL fragment (never sent to a server, never
in a Referer), for a session cookie: POST /runs/session with the bearer header sets
`colossus_dashboard` (HttpOnly, SameSite=Strict, Path=/runs, 12 h), an HMAC of its expiry under
a key derived from the token. The cookie is honoured on /runs paths only, never on /mcp.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import re
import time

from fastmcp import FastMCP
from starlette.middleware import Middleware
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import HttpConfig
from gateway.errors import ConfigError

__all__ = ["BearerTokenMiddleware", "JsonRefusals", "is_loopback", "http_middleware", "required_token",
           "secured_http_app", "SESSION_COOKIE", "DASHBOARD_PREFIX"]

DASHBOARD_PREFIX = "/runs"
SESSION_COOKIE = "colossus_dashboard"
SESSION_TTL_S = 12 * 3600
_PAGE = re.compile(r"^/runs(?:/[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)?/?$")  # /runs, /runs/<run_id>


def _is_dashboard_page(scope: Scope) -> bool:
    path = scope["path"]
    return scope["method"] == "GET" and bool(_PAGE.match(path)) and not path.endswith(".json")


class BearerTokenMiddleware:
    """Rejects HTTP requests without `Authorization: Bearer <token>` with 401 (dashboard: see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()
        self._session_key = hashlib.sha256(b"colossus dashboard session\0" + token.encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            authorized = hmac.compare_digest(headers.get(b"authorization", b""), self._expected)
            if authorized and scope["method"] == "POST" and scope["path"] == f"{DASHBOARD_PREFIX}/session":
                await self._open_session(scope)(scope, receive, send)
                return
            if not (authorized or self._dashboard_allows(scope, headers)):
                response = JSONResponse({"error": "unauthorized", "detail": "missing or wrong bearer token"},
                                        status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _sign(self, expiry: int) -> str:
        return f"{expiry}.{hmac.new(self._session_key, str(expiry).encode(), hashlib.sha256).hexdigest()}"

    def _open_session(self, scope: Scope) -> JSONResponse:
        response = JSONResponse({"session": "open", "expires_in_s": SESSION_TTL_S})
        response.set_cookie(SESSION_COOKIE, self._sign(int(time.time()) + SESSION_TTL_S), max_age=SESSION_TTL_S,
                            path=DASHBOARD_PREFIX, httponly=True, samesite="strict", secure=scope.get("scheme") == "https")
        return response

    def _dashboard_allows(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        path = scope["path"]
        if path != DASHBOARD_PREFIX and not path.startswith(DASHBOARD_PREFIX + "/"):
            return False
        if _is_dashboard_page(scope):
            return True
        given = cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(SESSION_COOKIE, "")
        expiry, _, _ = given.partition(".")
        return expiry.isdigit() and int(expiry) > time.time() and hmac.compare_digest(given, self._sign(int(expiry)))


class JsonRefusals:
    """fastmcp's Host/Origin guard refuses in plain text; the same refusal goes out as JSON, like ours."""

    _REFUSALS = {b"Forbidden Origin": ("forbidden_origin", "requests from this Origin are not allowed "
                                       "([http] allowed_origins)"),
                 b"Misdirected Request": ("misdirected_request", "this Host is not served here")}

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def relay(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] in (403, 421):
                held = message  # decided by the body: only the guard's own refusals are rewritten
                return
            if held is not None and message["type"] == "http.response.body":
                start, held = held, None
                refusal = self._REFUSALS.get(message.get("body", b""))
                if refusal is None or message.get("more_body"):
                    await send(start)
                    await send(message)
                    return
                body = json.dumps({"error": refusal[0], "detail": refusal[1]}).encode()
                await send({"type": "http.response.start", "status": start["status"],
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, relay)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def required_token(config: HttpConfig, host: str) -> str | None:
    """The token requests must carry, or None; binding off-loopback without one is a ConfigError."""
    token = os.environ.get(config.token_env) or None
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host}: binding an address other than loopback requires a bearer token "
            f"in ${config.token_env}"
        )
    return token


def http_middleware(config: HttpConfig, host: str) -> list[Middleware]:
    token = required_token(config, host)
    return [Middleware(BearerTokenMiddleware, token=token)] if token else []


def secured_http_app(app: FastMCP, config: HttpConfig, host: str) -> ASGIApp:
    """The gateway's HTTP app (/mcp and /runs) behind the Host/Origin guard and the token check, refusing in JSON.
    A loopback bind checks Host and Origin against that address, as fastmcp's own run_http_async does."""
    http = app.http_app(path=config.path, middleware=http_middleware(config, host), host_origin_protection="auto",
                        allowed_hosts=[host] if is_loopback(host) else None, allowed_origins=config.allowed_origins)
    return JsonRefusals(http)
