"""A small HTTP/1.1 client on asyncio streams, for load generation on a shared 2-core machine.

``requests`` costs about a millisecond of CPU per request and a thread per client, which the
server under test would then compete with; this client costs a small fraction of that: one
keep-alive connection per simulated browser, its own cookie jar, and nothing else (no TLS, no
redirects followed, no compression). It speaks just enough HTTP for Django behind gunicorn:
Content-Length or chunked bodies, ``Connection: close`` honoured.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode


class HttpError(Exception):
    """The connection failed or the answer was not HTTP: counted apart from status codes."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes
    seconds: float

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Browser:
    """One person's browser: a keep-alive connection and the cookies the server set."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    def _cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _remember(self, set_cookies: list[str]) -> None:
        for line in set_cookies:
            first, _, attributes = line.partition(";")
            name, _, value = first.strip().partition("=")
            expired = "max-age=0" in attributes.lower().replace(" ", "") or value in ('""', "")
            if expired:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    async def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> Response:
        """Send one request and read the whole answer; HttpError on a broken connection, TimeoutError
        when nothing complete came back in ``timeout`` seconds (the connection is then dropped)."""
        began = time.perf_counter()
        try:
            return await asyncio.wait_for(self._with_retry(method, path, form, headers or {}, began), timeout)
        except TimeoutError:
            self.close()
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            self.close()
            raise HttpError(f"{error.__class__.__name__}: {error}") from None

    async def _with_retry(
        self, method: str, path: str, form: dict[str, str] | None, extra: dict[str, str], began: float
    ) -> Response:
        """As browsers do: a kept-alive connection the server closed meanwhile (its keep-alive
        timeout) fails before any answer arrives; then the request goes once more on a new one."""
        reused = self.writer is not None
        try:
            return await self._exchange(method, path, form, extra, began)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            partial = getattr(error, "partial", b"")
            if not reused or partial:
                raise
            self.close()
            return await self._exchange(method, path, form, extra, began)

    async def _exchange(
        self, method: str, path: str, form: dict[str, str] | None, extra: dict[str, str], began: float
    ) -> Response:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/html"]
        if self.cookies:
            lines.append(f"Cookie: {self._cookie_header()}")
        if form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in extra.items())
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        set_cookies: list[str] = []
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                set_cookies.append(value)
            else:
                headers[name] = value
        if "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            content = b"".join(chunks)
        else:
            content = await self.reader.read()  # until the server closes
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        self._remember(set_cookies)
        return Response(status, headers, set_cookies, content, time.perf_counter() - began)
