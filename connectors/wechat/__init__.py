"""WeChat Official Account channel (credentials.yml: ``connectors.wechat.WeChatInput:``).

Split like wechatpy: ``config`` (environment), ``crypto`` (signatures, 安全模式),
``parse`` (defused XML -> inbound message), ``reply`` (passive replies), ``client``
(customer-service API, shared access token), ``dedup`` (retries), ``service`` (one
callback), ``channel`` (Rasa/Sanic glue).
"""
from connectors.wechat.channel import WeChatInput

__all__ = ["WeChatInput"]
