"""Who may talk to the gateway over HTTP: a bearer token when exposed, and an Origin allowlist.

Bound to loopback, the gateway is reachable only from this machine, so a token is optional
(still enforced when COLOSSUS_TOKEN is set). Bound to any other address, serving without a token
is refused. The Origin check (DNS-rebinding protection) is fastmcp's HostOriginGuardMiddleware;
the token check is ours, a constant-time compare in front of every request.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import HttpConfig
from gateway.errors import ConfigError

__all__ = ["BearerTokenMiddleware", "is_loopback", "http_middleware", "required_token"]


class BearerTokenMiddleware:
    """Rejects HTTP requests without `Authorization: Bearer <token>` with 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                response = JSONResponse({"error": "unauthorized", "detail": "missing or wrong bearer token"},
                                        status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
