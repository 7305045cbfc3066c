"""One way to serve a vendor stand-in on the loopback: a threaded ``http.server`` on 127.0.0.1 (a free
port unless one is given) in a daemon thread, stopped by :meth:`LoopbackServer.stop`.  The stand-ins
(WeChat API, Twilio REST, Tencent Cloud SMS) inherit it and only write their request handler."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # the tests' output stays readable
        pass

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_body(self, status: int, raw: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class LoopbackServer:
    host: str = "127.0.0.1"
    port: int = 0
    _server: Optional[ThreadingHTTPServer] = None

    def serve(self, handler: type[BaseHTTPRequestHandler], name: str) -> str:
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name=name, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


__all__ = ["LoopbackServer", "QuietHandler"]
