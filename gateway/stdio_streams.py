"""Thread-free stdin/stdout for the gateway's stdio server.

mcp's `stdio_server()` reads and writes the standard streams through anyio's file wrappers, a
worker-thread hop per line read and two per line written; on the gateway every hop is added to
every host call. Here fd 0 and 1 are duplicated into asyncio pipes (the wire), then pointed at
/dev/null and stderr so stray prints from libraries never reach the host. Falls back to mcp's
own streams when stdin is not a pipe (e.g. a regular file).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator

__all__ = ["LineReader", "LineWriter", "claimed_stdio"]


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


@contextlib.asynccontextmanager
async def claimed_stdio() -> AsyncIterator[tuple[LineReader, LineWriter] | None]:
    """Yields (reader, writer) on private duplicates of fd 0/1, or None when they are not pipes."""
    loop = asyncio.get_running_loop()
    wire_in, wire_out = os.dup(0), os.dup(1)
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
    saved_in, saved_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        yield LineReader(reader), LineWriter(write_transport, protocol)
    finally:
        read_transport.close()
        write_transport.close()
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.close(saved_in)
        os.close(saved_out)
