"""Local stand-in for WeCom's 微信客服 API (qyapi.weixin.qq.com) and its callback.

This is NOT WeCom: a small threaded HTTP server for tests that speaks the documented wire format of
the endpoints the channel uses (point the channel at it with ``WECOM_API_BASE=<base_url>``), and plays
WeCom's side of the callback (an encrypted ``kf_msg_or_event`` POST to the channel's URL):

* ``GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET`` -> ``{"errcode": 0, "access_token", "expires_in"}``;
  wrong corpid 40013, wrong secret 40001; a call with a missing token 41001, an unknown token 40014, an
  expired one 42001 (``expire_tokens()``);
* ``POST /cgi-bin/kf/sync_msg`` ``{"cursor", "token", "limit", "open_kfid"}`` -> ``{"next_cursor",
  "has_more", "msg_list"}``: messages of the last 3 days after the cursor, at most ``limit`` (and
  ``page_size``) per page; a callback token must be one issued for that account within 10 minutes
  (95007 otherwise); ``hold_sync(n)`` makes the n-th call wait until ``release_sync()`` (a process killed
  mid-pull);
* ``POST /cgi-bin/kf/send_msg`` — text (content at most 2048 bytes, 45002 otherwise) or msgmenu
  (head at most 1024 bytes, 1-10 click items, id 1-64 bytes, content 1-128 bytes; 40035 otherwise); only
  while the session is new (0) or with the bot (1), else 95018; only within 48 hours of the customer's
  last message, else **95001**; at most 5 messages after that message, else **95002** (the codes the
  issue fixes);
* ``POST /cgi-bin/kf/send_msg_on_event`` — a welcome_code (from enter_session) or msg_code (from trans)
  used once within 20 s, else 95019 (the stand-in's code for a spent or late code);
* ``POST /cgi-bin/kf/service_state/get`` / ``trans`` — states 0-4 with the documented transitions
  (0 -> 1/2/3/4, 1 -> 1/2/3/4, 2 -> 2/3/4, 3 -> 3/4; 95016 otherwise); state 3 needs a known
  ``servicer_userid``; a first move to 2/3 and a move to 4 return a ``msg_code``;
* ``POST /cgi-bin/kf/customer/batchget`` -> ``customer_list`` with ``unionid`` where one is set.

Test helpers play the customer and the servicer (``customer_sends``, ``customer_enters``,
``servicer_takes``, ``servicer_ends``) and deliver the callback (``notify``).
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlencode, urlparse

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.utils import random_string

from harness.http import Response, http
from harness.loopback import LoopbackServer, QuietHandler

TEXT_LIMIT_BYTES, HEAD_LIMIT_BYTES, CLICK_ID_BYTES, CLICK_CONTENT_BYTES, MAX_ITEMS = 2048, 1024, 64, 128, 10
WINDOW_S, MAX_SENDS, CODE_LIFETIME_S, TOKEN_LIFETIME_S, HISTORY_S = 48 * 3600, 5, 20.0, 600.0, 3 * 24 * 3600
TRANSITIONS = {0: {1, 2, 3, 4}, 1: {1, 2, 3, 4}, 2: {2, 3, 4}, 3: {3, 4}, 4: set()}


def _bytes(value: Any) -> int:
    return len(value.encode("utf-8")) if isinstance(value, str) else -1


class WeComKfStandIn(LoopbackServer):
    def __init__(self, corp_id: str = "ww0123456789abcdef", secret: str = "test-wecom-kf-secret",
                 token: str = "test-wecom-token", aes_key: str = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj",
                 open_kfid: str = "wkTEST0123456789", page_size: int = 1000, expires_in: int = 7200) -> None:
        self.corp_id, self.secret, self.token, self.aes_key = corp_id, secret, token, aes_key
        self.open_kfid, self.page_size, self.expires_in = open_kfid, page_size, expires_in
        self.servicers = {"zhangsan"}
        self.unionids: Dict[str, str] = {}  # external_userid -> unionid
        self.log: List[Dict[str, Any]] = []  # every message and event, in order (all accounts)
        self.sent: List[Dict[str, Any]] = []  # accepted send_msg / send_msg_on_event bodies
        self.rejected: List[Tuple[str, int]] = []
        self.states: Dict[Tuple[str, str], int] = {}
        self.transfers: List[Dict[str, Any]] = []
        self.sync_calls = 0
        self._last_customer: Dict[Tuple[str, str], float] = {}
        self._sends_since: Dict[Tuple[str, str], int] = {}
        self._codes: Dict[str, float] = {}  # live welcome/msg codes -> issued at
        self._callback_tokens: Dict[str, Tuple[str, float]] = {}
        self._tokens: Dict[str, float] = {}
        self._expired: set = set()
        self._moved: set = set()  # sessions that already got a 2/3 msg_code
        self._hold_at: Optional[int] = None
        self.sync_held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._crypto = WeChatCrypto(token, aes_key, corp_id)

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> str:
        stand_in = self

        class Handler(QuietHandler):
            def _reply(self, payload: Dict[str, Any], status: int = 200) -> None:
                self.send_body(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                               "application/json; charset=utf-8")

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/gettoken":
                    self._reply(stand_in._gettoken(query))
                else:
                    self._reply({"errcode": 404, "errmsg": "not found (WeCom stand-in)"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                handler = stand_in.ENDPOINTS.get(url.path)
                if handler is None:
                    self._reply({"errcode": 404, "errmsg": "not found (WeCom stand-in)"}, 404)
                    return
                self._reply(stand_in._call(url.path, handler, query, self.body()))

        return self.serve(Handler, "wecom-kf-standin")

    # --- the customer, the servicer, the callback ---------------------------------------
    def _append(self, entry: Dict[str, Any]) -> str:
        entry.setdefault("msgid", "msg" + uuid.uuid4().hex)
        entry.setdefault("send_time", int(time.time()))
        self.log.append(entry)
        return entry["msgid"]

    def customer_sends(self, external_userid: str, text: Optional[str] = None, msgtype: str = "text",
                       menu_id: Optional[str] = None, body: Optional[Dict[str, Any]] = None,
                       open_kfid: Optional[str] = None, at: Optional[float] = None) -> str:
        kfid = open_kfid or self.open_kfid
        entry: Dict[str, Any] = {"open_kfid": kfid, "external_userid": external_userid, "origin": 3,
                                 "msgtype": msgtype, "send_time": int(at or time.time())}
        if msgtype == "text":
            entry["text"] = {"content": text or "", **({"menu_id": menu_id} if menu_id else {})}
        else:
            entry[msgtype] = body or {"media_id": "MEDIA_" + uuid.uuid4().hex[:8]}
        with self._lock:
            key = (kfid, external_userid)
            self._last_customer[key] = at or time.time()
            self._sends_since[key] = 0
            if self.states.get(key, 4) == 4:
                self.states[key] = 0
            return self._append(entry)

    def customer_enters(self, external_userid: str, open_kfid: Optional[str] = None,
                        welcome: bool = True) -> Optional[str]:
        """enter_session; the welcome_code it carries (None without one)."""
        kfid, code = open_kfid or self.open_kfid, ("WELCOME_" + secrets.token_hex(8)) if welcome else None
        event = {"event_type": "enter_session", "open_kfid": kfid, "external_userid": external_userid,
                 "scene": "app", "scene_param": ""}
        if code:
            event["welcome_code"] = code
        with self._lock:
            if code:
                self._codes[code] = time.time()
            self._append({"msgtype": "event", "origin": 4, "event": event})
        return code

    def _session_event(self, external_userid: str, change_type: int, kfid: str, **extra: Any) -> None:
        self._append({"msgtype": "event", "origin": 4, "event": {
            "event_type": "session_status_change", "open_kfid": kfid, "external_userid": external_userid,
            "change_type": change_type, **extra}})

    def servicer_takes(self, external_userid: str, servicer: str = "zhangsan", open_kfid: Optional[str] = None) -> None:
        kfid = open_kfid or self.open_kfid
        with self._lock:
            self.states[(kfid, external_userid)] = 3
            self._session_event(external_userid, 1, kfid, new_servicer_userid=servicer)

    def servicer_says(self, external_userid: str, text: str, open_kfid: Optional[str] = None) -> str:
        kfid = open_kfid or self.open_kfid
        with self._lock:
            return self._append({"open_kfid": kfid, "external_userid": external_userid, "origin": 5,
                                 "servicer_userid": "zhangsan", "msgtype": "text", "text": {"content": text}})

    def servicer_ends(self, external_userid: str, open_kfid: Optional[str] = None) -> None:
        kfid = open_kfid or self.open_kfid
        with self._lock:
            self.states[(kfid, external_userid)] = 4
            self._session_event(external_userid, 3, kfid, old_servicer_userid="zhangsan")

    def callback(self, open_kfid: Optional[str] = None, token: Optional[str] = None,
                 aes_key: Optional[str] = None, corp_id: Optional[str] = None) -> Tuple[Dict[str, str], bytes]:
        """WeCom's kf_msg_or_event callback: (query, body), signed and encrypted (other keys to forge one)."""
        kfid = open_kfid or self.open_kfid
        msg_token = "ENC" + secrets.token_urlsafe(24)
        with self._lock:
            self._callback_tokens[msg_token] = (kfid, time.time())
        inner = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><CreateTime>{int(time.time())}"
                 "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
                 f"<Token><![CDATA[{msg_token}]]></Token><OpenKfId><![CDATA[{kfid}]]></OpenKfId></xml>")
        return self.seal(inner, token=token, aes_key=aes_key, corp_id=corp_id)

    def seal(self, inner: str, token: Optional[str] = None, aes_key: Optional[str] = None,
             corp_id: Optional[str] = None) -> Tuple[Dict[str, str], bytes]:
        crypto = WeChatCrypto(token or self.token, aes_key or self.aes_key, corp_id or self.corp_id)
        nonce, ts = random_string(10), str(int(time.time()))
        sealed = xmltodict.parse(crypto.encrypt_message(inner, nonce, ts))["xml"]
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{sealed['Encrypt']}]]>"
                "</Encrypt><AgentID><![CDATA[]]></AgentID></xml>")
        return ({"msg_signature": sealed["MsgSignature"], "timestamp": ts, "nonce": nonce}, body.encode("utf-8"))

    def verification(self, echo: str, token: Optional[str] = None) -> Dict[str, str]:
        """The GET WeCom sends when the callback URL is saved (echostr encrypted for our CorpID)."""
        crypto = WeChatCrypto(token or self.token, self.aes_key, self.corp_id)
        nonce, ts = random_string(10), str(int(time.time()))
        sealed = xmltodict.parse(crypto.encrypt_message(echo, nonce, ts))["xml"]
        return {"msg_signature": sealed["MsgSignature"], "timestamp": ts, "nonce": nonce, "echostr": sealed["Encrypt"]}

    def notify(self, url: str, open_kfid: Optional[str] = None) -> Response:
        query, body = self.callback(open_kfid)
        return http("POST", f"{url}?{urlencode(query)}", raw=body, headers={"Content-Type": "text/xml"}, timeout=30)

    # --- what the channel did ---------------------------------------------------------
    def sent_to(self, external_userid: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.sent if m.get("touser") == external_userid]

    def texts_to(self, external_userid: str) -> List[str]:
        out = []
        for m in self.sent_to(external_userid):
            if m["msgtype"] == "text":
                out.append(m["text"]["content"])
            else:
                menu = m["msgmenu"]
                out.append("\n".join([menu.get("head_content", "")] + [i["click"]["content"] for i in menu["list"]]
                                     + [menu.get("tail_content", "")]).strip())
        return out

    def wait_sent(self, external_userid: str, count: int = 1, timeout: float = 60.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.sent_to(external_userid)) < count:
            time.sleep(0.05)
        return self.sent_to(external_userid)

    def state(self, external_userid: str, open_kfid: Optional[str] = None) -> int:
        with self._lock:
            return self.states.get((open_kfid or self.open_kfid, external_userid), 4)

    def expire_tokens(self) -> None:
        with self._lock:
            self._expired.update(self._tokens)
            self._tokens.clear()

    def age_window(self, external_userid: str, seconds: float, open_kfid: Optional[str] = None) -> None:
        """The customer's last message was ``seconds`` earlier than it was (the 48 hours pass)."""
        with self._lock:
            key = (open_kfid or self.open_kfid, external_userid)
            self._last_customer[key] = self._last_customer.get(key, time.time()) - seconds

    def hold_sync(self, call_number: int) -> None:
        """The ``call_number``-th sync_msg call (counting from now) waits until ``release_sync``."""
        with self._lock:
            self._hold_at = self.sync_calls + call_number
            self.sync_held.clear()
            self._release.clear()

    def release_sync(self) -> None:
        self._release.set()

    # --- endpoints ------------------------------------------------------------------------
    def _refuse(self, path: str, errcode: int, errmsg: str) -> Dict[str, Any]:
        self.rejected.append((path, errcode))
        return {"errcode": errcode, "errmsg": errmsg + " (WeCom stand-in)"}

    def _gettoken(self, query: Dict[str, str]) -> Dict[str, Any]:
        with self._lock:
            if query.get("corpid") != self.corp_id:
                return self._refuse("/cgi-bin/gettoken", 40013, "invalid corpid")
            if query.get("corpsecret") != self.secret:
                return self._refuse("/cgi-bin/gettoken", 40001, "invalid credential")
            token = secrets.token_urlsafe(32)
            self._tokens[token] = time.time() + self.expires_in
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}

    def _call(self, path: str, handler: Any, query: Dict[str, str], raw: bytes) -> Dict[str, Any]:
        if path == "/cgi-bin/kf/sync_msg":
            self._maybe_hold()
        with self._lock:
            token = query.get("access_token")
            if not token:
                return self._refuse(path, 41001, "access_token missing")
            if token in self._expired or (token in self._tokens and self._tokens[token] < time.time()):
                return self._refuse(path, 42001, "access_token expired")
            if token not in self._tokens:
                return self._refuse(path, 40014, "invalid access_token")
            try:
                payload = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return self._refuse(path, 47001, "data format error")
            if not isinstance(payload, dict):
                return self._refuse(path, 47001, "data format error")
            return handler(self, path, payload)

    def _maybe_hold(self) -> None:
        with self._lock:
            self.sync_calls += 1
            hold = self._hold_at is not None and self.sync_calls == self._hold_at
        if hold:
            self.sync_held.set()
            self._release.wait(timeout=120)

    def _sync(self, path: str, p: Dict[str, Any]) -> Dict[str, Any]:
        kfid = p.get("open_kfid")
        if p.get("token"):
            issued = self._callback_tokens.get(p["token"])
            if issued is None or issued[0] != kfid or time.time() - issued[1] > TOKEN_LIFETIME_S:
                return self._refuse(path, 95007, "invalid msg token")
        cursor = p.get("cursor") or ""
        try:
            start = int(cursor[1:], 16) if cursor else 0
        except ValueError:
            return self._refuse(path, 95000, "invalid cursor")
        limit = min(int(p.get("limit") or 1000), 1000, self.page_size)
        since = time.time() - HISTORY_S
        mine = [(i, m) for i, m in enumerate(self.log) if i >= start and m.get("send_time", 0) >= since
                and (m.get("open_kfid") or m.get("event", {}).get("open_kfid")) == kfid]
        page = mine[:limit]
        end = page[-1][0] + 1 if page else start
        return {"errcode": 0, "errmsg": "ok", "next_cursor": f"c{end:x}", "has_more": int(len(mine) > limit),
                "msg_list": [json.loads(json.dumps(m)) for _, m in page]}

    def _menu_ok(self, menu: Any) -> bool:
        if not isinstance(menu, dict) or _bytes(menu.get("head_content", "")) > HEAD_LIMIT_BYTES:
            return False
        if _bytes(menu.get("tail_content", "")) > HEAD_LIMIT_BYTES:
            return False
        items = menu.get("list")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
            return False
        for item in items:
            click = item.get("click") if isinstance(item, dict) and item.get("type") == "click" else None
            if not isinstance(click, dict) or not 0 < _bytes(click.get("id")) <= CLICK_ID_BYTES:
                return False
            if not 0 < _bytes(click.get("content")) <= CLICK_CONTENT_BYTES:
                return False
        return True

    def _body_ok(self, path: str, p: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if p.get("msgtype") == "text":
            content = (p.get("text") or {}).get("content") if isinstance(p.get("text"), dict) else None
            if not isinstance(content, str) or not content:
                return self._refuse(path, 44004, "empty content")
            if _bytes(content) > TEXT_LIMIT_BYTES:
                return self._refuse(path, 45002, "content size out of limit")
            return None
        if p.get("msgtype") == "msgmenu":
            return None if self._menu_ok(p.get("msgmenu")) else self._refuse(path, 40035, "invalid msgmenu")
        return self._refuse(path, 40008, "invalid message type")

    def _send(self, path: str, p: Dict[str, Any]) -> Dict[str, Any]:
        key = (p.get("open_kfid"), p.get("touser"))
        refused = self._body_ok(path, p)
        if refused:
            return refused
        if self.states.get(key, 4) not in (0, 1):
            return self._refuse(path, 95018, "send msg session status invalid")
        last = self._last_customer.get(key)
        if last is None or time.time() - last > WINDOW_S:
            return self._refuse(path, 95001, "send msg out of time limit (48 hours)")
        if self._sends_since.get(key, 0) >= MAX_SENDS:
            return self._refuse(path, 95002, "send msg count out of limit (5)")
        self._sends_since[key] = self._sends_since.get(key, 0) + 1
        self.sent.append(p)
        return {"errcode": 0, "errmsg": "ok", "msgid": p.get("msgid") or uuid.uuid4().hex}

    def _send_on_event(self, path: str, p: Dict[str, Any]) -> Dict[str, Any]:
        refused = self._body_ok(path, p)
        if refused:
            return refused
        issued = self._codes.pop(str(p.get("code") or ""), None)
        if issued is None or time.time() - issued > CODE_LIFETIME_S:
            return self._refuse(path, 95019, "code invalid, used or expired")
        self.sent.append({**p, "touser": self._code_owner(p["code"]), "on_event": True})
        return {"errcode": 0, "errmsg": "ok", "msgid": p.get("msgid") or uuid.uuid4().hex}

    def _code_owner(self, code: str) -> Optional[str]:
        for entry in reversed(self.log):
            event = entry.get("event") or {}
            if event.get("welcome_code") == code:
                return event.get("external_userid")
        return next((t["external_userid"] for t in reversed(self.transfers) if t.get("msg_code") == code), None)

    def _state_get(self, path: str, p: Dict[str, Any]) -> Dict[str, Any]:
        state = self.states.get((p.get("open_kfid"), p.get("external_userid")), 4)
        reply = {"errcode": 0, "errmsg": "ok", "service_state": state}
        if state == 3:
            reply["servicer_userid"] = "zhangsan"
        return reply

    def _state_trans(self, path: str, p: Dict[str, Any]) -> Dict[str, Any]:
        key = (p.get("open_kfid"), p.get("external_userid"))
        old, new = self.states.get(key, 4), p.get("service_state")
        if new not in TRANSITIONS.get(old, set()):
            return self._refuse(path, 95016, f"state {old} -> {new} not allowed")
        if new == 3 and p.get("servicer_userid") not in self.servicers:
            return self._refuse(path, 95016, "servicer_userid not receiving")
        self.states[key] = new
        reply: Dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if (new in (2, 3) and key not in self._moved) or new == 4:
            self._moved.add(key)
            reply["msg_code"] = "MSG_CODE_" + secrets.token_hex(6)
            self._codes[reply["msg_code"]] = time.time()
        self.transfers.append({**p, "from": old, "msg_code": reply.get("msg_code")})
        return reply

    def _batchget(self, path: str, p: Dict[str, Any]) -> Dict[str, Any]:
        wanted = [u for u in p.get("external_userid_list") or [] if isinstance(u, str)]
        customers = [{"external_userid": u, "nickname": "微信用户", "avatar": "", "gender": 0,
                      **({"unionid": self.unionids[u]} if u in self.unionids else {})} for u in wanted]
        return {"errcode": 0, "errmsg": "ok", "customer_list": customers, "invalid_external_userid": []}

    ENDPOINTS = {
        "/cgi-bin/kf/sync_msg": _sync,
        "/cgi-bin/kf/send_msg": _send,
        "/cgi-bin/kf/send_msg_on_event": _send_on_event,
        "/cgi-bin/kf/service_state/get": _state_get,
        "/cgi-bin/kf/service_state/trans": _state_trans,
        "/cgi-bin/kf/customer/batchget": _batchget,
    }


__all__ = ["WeComKfStandIn"]
