"""The site server: a real HTTP server on 127.0.0.1 (a free port) that hands every request to the current `Site`.

One server per env, started with it and stopped by `close()` (or at interpreter exit). Requests are handled on
threads but reach the site one at a time under `lock`, which the env also holds while it reads the site's state.
"""

from __future__ import annotations

import atexit
import threading
import traceback
import weakref
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from hiper_gym.web.site import Request, Response, Site

HOST = "127.0.0.1"
MAX_BODY = 1_000_000


def _first(fields: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in fields.items() if v}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        form: dict[str, str] = {}
        if method == "POST":
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            form = _first(parse_qs(raw, keep_blank_values=True))
        cookies = {k: m.value for k, m in SimpleCookie(self.headers.get("Cookie") or "").items()}
        request = Request(method, parts.path, _first(parse_qs(parts.query, keep_blank_values=True)), form, cookies)
        owner = self.server.owner
        if parts.path == "/favicon.ico":
            response = Response(b"", 204, "image/x-icon")
        else:
            with owner.lock:
                owner.requests.append((method, self.headers.get("Host", ""), self.path))
                response = owner.answer(request)
        body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: SiteServer


_LIVE: weakref.WeakSet[SiteServer] = weakref.WeakSet()


class SiteServer:
    """Serves `self.site` on http://127.0.0.1:<port>/ from a background thread."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.site: Site | None = None
        self.requests: list[tuple[str, str, str]] = []  # (method, Host header, path) of every request
        self.errors: list[str] = []  # tracebacks of site handlers that raised
        self._httpd = _Server((HOST, 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"hiper-site-{self.port}", daemon=True)
        self._thread.start()
        self._closed = False
        _LIVE.add(self)

    def answer(self, request: Request) -> Response:
        """The current site's response; a site that raises answers 500 and its traceback is kept in `errors`."""
        if self.site is None:
            return Response("no site is being served", 503, "text/plain")
        try:
            return self.site.handle(request)
        except Exception:  # a bug in a task's site must not kill the server thread
            self.errors.append(traceback.format_exc())
            return Response("<!doctype html><title>Server error</title><h1>500 Server error</h1>", 500)

    def url(self, path: str = "/") -> str:
        """The absolute URL of a path on this server."""
        return f"http://{HOST}:{self.port}{path if path.startswith('/') else '/' + path}"

    def serve(self, site: Site | None) -> None:
        """Serve `site` from now on (a fresh one per episode) and forget the request log."""
        with self.lock:
            self.site = site
            self.requests, self.errors = [], []

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@atexit.register
def _close_all() -> None:
    for server in list(_LIVE):
        server.close()
