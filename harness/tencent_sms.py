"""Local stand-in for Tencent Cloud's SMS API (``sms.tencentcloudapi.com``, API 3.0, version 2021-01-11).

This is NOT Tencent Cloud: it is a small threaded HTTP server on 127.0.0.1 for tests that speaks the
documented wire format, so the official SDK (``tencentcloud-sdk-python-sms``) can be pointed at it with
``TENCENT_SMS_ENDPOINT=http://127.0.0.1:<port>``.  It enforces the vendor's documented rules:

* **TC3-HMAC-SHA256 (签名方法 v3)** on every request: ``POST /`` with ``Content-Type: application/json``,
  ``Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/sms/tc3_request, SignedHeaders=…,
  Signature=…``; the canonical request (method, ``/``, empty query, the signed headers lower-cased, their
  names, SHA-256 of the body), the string to sign (algorithm, ``X-TC-Timestamp``, credential scope,
  SHA-256 of the canonical request) and the key chain ``"TC3"+SecretKey`` → date → ``sms`` →
  ``tc3_request`` are recomputed with the test's secret.  Refusals: ``AuthFailure.InvalidAuthorization``,
  ``AuthFailure.SecretIdNotFound``, ``AuthFailure.SignatureExpire`` (more than 5 minutes from our clock),
  ``AuthFailure.SignatureFailure``; ``InvalidAction``, ``NoSuchVersion`` (``X-TC-Version`` must be
  2021-01-11), ``UnsupportedRegion``.
* **SendSms**: ``SmsSdkAppId`` (``InvalidParameterValue.SdkAppIdNotExist``), ``SignName``
  (``FailedOperation.SignatureIncorrectOrUnapproved``), a known ``TemplateId``
  (``FailedOperation.TemplateIncorrectOrUnapproved``), exactly the template's number of variables
  (``FailedOperation.TemplateParamSetNotMatchApprovedTemplate``), each at most ``max_param_chars``
  characters (new accounts: 6; ``InvalidParameterValue.TemplateParameterLengthLimit``), no URL in a
  variable, a verification-code template's variable 0–6 digits
  (``InvalidParameterValue.TemplateParameterFormatError``), at most 200 numbers, ``SessionContext`` under
  512 bytes.  Each number gets a ``SendStatus`` (``Code`` "Ok", ``SerialNo``, ``SessionContext``); a number
  not in E.164 mainland form gets ``InvalidParameterValue.IncorrectPhoneNumber``.  Stricter than Tencent
  on one point our use needs: SendSms there also takes 11 bare digits, but the status look-up needs
  ``+86…``, so the stand-in insists on it everywhere.
* **PullSmsSendStatusByPhoneNumber**: ``BeginTime`` (at most 7 days back), ``Offset`` fixed at 0,
  ``Limit`` 1–100, an E.164 ``PhoneNumber``, the ``SmsSdkAppId``; answers the recorded messages to that
  number as ``PullSmsSendStatus`` rows, each with its ``SessionContext`` — or with an empty one when
  ``session_context_enabled`` is False (Tencent returns it only once enabled for the account).

Errors are HTTP 200 with ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``, as Tencent answers.

Faults a test can switch on (what a real network and carrier do): ``reply_delay_s`` — a SendSms is
recorded (Tencent has sent it) and its reply is held back that long, past the client's timeout: a
success the timeout hides; ``lose_sends`` — SendSms requests are answered late and never recorded (the
request did not reach Tencent); ``report_delay_s`` — a message shows in the status look-up only that
long (by ``clock``) after it was sent, as Tencent shows a row once the carrier has reported.
Not modelled: per-number rate limits, billing.  ``reply_payload`` builds
the JSON body Tencent POSTs to a business's reply (上行短信) callback.

Sources: SendSms https://cloud.tencent.com/document/api/382/55981 ; PullSmsSendStatusByPhoneNumber
https://www.tencentcloud.com/document/product/382/40518 ; data types
https://www.tencentcloud.com/document/product/382/40473 ; signature v3
https://www.tencentcloud.com/zh/document/api/1021/34193 ; common error codes
https://cloud.tencent.com/document/product/1388/114322 ; SMS reply callback
https://intl.cloud.tencent.com/document/api/382/43548 ; error codes also in the SDK's
``tencentcloud/sms/v20210111/errorcodes.py``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from harness.loopback import LoopbackServer, QuietHandler

VERSION = "2021-01-11"
SERVICE = "sms"
REGIONS = ("ap-guangzhou", "ap-beijing", "ap-nanjing")
SIGNATURE_SKEW_S = 300
STATUS_WINDOW_S = 7 * 24 * 3600
MAX_NUMBERS = 200
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z0-9]+)/tc3_request, "
    r"SignedHeaders=(?P<headers>[a-z0-9\-;]+), Signature=(?P<signature>[0-9a-f]{64})$")
_E164_MAINLAND = re.compile(r"^\+861[3-9]\d{9}$")
_CODE_VARIABLE = re.compile(r"^\d{0,6}$")
_URL = re.compile(r"https?://|www\.|\.(?:com|cn|net)\b", re.IGNORECASE)


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key: str, date: str, string_to_sign: str, service: str = SERVICE) -> str:
    """The documented key chain: HMAC("TC3"+key, date) → service → "tc3_request" → the string to sign."""
    signing = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def reply_payload(mobile: str, text: str, sign: str, nationcode: str = "86", extend: str = "",
                  at: Optional[int] = None) -> Dict[str, Any]:
    """The body Tencent POSTs to the reply (上行短信) callback URL when a customer answers an SMS."""
    return {"extend": extend, "mobile": mobile, "nationcode": nationcode, "sign": sign, "text": text,
            "time": int(time.time()) if at is None else at}


class TencentSmsStandIn(LoopbackServer):
    def __init__(
        self,
        templates: Mapping[str, int],
        code_templates: Iterable[str] = (),
        secret_id: str = "AKIDstandin0000000000000000000000000",
        secret_key: str = "standin-secret-key-0000000000000",
        sdk_app_id: str = "1400000001",
        sign_name: str = "安信消费金融",
        max_param_chars: int = 6,
        session_context_enabled: bool = True,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.templates = dict(templates)  # approved template ID -> number of variables
        self.code_templates = set(code_templates)  # verification-code templates (digits only)
        self.secret_id, self.secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name = sdk_app_id, sign_name
        self.max_param_chars = max_param_chars
        self.session_context_enabled = session_context_enabled
        self.reply_delay_s = 0.0  # SendSms: recorded, then answered this late (a success hidden by a timeout)
        self.lose_sends = False  # SendSms: never recorded (with reply_delay_s: a timeout that hides nothing)
        self.report_delay_s = 0.0  # a sent message shows in the status look-up this long after it was sent
        self.clock = clock  # when a message is recorded as sent (tests align it with the engine's clock)
        self.host, self.port = host, port
        self.sent: List[Dict[str, Any]] = []
        self.rejected: List[Tuple[str, str]] = []  # (action, error code)
        self.requests = 0
        self._lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> str:
        stand_in = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                headers = {name.lower(): value for name, value in self.headers.items()}
                payload = json.dumps({"Response": stand_in.handle(self.path, headers, self.body())},
                                     ensure_ascii=False)
                if headers.get("x-tc-action") == "SendSms" and stand_in.reply_delay_s:
                    time.sleep(stand_in.reply_delay_s)  # outside the lock: status look-ups answer meanwhile
                try:  # exactly this content type: the SDK reads errors only then
                    self.send_body(200, payload.encode("utf-8"), "application/json")
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

        return self.serve(Handler, "tencent-sms-standin")

    def messages_to(self, phone_e164: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.sent if m["PhoneNumber"] == phone_e164]

    # --- one request ----------------------------------------------------------------
    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> Dict[str, Any]:
        request_id = str(uuid.uuid4())
        action = headers.get("x-tc-action", "")
        with self._lock:
            self.requests += 1
            try:
                self._authenticate(path, headers, body)
                if headers.get("x-tc-version") != VERSION:
                    raise Refused("NoSuchVersion", f"The API version `{headers.get('x-tc-version')}` does not exist.")
                if headers.get("x-tc-region") not in REGIONS:
                    raise Refused("UnsupportedRegion", f"The region `{headers.get('x-tc-region')}` is not supported.")
                params = self._params(body)
                if action == "SendSms":
                    result = self._send_sms(params)
                elif action == "PullSmsSendStatusByPhoneNumber":
                    result = self._pull_status(params)
                else:
                    raise Refused("InvalidAction", f"The action `{action}` is not supported (Tencent SMS stand-in).")
            except Refused as refusal:
                self.rejected.append((action, refusal.code))
                return {"Error": {"Code": refusal.code, "Message": refusal.message}, "RequestId": request_id}
        return {**result, "RequestId": request_id}

    def _authenticate(self, path: str, headers: Mapping[str, str], body: bytes) -> None:
        match = _AUTHORIZATION.match(headers.get("authorization", ""))
        if match is None or match["service"] != SERVICE or path != "/":
            raise Refused("AuthFailure.InvalidAuthorization", "Authorization header is not a Tencent Cloud TC3 one.")
        signed = match["headers"].split(";")
        if not {"content-type", "host"} <= set(signed):
            raise Refused("AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host.")
        if match["id"] != self.secret_id:
            raise Refused("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure it is correct.")
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            raise Refused("MissingParameter", "The request is missing a valid X-TC-Timestamp.") from None
        if abs(time.time() - timestamp) > SIGNATURE_SKEW_S:
            raise Refused("AuthFailure.SignatureExpire", "Signature expired: timestamp differs by over 5 minutes.")
        date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
        payload = b"UNSIGNED-PAYLOAD" if headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD" else body
        canonical = "\n".join(["POST", "/", "", canonical_headers, match["headers"],
                               hashlib.sha256(payload).hexdigest()])
        string_to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{date}/{SERVICE}/tc3_request",
                                    hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
        expected = tc3_signature(self.secret_key, date, string_to_sign)
        if match["date"] != date or not hmac.compare_digest(expected, match["signature"]):
            raise Refused("AuthFailure.SignatureFailure",
                          "The provided credentials could not be validated. Please check your signature is correct.")

    @staticmethod
    def _params(body: bytes) -> Dict[str, Any]:
        try:
            params = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Refused("InvalidParameter", "The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise Refused("InvalidParameter", "The request body must be a JSON object.")
        return params

    def _app(self, params: Mapping[str, Any]) -> None:
        if not params.get("SmsSdkAppId"):
            raise Refused("MissingParameter", "The request is missing a required parameter `SmsSdkAppId`.")
        if params["SmsSdkAppId"] != self.sdk_app_id:
            raise Refused("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")

    def _send_sms(self, params: Mapping[str, Any]) -> Dict[str, Any]:
        numbers = params.get("PhoneNumberSet")
        if not isinstance(numbers, list) or not numbers:
            raise Refused("MissingParameter.EmptyPhoneNumberSet", "The PhoneNumberSet is empty.")
        if len(numbers) > MAX_NUMBERS:
            raise Refused("LimitExceeded.PhoneNumberCountLimit", "At most 200 phone numbers per request.")
        self._app(params)
        if params.get("SignName") != self.sign_name:
            raise Refused("FailedOperation.SignatureIncorrectOrUnapproved", "The signature is incorrect or unapproved.")
        template = str(params.get("TemplateId") or "")
        if template not in self.templates:
            raise Refused("FailedOperation.TemplateIncorrectOrUnapproved", "The template is incorrect or unapproved.")
        values = params.get("TemplateParamSet") or []
        if not isinstance(values, list) or any(not isinstance(v, str) for v in values):
            raise Refused("InvalidParameter", "TemplateParamSet must be a list of strings.")
        if len(values) != self.templates[template]:
            raise Refused("FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                          f"The template has {self.templates[template]} variables, {len(values)} were given.")
        for value in values:
            if len(value) > self.max_param_chars:
                raise Refused("InvalidParameterValue.TemplateParameterLengthLimit",
                              f"A template variable is longer than {self.max_param_chars} characters.")
            if _URL.search(value):
                raise Refused("InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", "No URL in a variable.")
            if template in self.code_templates and not _CODE_VARIABLE.match(value):
                raise Refused("InvalidParameterValue.TemplateParameterFormatError",
                              "Verification-code template variables must be 0-6 digits.")
        context = params.get("SessionContext") or ""
        if not isinstance(context, str) or len(context.encode("utf-8")) >= 512:
            raise Refused("InvalidParameter", "SessionContext must be a string shorter than 512 bytes.")
        statuses = []
        for number in numbers:
            if not isinstance(number, str) or not _E164_MAINLAND.match(number):
                statuses.append({"SerialNo": "", "PhoneNumber": str(number), "Fee": 0, "SessionContext": context,
                                 "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                                 "Message": "incorrect number format", "IsoCode": "DEF"})
                continue
            serial = f"2433:{secrets.randbelow(10**20):020d}"
            if not self.lose_sends:
                self.sent.append({"PhoneNumber": number, "TemplateId": template, "TemplateParamSet": list(values),
                                  "SignName": params["SignName"], "SessionContext": context, "SerialNo": serial,
                                  "at": int(self.clock())})
            statuses.append({"SerialNo": serial, "PhoneNumber": number, "Fee": 1, "SessionContext": context,
                             "Code": "Ok", "Message": "send success", "IsoCode": "CN"})
        return {"SendStatusSet": statuses}

    def _pull_status(self, params: Mapping[str, Any]) -> Dict[str, Any]:
        begin, end = params.get("BeginTime"), params.get("EndTime")
        if not isinstance(begin, int):
            raise Refused("MissingParameter", "The request is missing a required parameter `BeginTime`.")
        if params.get("Offset") != 0:
            raise Refused("InvalidParameterValue", "Offset is currently fixed at 0.")
        limit = params.get("Limit")
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise Refused("InvalidParameterValue", "Limit must be between 1 and 100.")
        number = params.get("PhoneNumber")
        if not isinstance(number, str) or not _E164_MAINLAND.match(number):
            raise Refused("InvalidParameterValue.IncorrectPhoneNumber",
                          "PhoneNumber must be E.164, e.g. +8613711112222.")
        self._app(params)
        oldest = max(begin, int(self.clock()) - STATUS_WINDOW_S)
        reported = self.clock() - self.report_delay_s
        rows = [m for m in self.sent if m["PhoneNumber"] == number and m["at"] >= oldest and m["at"] <= reported
                and (not isinstance(end, int) or m["at"] <= end)]
        return {"PullSmsSendStatusSet": [
            {"UserReceiveTime": m["at"], "CountryCode": "86", "SubscriberNumber": number[3:], "PhoneNumber": number,
             "SerialNo": m["SerialNo"], "ReportStatus": "SUCCESS", "Description": "DELIVRD",
             "SessionContext": m["SessionContext"] if self.session_context_enabled else ""}
            for m in rows[:limit]]}


__all__ = ["TencentSmsStandIn", "reply_payload", "tc3_signature", "VERSION"]
