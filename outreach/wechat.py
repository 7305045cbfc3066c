"""WeChat template messages (模板消息) for outreach, through wechatpy's client and token handling
(:mod:`connectors.wechat.client`).  Notice kinds map to library templates in
``deploy/wechat_templates.yml`` (``WECHAT_TEMPLATES``): template ID and typed values.

Each send carries ``client_msg_id`` = the notice's key: WeChat sends one message per openid and
``client_msg_id`` within 10 minutes and answers a repeat with the first ``msgid``.  Reconciliation
after a crash is that repeat (within the engine's lease, which is shorter than those 10 minutes).
The customer-service API (free text) is not used here: it works only within 48 hours of the
customer's last message; template messages are what an Official Account may send first.
"""
from __future__ import annotations

import os
import re
import string
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Optional

import yaml
from pydantic import validator
from wechatpy.exceptions import WeChatClientException

from connectors.state import StateStore
from connectors.wechat.client import WeChatApiClient
from connectors.wechat.config import WeChatSettings
from credit.catalogue.fields import Schema, Text
from credit.catalogue.outreach import FIELDS
from outreach.channels import Delivery, DeliveryFailed, DeliveryUnknown

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "deploy" / "wechat_templates.yml"
TEMPLATE_FIELDS = (*FIELDS, "amount_number", "due_full")
CLIENT_MSG_ID_WINDOW = timedelta(minutes=9)  # WeChat's is 10 minutes; a minute's margin
_KEY = re.compile(r"^(thing|character_string|amount|time|phrase|number|date)\d+$")


class TemplateSpec(Schema):
    template_id: Text
    data: Dict[str, Text]

    @validator("data")
    def _library_keys(cls, value: Dict[str, str]) -> Dict[str, str]:
        for key, template in value.items():
            if not _KEY.match(key):
                raise ValueError(f"{key!r} 不是类目模板的字段（first/remark 已废弃）")
            unknown = {f for _, f, _, _ in string.Formatter().parse(template) if f} - set(TEMPLATE_FIELDS)
            if unknown:
                raise ValueError(f"{key}: 未知字段 {sorted(unknown)}")
        return value


def load_templates(path: Optional[str | Path] = None) -> Dict[str, TemplateSpec]:
    chosen = Path(path or os.environ.get("WECHAT_TEMPLATES") or DEFAULT_TEMPLATES)
    raw: Any = yaml.safe_load(chosen.read_text("utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{chosen}: 应为“通知类型 → 模板”的映射")
    return {kind: TemplateSpec.parse_obj(spec) for kind, spec in raw.items()}


class WechatTemplateChannel:
    name = "wechat"
    private = True

    def __init__(self, settings: WeChatSettings, store: StateStore, templates: Dict[str, TemplateSpec]) -> None:
        self.client = WeChatApiClient(settings, store)
        self.templates = templates

    def handles(self, kind: str) -> bool:
        return kind in self.templates

    def send(self, address: str, delivery: Delivery) -> str:
        spec = self.templates.get(delivery.kind)
        if spec is None:
            raise DeliveryFailed(f"没有为 {delivery.kind} 配置微信模板")
        payload = {"touser": address, "template_id": spec.template_id, "client_msg_id": delivery.key[:64],
                   "data": {key: {"value": value.format(**delivery.fields)} for key, value in spec.data.items()}}
        for attempt in (1, 2):
            token = self.client.access_token
            try:
                reply = self.client.message._post("message/template/send", data=payload)  # noqa: SLF001
                return f"wechat:{reply.get('msgid')}"
            except WeChatClientException as error:
                if attempt == 1 and error.errcode in (40001, 42001):
                    self.client.drop_token(token)
                    continue
                raise DeliveryFailed(f"微信模板消息被拒：{error.errcode}") from error
            except Exception as error:  # noqa: BLE001 - network: retried by the engine
                raise DeliveryFailed(f"微信接口不可用：{type(error).__name__}") from error
        raise DeliveryFailed("微信接口令牌无效")  # pragma: no cover

    def find(self, address: str, delivery: Delivery, since: datetime, now: datetime) -> Optional[str]:
        """WeChat has no look-up for template messages, but de-duplicates by client_msg_id for 10 minutes:
        within them, sending again answers the first msgid and sends nothing; after them nobody can
        tell, and sending again could deliver twice."""
        if now - since >= CLIENT_MSG_ID_WINDOW:
            raise DeliveryUnknown("微信模板消息无法查询，防重发窗口已过")
        try:
            return self.send(address, delivery)
        except DeliveryFailed:
            return None


def wechat_channel(store_path: Optional[str] = None) -> Optional[WechatTemplateChannel]:
    """The channel when the account can send (WECHAT_APP_ID/SECRET) and templates are configured."""
    settings = WeChatSettings.from_env()
    if settings is None or not settings.can_send:
        return None
    store = StateStore(store_path)  # CHANNEL_STATE_DB: the token is shared with the WeChat channel
    return WechatTemplateChannel(settings, store, load_templates())


__all__ = ["WechatTemplateChannel", "TemplateSpec", "load_templates", "wechat_channel", "TEMPLATE_FIELDS"]
