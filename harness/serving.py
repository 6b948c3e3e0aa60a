"""Serving a FastMCP app over stdio without thread hops, on the fastest event loop installed.

mcp's `stdio_server()` reads and writes the standard streams through anyio's file wrappers: a
worker-thread hop per line read and two per line written, added to every call on every link
(host → gateway, gateway → worker, gateway → vision). Here the wire's file descriptors are
duplicated into asyncio pipes instead. The gateway and the vision server claim fd 0/1 (then
point them at /dev/null and stderr, so stray prints never reach the peer); a Blender worker has
already moved its wire off fd 1 (servers/blender_primary/stdio_guard.py) and passes that fd.
When the wire is not a pipe, socket or terminal (/dev/null, a regular file), mcp's own streams are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from io import TextIOWrapper
from typing import Any, TypeVar

from fastmcp import FastMCP

__all__ = ["LineReader", "LineWriter", "loop_factory", "pipe_streams", "claimed_stdio", "serve_stdio", "run"]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (less overhead per message), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class LineReader:
    """`async for line in reader` over an asyncio pipe, as mcp's stdio_server expects."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> LineReader:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class LineWriter:
    """`await write(text)` then `await flush()`, written straight to the pipe transport."""

    def __init__(self, transport: asyncio.WriteTransport, protocol: asyncio.BaseProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def write(self, text: str) -> None:
        self._transport.write(text.encode("utf-8"))

    async def flush(self) -> None:
        drain = getattr(self._protocol, "_drain_helper", None)
        if drain is not None:
            await drain()


Streams = tuple[LineReader, LineWriter]
T = TypeVar("T")


@contextlib.asynccontextmanager
async def pipe_streams(read_fd: int, write_fd: int) -> AsyncIterator[Streams | None]:
    """(reader, writer) on private duplicates of the two fds, or None when they are not pipes."""
    if not (_pollable(read_fd) and _pollable(write_fd)):
        yield None
        return
    loop = asyncio.get_running_loop()
    wire_in, wire_out = os.dup(read_fd), os.dup(write_fd)
    reader = asyncio.StreamReader(limit=2**26)
    try:
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0))
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0))
    except (ValueError, OSError):  # not a pipe, socket or character device
        with contextlib.suppress(OSError):
            os.close(wire_in)
            os.close(wire_out)
        yield None
        return
    try:
        yield LineReader(reader), LineWriter(write_transport, protocol)
    finally:
        read_transport.close()
        write_transport.close()


def _pollable(fd: int) -> bool:
    """A pipe, socket or terminal: what an event loop can watch. Not /dev/null or a regular file (uvloop
    aborts the process on those instead of raising)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


@contextlib.asynccontextmanager
async def claimed_stdio() -> AsyncIterator[Streams | None]:
    """The wire on duplicates of fd 0/1, which then point at /dev/null and stderr until exit."""
    async with pipe_streams(0, 1) as streams:
        if streams is None:
            yield None
            return
        saved_in, saved_out = os.dup(0), os.dup(1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdout.flush()
        os.dup2(2, 1)
        try:
            yield streams
        finally:
            os.dup2(saved_in, 0)
            os.dup2(saved_out, 1)
            os.close(saved_in)
            os.close(saved_out)


def _threaded_streams(read_fd: int, write_fd: int) -> tuple[Any, Any]:
    """mcp's own kind of streams (anyio file wrappers, a thread hop per line) over the two fds."""
    import anyio

    def text(fd: int, mode: str) -> Any:
        return anyio.wrap_file(TextIOWrapper(os.fdopen(os.dup(fd), mode), encoding="utf-8", write_through=True))

    return text(read_fd, "rb"), text(write_fd, "wb")


async def serve_stdio(app: FastMCP, wire_fd: int | None = None) -> None:
    """Run `app` (lifespan included) over stdio until the peer closes it.

    `wire_fd` None claims fd 0/1 (the gateway, the vision server); a Blender worker passes the
    private duplicate it moved its stdout to and reads fd 0. fastmcp's `run_stdio_async` opens
    mcp's threaded streams itself, so the parts it uses (lifespan manager, low-level server) are
    assembled here around ours.
    """
    from fastmcp.server.context import reset_transport, set_transport
    from mcp.server.stdio import stdio_server

    async with contextlib.AsyncExitStack() as stack:
        wire = claimed_stdio() if wire_fd is None else pipe_streams(0, wire_fd)
        streams: Any = await stack.enter_async_context(wire) or _threaded_streams(0, 1 if wire_fd is None else wire_fd)
        token = set_transport("stdio")
        try:
            async with app._lifespan_manager():
                async with stdio_server(stdin=streams[0], stdout=streams[1]) as (read_stream, write_stream):
                    low_level = app._mcp_server
                    await low_level.run(read_stream, write_stream, low_level.create_initialization_options())
        finally:
            reset_transport(token)


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on `loop_factory()`'s loop: servers and the coordinator's CLI both run on it."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
