"""微信客服 (WeCom kf) settings, read from the environment by the channel itself: an unset ``${VAR}`` in
credentials.yml would stop Rasa at start-up, so credentials.yml names the channel without secrets and the
channel is simply off (one log line) until all four of WECOM_CORP_ID, WECOM_KF_SECRET, WECOM_TOKEN and
WECOM_AES_KEY are set."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

from connectors.http import env_float
from connectors.wechat.config import valid_aes_key

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
REQUIRED = ("WECOM_CORP_ID", "WECOM_KF_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")


@dataclass(frozen=True)
class WeComKfSettings:
    corp_id: str  # 企业ID (CorpID): the receiver id inside every encrypted callback
    secret: str  # the 微信客服 secret (its access token is the only one kf/* accepts)
    token: str  # callback Token
    aes_key: str  # callback EncodingAESKey (43 characters)
    api_base: str = DEFAULT_API_BASE
    servicer: str | None = None  # 接待人员 userid for handoffs; None: the 待接入池 (queue)
    max_clock_skew_s: float = 600.0
    max_body_bytes: int = 64 * 1024
    welcome_budget_s: float = 15.0  # WeCom's welcome_code lives 20 s; past this the fixed welcome goes
    lease_s: float = 60.0  # one process pulls an account at a time; a dead one's lease runs out after this

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeComKfSettings | None:
        """Settings, or None (channel off, logged) unless all four WECOM_* settings are set and valid."""
        env = os.environ if environ is None else environ
        values = {name: (env.get(name) or "").strip() for name in REQUIRED}
        missing = [name for name, value in values.items() if not value]
        if len(missing) == len(REQUIRED):
            logger.info("WeCom kf channel disabled: WECOM_* are not set (微信客服渠道未启用)")
            return None
        if missing:
            logger.error("WeCom kf channel disabled: %s not set (微信客服渠道未启用: 缺少 %s)",
                         ", ".join(missing), ", ".join(missing))
            return None
        if not valid_aes_key(values["WECOM_AES_KEY"]):
            logger.error("WeCom kf channel disabled: WECOM_AES_KEY must be the 43-character EncodingAESKey "
                         "(微信客服渠道未启用: EncodingAESKey 应为 43 个字符)")
            return None
        settings = cls(
            corp_id=values["WECOM_CORP_ID"],
            secret=values["WECOM_KF_SECRET"],
            token=values["WECOM_TOKEN"],
            aes_key=values["WECOM_AES_KEY"],
            api_base=((env.get("WECOM_API_BASE") or "").strip() or DEFAULT_API_BASE).rstrip("/"),
            servicer=(env.get("WECOM_KF_SERVICER") or "").strip() or None,
            max_clock_skew_s=env_float(env, "WECOM_MAX_CLOCK_SKEW_S", 600.0, minimum=30.0),
            lease_s=env_float(env, "WECOM_LEASE_S", 60.0, minimum=2.0),
        )
        logger.info("WeCom kf channel enabled (API %s, handoff to %s)", settings.api_base,
                    settings.servicer or "the queue")
        return settings
