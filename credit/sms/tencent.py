"""Tencent Cloud SMS (腾讯云短信, API version 2021-01-11) through its official Python SDK
(``tencentcloud-sdk-python-sms``): selected with ``SMS_GATEWAY=tencent``.

Why it looks the way it does:

* **Templates only.** Mainland SMS goes out only as pre-approved templates, so a send needs the
  message's kind and fields, mapped to a template ID and its ordered variables by
  ``deploy/sms_templates.yml`` (:mod:`credit.sms.templates`); the rendered text is not sent.
* **E.164.** ``SendSms`` also takes 11 bare digits, but the status look-up needs ``+86…``, so every
  number goes out as ``+86…`` and is looked up the same way.
* **Reconciliation by SessionContext.** Each send carries the notice's key as ``SessionContext``,
  which Tencent returns in the delivery status rows of ``PullSmsSendStatusByPhoneNumber``: a row with
  the key means the message was sent (its ``SerialNo`` is the reference); none means it was not.
  Tencent returns SessionContext in those rows only once its SMS assistant has enabled it for the
  account: when no row carries one the look-up answers "cannot tell" (:class:`SmsStatusUnknown`), and
  the engine then gives the notice up rather than risk sending it twice (rows without one next to rows
  with one were sent by someone else sharing the app).  A row exists once the carrier has reported on
  the message (usually seconds; the engine looks after its 5-minute lease), so a message accepted but
  not yet reported on reads as not sent: the one window in which a retry could repeat it.
* **A send with no answer is looked up before anything is retried.** A timeout (or a dropped connection)
  may hide a success: Tencent can have sent the message and the reply never arrived.  The SDK does not
  retry (no ``retryer`` is configured, on purpose), and :meth:`TencentSmsGateway.send` asks
  ``PullSmsSendStatusByPhoneNumber`` for the message's SessionContext at once (``reconcile_tries`` times,
  ``reconcile_wait_s`` apart): found, it is the send's result; not found yet, the send raises
  :class:`SmsSendUnconfirmed` and is *not* resent — the outreach engine keeps the notice claimed and
  reconciles it again after its lease (``outreach/engine.py``), by which time the carrier has reported.
  Every send therefore carries a SessionContext unique to that message (the notice's key, an OTP's row;
  a caller without one gets a random one).
* **Settings from the environment** (``TENCENT_SMS_*``), checked when the gateway is made, so a missing
  secret stops the process at start with a message naming the variable, not at the first reminder.

API reference: SendSms https://cloud.tencent.com/document/api/382/55981 ; PullSmsSendStatusByPhoneNumber
https://www.tencentcloud.com/document/product/382/40518 ; the data types (SendStatus, PullSmsSendStatus)
https://www.tencentcloud.com/document/product/382/40473 .
"""
from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Mapping, Optional

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from credit.catalogue.loader import load_catalogue
from credit.sms.common import SmsConfigError, SmsSendError, SmsSendUnconfirmed, SmsStatusUnknown, e164
from credit.sms.templates import OTP_KIND, SmsTemplate, load_sms_templates, missing_kinds

DEFAULT_REGION = "ap-guangzhou"
DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
REQUIRED = {
    "secret_id": "TENCENT_SMS_SECRET_ID",
    "secret_key": "TENCENT_SMS_SECRET_KEY",
    "sdk_app_id": "TENCENT_SMS_SDK_APP_ID",
    "sign_name": "TENCENT_SMS_SIGN_NAME",
}
STATUS_WINDOW_S = 7 * 24 * 3600  # PullSmsSendStatusByPhoneNumber looks back at most 7 days
_ENDPOINT = re.compile(r"^(?:(?P<scheme>https?)://)?(?P<host>[A-Za-z0-9.\-]+(?::\d{1,5})?)/?$")


