"""A ``VoiceTurn`` as TwiML (built with the twilio library's ``VoiceResponse``)."""
from __future__ import annotations

from typing import Callable

from twilio.twiml.voice_response import VoiceResponse

from connectors.twilio_zh.config import TwilioSettings
from connectors.voice.engine import VoiceTurn

NO_AGENT = "抱歉，人工客服暂时无法接通，请稍后再拨。感谢您的来电，再见。"
AFTER_DIAL = "感谢您的来电，再见。"


def render_twiml(turn: VoiceTurn, settings: TwilioSettings, url_for: Callable[[str], str]) -> str:
    """``url_for(event)`` gives the webhook URL for the next request (event=gather|no_input)."""
    response = VoiceResponse()

    def say(parent: VoiceResponse, text: str) -> None:
        parent.say(text, language=settings.say_language, voice=settings.voice)

    action = turn.action.type
    if action == "continue" and turn.input is not None:
        spec = turn.input
        modes = " ".join(m for m in ("dtmf", "speech") if m in spec.modes) or "dtmf speech"
        gather = response.gather(
            input=modes,
            action=url_for("gather"),
            method="POST",
            language=settings.speech_language,
            hints=",".join(spec.hints) if spec.hints and "speech" in spec.modes else None,
            timeout=int(round(spec.timeout_s)),
            speech_timeout="auto",
            num_digits=spec.max_digits,
            finish_on_key=spec.terminator,
            barge_in=spec.barge_in,
            speech_model=settings.speech_model,
        )
        for prompt in turn.prompts:
            say(gather, prompt)
        response.redirect(url_for("no_input"), method="POST")
    elif action == "transfer":
        for prompt in turn.prompts:
            say(response, prompt)
        if settings.agent_number:
            response.dial(settings.agent_number, timeout=30)
            say(response, AFTER_DIAL)
        else:
            say(response, NO_AGENT)
        response.hangup()
    else:
        for prompt in turn.prompts:
            say(response, prompt)
        response.hangup()
    return str(response)
