"""The 微信客服 callback, independent of Sanic: verify, open, answer at once, and pull in the background.

On ``kf_msg_or_event`` the account is pulled with kf/sync_msg from the stored cursor, with the callback's
token, until ``has_more`` is 0.  One process pulls an account at a time (a lease in the ledger); a
callback that finds another pull running asks it to pull once more.  Each page's new messages and the
cursor after them are stored together, then handed to the customer's queue: turns run in order per
customer (one task per customer; Rasa's own per-sender lock would serialise them, but not keep their
replies in order).  The lease is kept until every queued message of the account is finished.  At start,
every known account is pulled once, after finishing what a previous process left (``pending``, or
``running`` when the turn is not in the tracker yet).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set, Tuple

from wechatpy.exceptions import WeChatClientException

from connectors import ids
from connectors.http import ChannelError, bad_request
from connectors.state import StateStore, shared_store
from connectors.wecom_kf.client import KfClient
from connectors.wecom_kf.config import WeComKfSettings
from connectors.wecom_kf.conversation import KfConversation, OnNewMessage
from connectors.wecom_kf.crypto import KfSecurity
from connectors.wecom_kf.ledger import InboxRow, KfLedger, LeaseLost
from connectors.wecom_kf.messages import parse_entry

logger = logging.getLogger(__name__)

CHANNEL = "wecom_kf"
SUCCESS = "success"
MAX_TOKEN_CHARS = 128
MAX_PAGES = 200  # a bound on one pull (200 000 messages); the next callback goes on from the cursor
PURGE_EVERY_S = 3600


class KfService:
    def __init__(self, settings: WeComKfSettings, on_new_message: OnNewMessage, engine: Any = None,
                 store: StateStore | None = None, client: KfClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if engine is None:
            from credit.db.engine import get_engine

            engine = get_engine()
        self.settings = settings
        self.store = store or shared_store()
        self.security = KfSecurity(settings)
        self.client = client or KfClient(settings, self.store)
        self.ledger = KfLedger(engine, clock)
        self.clock = clock
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_s = settings.lease_s
        self.conversation = KfConversation(settings, self.client, self.ledger, self.store, on_new_message, engine,
                                           clock)
        self._queues: Dict[Tuple[str, str], asyncio.Queue] = {}
        self._in_flight: Dict[str, Set[int]] = {}  # open_kfid -> inbox row ids queued or running here
        self._pulling: Set[str] = set()  # accounts this process is pulling now
        self._again: Dict[str, Optional[str]] = {}  # accounts a callback asked for meanwhile -> its token
        self._background: Set[asyncio.Task[Any]] = set()
        self._last_purge = 0.0

    # --- HTTP entry points ---------------------------------------------------------
    def verify(self, args: Mapping[str, str]) -> str:
        return self.security.verify_url(args)

    async def handle(self, body: bytes, args: Mapping[str, str]) -> str:
        if len(body) > self.settings.max_body_bytes:
            raise ChannelError(413, "body_too_large", "请求体过大", "request body too large")
        event = self.security.open_event(body, args)
        if event.get("MsgType") != "event" or event.get("Event") != "kf_msg_or_event":
            logger.info("WeCom kf: callback %s/%s acknowledged, nothing to pull", event.get("MsgType"),
                        event.get("Event"))
            return SUCCESS
        open_kfid, token = event.get("OpenKfId") or "", event.get("Token") or ""
        if not ids.is_valid_raw_id(open_kfid):
            raise bad_request("bad_open_kfid", "OpenKfId 无效", "invalid OpenKfId")
        if len(token) > MAX_TOKEN_CHARS:
            raise bad_request("bad_token", "Token 过长", "Token too long")
        self.spawn(self.pull(open_kfid, token or None))
        return SUCCESS

    # --- background ------------------------------------------------------------------
    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def start(self, has_turn: Callable[[str, str], Awaitable[bool]] | None = None) -> None:
        """After start-up: finish what a previous process left, and pull every known account once."""
        self.conversation.has_turn = has_turn
        for open_kfid in await asyncio.to_thread(self.ledger.accounts):
            self.spawn(self.pull(open_kfid, None))

    async def pull(self, open_kfid: str, token: Optional[str]) -> None:
        """Pull an account; a pull of it already running in this process is asked to go round once more."""
        if open_kfid in self._pulling:
            self._again[open_kfid] = token or self._again.get(open_kfid)
            return
        self._pulling.add(open_kfid)
        try:
            await self._pull_account(open_kfid, token)
        finally:  # no await between the last look at ``_again`` and here: no request slips through
            self._pulling.discard(open_kfid)

    async def _pull_account(self, open_kfid: str, token: Optional[str]) -> None:
        ledger = self.ledger
        try:
            taken, until = await asyncio.to_thread(ledger.take_lease, open_kfid, self.worker, token, self.lease_s)
            if not taken:
                # the holder pulls again (``wanted``); if it died, its lease runs out: look once more then
                logger.info("WeCom kf: %s is being pulled elsewhere; asked it to pull again", open_kfid)
                await asyncio.sleep(min(self.lease_s, max(0.0, until - self.clock())) + 0.5)
                taken, _ = await asyncio.to_thread(ledger.take_lease, open_kfid, self.worker, None, self.lease_s)
                if not taken:
                    return
            while True:
                await self._resume(open_kfid)
                await self._pull_pages(open_kfid)
                await self._drain(open_kfid)
                again, _ = await asyncio.to_thread(ledger.release, open_kfid, self.worker)
                if open_kfid in self._again:  # a callback came in here meanwhile
                    token = self._again.pop(open_kfid)
                    taken, _ = await asyncio.to_thread(ledger.take_lease, open_kfid, self.worker, token,
                                                       self.lease_s)
                    again = again or taken
                if not again:
                    break
            await self._maybe_purge()
        except LeaseLost:
            logger.warning("WeCom kf: lease on %s lost to another process; it carries on", open_kfid)
        except Exception:  # noqa: BLE001 - the next callback (or restart) pulls again from the stored cursor
            logger.exception("WeCom kf: pulling %s failed", open_kfid)
            try:
                await asyncio.to_thread(ledger.release, open_kfid, self.worker)
            except Exception:  # noqa: BLE001
                logger.exception("WeCom kf: could not release the lease on %s", open_kfid)

    async def _pull_pages(self, open_kfid: str) -> None:
        for _ in range(MAX_PAGES):
            cursor, token = await asyncio.to_thread(self.ledger.position, open_kfid)
            try:
                page = await self.client.sync(open_kfid, cursor, token)
            except WeChatClientException as error:
                if not token:
                    raise
                # the callback's token lives 10 minutes (a pull at start-up may hold an old one): pull without
                logger.info("WeCom kf: sync_msg refused the callback token (%s); pulling without it", error.errcode)
                page = await self.client.sync(open_kfid, cursor, None)
            entries: List[Tuple[str, str, str, Dict[str, Any]]] = []
            for entry in page.get("msg_list") or []:
                message = parse_entry(entry)
                if message is None:
                    logger.warning("WeCom kf: malformed sync_msg entry skipped")
                    continue
                entries.append((message.msgid, message.external_userid, message.kind, entry))
            next_cursor = page.get("next_cursor")
            new = await asyncio.to_thread(self.ledger.store_page, open_kfid, self.worker,
                                          next_cursor if isinstance(next_cursor, str) else cursor, entries)
            for row in new:
                self._dispatch(row)
            if len(new) < len(entries):
                logger.info("WeCom kf: %d message(s) already seen on %s", len(entries) - len(new), open_kfid)
            if not page.get("has_more"):
                return
        logger.warning("WeCom kf: %s still has more after %d pages; the next pull goes on", open_kfid, MAX_PAGES)

    async def _resume(self, open_kfid: str) -> None:
        mine = self._in_flight.get(open_kfid, set())
        for row in await asyncio.to_thread(self.ledger.unfinished, open_kfid):
            if row.id in mine:
                continue
            if row.status == "running" and row.worker == self.worker:
                continue
            logger.info("WeCom kf: resuming %s message %s left by %s", row.status, row.msgid, row.worker or "a pull")
            self._dispatch(row, resume=row.status == "running")

    def _dispatch(self, row: InboxRow, resume: bool = False) -> None:
        self._in_flight.setdefault(row.open_kfid, set()).add(row.id)
        key = (row.open_kfid, row.external_userid)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self.spawn(self._customer_worker(key, queue))
        queue.put_nowait((row, resume))

    async def _customer_worker(self, key: Tuple[str, str], queue: asyncio.Queue) -> None:
        """One customer's messages, one after the other; ends when the queue is empty."""
        try:
            while not queue.empty():
                row, resume = queue.get_nowait()
                try:
                    await self.conversation.process(row, self.worker, resume)
                except Exception:  # noqa: BLE001 - one message's failure never blocks the next
                    logger.exception("WeCom kf: message %s failed", row.msgid)
                    await asyncio.to_thread(self.ledger.finish, row.id, "failed", "exception")
                finally:
                    self._in_flight.get(row.open_kfid, set()).discard(row.id)
        finally:
            self._queues.pop(key, None)

    async def _drain(self, open_kfid: str) -> None:
        """Until this process has finished every message of the account, renewing the lease."""
        renewed = time.monotonic()
        while self._in_flight.get(open_kfid):
            await asyncio.sleep(0.05)
            if time.monotonic() - renewed > self.lease_s / 3:
                await asyncio.to_thread(self.ledger.renew, open_kfid, self.worker, self.lease_s)
                renewed = time.monotonic()

    async def _maybe_purge(self) -> None:
        if self.clock() - self._last_purge > PURGE_EVERY_S:
            self._last_purge = self.clock()
            removed = await asyncio.to_thread(self.ledger.purge)
            if removed:
                logger.info("WeCom kf: %d finished message record(s) past retention removed", removed)

    async def idle(self, timeout: float = 30.0) -> bool:
        """True once no pull or turn runs (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._background and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not self._background


__all__ = ["KfService", "CHANNEL", "SUCCESS"]
