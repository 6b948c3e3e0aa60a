"""The dashboard page (page.html, one file: markup, CSS and script inline, nothing fetched from elsewhere)
and the Content-Security-Policy the HTTP side serves it under.

The policy allows exactly the page's own inline script and style, by their SHA-256 hashes, images
from the gateway or data URLs, and connections back to the gateway only; no framing, no forms,
no base URL. Inside an MCP host the host applies its own policy from the resource's CSP metadata.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from fastmcp.apps import AppConfig

__all__ = ["page_html", "page_csp", "RUN_APP_URI", "RUN_APP"]

RUN_APP_URI = "ui://colossus/run"
RUN_APP = AppConfig(resource_uri=RUN_APP_URI)  # what start_run and get_run declare: the page renders their runs


@cache
def page_html() -> str:
    return resources.files("gateway.dashboard").joinpath("page.html").read_text(encoding="utf-8")


def _hashes(tag: str) -> str:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page_html(), flags=re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


@cache
def page_csp() -> str:
    return (f"default-src 'none'; script-src {_hashes('script')}; style-src {_hashes('style')}; "
            "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
