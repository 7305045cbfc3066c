"""Signatures and 安全模式 (AES) for the WeChat callback, via wechatpy.

* every request: ``signature`` = SHA-1 of sorted (token, timestamp, nonce)
  (``wechatpy.utils.check_signature``), timestamp within the allowed clock skew;
* safe mode POST (``encrypt_type=aes``): ``msg_signature`` over (token, timestamp, nonce,
  Encrypt) and AES-CBC decryption with the AppID check (``wechatpy.crypto.WeChatCrypto``);
  passive replies are encrypted the same way.
"""
from __future__ import annotations

import time
from typing import Mapping

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature, random_string

from connectors.http import ChannelError, bad_request
from connectors.wechat.config import WeChatSettings
from connectors.wechat.parse import ensure_safe_xml


def forbidden(zh: str, en: str) -> ChannelError:
    return ChannelError(403, "bad_signature", zh, en)


class WeChatSecurity:
    def __init__(self, settings: WeChatSettings) -> None:
        self.settings = settings
        self._crypto: WeChatCrypto | None = (
            WeChatCrypto(settings.token, settings.aes_key, settings.app_id) if settings.aes_key else None
        )

    def check_signature(self, args: Mapping[str, str], now: float | None = None) -> None:
        signature, timestamp, nonce = (args.get(k) or "" for k in ("signature", "timestamp", "nonce"))
        if not (signature and timestamp and nonce):
            raise forbidden("缺少签名参数", "missing signature, timestamp or nonce")
        try:
            check_signature(self.settings.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise forbidden("签名无效", "invalid signature") from None
        try:
            skew = abs((now or time.time()) - int(timestamp))
        except ValueError:
            raise forbidden("时间戳无效", "invalid timestamp") from None
        if skew > self.settings.max_clock_skew_s:
            raise forbidden("时间戳过期", "timestamp outside the allowed window")

    def verify_url(self, args: Mapping[str, str]) -> str:
        """GET URL verification: the echostr back when the signature holds."""
        self.check_signature(args)
        echostr = args.get("echostr") or ""
        if not echostr:
            raise bad_request("missing_echostr", "缺少 echostr", "missing echostr")
        return echostr

    def is_encrypted(self, args: Mapping[str, str]) -> bool:
        return (args.get("encrypt_type") or "raw").lower() == "aes"

    def open_message(self, body: bytes, args: Mapping[str, str]) -> str:
        """The plain message XML of a POST whose ``signature`` was already checked."""
        outer = ensure_safe_xml(body)
        if not self.is_encrypted(args):
            return outer
        if self._crypto is None:
            raise bad_request("safe_mode_off", "未配置 EncodingAESKey，无法解密",
                              "encrypted message but WECHAT_AES_KEY is not set")
        msg_signature = args.get("msg_signature") or ""
        if not msg_signature:
            raise forbidden("缺少 msg_signature", "missing msg_signature")
        try:
            inner = self._crypto.decrypt_message(outer, msg_signature, args.get("timestamp"), args.get("nonce"))
        except InvalidSignatureException:
            raise forbidden("msg_signature 无效", "invalid msg_signature") from None
        except InvalidAppIdException:
            raise forbidden("AppID 不匹配", "message encrypted for another AppID") from None
        except KeyError:
            raise bad_request("missing_encrypt", "缺少 Encrypt 字段", "missing Encrypt element") from None
        except Exception:  # noqa: BLE001 - base64/AES/padding errors of a hostile body
            raise bad_request("undecryptable", "密文无法解密", "Encrypt cannot be decrypted") from None
        return ensure_safe_xml(inner.encode("utf-8"))

    def seal_reply(self, xml: str, args: Mapping[str, str]) -> str:
        """Encrypt a passive reply when the request came in safe mode."""
        if not (self.is_encrypted(args) and self._crypto is not None):
            return xml
        return self._crypto.encrypt_message(xml, random_string(16), str(int(time.time())))
