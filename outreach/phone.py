"""Outbound calls (channel ``phone``): the call is placed here, the conversation happens on the voice
webhooks.

A call may be heard by others, so it is not a private channel: the engine renders the rule's ``voice``
text (no loan detail), and only notice kinds whose rule has a ``voice`` text are carried.  The call's
webhook URL carries ``?notice=<outreach_notices.id>``: the vendor's call id exists only after the call
is placed, so the answered call's conversation is keyed by our own notice id (``tel:notice-<id>`` /
``ivr:notice-<id>``) and opens with the external intent ``EXTERNAL_outreach_notice``, which says the
voice text and verifies the person before any loan detail (``connectors/voice/calls.py``).

* :class:`TwilioCallChannel` — the reference implementation, with the official ``twilio`` library
  (``Calls.json``); reconciliation lists the calls to that number since the claim.
* :class:`IvrCallChannel` — production: the JSON IVR platform's outbound-call request of
  ``docs/ivr-openapi.yaml`` (foreign carriers cannot show a domestic caller ID), signed like the IVR
  webhook, idempotent on ``request_id`` (the notice key): repeating the request is the reconciliation.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Mapping, Optional

import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from connectors import ids
from connectors.ivr import signature as ivr_signature
from connectors.ivr.config import IvrSettings
from connectors.ivr.schema import ssml
from connectors.twilio_zh.config import TwilioSettings
from credit.catalogue.loader import Catalogue, load_catalogue
from credit.clock import now as clock_now
from credit.db.base import as_utc
from credit.db.engine import session_scope
from credit.db.outreach import OutreachNotice
from credit.text.speech import to_speech
from outreach.channels import Delivery, DeliveryFailed, DeliveryUnknown

logger = logging.getLogger(__name__)

# kept in step with connectors/twilio_zh/channel.py, connectors/ivr/channel.py and connectors/voice/calls.py
# (tests/unit/outreach/phone/test_outreach_phone.py checks it; importing the channels here would pull in Rasa)
TWILIO_WEBHOOK_PATH = "/webhooks/twilio_zh/webhook"
IVR_WEBHOOK_PATH = "/webhooks/ivr/webhook"
NOTICE_PARAM = "notice"

RING_TIMEOUT_S = 40  # how long the phone rings
MAX_CALL_S = 600  # the longest an outreach call may last
CALL_EXPIRY = timedelta(minutes=30)  # IVR: no call is placed later than this after the claim
IVR_IDEMPOTENCY = timedelta(hours=23)  # the platform keeps request_ids 24 hours (an hour's margin)
CLOCK_SKEW = timedelta(minutes=2)  # between our claim and the vendor's date_created
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_CN_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_DOMESTIC = re.compile(r"^[0-9]{5,20}$")


def e164(address: str) -> str:
    """The borrower's number in E.164 (a mainland mobile ``138…`` becomes ``+86138…``)."""
    number = re.sub(r"[\s\-()]", "", address or "")
    if number.startswith("00"):
        number = "+" + number[2:]
    if _CN_MOBILE.fullmatch(number):
        number = "+86" + number
    if not _E164.fullmatch(number):
        raise DeliveryFailed("号码不是有效的电话号码，无法外呼")
    return number


def callback_url(public_base_url: str, path: str, notice_id: int) -> str:
    return f"{public_base_url.rstrip('/')}{path}?{NOTICE_PARAM}={int(notice_id)}"


def voice_kinds(cat: Catalogue) -> frozenset:
    """Notice kinds a call can carry: those whose rule has a ``voice`` text."""
    return frozenset(rule.kind for rule in cat.outreach.notices if rule.voice)


def _taken_refs(db: Optional[Engine], notice_id: int) -> set:
    """Vendor refs other notices already hold (a call found for one notice is not another's)."""
    if db is None:
        return set()
    with session_scope(db) as session:
        rows = session.execute(select(OutreachNotice.vendor_ref).where(
            OutreachNotice.vendor_ref.is_not(None), OutreachNotice.id != notice_id))
        return {ref for (ref,) in rows}


# ------------------------------------------------------------------------------------- Twilio
@dataclass(frozen=True)
class TwilioCallSettings:
    account_sid: str
    auth_token: str
    caller_id: str  # our Twilio number, E.164
    public_base_url: str  # where Twilio reaches the webhook (it signs this URL)
    api_base: Optional[str] = None  # TWILIO_API_BASE: another REST base URL (tests: the local stand-in)
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["TwilioCallSettings"]:
        env = os.environ if environ is None else environ
        inbound = TwilioSettings.from_env(env)  # TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL
        account = (env.get("TWILIO_ACCOUNT_SID") or "").strip()
        caller = (env.get("TWILIO_CALLER_ID") or "").strip()
        missing = [name for name, value in (("TWILIO_AUTH_TOKEN", inbound), ("TWILIO_ACCOUNT_SID", account),
                                            ("TWILIO_CALLER_ID", caller),
                                            ("PUBLIC_BASE_URL", inbound and inbound.public_base_url)) if not value]
        if missing or inbound is None or not inbound.public_base_url:
            logger.info("Twilio outbound calls off: %s not set (Twilio 外呼未启用)", ", ".join(missing))
            return None
        return cls(account_sid=account, auth_token=inbound.auth_token, caller_id=caller,
                   public_base_url=inbound.public_base_url,
                   api_base=(env.get("TWILIO_API_BASE") or "").strip().rstrip("/") or None)


