"""WeChat Official Account settings, read from the environment by the channel itself
(an unset ``${VAR}`` in credentials.yml would stop Rasa at start-up)."""
from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass
from typing import Mapping

from connectors.http import env_float

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class WeChatSettings:
    token: str
    app_id: str = ""
    app_secret: str = ""
    aes_key: str | None = None  # EncodingAESKey (43 chars): enables 安全模式
    api_base: str = DEFAULT_API_BASE
    passive_deadline_s: float = 4.0  # WeChat waits 5 s before it retries
    max_clock_skew_s: float = 600.0  # signed timestamps older/newer than this are refused
    max_body_bytes: int = 64 * 1024
    kf_account: str | None = None  # 客服账号 for handoffs that happen after the passive window

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)

    @property
    def can_send(self) -> bool:
        return bool(self.app_id and self.app_secret)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeChatSettings | None:
        """Settings, or None (channel disabled, logged) without WECHAT_TOKEN or with a bad key."""
        env = os.environ if environ is None else environ
        token = (env.get("WECHAT_TOKEN") or "").strip()
        if not token:
            logger.info("WeChat channel disabled: WECHAT_TOKEN is not set (微信渠道未启用)")
            return None
        aes_key = (env.get("WECHAT_AES_KEY") or "").strip() or None
        if aes_key and not valid_aes_key(aes_key):
            logger.error(
                "WeChat channel disabled: WECHAT_AES_KEY must be the 43-character EncodingAESKey "
                "(微信渠道未启用: EncodingAESKey 应为 43 个字符)"
            )
            return None
        app_id = (env.get("WECHAT_APP_ID") or "").strip()
        if aes_key and not app_id:
            logger.error("WeChat channel disabled: safe mode (WECHAT_AES_KEY) needs WECHAT_APP_ID")
            return None
        settings = cls(
            token=token,
            app_id=app_id,
            app_secret=(env.get("WECHAT_APP_SECRET") or "").strip(),
            aes_key=aes_key,
            api_base=((env.get("WECHAT_API_BASE") or "").strip() or DEFAULT_API_BASE).rstrip("/"),
            passive_deadline_s=min(env_float(env, "WECHAT_PASSIVE_DEADLINE_S", 4.0, minimum=0.0), 4.5),
            max_clock_skew_s=env_float(env, "WECHAT_MAX_CLOCK_SKEW_S", 600.0, minimum=30.0),
            kf_account=(env.get("WECHAT_KF_ACCOUNT") or "").strip() or None,
        )
        if not settings.can_send:
            logger.warning(
                "WeChat: WECHAT_APP_ID/WECHAT_APP_SECRET not set; replies slower than %.1f s "
                "cannot be delivered through the customer-service API",
                settings.passive_deadline_s,
            )
        logger.info(
            "WeChat channel enabled (%s mode, API %s)", "safe" if settings.safe_mode else "plain", settings.api_base
        )
        return settings


def valid_aes_key(key: str) -> bool:
    if len(key) != 43:
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False
