"""Personal data masked in Rasa's structured logs (structlog), next to the standard-library
log masking of :func:`credit.text.masking.install_log_masking`.

:func:`structlog_masker` is a structlog processor: every value of a log event, except the
exception info (rendered later through the masked log record), is masked with
:func:`credit.text.masking.mask_pii`; events, trackers and other objects are masked in their
printed form.  :func:`add_to_structlog` puts it before the renderer and makes a JSON
renderer write non-ASCII as is: a ``\\uXXXX`` escape's hex digits next to a number would
hide that number from the masking.
"""
from __future__ import annotations

from typing import Any, Dict

from credit.text.masking import mask_pii

_JSON_SCALARS = (int, float, bool, type(None))
_UNMASKED_KEYS = ("exc_info", "exception", "stack")


def mask_log_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, dict):
        return {key: mask_log_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [mask_log_value(item) for item in value]
    return mask_pii(str(value))  # events, trackers, ...: masked in their printed form


def structlog_masker(_: Any, __: str, event_dict: Dict[str, Any]) -> Dict[str, Any]:
    return {key: (value if key in _UNMASKED_KEYS else mask_log_value(value)) for key, value in event_dict.items()}


def add_to_structlog() -> None:
    """Insert :func:`structlog_masker` into the current structlog configuration (once)."""
    import structlog

    processors = list(structlog.get_config().get("processors", []))
    if structlog_masker in processors:
        return
    processors.insert(max(len(processors) - 1, 0), structlog_masker)
    if processors and isinstance(processors[-1], structlog.processors.JSONRenderer):
        processors[-1] = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(processors=processors)
