"""Local stand-in for Twilio's Programmable Voice REST API (api.twilio.com, version 2010-04-01).

This is NOT Twilio: it is a small threaded HTTP server for tests that speaks Twilio's documented wire
format for the calls the assistant makes, so the official ``twilio`` library can be pointed at it
(``TWILIO_API_BASE=<base_url>``, i.e. ``client.api.base_url``):

* ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (form-encoded ``To``, ``From``, ``Url``,
  ``Method``, ``StatusCallback``, ``Timeout``, ``TimeLimit`` …) with HTTP Basic auth (account SID and
  auth token) -> ``201`` and a Call resource (``sid`` ``CA`` + 32 hex, ``status`` ``queued``,
  ``direction`` ``outbound-api``, RFC 2822 dates).  Refusals are Twilio's error JSON
  ``{"code", "message", "more_info", "status"}``: wrong credentials -> 401 / 20003; ``To`` not E.164 ->
  400 / 21211; no ``From`` -> 400 / 21213; ``From`` not one of the account's numbers (when given) ->
  400 / 21210; ``Url`` missing or not an absolute http(s) URL -> 400 / 21205.
* ``GET /2010-04-01/Accounts/{AccountSid}/Calls.json?To=&From=&StartTime>=&StartTime<=&PageSize=`` -> a
  page ``{"calls": [...], "page", "page_size", "next_page_uri", …}``; ``StartTime>=`` takes a date
  (``YYYY-MM-DD``, as documented) or a full ISO time.
* ``GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` -> the Call resource (404 / 20404).

And the other direction, as Twilio does it when a placed call is answered: :meth:`answer` POSTs the
call's ``Url`` with the form fields Twilio sends (``CallSid``, ``AccountSid``, ``From``, ``To``,
``CallStatus=in-progress``, ``Direction=outbound-api`` …) signed with ``X-Twilio-Signature``
(``twilio.request_validator.RequestValidator``) and returns the TwiML; :meth:`press` sends a ``Digits``
gather callback to the latest TwiML's ``<Gather action>``; :meth:`hang_up` sends the status callback
(``CallStatus=completed``).  ``clock`` (default: real UTC time) dates the calls, so a test on a fixed
business clock can reconcile against them.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from harness.http import http
from harness.loopback import LoopbackServer, QuietHandler

API_VERSION = "2010-04-01"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_CALLS = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Calls(?:/(CA[0-9a-f]{32}))?\.json$")
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    21205: (400, "Url is not a valid URL"),
    21210: (400, "'From' phone number not verified"),
    21211: (400, "Invalid 'To' Phone Number"),
    21213: (400, "Caller phone number is required"),
}
# (url, body, headers) -> (status, text): how the stand-in reaches the webhook (default: real HTTP)
Transport = Callable[[str, bytes, Dict[str, str]], Tuple[int, str]]


def _rfc2822(moment: Optional[datetime]) -> Optional[str]:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True) if moment else None


def _when(value: str) -> Optional[datetime]:
    """``2026-11-29`` (midnight UTC) or an ISO time; None if neither."""
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class StandInCall:
    resource: Dict[str, Any]
    url: str
    method: str
    status_callback: Optional[str]
    created: datetime
    params: Dict[str, str]  # the form as posted
    next_url: Optional[str] = None  # the latest TwiML's <Gather action>
    twiml: List[str] = field(default_factory=list)  # every TwiML document the webhook answered


def _default_transport(url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, str]:
    reply = http("POST", url, raw=body, headers=headers, timeout=60)
    return reply.status, reply.text


class TwilioApiStandIn(LoopbackServer):
    def __init__(self, account_sid: str = "AC" + "0123456789abcdef" * 2, auth_token: str = "test-twilio-token",
                 host: str = "127.0.0.1", port: int = 0, caller_ids: Optional[Iterable[str]] = None,
                 clock: Optional[Callable[[], datetime]] = None, transport: Optional[Transport] = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host, self.port = host, port
        self.caller_ids = set(caller_ids) if caller_ids is not None else None  # the account's numbers
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.transport = transport or _default_transport
        self.calls: List[StandInCall] = []
        self.rejected: List[Tuple[str, int]] = []  # (method path, Twilio error code)
        self._lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> str:
        stand_in = self

        class Handler(QuietHandler):
            def _handle(self, method: str) -> None:
                status, payload = stand_in._dispatch(method, self.path, self.headers.get("Authorization"),
                                                     self.body())
                self.send_body(status, json.dumps(payload).encode("utf-8"), "application/json; charset=utf-8")

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        return self.serve(Handler, "twilio-api-standin")

    # --- REST ---------------------------------------------------------------------------------
    def _error(self, where: str, code: int) -> Tuple[int, Dict[str, Any]]:
        status, message = ERRORS[code]
        self.rejected.append((where, code))
        return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status}

    def _authorised(self, header: Optional[str], account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account == self.account_sid and secrets.compare_digest(header or "", f"Basic {expected}")

    def _dispatch(self, method: str, path: str, auth: Optional[str], raw: bytes) -> Tuple[int, Dict[str, Any]]:
        url = urllib.parse.urlsplit(path)
        match = _CALLS.match(url.path)
        where = f"{method} {url.path}"
        with self._lock:
            if match is None:
                return self._error(where, 20404)
            if not self._authorised(auth, match.group(1)):
                return self._error(where, 20003)
            if match.group(2):
                call = next((c for c in self.calls if c.resource["sid"] == match.group(2)), None)
                return (200, call.resource) if call and method == "GET" else self._error(where, 20404)
            if method == "POST":
                form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
                return self._create(where, form)
            return 200, self._list(url.path, dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)))

    def _create(self, where: str, form: Dict[str, str]) -> Tuple[int, Dict[str, Any]]:
        to, sender, url = form.get("To", ""), form.get("From", ""), form.get("Url", "")
        if not _E164.fullmatch(to):
            return self._error(where, 21211)
        if not sender:
            return self._error(where, 21213)
        if self.caller_ids is not None and sender not in self.caller_ids:
            return self._error(where, 21210)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return self._error(where, 21205)
        callback = form.get("StatusCallback") or None
        if callback and urllib.parse.urlsplit(callback).scheme not in ("http", "https"):
            return self._error(where, 21205)
        now = self.clock()
        sid = "CA" + secrets.token_hex(16)
        prefix = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        resource = {
            "sid": sid, "account_sid": self.account_sid, "api_version": API_VERSION, "to": to, "to_formatted": to,
            "from": sender, "from_formatted": sender, "status": "queued", "direction": "outbound-api",
            "date_created": _rfc2822(now), "date_updated": _rfc2822(now), "start_time": _rfc2822(now),
            "end_time": None, "duration": None, "price": None, "price_unit": "USD", "answered_by": None,
            "caller_name": None, "forwarded_from": None, "group_sid": None, "parent_call_sid": None,
            "phone_number_sid": None, "queue_time": "0", "trunk_sid": None,
            "uri": f"{prefix}.json", "subresource_uris": {"recordings": f"{prefix}/Recordings.json"},
        }
        self.calls.append(StandInCall(resource, url, (form.get("Method") or "POST").upper(), callback, now, form))
        return 201, resource

    def _list(self, path: str, query: Dict[str, str]) -> Dict[str, Any]:
        after, before = _when(query.get("StartTime>", "")), _when(query.get("StartTime<", ""))
        on = query.get("StartTime")
        found = []
        for call in self.calls:
            started = call.created
            if query.get("To") and call.resource["to"] != query["To"]:
                continue
            if query.get("From") and call.resource["from"] != query["From"]:
                continue
            if (after and started < after) or (before and started > before) \
                    or (on and started.astimezone(timezone.utc).date().isoformat() != on[:10]):
                continue
            found.append(call.resource)
        found.sort(key=lambda r: r["date_created"] or "", reverse=True)  # Twilio lists newest first
        size = max(1, min(int(query.get("PageSize") or 50), 1000))
        page = found[:size]
        uri = f"{path}?{urllib.parse.urlencode(query)}"
        return {"calls": page, "page": 0, "page_size": size, "start": 0, "end": max(0, len(page) - 1),
                "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None, "uri": uri}

    # --- test helpers: Twilio calling the webhook -----------------------------------------------
    def calls_to(self, number: str) -> List[StandInCall]:
        with self._lock:
            return [c for c in self.calls if c.resource["to"] == number]

    def call(self, sid: str) -> StandInCall:
        with self._lock:
            return next(c for c in self.calls if c.resource["sid"] == sid)

    def _post_signed(self, url: str, params: Dict[str, str]) -> Tuple[int, str]:
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        body = urllib.parse.urlencode(params).encode("utf-8")
        return self.transport(url, body, {"Content-Type": "application/x-www-form-urlencoded",
                                          "X-Twilio-Signature": signature})

    def _fields(self, call: StandInCall, status: str) -> Dict[str, str]:
        r = call.resource
        return {"AccountSid": self.account_sid, "ApiVersion": API_VERSION, "CallSid": r["sid"], "CallStatus": status,
                "Called": r["to"], "Caller": r["from"], "Direction": "outbound-api", "From": r["from"],
                "To": r["to"]}

    def _twiml(self, call: StandInCall, url: str, params: Dict[str, str]) -> str:
        status, text = self._post_signed(url, params)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {text[:300]}")
        call.twiml.append(text)
        gather = ET.fromstring(text).find("Gather")
        action = gather.get("action") if gather is not None else None
        call.next_url = urllib.parse.urljoin(url, action) if action else None
        return text

    def answer(self, sid: str) -> str:
        """The callee picks up: Twilio requests the call's Url; returns the TwiML."""
        call = self.call(sid)
        call.resource["status"] = "in-progress"
        return self._twiml(call, call.url, self._fields(call, "in-progress"))

    def press(self, sid: str, digits: str) -> str:
        """Keys pressed during the latest ``<Gather>``: its action URL gets ``Digits``."""
        call = self.call(sid)
        if not call.next_url:
            raise RuntimeError("the latest TwiML has no <Gather>")
        return self._twiml(call, call.next_url, {**self._fields(call, "in-progress"), "Digits": digits})

    def silence(self, sid: str) -> str:
        """Nobody keys or says anything: the ``<Gather>`` times out and Twilio follows the next verb, the
        ``<Redirect>`` of the latest TwiML."""
        call = self.call(sid)
        redirect = ET.fromstring(call.twiml[-1]).find("Redirect") if call.twiml else None
        if redirect is None or not (redirect.text or "").strip():
            raise RuntimeError("the latest TwiML has no <Redirect>")
        url = urllib.parse.urljoin(call.next_url or call.resource.get("url", ""), redirect.text.strip())
        return self._twiml(call, url, self._fields(call, "in-progress"))

    def hang_up(self, sid: str) -> Tuple[int, str]:
        """The call ends: the status callback (if any) gets ``CallStatus=completed``."""
        call = self.call(sid)
        call.resource["status"] = "completed"
        if not call.status_callback:
            return 204, ""
        return self._post_signed(call.status_callback, {**self._fields(call, "completed"), "CallDuration": "42"})


__all__ = ["TwilioApiStandIn", "StandInCall", "ERRORS"]