class TwilioCallChannel:
    name = "phone"
    private = False  # a call may be heard by others: the engine renders the rule's voice text

    def __init__(self, settings: TwilioCallSettings, cat: Optional[Catalogue] = None,
                 db: Optional[Engine] = None, http_client: Any = None) -> None:
        self.settings = settings
        self.kinds = voice_kinds(cat or load_catalogue())
        self.db = db
        self.client = Client(settings.account_sid, settings.auth_token,
                             http_client=http_client or TwilioHttpClient(timeout=settings.timeout_s))
        if settings.api_base:
            self.client.api.base_url = settings.api_base  # the Api domain's base (default https://api.twilio.com)

    def handles(self, kind: str) -> bool:
        return kind in self.kinds

    def url(self, notice_id: int, event: Optional[str] = None) -> str:
        url = callback_url(self.settings.public_base_url, TWILIO_WEBHOOK_PATH, notice_id)
        return url.replace("?", f"?event={event}&", 1) if event else url

    def send(self, address: str, delivery: Delivery) -> str:
        to = e164(address)
        try:
            call = self.client.calls.create(
                to=to, from_=self.settings.caller_id, url=self.url(delivery.notice_id), method="POST",
                status_callback=self.url(delivery.notice_id, "status"), status_callback_method="POST",
                timeout=RING_TIMEOUT_S, time_limit=MAX_CALL_S)
        except TwilioRestException as error:
            raise DeliveryFailed(f"Twilio 拒绝外呼：{error.code or error.status}") from error
        except (TwilioException, requests.RequestException, OSError) as error:
            raise DeliveryFailed(f"Twilio 接口不可用：{type(error).__name__}") from error
        if not call.sid:
            raise DeliveryFailed("Twilio 没有返回通话编号")
        return f"twilio:{call.sid}"

    def find(self, address: str, delivery: Delivery, since: datetime, now: datetime) -> Optional[str]:
        """A call from our number to this one created since the claim that no other notice holds.  Twilio's
        ``StartTime`` filter is by day, so the day is asked for and the moment compared here."""
        try:
            to = e164(address)
        except DeliveryFailed:
            return None  # a number that cannot be dialled was never called
        earliest = as_utc(since) - CLOCK_SKEW
        try:
            calls = self.client.calls.list(to=to, start_time_after=earliest.date(), limit=100)
        except (TwilioException, requests.RequestException, OSError) as error:
            raise DeliveryUnknown(f"无法向 Twilio 核实外呼：{type(error).__name__}") from error
        taken = _taken_refs(self.db, delivery.notice_id)
        for call in sorted(calls, key=lambda c: c.date_created or earliest):
            ref = f"twilio:{call.sid}"
            created = call.date_created
            if (call._from == self.settings.caller_id and isinstance(created, datetime)
                    and created >= earliest and ref not in taken):
                return ref
        return None


