"""Who may call the REST channel (``/webhooks/rest/*``).

Rasa's ``--auth-token``/JWT protects only its HTTP API, not the channel webhooks.  The
REST channel takes any ``sender`` id, so an open REST webhook would let anyone on the
network talk as any customer.  Rule, whichever channel class serves ``rest``:

* ``REST_AUTH_TOKEN`` set: every request needs ``Authorization: Bearer <token>``
  (constant-time compare); 401 otherwise.
* unset: only loopback callers are served — the TCP peer is 127.0.0.0/8 or ::1, the
  request carries no proxy header (``X-Forwarded-For``, ``X-Real-IP``, ``Forwarded``:
  a request relayed by a local reverse proxy is not a local caller) and its ``Host``
  and ``Origin`` (if any) name the loopback too (a web page cannot reach it by DNS
  rebinding); 403 otherwise.
"""
from __future__ import annotations

import hmac
import ipaddress
import re
from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import unquote, urlsplit

PROTECTED_PREFIX = "/webhooks/rest"
PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded", "x-forwarded-host")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]", "ip6-localhost"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int = 200
    code: str = ""
    message: str = ""
    message_zh: str = ""


ALLOW = Decision(True)


def is_protected(path: str, route_path: Optional[str] = None) -> bool:
    """True for the REST channel's paths, however the path is spelt."""
    for candidate in (path, route_path):
        if not candidate:
            continue
        normal = re.sub(r"/+", "/", "/" + unquote(candidate)).rstrip("/").lower()
        if normal == PROTECTED_PREFIX or normal.startswith(PROTECTED_PREFIX + "/"):
            return True
    return False


def _is_loopback_ip(ip: str) -> bool:
    try:
        address = ipaddress.ip_address((ip or "").strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _host_of(value: str) -> str:
    value = value.strip().lower()
    if not value:
        return ""
    if "://" not in value:
        value = "//" + value
    try:
        return (urlsplit(value).hostname or "").lower()
    except ValueError:
        return "?"


def _bearer(headers: Mapping[str, str]) -> Optional[str]:
    raw = headers.get("authorization") or ""
    scheme, _, credentials = raw.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def decide(peer_ip: str, headers: Mapping[str, str], token: Optional[str]) -> Decision:
    """``headers`` must be a case-insensitive mapping (or use lower-case keys)."""
    if token:
        given = _bearer(headers)
        if given is not None and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return ALLOW
        return Decision(False, 401, "unauthorized", "missing or wrong bearer token",
                        "需要有效的 Authorization: Bearer 令牌")
    local = _is_loopback_ip(peer_ip)
    proxied = any(headers.get(name) for name in PROXY_HEADERS)
    host = _host_of(headers.get("host") or "")
    origin = headers.get("origin")
    host_ok = host in ("",) or host in LOOPBACK_NAMES or _is_loopback_ip(host)
    origin_ok = origin is None or _host_of(origin) in LOOPBACK_NAMES or _is_loopback_ip(_host_of(origin))
    if local and not proxied and host_ok and origin_ok:
        return ALLOW
    return Decision(False, 403, "loopback_only",
                    "the REST channel accepts loopback callers only (set REST_AUTH_TOKEN to open it)",
                    "REST 通道仅接受本机调用（设置 REST_AUTH_TOKEN 后可凭令牌访问）")
