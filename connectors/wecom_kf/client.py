"""wechatpy's enterprise ``WeChatClient`` for the 微信客服 secret, and the async facade the channel calls.

* wechatpy fetches the access token (``gettoken`` with corpid + the kf secret) and, on 40001/40014/42001,
  fetches a new one and retries the call (``auto_retry``); the token lives in the shared state store
  (``connectors.state``) so every Sanic worker uses the same one, and a file lock makes one process
  refresh it while the others wait and reuse it (as the Official Account client does);
* the base URL comes from WECOM_API_BASE (the tests point it at a local stand-in);
* wechatpy is synchronous (requests): calls run in a worker thread so the event loop never blocks.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any, Callable, Dict, Optional

from wechatpy.enterprise import WeChatClient

from connectors.state import StateStore
from connectors.wechat.client import FileLock, SharedTokenStorage
from connectors.wecom_kf.config import WeComKfSettings
from connectors.wecom_kf.kf_api import WeChatKf

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 8.0


class KfApiClient(WeChatClient):
    """wechatpy's enterprise client with a configurable API base, a shared token and the kf endpoints."""

    kf = WeChatKf()

    def __init__(self, settings: WeComKfSettings, store: StateStore) -> None:
        storage = SharedTokenStorage(store, prefix=f"wecom-token:{settings.api_base}:")
        super().__init__(settings.corp_id, settings.secret, session=storage, timeout=REQUEST_TIMEOUT_S,
                         auto_retry=True)
        self.API_BASE_URL = settings.api_base + "/cgi-bin/"
        lock_dir = os.path.dirname(os.path.abspath(store.path)) if store.path != ":memory:" else "/tmp"
        self._refresh_lock = FileLock(os.path.join(lock_dir, ".wecom-token.lock"))

    def fetch_access_token(self) -> Any:
        """gettoken at the configured base (wechatpy's own method names qyapi.weixin.qq.com outright)."""
        known = self.session.get(self.access_token_key)
        with self._refresh_lock:
            current = self.session.get(self.access_token_key)
            if current and current != known:
                return {"access_token": current}  # another worker refreshed meanwhile
            return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",
                                            params={"corpid": self.corp_id, "corpsecret": self.secret})


class KfClient:
    """The kf calls the channel makes, awaitable."""

    def __init__(self, settings: WeComKfSettings, store: StateStore) -> None:
        self.settings = settings
        self.api = KfApiClient(settings, store)

    async def _run(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(call, *args, **kwargs))

    async def sync(self, open_kfid: str, cursor: Optional[str], token: Optional[str]) -> Dict[str, Any]:
        return await self._run(self.api.kf.sync_msg, open_kfid, cursor=cursor, token=token)

    async def send(self, external_userid: str, open_kfid: str, msgtype: str, content: Dict[str, Any],
                   msgid: str) -> Dict[str, Any]:
        return await self._run(self.api.kf.send_msg, external_userid, open_kfid, msgtype, content, msgid)

    async def send_on_event(self, code: str, msgtype: str, content: Dict[str, Any], msgid: str) -> Dict[str, Any]:
        return await self._run(self.api.kf.send_msg_on_event, code, msgtype, content, msgid)

    async def service_state(self, open_kfid: str, external_userid: str) -> int:
        result = await self._run(self.api.kf.get_service_state, open_kfid, external_userid)
        return int(result.get("service_state", 0))

    async def transfer(self, open_kfid: str, external_userid: str, state: int,
                       servicer: Optional[str] = None) -> Dict[str, Any]:
        return await self._run(self.api.kf.trans_service_state, open_kfid, external_userid, state, servicer)

    async def unionid(self, external_userid: str) -> Optional[str]:
        result = await self._run(self.api.kf.batchget_customer, [external_userid])
        for customer in result.get("customer_list") or []:
            if isinstance(customer, dict) and customer.get("external_userid") == external_userid:
                value = customer.get("unionid")
                return value if isinstance(value, str) and value else None
        return None
