"""What every SMS gateway shares: its errors and the one way a mobile number is written for a vendor.

Kept apart from :mod:`credit.sms.gateway` (which picks a gateway) and :mod:`credit.sms.tencent` (one vendor)
so that both, and the outreach channel that reconciles through them, can name the same exceptions
without importing each other.
"""
from __future__ import annotations

import re

MAINLAND = "86"
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


class SmsConfigError(ValueError):
    """A gateway cannot start: a setting or the template file is missing or wrong (said in Chinese and
    English, naming the variable or the file)."""


class SmsSendError(Exception):
    """The vendor refused a message or could not be reached; ``code`` is the vendor's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class SmsStatusUnknown(Exception):
    """The vendor cannot say whether a message went out (reconciliation): never guess, never resend."""


class SmsSendUnconfirmed(SmsSendError):
    """The vendor did not answer a send (a timeout, a dropped connection) and its status look-up does not
    show the message yet: it may have gone out.  Not to be resent as it is: look it up again later (the
    outreach engine leaves the notice claimed until its lease runs out, then reconciles it)."""

    def __init__(self, message: str, context: str) -> None:
        super().__init__("Unconfirmed", message)
        self.context = context


def mainland_mobile(phone: str) -> str:
    """The 11-digit mainland mobile number in ``phone`` (``+86``, ``0086`` or ``86`` prefixes, spaces and
    dashes allowed); ``ValueError`` for anything else — only mainland numbers are sent to."""
    digits = _SEPARATORS.sub("", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not _MAINLAND_MOBILE.match(digits):
        raise ValueError("不是有效的中国大陆手机号 / not a mainland China mobile number")
    return digits


def e164(phone: str) -> str:
    """``+86`` and the 11 digits: the form vendors' status look-ups need (E.164)."""
    return f"+{MAINLAND}{mainland_mobile(phone)}"


__all__ = ["SmsConfigError", "SmsSendError", "SmsSendUnconfirmed", "SmsStatusUnknown", "e164", "mainland_mobile",
           "MAINLAND"]
