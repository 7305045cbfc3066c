"""Local stand-in for the WeChat Official Account HTTP API (api.weixin.qq.com).

This is NOT WeChat: it is a small threaded HTTP server for tests that speaks the
documented wire format of the two endpoints the assistant uses, so the channel can be
pointed at it with ``WECHAT_API_BASE=<base_url>``:

* ``GET /cgi-bin/token?grant_type=client_credential&appid=APPID&secret=SECRET``
  -> ``{"access_token": "...", "expires_in": 7200}``; wrong appid -> 40013, wrong
  secret -> 40125, wrong grant_type -> 40002.
* ``POST /cgi-bin/message/custom/send?access_token=TOKEN`` with JSON
  ``{"touser": OPENID, "msgtype": "text", "text": {"content": "..."}}``
  -> ``{"errcode": 0, "errmsg": "ok"}``; unknown token -> 40001, expired token -> 42001,
  missing token -> 41001, content over 2048 bytes -> 45002, bad JSON -> 47001.
* ``POST /customservice/kfsession/create?access_token=TOKEN`` -> ``{"errcode": 0, ...}``.

Received customer-service messages are in ``.messages`` (dicts as posted), token
fetches are counted in ``.token_requests``.  ``expire_tokens()`` makes every issued
token answer 42001, as WeChat does after ``expires_in``.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

TEXT_LIMIT_BYTES = 2048


class WeChatApiStandIn:
    def __init__(
        self,
        app_id: str = "wx0123456789abcdef",
        app_secret: str = "test-wechat-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        expires_in: int = 7200,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.host = host
        self.port = port
        self.expires_in = expires_in
        self.messages: List[Dict[str, Any]] = []
        self.kf_sessions: List[Dict[str, Any]] = []
        self.token_requests = 0
        self.rejected: List[Tuple[str, int]] = []  # (path, errcode) of refused calls
        self._valid_tokens: Dict[str, float] = {}
        self._expired_tokens: set = set()
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> str:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, payload: Dict[str, Any], status: int = 200) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/token":
                    self._reply(stand_in._token(query))
                else:
                    self._reply({"errcode": 404, "errmsg": "not found (WeChat API stand-in)"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if url.path == "/cgi-bin/message/custom/send":
                    self._reply(stand_in._custom_send(query, raw))
                elif url.path == "/customservice/kfsession/create":
                    self._reply(stand_in._kf_session(query, raw))
                else:
                    self._reply({"errcode": 404, "errmsg": "not found (WeChat API stand-in)"}, 404)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-api-standin", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- test helpers -------------------------------------------------------------
    def expire_tokens(self) -> None:
        with self._lock:
            self._expired_tokens.update(self._valid_tokens)
            self._valid_tokens.clear()

    def messages_to(self, openid: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m.get("touser") == openid]

    def texts_to(self, openid: str) -> List[str]:
        return [m["text"]["content"] for m in self.messages_to(openid)]

    def wait_for_messages(self, openid: str, count: int = 1, timeout: float = 30.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(openid)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.messages_to(openid)

    # --- endpoints ----------------------------------------------------------------
    def _token(self, query: Dict[str, str]) -> Dict[str, Any]:
        with self._lock:
            self.token_requests += 1
            if query.get("grant_type") != "client_credential":
                return self._refuse("/cgi-bin/token", 40002, "invalid grant_type")
            if query.get("appid") != self.app_id:
                return self._refuse("/cgi-bin/token", 40013, "invalid appid")
            if query.get("secret") != self.app_secret:
                return self._refuse("/cgi-bin/token", 40125, "invalid appsecret")
            token = secrets.token_urlsafe(48)
            self._valid_tokens[token] = time.time() + self.expires_in
            return {"access_token": token, "expires_in": self.expires_in}

    def _check_token(self, path: str, query: Dict[str, str]) -> Optional[Dict[str, Any]]:
        token = query.get("access_token")
        if not token:
            return self._refuse(path, 41001, "access_token missing")
        if token in self._expired_tokens or (token in self._valid_tokens and self._valid_tokens[token] < time.time()):
            return self._refuse(path, 42001, "access_token expired")
        if token not in self._valid_tokens:
            return self._refuse(path, 40001, "invalid credential, access_token is invalid or not latest")
        return None

    def _refuse(self, path: str, errcode: int, errmsg: str) -> Dict[str, Any]:
        self.rejected.append((path, errcode))
        return {"errcode": errcode, "errmsg": errmsg}

    def _json_call(self, path: str, query: Dict[str, str], raw: bytes) -> Tuple[Any, Optional[Dict[str, Any]]]:
        """(payload, None) for an authorised call with a JSON body, else (None, WeChat's refusal)."""
        refused = self._check_token(path, query)
        if refused:
            return None, refused
        try:
            return json.loads(raw.decode("utf-8")), None
        except (UnicodeDecodeError, ValueError):
            return None, self._refuse(path, 47001, "data format error")

    def _custom_send(self, query: Dict[str, str], raw: bytes) -> Dict[str, Any]:
        path = "/cgi-bin/message/custom/send"
        with self._lock:
            payload, refused = self._json_call(path, query, raw)
            if refused:
                return refused
            if not isinstance(payload, dict) or not isinstance(payload.get("touser"), str):
                return self._refuse(path, 40003, "invalid openid")
            if payload.get("msgtype") != "text":
                return self._refuse(path, 40008, "invalid message type")
            content = (payload.get("text") or {}).get("content") if isinstance(payload.get("text"), dict) else None
            if not isinstance(content, str) or not content:
                return self._refuse(path, 44003, "empty content")
            if len(content.encode("utf-8")) > TEXT_LIMIT_BYTES:
                return self._refuse(path, 45002, "content size out of limit")
            self.messages.append(payload)
            return {"errcode": 0, "errmsg": "ok"}

    def _kf_session(self, query: Dict[str, str], raw: bytes) -> Dict[str, Any]:
        path = "/customservice/kfsession/create"
        with self._lock:
            payload, refused = self._json_call(path, query, raw)
            if refused:
                return refused
            self.kf_sessions.append(payload)
            return {"errcode": 0, "errmsg": "ok"}
