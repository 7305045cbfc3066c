"""What the 微信客服 channel must not forget across restarts, in the business database (``DATABASE_URL``;
the channel creates its own tables at start):

* ``wecom_kf_cursors`` — per ``open_kfid``: the ``next_cursor`` of kf/sync_msg, the latest callback token,
  and a lease: one process pulls an account at a time (another's callback sets ``wanted`` and the holder
  pulls again before it lets go);
* ``wecom_kf_inbox`` — every pulled message once (``msgid`` is unique): a page's new messages and the
  cursor after them are written in one transaction, so a restart resumes after the last stored page and
  a message seen twice (a duplicate callback, a retried page) is not processed twice.  A message is
  ``pending`` until its turn starts (``running``) and ends ``done``, ``human`` (a person held the session),
  ``skipped`` or ``failed``; the stored body is cleared when it is finished;
* ``wecom_kf_windows`` — per customer: the last message's time and messages sent since (the send rules);
* ``wecom_kf_held`` — replies not sent (over the limit, window closed, or WeCom's msg_send_fail), kept for
  "继续" and for ops.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from connectors.wecom_kf.render import Outgoing
from connectors.wecom_kf.window import WindowState

metadata = MetaData()

cursors = Table(
    "wecom_kf_cursors", metadata,
    Column("open_kfid", String(128), primary_key=True),
    Column("cursor", String(128), nullable=True),
    Column("token", String(256), nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=False, default=0.0),
    Column("wanted", Boolean, nullable=False, default=False),
    Column("updated_at", Float, nullable=False),
)
inbox = Table(
    "wecom_kf_inbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msgid", String(128), nullable=False, unique=True),
    Column("open_kfid", String(128), nullable=False, index=True),
    Column("external_userid", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=True),  # the sync_msg entry, cleared once finished
    Column("status", String(16), nullable=False),  # pending | running | done | human | skipped | failed
    Column("worker", String(128), nullable=True),
    Column("received_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("note", String(200), nullable=True),
)
windows = Table(
    "wecom_kf_windows", metadata,
    Column("open_kfid", String(128), primary_key=True),
    Column("external_userid", String(128), primary_key=True),
    Column("last_customer_at", Float, nullable=True),
    Column("sent", Integer, nullable=False, default=0),
)
held = Table(
    "wecom_kf_held", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("open_kfid", String(128), nullable=False),
    Column("external_userid", String(128), nullable=False, index=True),
    Column("reason", String(32), nullable=False),  # limit | window_expired | send_fail:<type> | api_error
    Column("items", Text, nullable=False),  # JSON [{"msgtype", "body"}]
    Column("status", String(16), nullable=False),  # waiting | resumed | superseded | recorded
    Column("at", Float, nullable=False),
)

FINISHED = ("done", "human", "skipped", "failed")
KEEP_FINISHED_S = 7 * 24 * 3600  # sync_msg returns three days back; msgids are kept longer than that


class LeaseLost(Exception):
    """Another process took the account's lease (ours expired): stop pulling, it carries on."""


@dataclass(frozen=True)
class InboxRow:
    id: int
    msgid: str
    open_kfid: str
    external_userid: str
    status: str
    worker: Optional[str]
    payload: Optional[Dict[str, Any]]


def _waiting(open_kfid: str, external_userid: str) -> Any:
    return and_(held.c.open_kfid == open_kfid, held.c.external_userid == external_userid, held.c.status == "waiting")


def _row(r: Any) -> InboxRow:
    return InboxRow(r.id, r.msgid, r.open_kfid, r.external_userid, r.status, r.worker,
                    json.loads(r.payload) if r.payload else None)


