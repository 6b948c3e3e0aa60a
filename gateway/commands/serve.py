"""`colossus serve`: the gateway over stdio (default, for desktop hosts) or streamable HTTP at /mcp,
with the run dashboard at /runs (its URL is printed to stderr at startup).

No Blender process outlives the gateway: a normal exit, SIGTERM or SIGINT unwinds the server's
lifespan (which stops the pool), an exit handler then kills any descendant still alive, and the
workers themselves end when their parent dies (servers/blender_primary/parent_watch.py).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import sys

import psutil

from harness.platform_calls import on_terminate

__all__ = ["add_arguments", "run", "one_line"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="colossus.toml (default: $COLOSSUS_CONFIG, ./colossus.toml, ~/.config/colossus/config.toml)")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", help="HTTP bind address (default 127.0.0.1; others need $COLOSSUS_TOKEN)")
    parser.add_argument("--port", type=int, help="HTTP port (default 8765)")
    parser.add_argument("--workers", type=int, help="local Blender workers (default: [pool] workers, else the core count)")
    parser.add_argument("--toolsets", help="toolsets hosts see, comma-separated, `all` for every one "
                                           "(default: [gateway] toolsets, else core); enable_toolset adds more")


def kill_descendants() -> None:
    """Last resort at exit: SIGKILL every process this gateway started, directly or not."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()


def run(args: argparse.Namespace) -> int:
    from gateway.config import load_gateway_config
    from gateway.errors import ConfigError
    from gateway.http_security import required_token, secured_http_app
    from gateway.server import create_gateway
    from harness import serving
    from harness.errors import LaunchError
    from harness.launcher import check_blender

    try:
        config = load_gateway_config(args.config)
        if args.workers is not None:
            config.pool.workers = args.workers
        if args.toolsets is not None:
            config.gateway.toolsets = [name.strip() for name in args.toolsets.split(",") if name.strip()]
        host = args.host or config.http.host
        token = required_token(config.http, host) if args.http else None
        if config.pool.backend == "ray":  # joined before stdio is claimed, so a bad cluster is reported, not served
            from gateway.workers.ray_worker import RayCluster

            RayCluster.join(config.pool)
        elif config.pool.workers:
            check_blender(config.pool.mode, config.pool.blender_binary)
        app = create_gateway(config)  # an unknown toolset is a ConfigError
    except (ConfigError, LaunchError) as e:
        print(f"colossus serve: {one_line(e)}", file=sys.stderr)
        return 2
    atexit.register(kill_descendants)

    async def serve() -> None:
        main = asyncio.current_task()
        assert main is not None
        on_terminate(main.cancel)
        if args.http:
            import fastmcp
            import uvicorn

            port = args.port or config.http.port
            server = uvicorn.Server(uvicorn.Config(secured_http_app(app, config.http, host), host=host, port=port,
                                                   lifespan="on", timeout_graceful_shutdown=2,
                                                   log_level=fastmcp.settings.log_level.lower()))
            shown = f"[{host}]" if ":" in host else host
            print(f"colossus: dashboard at http://{shown}:{port}/runs"
                  + (f" (open it once as .../runs#token=<${config.http.token_env}>; the page keeps a session cookie)"
                     if token else ""), file=sys.stderr, flush=True)
            await server.serve()
        else:
            await serving.serve_stdio(app)

    try:
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            serving.run(serve())
    except Exception as e:  # noqa: BLE001 - a startup failure (e.g. the pool folder cannot be made): one line, exit 1
        print(f"colossus serve: could not start: {one_line(e)}", file=sys.stderr)
        return 1
    finally:
        kill_descendants()
    return 0


def one_line(e: BaseException) -> str:
    """An error as one line: its message with the whitespace folded (pydantic and OS errors span lines)."""
    return " ".join((str(e) or type(e).__name__).split())
