"""Request limits that hold before any route runs: the size of a request body.

:class:`BodySizeLimit` answers 413 when ``Content-Length`` announces more than the limit, without
reading the body, and also when a body without a length (chunked) grows past it while it is
read: a client cannot make the service buffer more than ``MAX_REQUEST_BODY_BYTES``.
"""

import json

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The rest of a refused body is never read, so the connection cannot carry another request.
_CLOSE = {"connection": "close"}


class BodySizeLimit:
    """ASGI middleware: 413 for request bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    @property
    def detail(self) -> str:
        """What the 413 says."""
        return f"request body larger than {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the announced length, then count what is actually received."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the route's body reading: the app answers it like any 413.
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE, detail=self.detail, headers=_CLOSE
                    )
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": self.detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        headers += [(key.encode(), value.encode()) for key, value in _CLOSE.items()]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
