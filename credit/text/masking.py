"""Masking of personal data in text and logs (PIPL: minimum necessary display).

* Chinese resident ID numbers (18 characters, last may be X): keep the first 3
  and last 4 -> ``110***********1234``.
* Mobile numbers (11 digits, ``1[3-9]``, optionally ``+86`` and spaces/dashes):
  keep the first 3 and last 4 -> ``138****5678``.
* Bank card numbers (16-19 digits, optionally grouped by spaces/dashes): keep the
  first 4 and last 4 -> ``6222 **** **** 1234``.
* One-time codes: 6 digits after 验证码/校验码/动态码 -> ``******``.

The hotline (``400-820-8820``) and application numbers (``SQ`` + 12 digits) are
not personal data and are left alone. :func:`find_pii` is the one detector; the
compliance checker uses it too, so masked text never trips the checker.

Logging: :class:`PiiMaskingFilter` masks a record's formatted message (and the
formatted exception text); :func:`install_log_masking` attaches it to the root
logger's handlers *and* wraps the log-record factory, so records are masked at
creation and handlers added later (or on other loggers) never see raw data.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

ID_NUMBER = "id_number"
MOBILE = "mobile"
BANK_CARD = "bank_card"
OTP = "otp"

_SEP = r"[ \-]"
# Full-width digits, X, plus, dash and space are detected like their ASCII forms
# (one character each, so spans stay valid on the original text).
_HALF_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-", "\u3000": " "}
)
# (kind, pattern); a match's group "v" is the value to mask (defaults to the whole match).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (OTP, re.compile(r"(?:验证码|校验码|动态码|动态密码)[^\d\n]{0,6}?(?P<v>\d{6})(?!\d)", re.ASCII)),
    (ID_NUMBER, re.compile(r"(?<!\d)(?P<v>\d{17}[\dXx])(?!\d)", re.ASCII)),
    (ID_NUMBER, re.compile(rf"(?<!\d)(?P<v>\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx])(?!\d)", re.ASCII)),
    (BANK_CARD, re.compile(r"(?<!\d)(?P<v>\d{16,19})(?!\d)", re.ASCII)),
    (BANK_CARD, re.compile(rf"(?<!\d)(?P<v>\d{{4}}(?:{_SEP}\d{{4}}){{3}}(?:{_SEP}?\d{{1,3}})?)(?!\d)", re.ASCII)),
    (BANK_CARD, re.compile(rf"(?<!\d)(?P<v>\d{{6}}{_SEP}\d{{10,13}})(?!\d)", re.ASCII)),
    (MOBILE, re.compile(r"(?<!\d)(?:\+?86[ \-]?)?(?P<v>1[3-9]\d{9})(?!\d)", re.ASCII)),
    (MOBILE, re.compile(rf"(?<!\d)(?:\+?86[ \-]?)?(?P<v>1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}})(?!\d)", re.ASCII)),
)

_BIRTH_DATE = re.compile(r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
# Speed only (the output guard checks every bot message): characters _HALF_WIDTH changes, and what every
# pattern above needs somewhere in the text — six digits in a row (codes, ID and card numbers, mobiles
# written solid) or three digits, a separator and four (the grouped forms).  A text with neither holds no
# match, so the eight scans are skipped; a text with either is scanned exactly as before.
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff38\uff58\uff0b\uff0d\u3000]")
_MAY_HOLD_PII = re.compile(rf"\d{{6}}|\d{{3}}{_SEP}\d{{4}}", re.ASCII)


@dataclass(frozen=True)
class PiiMatch:
    kind: str  # id_number / mobile / bank_card / otp
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        return _mask_value(self.kind, self.value)


def _digits(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", value)


def _classify(kind: str, value: str) -> str:
    """An 18-digit run is either an ID number or a card: decide by the birth date."""
    digits = _digits(value)
    if kind == BANK_CARD and len(digits) == 18 and _BIRTH_DATE.fullmatch(digits[6:14]):
        return ID_NUMBER
    if kind == ID_NUMBER and digits[-1] not in "Xx" and not _BIRTH_DATE.fullmatch(digits[6:14]):
        return BANK_CARD
    return kind


def find_pii(text: str) -> list[PiiMatch]:
    """Non-overlapping personal-data matches, earliest first (longest wins on ties)."""
    probe = text.translate(_HALF_WIDTH) if _FULL_WIDTH.search(text) else text
    if not _MAY_HOLD_PII.search(probe):
        return []
    candidates: list[PiiMatch] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(probe):
            start, end = m.span("v")
            value = m.group("v")
            candidates.append(PiiMatch(_classify(kind, value), start, end, value))
    candidates.sort(key=lambda c: (c.start, -(c.end - c.start)))
    chosen: list[PiiMatch] = []
    last_end = -1
    for c in candidates:
        if c.start >= last_end:
            chosen.append(c)
            last_end = c.end
    return chosen


def _mask_value(kind: str, value: str) -> str:
    digits = _digits(value)
    if kind == OTP:
        return "*" * len(digits)
    if kind == ID_NUMBER:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if kind == MOBILE:
        return digits[:3] + "****" + digits[-4:]
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_phone(phone: str) -> str:
    """A phone number we hold, for display: '13800005678' → '138****5678'."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_pii(text: str) -> str:
    """Mask every ID number, mobile, bank card and OTP code in ``text``.

    Repeats until nothing is left to mask (kept digits can never combine with
    neighbouring digits into something that still looks like personal data).
    """
    if not text:
        return text
    for _ in range(10):
        matches = find_pii(text)
        if not matches:
            return text
        parts: list[str] = []
        pos = 0
        for m in matches:
            parts.append(text[pos:m.start])
            parts.append(m.masked)
            pos = m.end
        parts.append(text[pos:])
        text = "".join(parts)
    # pathological input: hide every remaining digit rather than leak anything
    return re.sub(r"[0-9０-９]", "*", text) if find_pii(text) else text


# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------


class PiiMaskingFilter(logging.Filter):
    """Masks personal data in a record's message, arguments and exception text.

    The message is formatted once (``msg % args``), masked, and stored back as
    ``record.msg`` with empty ``args``. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask ``record`` in place (idempotent) and return it."""
    if getattr(record, "_pii_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # bad format string / args: keep both, masked, rather than fail the call
        message = f"{record.msg!s} {record.args!r}" if record.args else str(record.msg)
    record.msg = mask_pii(message)
    record.args = ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_pii(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_pii(record.stack_info)
    record._pii_masked = True
    return record


_install_lock = threading.Lock()


def _masking_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    factory._pii_previous = previous  # type: ignore[attr-defined]
    return factory


def install_log_masking() -> None:
    """Mask personal data in every log record (idempotent).

    1. Wraps the log-record factory (``logging.setLogRecordFactory``): every
       record made by any logger is masked at creation, so handlers added later,
       on any logger, only ever see masked text.
    2. Adds :class:`PiiMaskingFilter` to the root logger's current handlers,
       covering records that bypass the factory (``logging.makeLogRecord``,
       records received from a socket handler).
    """
    with _install_lock:
        current = logging.getLogRecordFactory()
        if not hasattr(current, "_pii_previous"):
            logging.setLogRecordFactory(_masking_factory(current))
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, PiiMaskingFilter) for f in handler.filters):
                handler.addFilter(PiiMaskingFilter())


def uninstall_log_masking() -> None:
    """Undo :func:`install_log_masking` (used by tests)."""
    with _install_lock:
        current = logging.getLogRecordFactory()
        previous = getattr(current, "_pii_previous", None)
        if previous is not None:
            logging.setLogRecordFactory(previous)
        for handler in logging.getLogger().handlers:
            for f in [f for f in handler.filters if isinstance(f, PiiMaskingFilter)]:
                handler.removeFilter(f)
