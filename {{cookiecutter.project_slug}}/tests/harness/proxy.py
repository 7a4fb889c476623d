"""A loopback TCP proxy in front of a real backend, which the fault tier drives.

The services connect to the proxy instead of the server; the test then makes the "network" fail
the way production networks do:

* :meth:`TcpProxy.stall`: connections stay open and new ones are accepted, but no byte moves (a
  server that hangs, a partition, a full queue);
* :meth:`TcpProxy.slow`: every chunk is delayed (an overloaded server or link);
* :meth:`TcpProxy.cut`: every open connection is reset at once (a server restart, a failover);
* :meth:`TcpProxy.refuse`: open connections are reset and nothing listens (a server that is down);
* :meth:`TcpProxy.restore`: traffic flows normally again, on the same port.

Written for these tests rather than taken from a library: the well-known fault proxy (Toxiproxy)
is a Go server that has to be downloaded and run beside the tests, and the few modes needed here
fit in this module. It runs its own event loop in a background thread, so synchronous and
asynchronous tests drive it alike.
"""

import asyncio
import socket
import struct
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self

# What writing to a connection whose other side was reset or cut raises.
PEER_GONE = (OSError, RuntimeError)


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream_host``:``upstream_port`` until told otherwise."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._delay = 0.0
        self._transports: set[asyncio.WriteTransport] = set()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Start listening on a free loopback port (``self.port``)."""
        self._thread.start()
        self._run(self._listen())
        self.restore()
        return self

    def close(self) -> None:
        """Reset every connection, stop listening and end the proxy's thread."""
        self._run(self._refuse())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- faults --------------------------------------------------------------------------

    def stall(self) -> None:
        """Hold every byte, in both directions, on open and new connections alike."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def slow(self, seconds: float) -> None:
        """Deliver every chunk ``seconds`` late."""
        self._run(self._set_delay(seconds))

    def cut(self) -> None:
        """Reset every open connection (RST); new connections are accepted as before."""
        self._run(self._cut())

    def refuse(self) -> None:
        """Reset every open connection and stop listening: connecting fails at once."""
        self._run(self._refuse())

    def restore(self) -> None:
        """Forward normally again, listening on the same port if it was refusing."""
        self._run(self._restore())

    @property
    def connections(self) -> int:
        """Open connections through the proxy (both sides counted once)."""
        return len(self._transports) // 2

    # --- inside the proxy's loop -----------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set_delay(self, seconds: float) -> None:
        self._delay = seconds
        self._flowing.set()

    async def _restore(self) -> None:
        self._delay = 0.0
        self._flowing.set()
        if self._server is None:
            await self._listen()

    async def _cut(self) -> None:
        for transport in list(self._transports):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # Linger 0: close() sends RST, as a crashed peer's kernel does, not FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        self._transports.clear()

    async def _refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._cut()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, upstream_writer.transport}
        self._transports |= pair
        try:
            await asyncio.gather(
                self._pump(reader, upstream_writer), self._pump(upstream_reader, writer)
            )
        finally:
            self._transports -= pair
            for transport in pair:
                transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                if self._delay:
                    await asyncio.sleep(self._delay)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except PEER_GONE:
            # The other side was reset or cut: this direction ends too.
            writer.transport.abort()
