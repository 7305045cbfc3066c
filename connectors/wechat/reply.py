"""Passive replies (wechatpy renders the XML)."""
from __future__ import annotations

import time

from wechatpy.replies import TextReply, TransferCustomerServiceReply

from connectors.wechat.parse import Inbound

SUCCESS = "success"  # "received, nothing to say now" - WeChat does not retry


def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]] >")


def text_reply(inbound: Inbound, content: str) -> str:
    return TextReply(
        source=inbound.account, target=inbound.openid, content=_cdata_safe(content), time=int(time.time())
    ).render()


def transfer_reply(inbound: Inbound) -> str:
    """Hand the conversation to the account's human agents (多客服)."""
    return TransferCustomerServiceReply(source=inbound.account, target=inbound.openid, time=int(time.time())).render()
