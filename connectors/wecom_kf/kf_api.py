"""The 微信客服 (kf) endpoints on wechatpy's ``BaseWeChatAPI``, built like wechatpy's own
``wechatpy/enterprise/client/api/*`` modules: one method per endpoint, the JSON body as WeCom documents
it, errors raised by wechatpy's client (``WeChatClientException`` with ``errcode``).

TO DROP: wechatpy 1.8.18 (the locked release) has no kf module.  When a wechatpy release ships one,
delete this file and use the release's class (``client.kf``) instead; the channel only calls the six
methods below.

Reference: developer.work.weixin.qq.com → 微信客服 (接收消息和事件 / 发送消息 / 会话分配与消息收发 /
客户基本信息获取).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from optionaldict import optionaldict
from wechatpy.client.api.base import BaseWeChatAPI

SYNC_LIMIT = 1000  # sync_msg: default and maximum page size

# service_state values (会话状态)
UNTREATED = 0  # 未处理: new session, may be answered by API
BOT = 1  # 由智能助手接待
QUEUED = 2  # 待接入池排队中
HUMAN = 3  # 由人工接待
ENDED = 4  # 已结束/未开始


class WeChatKf(BaseWeChatAPI):
    """微信客服: pull messages, send messages, session state, customer info."""

    def sync_msg(self, open_kfid: str, cursor: Optional[str] = None, token: Optional[str] = None,
                 limit: int = SYNC_LIMIT, voice_format: int = 0) -> Dict[str, Any]:
        """读取消息 (kf/sync_msg): one page after ``cursor``; the caller pulls until ``has_more`` is 0.

        :param token: the callback's Token (valid 10 minutes; without it WeCom rate-limits hard)
        :return: ``{"next_cursor": ..., "has_more": 0|1, "msg_list": [...]}``
        """
        data = optionaldict(cursor=cursor or None, token=token or None, limit=limit, voice_format=voice_format,
                            open_kfid=open_kfid)
        return self._post("kf/sync_msg", data=dict(data))

    def send_msg(self, touser: str, open_kfid: str, msgtype: str, content: Dict[str, Any],
                 msgid: Optional[str] = None) -> Dict[str, Any]:
        """发送消息 (kf/send_msg): ``content`` is the body of ``msgtype`` (``{"content": ...}`` for text).

        Allowed only within 48 hours of the customer's last message, 5 messages at most."""
        data = optionaldict(touser=touser, open_kfid=open_kfid, msgid=msgid, msgtype=msgtype)
        data[msgtype] = content
        return self._post("kf/send_msg", data=dict(data))

    def send_text(self, touser: str, open_kfid: str, content: str, msgid: Optional[str] = None) -> Dict[str, Any]:
        return self.send_msg(touser, open_kfid, "text", {"content": content}, msgid)

    def send_msgmenu(self, touser: str, open_kfid: str, head_content: str, items: List[Dict[str, Any]],
                     tail_content: Optional[str] = None, msgid: Optional[str] = None) -> Dict[str, Any]:
        menu = dict(optionaldict(head_content=head_content or None, list=items, tail_content=tail_content or None))
        return self.send_msg(touser, open_kfid, "msgmenu", menu, msgid)

    def send_msg_on_event(self, code: str, msgtype: str, content: Dict[str, Any],
                          msgid: Optional[str] = None) -> Dict[str, Any]:
        """发送欢迎语等事件响应消息 (kf/send_msg_on_event): ``code`` is the event's ``welcome_code`` (valid
        20 s, usable once) or a ``msg_code`` from service_state/trans."""
        data = optionaldict(code=code, msgid=msgid, msgtype=msgtype)
        data[msgtype] = content
        return self._post("kf/send_msg_on_event", data=dict(data))

    def get_service_state(self, open_kfid: str, external_userid: str) -> Dict[str, Any]:
        """获取会话状态 (kf/service_state/get): ``{"service_state": 0-4, "servicer_userid": ...}``."""
        return self._post("kf/service_state/get", data={"open_kfid": open_kfid, "external_userid": external_userid})

    def trans_service_state(self, open_kfid: str, external_userid: str, service_state: int,
                            servicer_userid: Optional[str] = None) -> Dict[str, Any]:
        """变更会话状态 (kf/service_state/trans); ``servicer_userid`` is required for state 3 (由人工接待).

        :return: ``{"msg_code": ...}`` when WeCom offers an event-response code for the new state
        """
        data = optionaldict(open_kfid=open_kfid, external_userid=external_userid, service_state=service_state,
                            servicer_userid=servicer_userid)
        return self._post("kf/service_state/trans", data=dict(data))

    def batchget_customer(self, external_userids: List[str], need_enter_session_context: int = 0) -> Dict[str, Any]:
        """获取客户基本信息 (kf/customer/batchget): ``customer_list`` with ``unionid`` where the kf account's
        company has bound a WeChat developer account."""
        return self._post("kf/customer/batchget", data={"external_userid_list": list(external_userids),
                                                         "need_enter_session_context": need_enter_session_context})


__all__ = ["WeChatKf", "SYNC_LIMIT", "UNTREATED", "BOT", "QUEUED", "HUMAN", "ENDED"]