@dataclass(frozen=True)
class TencentSmsSettings:
    secret_id: str
    secret_key: str
    sdk_app_id: str  # 短信 SdkAppId, e.g. 1400006666
    sign_name: str  # the approved signature (签名), without 【】
    region: str = DEFAULT_REGION
    endpoint: str = DEFAULT_ENDPOINT  # host[:port] (TENCENT_SMS_ENDPOINT may also give the scheme)
    scheme: str = "https"
    timeout_s: float = 10  # TENCENT_SMS_TIMEOUT_S: no answer within it, the send is looked up, not resent
    reconcile_tries: int = 3
    reconcile_wait_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> TencentSmsSettings:
        env = os.environ if environ is None else environ
        values = {name: (env.get(variable) or "").strip() for name, variable in REQUIRED.items()}
        missing = [REQUIRED[name] for name, value in values.items() if not value]
        if missing:
            names = ", ".join(missing)
            raise SmsConfigError(f"SMS_GATEWAY=tencent 需要设置 {names}（腾讯云短信的密钥、应用和签名） / "
                                 f"SMS_GATEWAY=tencent needs {names} (Tencent Cloud SMS secret, app and signature)")
        if not values["sdk_app_id"].isdigit():
            raise SmsConfigError("TENCENT_SMS_SDK_APP_ID 应为短信控制台给出的数字，如 1400006666 / "
                                 "TENCENT_SMS_SDK_APP_ID must be the numeric SdkAppId, e.g. 1400006666")
        raw_endpoint = (env.get("TENCENT_SMS_ENDPOINT") or "").strip() or DEFAULT_ENDPOINT
        match = _ENDPOINT.match(raw_endpoint)
        if match is None:
            raise SmsConfigError(f"TENCENT_SMS_ENDPOINT={raw_endpoint!r} 应为域名（可带 http(s):// 和端口） / "
                                 "must be a host name, optionally with http(s):// and a port")
        raw_timeout = (env.get("TENCENT_SMS_TIMEOUT_S") or "").strip() or "10"
        try:
            timeout = float(raw_timeout)
        except ValueError:
            timeout = 0
        if not 0 < timeout <= 60:
            raise SmsConfigError(f"TENCENT_SMS_TIMEOUT_S={raw_timeout!r} 应为 1–60 秒 / must be 1-60 seconds")
        return cls(**values, region=(env.get("TENCENT_SMS_REGION") or "").strip() or DEFAULT_REGION,
                   endpoint=match.group("host"), scheme=match.group("scheme") or "https", timeout_s=timeout)