class KfLedger:
    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        self.engine = engine
        self.clock = clock
        metadata.create_all(engine)

    # --- cursor and lease -------------------------------------------------------------
    def take_lease(self, open_kfid: str, owner: str, token: Optional[str], ttl: float) -> Tuple[bool, float]:
        """(True, until) if ``owner`` now pulls ``open_kfid``; else (False, when the holder's lease ends), and
        the holder is told to pull again (``wanted``)."""
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                row = conn.execute(select(cursors).where(cursors.c.open_kfid == open_kfid)).first()
                if row is None:
                    conn.execute(insert(cursors).values(open_kfid=open_kfid, token=token, lease_owner=owner,
                                                        lease_until=now + ttl, wanted=False, updated_at=now))
                    return True, now + ttl
                values: Dict[str, Any] = {"token": token} if token else {}
                free = row.lease_owner in (None, owner) or row.lease_until < now
                values.update({"lease_owner": owner, "lease_until": now + ttl, "wanted": False} if free
                              else {"wanted": True})
                conn.execute(update(cursors).where(cursors.c.open_kfid == open_kfid).values(**values))
                return free, (now + ttl if free else row.lease_until)
        except IntegrityError:  # another process inserted the row first: it holds the lease
            return self.take_lease(open_kfid, owner, token, ttl)

    def renew(self, open_kfid: str, owner: str, ttl: float) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(cursors).where(cursors.c.open_kfid == open_kfid, cursors.c.lease_owner == owner)
                                .values(lease_until=self.clock() + ttl)).rowcount
        if not done:
            raise LeaseLost(open_kfid)

    def release(self, open_kfid: str, owner: str) -> Tuple[bool, Optional[str]]:
        """(True, token) when a pull was asked for meanwhile (the lease is kept), else (False, None)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(cursors).where(cursors.c.open_kfid == open_kfid)).first()
            if row is None or row.lease_owner != owner:
                return False, None
            if row.wanted:
                conn.execute(update(cursors).where(cursors.c.open_kfid == open_kfid).values(wanted=False))
                return True, row.token
            conn.execute(update(cursors).where(cursors.c.open_kfid == open_kfid)
                         .values(lease_owner=None, lease_until=0.0))
            return False, None

    def position(self, open_kfid: str) -> Tuple[Optional[str], Optional[str]]:
        """(cursor, latest callback token) of an account."""
        query = select(cursors.c.cursor, cursors.c.token).where(cursors.c.open_kfid == open_kfid)
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
        return (row.cursor, row.token) if row else (None, None)

    def accounts(self) -> List[str]:
        with self.engine.begin() as conn:
            return [r.open_kfid for r in conn.execute(select(cursors.c.open_kfid))]

    # --- inbox ---------------------------------------------------------------------------
    def store_page(self, open_kfid: str, owner: str, next_cursor: Optional[str],
                   entries: Sequence[Tuple[str, str, str, Dict[str, Any]]]) -> List[InboxRow]:
        """The page's messages not seen before, and the cursor after them, in one transaction.
        ``entries``: (msgid, external_userid, kind, entry)."""
        now = self.clock()
        new: List[InboxRow] = []
        with self.engine.begin() as conn:
            mine = conn.execute(update(cursors).where(cursors.c.open_kfid == open_kfid, cursors.c.lease_owner == owner)
                                .values(cursor=next_cursor or None, updated_at=now)).rowcount
            if not mine:
                raise LeaseLost(open_kfid)
            seen = {r.msgid for r in conn.execute(select(inbox.c.msgid).where(
                inbox.c.msgid.in_([e[0] for e in entries])))} if entries else set()
            for msgid, external_userid, kind, entry in entries:
                if msgid in seen:
                    continue
                seen.add(msgid)
                payload = json.dumps(entry, ensure_ascii=False)
                row_id = conn.execute(insert(inbox).values(
                    msgid=msgid, open_kfid=open_kfid, external_userid=external_userid, kind=kind, payload=payload,
                    status="pending", received_at=now)).inserted_primary_key[0]
                new.append(InboxRow(row_id, msgid, open_kfid, external_userid, "pending", None, entry))
        return new

    def unfinished(self, open_kfid: str) -> List[InboxRow]:
        """Pending and running messages of an account, oldest first (recovery after a restart)."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(inbox).where(inbox.c.open_kfid == open_kfid,
                                                    inbox.c.status.in_(("pending", "running")))
                                .order_by(inbox.c.id)).all()
        return [_row(r) for r in rows]

    def start(self, row_id: int, owner: str, resume: bool = False) -> bool:
        """pending -> running for ``owner`` (with ``resume``, also a running row another process left)."""
        allowed = inbox.c.status == "pending"
        if resume:
            allowed = or_(allowed, and_(inbox.c.status == "running", inbox.c.worker != owner))
        with self.engine.begin() as conn:
            return conn.execute(update(inbox).where(inbox.c.id == row_id, allowed)
                                .values(status="running", worker=owner)).rowcount == 1

    def finish(self, row_id: int, status: str, note: Optional[str] = None) -> None:
        assert status in FINISHED
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id == row_id).values(
                status=status, payload=None, finished_at=self.clock(), note=(note or None) and note[:200]))

    def status(self, msgid: str) -> Optional[str]:
        with self.engine.begin() as conn:
            row = conn.execute(select(inbox.c.status).where(inbox.c.msgid == msgid)).first()
        return row.status if row else None

    def purge(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(inbox).where(inbox.c.status.in_(FINISHED),
                                                    inbox.c.finished_at < self.clock() - KEEP_FINISHED_S)).rowcount

    # --- send window -------------------------------------------------------------------
    def window(self, open_kfid: str, external_userid: str) -> WindowState:
        with self.engine.begin() as conn:
            row = conn.execute(select(windows).where(windows.c.open_kfid == open_kfid,
                                                     windows.c.external_userid == external_userid)).first()
        return WindowState(row.last_customer_at, row.sent) if row else WindowState(None, 0)

    def customer_wrote(self, open_kfid: str, external_userid: str, at: float) -> WindowState:
        state = self.window(open_kfid, external_userid).after_customer_message(at)
        self._save(open_kfid, external_userid, state)
        return state

    def sent(self, open_kfid: str, external_userid: str, count: int = 1) -> None:
        state = self.window(open_kfid, external_userid)
        self._save(open_kfid, external_userid, WindowState(state.last_customer_at, state.sent + count))

    def _save(self, open_kfid: str, external_userid: str, state: WindowState) -> None:
        key = and_(windows.c.open_kfid == open_kfid, windows.c.external_userid == external_userid)
        with self.engine.begin() as conn:
            if not conn.execute(update(windows).where(key).values(last_customer_at=state.last_customer_at,
                                                                  sent=state.sent)).rowcount:
                conn.execute(insert(windows).values(open_kfid=open_kfid, external_userid=external_userid,
                                                    last_customer_at=state.last_customer_at, sent=state.sent))

    # --- held replies ------------------------------------------------------------------
    def hold(self, open_kfid: str, external_userid: str, reason: str, items: Sequence[Outgoing],
             waiting: bool) -> None:
        """Record what was not sent; ``waiting``: it may still go when the customer asks (继续)."""
        body = json.dumps([{"msgtype": i.msgtype, "body": i.body} for i in items], ensure_ascii=False)
        with self.engine.begin() as conn:
            if waiting:  # one waiting remainder per customer: the latest reply's
                conn.execute(update(held).where(_waiting(open_kfid, external_userid)).values(status="superseded"))
            conn.execute(insert(held).values(open_kfid=open_kfid, external_userid=external_userid, reason=reason,
                                             items=body, status="waiting" if waiting else "recorded", at=self.clock()))

    def take_waiting(self, open_kfid: str, external_userid: str) -> List[Outgoing]:
        with self.engine.begin() as conn:
            row = conn.execute(select(held).where(_waiting(open_kfid, external_userid))
                               .order_by(held.c.id.desc())).first()
            if row is None:
                return []
            conn.execute(update(held).where(held.c.id == row.id).values(status="resumed"))
        return [Outgoing(i["msgtype"], i["body"]) for i in json.loads(row.items)]

    def has_waiting(self, open_kfid: str, external_userid: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(select(held.c.id).where(_waiting(open_kfid, external_userid))).first() is not None

    def drop_waiting(self, open_kfid: str, external_userid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(held).where(_waiting(open_kfid, external_userid)).values(status="superseded"))

    def held_records(self, external_userid: str) -> List[Dict[str, Any]]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(held).where(held.c.external_userid == external_userid).order_by(held.c.id)).all()
        return [{"reason": r.reason, "status": r.status, "items": json.loads(r.items)} for r in rows]


__all__ = ["KfLedger", "InboxRow", "LeaseLost", "metadata"]
