"""``X-IVR-Signature: t=<unix time>,sha256=<hex HMAC-SHA256 of "<t>." + body>``.

The key is IVR_SHARED_SECRET; ``t`` must be within the tolerance (default ±300 s) of
the server clock, so a captured request cannot be replayed later.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time

from connectors.http import ChannelError

HEADER = "X-IVR-Signature"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Header value for ``body`` (what a calling platform computes)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={t},sha256={digest}"


def _unauthorized(zh: str, en: str) -> ChannelError:
    return ChannelError(401, "bad_signature", zh, en)


def verify(secret: str, header: str | None, body: bytes, tolerance_s: float = 300.0,
           now: float | None = None) -> None:
    if not header:
        raise _unauthorized(f"缺少 {HEADER} 请求头", f"missing {HEADER} header")
    parts = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    t, digest = parts.get("t", ""), parts.get("sha256", "").lower()
    if not (t.isascii() and t.isdigit()) or len(t) > 12 or not _HEX64.fullmatch(digest):
        raise _unauthorized(f"{HEADER} 格式应为 t=<时间戳>,sha256=<十六进制>", f"malformed {HEADER}")
    if abs((time.time() if now is None else now) - int(t)) > tolerance_s:
        raise _unauthorized("签名时间戳超出允许范围", "signature timestamp outside the allowed window")
    expected = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, digest):
        raise _unauthorized("签名无效", "invalid signature")
