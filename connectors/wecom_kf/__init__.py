"""微信客服 (WeCom customer-service accounts) channel (credentials.yml: ``connectors.wecom_kf.WeComKfInput:``).

Split like wechatpy: ``config`` (environment), ``kf_api`` (the kf endpoints on wechatpy's
``BaseWeChatAPI``; to drop when wechatpy ships one), ``client`` (wechatpy's enterprise client: token,
retries), ``crypto`` (callback signatures and AES), ``messages`` (sync_msg entries), ``render`` (texts
and msgmenu), ``window`` (WeCom's sending rules), ``ledger`` (cursor, de-duplication, window, held
replies), ``service`` (callback and pulling), ``conversation`` (one message), ``channel`` (Rasa glue).
"""
from connectors.wecom_kf.channel import WeComKfInput

__all__ = ["WeComKfInput"]
