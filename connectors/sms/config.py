"""SMS reply callback settings from the environment; without SMS_UPLINK_TOKEN the route is off."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

logger = logging.getLogger(__name__)

MIN_TOKEN_CHARS = 16  # a guessable token would let anyone unsubscribe anyone


@dataclass(frozen=True)
class UplinkSettings:
    token: str  # the secret Tencent's console is given in the callback URL (?token=...)
    max_body_bytes: int = 16 * 1024  # a reply is one short text; Tencent's body is a few hundred bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UplinkSettings | None:
        env = os.environ if environ is None else environ
        token = (env.get("SMS_UPLINK_TOKEN") or "").strip()
        if not token:
            logger.info("SMS reply callback disabled: SMS_UPLINK_TOKEN is not set (短信上行回调 sms_tencent 未启用)")
            return None
        if len(token) < MIN_TOKEN_CHARS:
            logger.error("SMS reply callback disabled: SMS_UPLINK_TOKEN is shorter than %d characters "
                         "(短信上行回调令牌过短，未启用)", MIN_TOKEN_CHARS)
            return None
        logger.info("SMS reply callback enabled at /webhooks/sms_tencent/uplink")
        return cls(token=token)
