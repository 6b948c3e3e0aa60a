"""The viewport-vision MCP server over stdio (default) or streamable HTTP.

    python -m servers.viewport_vision [--allowed-root DIR ...] [--config FILE] [--http --host H --port P]

Default allowed roots: ./runs and the system temp dir. The verifier model role comes from the
[models] table of the config file (see harness.model_config) and COLOSSUS_MODELS_VERIFIER.
HTTP binds to loopback only: the server has no authentication of its own (the gateway has).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.model_config import ModelConfigError, ModelsConfig
from harness.serving import run, serve_stdio
from servers.viewport_vision.images import default_roots
from servers.viewport_vision.server import create_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.viewport_vision", description=__doc__.splitlines()[0])
    parser.add_argument("--allowed-root", action="append", type=Path, default=None, metavar="DIR",
                        help="directory image paths may be read from (repeatable; default: ./runs and the temp dir)")
    parser.add_argument("--config", default=None, help="colossus.toml (default: $COLOSSUS_CONFIG, ./colossus.toml, ~/.config/colossus/config.toml)")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    if args.http and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"viewport_vision: refusing to serve on {args.host}: no authentication here; "
              "bind to 127.0.0.1 and reach it through the gateway", file=sys.stderr)
        return 2
    try:
        models = ModelsConfig.load(args.config)
    except (ModelConfigError, ValueError, FileNotFoundError) as e:
        print(f"viewport_vision: {e}", file=sys.stderr)
        return 2
    mcp = create_server(args.allowed_root or default_roots(), models)
    if args.http:
        mcp.run(transport="http", host=args.host, port=args.port, show_banner=False)
    else:
        run(serve_stdio(mcp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
