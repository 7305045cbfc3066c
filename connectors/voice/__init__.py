"""Telephone logic shared by ``twilio_zh`` and ``ivr``: ``engine`` (protocol-free call
logic) and ``calls`` (one event -> one dialogue turn -> a VoiceTurn)."""
