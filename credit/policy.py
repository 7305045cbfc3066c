"""Business policy of the customer-service backend: lockouts, code lifetimes, limits.

Verification rules:

* Three failed ID checks by one sender lock that sender for 30 minutes; ten failed
  checks on one application number (any senders, within 24 hours) lock that number
  for everyone for 30 minutes.
* A correct check gives a ``basic`` verification, an SMS code or a bound WeChat OpenID
  a ``strong`` one; both last :data:`VERIFICATION_TTL`.
* At most :data:`OTP_MAX_SENDS` codes per sender per :data:`OTP_SEND_WINDOW`, each valid
  for :data:`OTP_TTL` and :data:`OTP_MAX_ATTEMPTS` tries.
"""

from __future__ import annotations

from datetime import timedelta, timezone

SENDER_MAX_FAILURES = 3
SENDER_FAILURE_WINDOW = timedelta(minutes=30)  # failures older than this are forgotten
SENDER_LOCK = timedelta(minutes=30)
APPLICATION_MAX_FAILURES = 10
APPLICATION_FAILURE_WINDOW = timedelta(hours=24)
APPLICATION_LOCK = timedelta(minutes=30)
VERIFICATION_TTL = timedelta(minutes=10)  # basic and strong alike

OTP_TTL = timedelta(minutes=5)
OTP_MAX_SENDS = 3
OTP_SEND_WINDOW = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5
OTP_HASH_ITERATIONS = 60_000  # salted PBKDF2: a dumped hash cannot be reversed in 5 min

MAX_TEXT_CHARS = 2000  # ticket detail / handoff summary / risk text are truncated here
MAX_SENDER_CHARS = 200

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST in China

CANCELLABLE_STAGES = ("reviewing", "pending_signing")
