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
* ``POST /cgi-bin/message/template/send?access_token=TOKEN`` with ``{"touser", "template_id", "data":
  {key: {"value": ...}}, "client_msg_id"}`` -> ``{"errcode": 0, "errmsg": "ok", "msgid": N}``, with the
  rules of library (类目) templates: the template must be registered (40037), its keys exactly (47003;
  the old ``first``/``remark`` keys are gone), ``thing`` at most 20 characters, ``character_string`` at
  most 32 letters/digits/symbols, ``amount`` a number with an optional 元, ``time`` a date (47003); an
  unsubscribed openid -> 43004; the same openid + ``client_msg_id`` within 10 minutes is sent once and
  answered with the first ``msgid`` (WeChat's documented de-duplication).

The customer-service API works only within 48 hours of the customer's last message: with
``enforce_window=True``, a custom message to an openid that has not written (``customer_wrote``)
within that window is refused with 45015, as WeChat does.

Received customer-service messages are in ``.messages`` (dicts as posted), token
fetches are counted in ``.token_requests``.  ``expire_tokens()`` makes every issued
token answer 42001, as WeChat does after ``expires_in``.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

from harness.loopback import LoopbackServer, QuietHandler

TEXT_LIMIT_BYTES = 2048
CS_WINDOW_S = 48 * 3600  # the customer-service API's window after the customer's last message
CLIENT_MSG_ID_WINDOW_S = 600  # template sends with the same client_msg_id are de-duplicated this long
_AMOUNT = re.compile(r"^\d+(?:\.\d{1,2})?元?$")
_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日(?: ?\d{1,2}:\d{2})?$|^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?$")
_CHARACTER_STRING = re.compile(r"^[A-Za-z0-9_\-.:/#@]{1,32}$")


def _field_ok(key: str, value: str) -> bool:
    """Library templates' value rules by key kind (thing1, amount2, time3, character_string4 …)."""
    kind = re.sub(r"\d+$", "", key)
    if kind == "thing":
        return 0 < len(value) <= 20
    if kind == "character_string":
        return bool(_CHARACTER_STRING.match(value))
    if kind == "amount":
        return bool(_AMOUNT.match(value))
    if kind == "time":
        return bool(_TIME.match(value))
    if kind == "phrase":
        return 0 < len(value) <= 5
    return kind not in ("first", "remark", "keyword") and 0 < len(value) <= 20


class WeChatApiStandIn(LoopbackServer):
    def __init__(
        self,
        app_id: str = "wx0123456789abcdef",
        app_secret: str = "test-wechat-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        expires_in: int = 7200,
        templates: Optional[Dict[str, Tuple[str, ...]]] = None,
        enforce_window: bool = False,
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
        self.templates: Dict[str, Tuple[str, ...]] = dict(templates or {})  # template_id -> its keys
        self.template_messages: List[Dict[str, Any]] = []  # delivered (one per client_msg_id)
        self.unsubscribed: set = set()  # openids that unfollowed the account
        self.enforce_window = enforce_window
        self.last_customer_message: Dict[str, float] = {}
        self._client_msg_ids: Dict[Tuple[str, str], Tuple[float, int]] = {}
        self._lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> str:
        stand_in = self

        class Handler(QuietHandler):
            def _reply(self, payload: Dict[str, Any], status: int = 200) -> None:
                self.send_body(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                               "application/json; charset=utf-8")

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
                raw = self.body()
                if url.path == "/cgi-bin/message/custom/send":
                    self._reply(stand_in._custom_send(query, raw))
                elif url.path == "/cgi-bin/message/template/send":
                    self._reply(stand_in._template_send(query, raw))
                elif url.path == "/customservice/kfsession/create":
                    self._reply(stand_in._kf_session(query, raw))
                else:
                    self._reply({"errcode": 404, "errmsg": "not found (WeChat API stand-in)"}, 404)

        return self.serve(Handler, "wechat-api-standin")

    # --- test helpers -------------------------------------------------------------
    def expire_tokens(self) -> None:
        with self._lock:
            self._expired_tokens.update(self._valid_tokens)
            self._valid_tokens.clear()

    def customer_wrote(self, openid: str, at: Optional[float] = None) -> None:
        with self._lock:
            self.last_customer_message[openid] = time.time() if at is None else at

    def templates_to(self, openid: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.template_messages if m.get("touser") == openid]

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

    def _message_call(self, path: str, query: Dict[str, str], raw: bytes) -> Tuple[Any, Optional[Dict[str, Any]]]:
        """Like :meth:`_json_call`, for a message: the payload must name its recipient (40003 otherwise)."""
        payload, refused = self._json_call(path, query, raw)
        if refused:
            return None, refused
        if not isinstance(payload, dict) or not isinstance(payload.get("touser"), str):
            return None, self._refuse(path, 40003, "invalid openid")
        return payload, None

    def _custom_send(self, query: Dict[str, str], raw: bytes) -> Dict[str, Any]:
        path = "/cgi-bin/message/custom/send"
        with self._lock:
            payload, refused = self._message_call(path, query, raw)
            if refused:
                return refused
            if payload.get("msgtype") != "text":
                return self._refuse(path, 40008, "invalid message type")
            content = (payload.get("text") or {}).get("content") if isinstance(payload.get("text"), dict) else None
            if not isinstance(content, str) or not content:
                return self._refuse(path, 44003, "empty content")
            if len(content.encode("utf-8")) > TEXT_LIMIT_BYTES:
                return self._refuse(path, 45002, "content size out of limit")
            last = self.last_customer_message.get(payload["touser"])
            if self.enforce_window and (last is None or time.time() - last > CS_WINDOW_S):
                return self._refuse(path, 45015, "response out of time limit or subscription is canceled")
            self.messages.append(payload)
            return {"errcode": 0, "errmsg": "ok"}

    def _template_send(self, query: Dict[str, str], raw: bytes) -> Dict[str, Any]:
        path = "/cgi-bin/message/template/send"
        with self._lock:
            payload, refused = self._message_call(path, query, raw)
            if refused:
                return refused
            if payload["touser"] in self.unsubscribed:
                return self._refuse(path, 43004, "require subscribe")
            keys = self.templates.get(payload.get("template_id") or "")
            if keys is None:
                return self._refuse(path, 40037, "invalid template_id")
            data = payload.get("data")
            if not isinstance(data, dict) or set(data) != set(keys):
                return self._refuse(path, 47003, f"argument invalid! data keys must be {sorted(keys)}")
            for key, item in data.items():
                value = item.get("value") if isinstance(item, dict) else None
                if not isinstance(value, str) or not _field_ok(key, value):
                    return self._refuse(path, 47003, f"argument invalid! data.{key}.value invalid")
            dedup = (payload["touser"], str(payload.get("client_msg_id") or ""))
            earlier = self._client_msg_ids.get(dedup)
            if dedup[1] and earlier and time.time() - earlier[0] < CLIENT_MSG_ID_WINDOW_S:
                return {"errcode": 0, "errmsg": "ok", "msgid": earlier[1]}
            msgid = 1000 + len(self.template_messages)
            self.template_messages.append(payload)
            if dedup[1]:
                self._client_msg_ids[dedup] = (time.time(), msgid)
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _kf_session(self, query: Dict[str, str], raw: bytes) -> Dict[str, Any]:
        path = "/customservice/kfsession/create"
        with self._lock:
            payload, refused = self._json_call(path, query, raw)
            if refused:
                return refused
            self.kf_sessions.append(payload)
            return {"errcode": 0, "errmsg": "ok"}
