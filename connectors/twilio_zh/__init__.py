"""Mandarin telephone channel on Twilio (credentials.yml: ``connectors.twilio_zh.TwilioZhInput:``).

``config`` (environment), ``signature`` (X-Twilio-Signature via the twilio library),
``twiml`` (VoiceTurn -> TwiML), ``channel`` (Rasa/Sanic glue).  The call logic is
shared with the JSON IVR channel (``connectors.voice``).
"""
from connectors.twilio_zh.channel import TwilioZhInput

__all__ = ["TwilioZhInput"]
