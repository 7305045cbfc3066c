"""JSON IVR webhook for other call-centre platforms (credentials.yml:
``connectors.ivr.IvrInput:``), described in ``docs/ivr-openapi.yaml``.

``config`` (environment), ``signature`` (X-IVR-Signature HMAC), ``schema`` (request
validation, response shape), ``channel`` (Rasa/Sanic glue).
"""
from connectors.ivr.channel import IvrInput

__all__ = ["IvrInput"]
