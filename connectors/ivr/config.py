"""IVR webhook settings from the environment; without IVR_SHARED_SECRET it is off."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

from connectors.http import env_float

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IvrSettings:
    shared_secret: str
    tolerance_s: float = 300.0  # allowed clock difference for X-IVR-Signature's t
    language: str = "zh-CN"  # speech recognition / SSML language announced to the platform
    max_body_bytes: int = 16 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IvrSettings | None:
        env = os.environ if environ is None else environ
        secret = (env.get("IVR_SHARED_SECRET") or "").strip()
        if not secret:
            logger.info("IVR channel disabled: IVR_SHARED_SECRET is not set (IVR 渠道未启用)")
            return None
        settings = cls(
            shared_secret=secret,
            tolerance_s=env_float(env, "IVR_SIGNATURE_TOLERANCE_S", 300.0, minimum=1.0),
            language=(env.get("IVR_LANGUAGE") or "").strip() or "zh-CN",
        )
        logger.info("IVR channel enabled")
        return settings
