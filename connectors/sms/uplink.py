"""One SMS reply, independent of Sanic: authenticate, read, and act on 退订/订阅.

A text matching the catalogue's opt-out words unsubscribes the number's ``sms`` and ``phone`` contact
points, an opt-in word subscribes them again (:mod:`credit.outreach.consent`).  Any other text is acknowledged and
logged masked; it is not routed into the dialogue (an SMS reply has no conversation to continue yet, and
answering it would cost a templated SMS) — except a rating ("满意", "4分") answering the follow-up SMS of a
closed ticket, which is recorded on that ticket.  Tencent is always answered ``{"result": 0, "errmsg": "OK"}``
once the request is authentic and well formed, also for a number we do not know, so it does not retry.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Dict, Optional

from sqlalchemy.engine import Engine

from connectors.http import parse_json_object
from connectors.sms.auth import check_token
from connectors.sms.config import UplinkSettings
from connectors.sms.reply import ACK, UplinkReply, parse_reply
from credit import clock
from credit.catalogue.loader import load_catalogue
from credit.db.engine import get_engine
from credit.errors import InvalidInput, NotFound
from credit.outreach.consent import ConsentChange, addresses, apply_reply
from credit.outreach.context import NoticeContexts
from credit.sms.common import MAINLAND, mainland_mobile
from credit.store import Store
from credit.text.masking import mask_pii
from credit.tickets.records import record_satisfaction, satisfaction_from_reply

logger = logging.getLogger(__name__)


class UplinkService:
    def __init__(self, settings: UplinkSettings, engine: Optional[Engine] = None,
                 now: Callable[[], datetime] = clock.now) -> None:
        self.settings = settings
        self._engine = engine
        self.now = now

    @property
    def engine(self) -> Engine:
        if self._engine is None:  # DATABASE_URL, the business database the outreach engine reads
            self._engine = get_engine()
        return self._engine

    def handle(self, body: bytes, token: Optional[str]) -> Dict[str, Any]:
        """Tencent's acknowledgement, or a :class:`connectors.http.ChannelError` (401/403/400)."""
        check_token(token, self.settings.token)
        reply = parse_reply(parse_json_object(body))
        self.consent(reply)
        return dict(ACK)

    def rating(self, mobile: str, text: str) -> bool:
        """"满意" / "4分" answering the follow-up SMS of a closed ticket (``ticket_followup``) sent to this
        number within the catalogue's ``reply_days``: recorded on that ticket."""
        answer = satisfaction_from_reply(text)
        if answer is None:
            return False
        contexts = NoticeContexts(Store(self.engine, self.now), load_catalogue().outreach.reply_days)
        ctx = contexts.for_address("sms", addresses("sms", mobile))
        if ctx is None or ctx.kind != "ticket_followup":
            return False
        try:
            record_satisfaction(self.engine, ctx.subject, answer[0], answer[1], self.now())
        except (InvalidInput, NotFound):  # reopened or gone meanwhile: an ordinary message
            return False
        return True

    def consent(self, reply: UplinkReply) -> Optional[ConsentChange]:
        who = mask_pii(reply.mobile)
        try:
            mobile = mainland_mobile(reply.mobile) if reply.nationcode == MAINLAND else None
        except ValueError:
            mobile = None
        if mobile is None:
            logger.info("SMS reply from a non-mainland number (+%s %s) ignored", reply.nationcode, who)
            return None
        change = apply_reply(self.engine, "sms", mobile, reply.text, self.now())
        if change is None and self.rating(mobile, reply.text):
            logger.info("SMS reply from %s: the rating of a closed ticket's follow-up, recorded", who)
        elif change is None:
            logger.info("SMS reply from %s (not routed to the dialogue): %s", who, mask_pii(reply.text)[:200])
        elif not change.known:
            logger.info("SMS %s from %s: no contact point holds this number, nothing changed", change.action, who)
        else:
            logger.info("SMS %s from %s: %s changed, %s already so", change.action, who,
                        ",".join(change.changed) or "-", ",".join(change.unchanged) or "-")
        return change
