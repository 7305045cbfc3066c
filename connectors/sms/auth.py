"""The reply callback's authentication: a secret token in the URL query.

Tencent Cloud's reply callback (上行短信回调) carries no signature of its own — its JSON body is
``mobile``, ``nationcode``, ``text``, ``sign``, ``time``, ``extend`` and nothing to verify — so the only
proof that a request comes from the callback URL configured in Tencent's console is a secret that URL
holds: ``?token=<SMS_UPLINK_TOKEN>``, compared in constant time.  Serve the route over HTTPS only, so
the token never crosses the network in the clear.
"""
from __future__ import annotations

import hmac
from typing import Optional

from connectors.http import ChannelError


def check_token(given: Optional[str], expected: str) -> None:
    """401 without a token, 403 with a wrong one (bilingual, as every channel refusal)."""
    if not given:
        raise ChannelError(401, "missing_token", "缺少回调令牌 token", "missing callback token")
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise ChannelError(403, "bad_token", "回调令牌不正确", "wrong callback token")
