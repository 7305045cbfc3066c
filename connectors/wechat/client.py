"""Customer-service message API (客服消息) through wechatpy's client.

* base URL from WECHAT_API_BASE (tests point it at a local stand-in);
* the access token lives in the shared state store (``connectors.state``), so every
  Sanic worker uses and refreshes the same token; a file lock makes one process fetch
  it while the others wait and reuse it;
* a token the API rejects (40001 invalid, 40014 malformed, 42001 expired) is dropped
  and fetched again once;
* wechatpy's client is synchronous (requests); calls run in a worker thread so the
  event loop never blocks (``await client.send_text(...)``).
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import threading
import time
from typing import Any

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from connectors.state import StateStore
from connectors.wechat.config import WeChatSettings

logger = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
TOKEN_MARGIN_S = 300  # refresh five minutes before WeChat's expiry
REQUEST_TIMEOUT_S = 5.0


class SharedTokenStorage(SessionStorage):
    """wechatpy session storage on the cross-worker state store."""

    def __init__(self, store: StateStore, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def get(self, key: str, default: Any = None) -> Any:
        return self.store.get(self.prefix + key, default)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        ttl = int(ttl or 7200)
        self.store.set(self.prefix + key, value, max(ttl - TOKEN_MARGIN_S, min(ttl, 60)))

    def delete(self, key: str) -> None:
        self.store.delete(self.prefix + key)


class FileLock:
    """One process and one thread at a time across the host (fcntl lock on a file)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread_lock = threading.Lock()

    def __enter__(self) -> FileLock:
        self._thread_lock.acquire()
        try:
            self._fh = open(self.path, "a+")
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        except OSError:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
        finally:
            self._thread_lock.release()


class WeChatApiClient(WeChatClient):
    """wechatpy's ``WeChatClient`` with a configurable API base and shared token."""

    def __init__(self, settings: WeChatSettings, store: StateStore) -> None:
        storage = SharedTokenStorage(store, prefix=f"wechat-token:{settings.api_base}:")
        super().__init__(
            settings.app_id, settings.app_secret, session=storage, timeout=REQUEST_TIMEOUT_S, auto_retry=False
        )
        self.API_BASE_URL = settings.api_base + "/cgi-bin/"
        lock_dir = os.path.dirname(os.path.abspath(store.path)) if store.path != ":memory:" else "/tmp"
        self._refresh_lock = FileLock(os.path.join(lock_dir, ".wechat-token.lock"))

    def fetch_access_token(self) -> Any:
        known = self.session.get(self.access_token_key)
        with self._refresh_lock:
            current = self.session.get(self.access_token_key)
            if current and current != known:
                return {"access_token": current}  # another worker refreshed meanwhile
            return self._fetch_access_token(
                url=self.API_BASE_URL + "token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    def drop_token(self, token: str | None) -> None:
        with self._refresh_lock:
            if token and self.session.get(self.access_token_key) == token:
                self.session.delete(self.access_token_key)
            self.expires_at = None


class CustomerServiceClient:
    """Async facade used by the channel."""

    def __init__(self, settings: WeChatSettings, store: StateStore) -> None:
        self.settings = settings
        self.api = WeChatApiClient(settings, store)

    def _with_token_retry(self, call: Any, *args: Any) -> Any:
        for attempt in (1, 2):
            token = self.api.access_token
            try:
                return call(*args)
            except WeChatClientException as error:
                if attempt == 1 and error.errcode in TOKEN_ERRORS:
                    logger.info("WeChat API refused the access token (%s); fetching a new one", error.errcode)
                    self.api.drop_token(token)
                    continue
                raise
        return None  # pragma: no cover

    async def _run(self, call: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._with_token_retry, call, *args)

    async def send_text(self, openid: str, content: str) -> None:
        started = time.monotonic()
        await self._run(self.api.message.send_text, openid, content)
        logger.debug("WeChat custom message sent in %.0f ms", (time.monotonic() - started) * 1000)

    async def transfer_to_agents(self, openid: str) -> bool:
        """Open a 客服 session for a handoff that missed the passive window."""
        if not self.settings.kf_account:
            logger.warning("WeChat handoff after the passive window: set WECHAT_KF_ACCOUNT to open a 客服 session")
            return False
        url = self.settings.api_base + "/customservice/kfsession/create"
        data = {"openid": openid, "kf_account": self.settings.kf_account}
        await self._run(lambda: self.api.post(url, data=data))
        return True