# ----------------------------------------------------------------------------------------- IVR
@dataclass(frozen=True)
class IvrCallSettings:
    outbound_url: str  # IVR_OUTBOUND_URL: the platform's outbound-call operation
    shared_secret: str  # IVR_SHARED_SECRET: signs the request like the platform signs webhook events
    caller_id: str  # IVR_CALLER_ID: the domestic number shown to the borrower
    public_base_url: str  # the callback URL's base
    language: str = "zh-CN"
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["IvrCallSettings"]:
        env = os.environ if environ is None else environ
        url = (env.get("IVR_OUTBOUND_URL") or "").strip()
        if not url:
            return None
        inbound = IvrSettings.from_env(env)
        caller = (env.get("IVR_CALLER_ID") or "").strip()
        base = (env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
        missing = [name for name, value in (("IVR_SHARED_SECRET", inbound), ("IVR_CALLER_ID", caller),
                                            ("PUBLIC_BASE_URL", base)) if not value]
        if missing or inbound is None:
            logger.warning("IVR_OUTBOUND_URL is set but %s is not: IVR outbound calls off", ", ".join(missing))
            return None
        if not _DOMESTIC.fullmatch(caller):
            logger.warning("IVR_CALLER_ID must be a domestic number (digits only): IVR outbound calls off")
            return None
        return cls(outbound_url=url, shared_secret=inbound.shared_secret, caller_id=caller, public_base_url=base,
                   language=inbound.language)


class IvrCallChannel:
    name = "phone"
    private = False

    def __init__(self, settings: IvrCallSettings, cat: Optional[Catalogue] = None,
                 clock: Callable[[], datetime] = clock_now, session: Optional[requests.Session] = None) -> None:
        self.settings = settings
        cat = cat or load_catalogue()
        self.kinds = voice_kinds(cat)
        self.clock = clock
        self.http = session or requests.Session()
        fallback = to_speech(f"您好，这里是{cat.company}。系统暂时无法接通，"
                             f"请稍后拨打客服热线{cat.hotline.number}，再见。")
        self.fallback = {"text": fallback, "ssml": ssml(fallback, settings.language)}

    def handles(self, kind: str) -> bool:
        return kind in self.kinds

    def request_body(self, address: str, delivery: Delivery, claimed_at: datetime) -> Dict[str, Any]:
        """The outbound-call request (``OutboundCallRequest`` in docs/ivr-openapi.yaml)."""
        expires = as_utc(claimed_at) + CALL_EXPIRY
        return {
            "request_id": delivery.key,
            "to": e164(address),
            "caller_id": self.settings.caller_id,
            "callback_url": callback_url(self.settings.public_base_url, IVR_WEBHOOK_PATH, delivery.notice_id),
            "expires_at": expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "language": self.settings.language,
            "ring_timeout_s": RING_TIMEOUT_S,
            "max_duration_s": MAX_CALL_S,
            "script": {"fallback": self.fallback, "voicemail": "hangup"},
        }

    def _post(self, body: Dict[str, Any]) -> tuple[int, Dict[str, Any]]:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8",
                   ivr_signature.HEADER: ivr_signature.sign(self.settings.shared_secret, raw)}
        reply = self.http.post(self.settings.outbound_url, data=raw, headers=headers, timeout=self.settings.timeout_s)
        try:
            data = reply.json()
        except ValueError:
            data = {}
        return reply.status_code, data if isinstance(data, dict) else {}

    @staticmethod
    def _ref(data: Dict[str, Any]) -> Optional[str]:
        call_id = data.get("call_id")
        return f"ivr:{call_id}" if ids.is_valid_raw_id(call_id) else None

    @staticmethod
    def _code(data: Dict[str, Any]) -> str:
        error = data.get("error")
        return str(error.get("code")) if isinstance(error, dict) else ""

    def send(self, address: str, delivery: Delivery) -> str:
        try:
            status, data = self._post(self.request_body(address, delivery, self.clock()))
        except requests.RequestException as error:
            raise DeliveryFailed(f"外呼平台不可用：{type(error).__name__}") from error
        ref = self._ref(data) if status in (200, 201) else None
        if ref is None:
            raise DeliveryFailed(f"外呼平台拒绝：{status} {self._code(data)}".strip())
        return ref

    def find(self, address: str, delivery: Delivery, since: datetime, now: datetime) -> Optional[str]:
        """The same request again: the platform answers the call it placed for this ``request_id`` and places
        nothing new; if it never received the first one, it places the call now (within ``expires_at``) or
        answers ``expired`` (then there is no call, and the engine retries under its rules)."""
        if as_utc(now) - as_utc(since) >= IVR_IDEMPOTENCY:
            raise DeliveryUnknown("外呼平台的防重窗口已过，无法核实")
        try:
            body = self.request_body(address, delivery, since)
        except DeliveryFailed:
            return None  # a number that cannot be dialled was never called
        try:
            status, data = self._post(body)
        except requests.RequestException as error:
            raise DeliveryUnknown(f"无法向外呼平台核实：{type(error).__name__}") from error
        if status in (200, 201) and self._ref(data):
            return self._ref(data)
        if status == 422 and self._code(data) == "expired":
            return None
        raise DeliveryUnknown(f"外呼平台无法核实：{status} {self._code(data)}".strip())


def phone_channel(db: Optional[Engine] = None, environ: Optional[Mapping[str, str]] = None) -> Optional[Any]:
    """The configured phone channel: the IVR platform when ``IVR_OUTBOUND_URL`` is set, else Twilio when its
    outbound settings are, else None."""
    ivr = IvrCallSettings.from_env(environ)
    if ivr is not None:
        return IvrCallChannel(ivr)
    twilio = TwilioCallSettings.from_env(environ)
    if twilio is not None:
        return TwilioCallChannel(twilio, db=db)
    return None


__all__ = ["TwilioCallChannel", "TwilioCallSettings", "IvrCallChannel", "IvrCallSettings", "phone_channel", "e164",
           "voice_kinds", "callback_url", "CALL_EXPIRY"]
