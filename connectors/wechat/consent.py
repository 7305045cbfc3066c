"""退订 / 订阅 typed in the WeChat chat: the OpenID's ``wechat`` contact point is switched through
:mod:`credit.outreach.consent` and the customer is answered at once, passively, never through a dialogue turn
(a consent word is an instruction to the account, not a question for the assistant).

The answer says what changed and, on 退订, that a notice the law requires (报送征信前告知) still comes.
An OpenID we hold no contact point for is told politely that there is nothing to change.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy.engine import Engine

from credit import clock
from credit.db.engine import get_engine
from credit.outreach.consent import OPT_OUT, ConsentChange, consent_intent, set_subscription

logger = logging.getLogger(__name__)

LEGAL_NOTICE = "依照法律必须告知的事项（如报送征信前告知）仍会照常发给您。"
HOW_TO_RESUME = "想恢复时，回复“订阅”就好。"
OPTED_OUT = "好的，已为您退订微信提醒，之后不再通过微信给您发还款提醒等通知。" + LEGAL_NOTICE + HOW_TO_RESUME
ALREADY_OUT = "您之前已经退订过微信提醒，不用再操作。" + LEGAL_NOTICE + HOW_TO_RESUME
OPTED_IN = "好的，已为您恢复微信提醒，还款日等重要事项我们会按时提醒您。不想再收时，回复“退订”就好。"
ALREADY_IN = "您的微信提醒一直开着，不用再操作。不想再收时，回复“退订”就好。"
NOTHING_TO_STOP = "您好，这个微信号还没有和借款绑定，我们没有通过它给您发提醒，不用退订。有其他问题直接留言就好。"
NOTHING_TO_START = "您好，这个微信号还没有和借款绑定，暂时没有可以开启的提醒。绑定后，重要事项会在这里提醒您。"
NOT_DONE = "抱歉，系统暂时没能为您办好，请稍后再发一次。"


def reply_for(change: ConsentChange) -> str:
    """The passive reply for what a consent message did."""
    if not change.known:
        return NOTHING_TO_STOP if change.action == OPT_OUT else NOTHING_TO_START
    if change.action == OPT_OUT:
        return OPTED_OUT if change.changed else ALREADY_OUT
    return OPTED_IN if change.changed else ALREADY_IN


class WeChatConsent:
    """Consent words from an OpenID; the database is opened on the first one (``DATABASE_URL``)."""

    def __init__(self, engine: Optional[Engine] = None, now: Callable[[], datetime] = clock.now) -> None:
        self._engine = engine
        self.now = now

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = get_engine()
        return self._engine

    async def reply(self, openid: str, text: str) -> Optional[str]:
        """The answer to a consent message, None for any other text (it goes to the dialogue)."""
        action = consent_intent(text)
        if action is None:
            return None
        try:
            change = await asyncio.to_thread(set_subscription, self.engine, "wechat", openid, action, self.now())
        except Exception:  # noqa: BLE001 - the customer is asked to try again, the log has the details
            logger.exception("WeChat %s could not be recorded", action)
            return NOT_DONE
        return reply_for(change)


__all__ = ["WeChatConsent", "reply_for", "OPTED_OUT", "ALREADY_OUT", "OPTED_IN", "ALREADY_IN", "NOTHING_TO_STOP",
           "NOTHING_TO_START", "NOT_DONE"]
