"""The WeChat phase of ``bench/latency.py``: signed plain-mode callbacks of progress checks, many at
once, and the share of turns answered passively (reply XML in the HTTP response) within 4.5 s."""
from __future__ import annotations

import asyncio
import hashlib
import time
import urllib.parse
import uuid
from typing import Any, Dict, List

from bench.load import FLOWS, percentiles

WECHAT_ENV = {
    "WECHAT_TOKEN": "bench-wechat-token",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "test-wechat-secret",
}
PASSIVE_LIMIT_S = 4.5


async def wechat_phase(url: str, conversations: int, concurrency: int) -> Dict[str, Any]:
    """WeChat callbacks (plain mode) for `conversations` progress checks, `concurrency` at once."""
    import aiohttp

    token = WECHAT_ENV["WECHAT_TOKEN"]
    samples: List[Dict[str, Any]] = []
    sem = asyncio.Semaphore(concurrency)

    def signed(body: bytes) -> str:
        ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signature = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
        return urllib.parse.urlencode({"signature": signature, "timestamp": ts, "nonce": nonce})

    async def one(session: aiohttp.ClientSession) -> None:
        openid = "o" + uuid.uuid4().hex[:27]
        async with sem:
            for text, _ in FLOWS["progress"]:
                xml = ("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
                       f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                       f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
                       f"<MsgId>{uuid.uuid4().int % 10**18 + 10**18}</MsgId></xml>").encode()
                started = time.monotonic()
                try:
                    async with session.post(f"{url}/webhooks/wechat/webhook?{signed(xml)}", data=xml,
                                            headers={"Content-Type": "text/xml"},
                                            timeout=aiohttp.ClientTimeout(total=30)) as response:
                        body = await response.text()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    body, status = str(exc), 0
                elapsed = time.monotonic() - started
                samples.append({"status": status, "seconds": elapsed, "passive": body.lstrip().startswith("<xml")})

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2)) as session:
        await asyncio.gather(*(one(session) for _ in range(conversations)))
    passive = [s for s in samples if s["status"] == 200 and s["passive"] and s["seconds"] <= PASSIVE_LIMIT_S]
    return {"turns": len(samples), "passive_within_4_5s": len(passive),
            "share": round(len(passive) / max(1, len(samples)), 4),
            "errors": sum(1 for s in samples if s["status"] != 200),
            **percentiles([s["seconds"] for s in samples])}
