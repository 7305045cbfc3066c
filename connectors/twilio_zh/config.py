"""Twilio settings from the environment; without TWILIO_AUTH_TOKEN the channel is off."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TwilioSettings:
    auth_token: str
    public_base_url: str | None = None  # e.g. https://bot.example.com (the URL Twilio signs)
    agent_number: str | None = None  # E.164 number of the human agents, dialled on handoff
    speech_language: str = "zh-CN"  # <Gather language>: Mandarin speech recognition
    say_language: str = "cmn-CN"  # <Say language>: Mandarin text-to-speech
    voice: str = "Polly.Zhiyu"  # <Say voice>: Amazon Polly Mandarin voice
    speech_model: str | None = None
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioSettings | None:
        env = os.environ if environ is None else environ
        token = (env.get("TWILIO_AUTH_TOKEN") or "").strip()
        if not token:
            logger.info("Twilio channel disabled: TWILIO_AUTH_TOKEN is not set (电话渠道 twilio_zh 未启用)")
            return None
        agent = (env.get("TWILIO_AGENT_NUMBER") or "").strip() or None
        if not agent:
            logger.warning("twilio_zh: TWILIO_AGENT_NUMBER not set; handoffs end the call with the hotline number")
        settings = cls(
            auth_token=token,
            public_base_url=((env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/") or None),
            agent_number=agent,
            speech_language=(env.get("TWILIO_LANGUAGE") or "").strip() or "zh-CN",
            say_language=(env.get("TWILIO_SAY_LANGUAGE") or "").strip() or "cmn-CN",
            voice=(env.get("TWILIO_VOICE") or "").strip() or "Polly.Zhiyu",
            speech_model=(env.get("TWILIO_SPEECH_MODEL") or "").strip() or None,
        )
        logger.info("Twilio channel enabled (speech %s, voice %s)", settings.speech_language, settings.voice)
        return settings
