"""SMS replies (上行短信) from Tencent Cloud SMS (credentials.yml: ``connectors.sms.TencentSmsUplinkInput:``),
at ``POST /webhooks/sms_tencent/uplink?token=<SMS_UPLINK_TOKEN>``.

``config`` (environment), ``auth`` (the URL token, the callback's only authentication), ``reply``
(the callback's JSON body), ``uplink`` (one reply: 退订/订阅 through :mod:`credit.outreach.consent`, anything else
acknowledged and logged masked), ``channel`` (Rasa/Sanic glue).  Replies never reach the dialogue.
"""
from connectors.sms.channel import TencentSmsUplinkInput

__all__ = ["TencentSmsUplinkInput"]