class TencentSmsGateway:
    """Sends each kind's approved template to one mainland number; finds a sent one by its context."""

    name = "tencent"

    def __init__(self, settings: TencentSmsSettings, templates: Mapping[str, SmsTemplate],
                 clock: Optional[Callable[[], datetime]] = None) -> None:
        self.settings = settings
        self.templates: Dict[str, SmsTemplate] = dict(templates)
        self.clock = clock or (lambda: datetime.now(timezone.utc))  # the time status look-ups ask about
        http = HttpProfile(protocol=settings.scheme, endpoint=settings.endpoint, reqTimeout=settings.timeout_s)
        self.client = SmsClient(Credential(settings.secret_id, settings.secret_key), settings.region,
                                ClientProfile(httpProfile=http))

    def send(self, phone: str, text: str, kind: Optional[str] = None, fields: Optional[Mapping[str, str]] = None,
             context: Optional[str] = None) -> str:
        """``text`` is not sent (only templates are); ``kind`` and ``fields`` choose and fill the template;
        ``context`` (the notice's key) comes back in the status rows.  The reference is ``tencent:<SerialNo>``."""
        spec = self.templates.get(kind or "")
        if spec is None:
            raise SmsSendError("TemplateNotConfigured",
                               f"没有为短信类型 {kind!r} 配置腾讯云模板（deploy/sms_templates.yml）")
        try:
            values = spec.values(fields or {})
        except KeyError as error:
            raise SmsSendError("MissingField", f"短信模板 {kind} 需要字段 {error.args[0]}") from None
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [self._number(phone)]
        request.SmsSdkAppId = self.settings.sdk_app_id
        request.SignName = self.settings.sign_name
        request.TemplateId = spec.template_id
        request.TemplateParamSet = values
        request.SessionContext = context = context or f"{kind}:{secrets.token_hex(8)}"  # unique: it is looked up
        started = self.clock()
        try:
            statuses = self._call(self.client.SendSms, request).SendStatusSet or []
        except SmsSendError as error:
            if error.code != "ClientNetworkError":  # Tencent answered: a refusal, nothing went out
                raise
            return self._look_up_unanswered(phone, context, started, error)
        if not statuses:
            raise SmsSendError("EmptyResponse", "腾讯云没有返回发送状态")
        status = statuses[0]
        if status.Code != "Ok":
            raise SmsSendError(status.Code or "Unknown", status.Message or "")
        return f"tencent:{status.SerialNo}"

    def _look_up_unanswered(self, phone: str, context: str, started: datetime, error: SmsSendError) -> str:
        """A send Tencent did not answer: its reference if Tencent has the message, else
        :class:`SmsSendUnconfirmed` (never a second send from here)."""
        for attempt in range(max(1, self.settings.reconcile_tries)):
            if attempt:
                time.sleep(self.settings.reconcile_wait_s)
            try:
                found = self.find_sent(phone, context, started, self.clock())
            except SmsSendError:  # the look-up is unreachable too: still unknown
                found = None
            if found:
                return found
        raise SmsSendUnconfirmed(f"腾讯云没有应答（{error}），下发状态里暂时没有这条短信；不重发，稍后再核实", context)

    def find_sent(self, phone: str, context: str, since: datetime, now: datetime) -> Optional[str]:
        """``tencent:<SerialNo>`` of the message sent to ``phone`` with ``context`` since ``since``; None when
        Tencent has none; :class:`SmsStatusUnknown` when its rows carry no SessionContext to tell by."""
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        end = int(now.timestamp()) + 60
        request.BeginTime = max(int(since.timestamp()) - 60, end - STATUS_WINDOW_S + 60)
        request.EndTime = end
        request.Offset = 0  # fixed at 0 by the API
        request.Limit = 100
        request.PhoneNumber = self._number(phone)
        request.SmsSdkAppId = self.settings.sdk_app_id
        rows = self._call(self.client.PullSmsSendStatusByPhoneNumber, request).PullSmsSendStatusSet or []
        for row in rows:
            if row.SessionContext == context:
                return f"tencent:{row.SerialNo}"
        if rows and all(not row.SessionContext for row in rows):  # the account does not get it back: blind
            raise SmsStatusUnknown("腾讯云的下发状态没有 SessionContext（需请腾讯云开通），无法核实是否已发送")
        return None

    @staticmethod
    def _number(phone: str) -> str:
        try:
            return e164(phone)
        except ValueError:
            raise SmsSendError("InvalidPhoneNumber", "不是有效的中国大陆手机号") from None

    @staticmethod
    def _call(method: Callable[[Any], Any], request: Any) -> Any:
        try:
            return method(request)
        except TencentCloudSDKException as error:
            raise SmsSendError(error.get_code() or "TencentCloudSDKException", error.get_message() or "") from error


def required_sms_kinds() -> tuple[str, ...]:
    """Every kind an SMS may be: each outreach notice of the catalogue, and the verification code."""
    return (*(rule.kind for rule in load_catalogue().outreach.notices), OTP_KIND)


def tencent_gateway_from_env(environ: Optional[Mapping[str, str]] = None) -> TencentSmsGateway:
    """The gateway from ``TENCENT_SMS_*`` and ``SMS_TEMPLATES``; :class:`SmsConfigError` names what is missing."""
    env = os.environ if environ is None else environ
    settings = TencentSmsSettings.from_env(env)
    templates = load_sms_templates(env.get("SMS_TEMPLATES") or None)
    missing = missing_kinds(templates, required_sms_kinds())
    if missing:
        raise SmsConfigError(f"短信模板文件缺少这些类型的模板：{', '.join(missing)} / "
                             f"SMS templates missing for: {', '.join(missing)}")
    return TencentSmsGateway(settings, templates)


__all__ = ["TencentSmsGateway", "TencentSmsSettings", "tencent_gateway_from_env", "required_sms_kinds",
           "DEFAULT_ENDPOINT", "DEFAULT_REGION"]
