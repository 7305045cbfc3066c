"""Plays WeChat's side of the callback protocol in tests: builds signed (and, in
安全模式, encrypted) POSTs the way the WeChat server does, and opens passive replies."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Dict, Optional, Tuple
from urllib.parse import urlencode

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner, random_string

TOKEN = "test-wechat-token"
APP_ID = "wx0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_0123456789ab"
PATH = "/webhooks/wechat/webhook"


def new_openid() -> str:
    return "o" + uuid.uuid4().hex[:27]  # 28 characters like real openids


def new_msg_id() -> int:
    return int(uuid.uuid4().int % 10**18) + 10**18


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def text_xml(openid: str, content: str, msg_id: Optional[int] = None, create_time: Optional[int] = None) -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id or new_msg_id()}</MsgId>"
        "</xml>"
    )


def voice_xml(openid: str, recognition: Optional[str], msg_id: Optional[int] = None) -> str:
    rec = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[voice]]></MsgType>"
        "<MediaId><![CDATA[media_id_123]]></MediaId>"
        "<Format><![CDATA[amr]]></Format>"
        f"{rec}"
        f"<MsgId>{msg_id or new_msg_id()}</MsgId>"
        "</xml>"
    )


def event_xml(openid: str, event: str, key: Optional[str] = None, create_time: Optional[int] = None) -> str:
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>"
        f"{key_xml}"
        "</xml>"
    )


@dataclass
class SignedRequest:
    query: Dict[str, str]
    body: bytes

    def url(self, base: str) -> str:
        return f"{base}{PATH}?{urlencode(self.query)}"


def plain_request(xml: str, token: str = TOKEN, timestamp: Optional[int] = None) -> SignedRequest:
    ts, nonce = str(timestamp or int(time.time())), random_string(10)
    return SignedRequest({"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce}, xml.encode("utf-8"))


def safe_request(xml: str, token: str = TOKEN, aes_key: str = AES_KEY, app_id: str = APP_ID) -> SignedRequest:
    """安全模式: the body carries only <Encrypt>; msg_signature covers it."""
    ts, nonce = str(int(time.time())), random_string(10)
    crypto = WeChatCrypto(token, aes_key, app_id)
    sealed = xmltodict.parse(crypto.encrypt_message(xml, nonce, ts))["xml"]
    encrypt = sealed["Encrypt"]
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    query = {
        "signature": sign(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": "ignored",
        "encrypt_type": "aes",
        "msg_signature": sign(token, ts, nonce, encrypt),
    }
    return SignedRequest(query, body.encode("utf-8"))


def open_reply(body: str, token: str = TOKEN, aes_key: str = AES_KEY, app_id: str = APP_ID) -> Dict[str, str]:
    """A passive reply as a dict (decrypted and signature-checked when encrypted)."""
    doc = xmltodict.parse(body)["xml"]
    if "Encrypt" in doc:
        crypto = WeChatCrypto(token, aes_key, app_id)
        inner = crypto.decrypt_message(body, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
        doc = xmltodict.parse(inner)["xml"]
    return dict(doc)


def verification_query(token: str = TOKEN) -> Tuple[Dict[str, str], str]:
    ts, nonce, echostr = str(int(time.time())), random_string(10), random_string(20)
    return {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": echostr}, echostr
