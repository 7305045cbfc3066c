"""Sending SMS: the gateway chosen by ``SMS_GATEWAY`` (the outbox by default, Tencent Cloud in production).

Offers: ``gateway`` (``get_sms_gateway``, the outbox gateway), ``common`` (errors, number format), ``templates``
(approved vendor templates, ``deploy/sms_templates.yml``), ``tencent`` (Tencent Cloud SMS through its SDK, with
status look-up by SessionContext).

May import: credit.catalogue, credit.db
"""
