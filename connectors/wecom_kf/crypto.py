"""The WeCom callback's signatures and AES, via ``wechatpy.enterprise.crypto.WeChatCrypto``.

* URL verification (GET): ``msg_signature`` = SHA-1 of sorted (Token, timestamp, nonce, echostr); the
  ``echostr`` is AES-encrypted for our CorpID and the plain text goes back (wechatpy's
  ``check_signature`` checks and decrypts);
* events (POST): the body is ``<xml><ToUserName/><Encrypt/><AgentID/></xml>``; ``msg_signature`` covers
  ``Encrypt``; the plain event is decrypted with the CorpID check (``decrypt_message``);
* the signed timestamp must be within the allowed clock skew; outer and inner XML pass the defused gate
  (no DTD, no entities) before wechatpy/xmltodict read them.
"""
from __future__ import annotations

import time
from typing import Dict, Mapping

import defusedxml.ElementTree as SafeET
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from connectors.http import ChannelError, bad_request
from connectors.wechat.parse import ensure_safe_xml
from connectors.wecom_kf.config import WeComKfSettings

MAX_FIELD_CHARS = 512


def forbidden(zh: str, en: str) -> ChannelError:
    return ChannelError(403, "bad_signature", zh, en)


class KfSecurity:
    def __init__(self, settings: WeComKfSettings) -> None:
        self.settings = settings
        self._crypto = WeChatCrypto(settings.token, settings.aes_key, settings.corp_id)

    def _signed(self, args: Mapping[str, str], now: float | None) -> tuple[str, str, str]:
        signature, timestamp, nonce = (args.get(k) or "" for k in ("msg_signature", "timestamp", "nonce"))
        if not (signature and timestamp and nonce):
            raise forbidden("缺少签名参数", "missing msg_signature, timestamp or nonce")
        try:
            skew = abs((now or time.time()) - int(timestamp))
        except ValueError:
            raise forbidden("时间戳无效", "invalid timestamp") from None
        if skew > self.settings.max_clock_skew_s:
            raise forbidden("时间戳过期", "timestamp outside the allowed window")
        return signature, timestamp, nonce

    def verify_url(self, args: Mapping[str, str], now: float | None = None) -> str:
        """GET URL verification: the decrypted echostr when the signature holds."""
        signature, timestamp, nonce = self._signed(args, now)
        echostr = args.get("echostr") or ""
        if not echostr:
            raise bad_request("missing_echostr", "缺少 echostr", "missing echostr")
        try:
            return self._crypto.check_signature(signature, timestamp, nonce, echostr)
        except InvalidSignatureException:
            raise forbidden("签名 msg_signature 无效", "invalid msg_signature") from None
        except InvalidCorpIdException:
            raise forbidden("CorpID 不匹配", "echostr encrypted for another CorpID") from None
        except Exception:  # noqa: BLE001 - base64/AES/padding errors of a hostile echostr
            raise bad_request("undecryptable", "echostr 无法解密", "echostr cannot be decrypted") from None

    def open_event(self, body: bytes, args: Mapping[str, str], now: float | None = None) -> Dict[str, str]:
        """The plain callback event as a flat dict (``MsgType``, ``Event``, ``Token``, ``OpenKfId`` ...)."""
        signature, timestamp, nonce = self._signed(args, now)
        outer = ensure_safe_xml(body)
        try:
            inner = self._crypto.decrypt_message(outer, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise forbidden("签名 msg_signature 无效", "invalid msg_signature") from None
        except InvalidCorpIdException:
            raise forbidden("CorpID 不匹配", "message encrypted for another CorpID") from None
        except KeyError:
            raise bad_request("missing_encrypt", "缺少 Encrypt 字段", "missing Encrypt element") from None
        except Exception:  # noqa: BLE001 - base64/AES/padding errors of a hostile body
            raise bad_request("undecryptable", "密文无法解密", "Encrypt cannot be decrypted") from None
        root = SafeET.fromstring(ensure_safe_xml(inner.encode("utf-8")).encode("utf-8"))
        fields: Dict[str, str] = {}
        for child in root:
            text = (child.text or "").strip()
            if len(text) > MAX_FIELD_CHARS:
                raise bad_request("field_too_long", f"字段 {child.tag} 过长", f"field {child.tag} too long")
            fields[child.tag] = text
        return fields


__all__ = ["KfSecurity", "forbidden"]
