"""Personal data masked before a conversation event is written to the tracker store.

What is masked (``credit.text.masking.mask_pii``: ID numbers, mobile numbers, bank card
numbers, 6-digit codes after 验证码/校验码/动态码), per stored event:

* ``user``: ``text``, ``parse_data.text``, every string in ``parse_data.entities``
  (``value``, ``text``), every string in ``metadata``;
* ``bot``: ``text``, every string in ``data`` and ``metadata``;
* ``slot``: every string in ``value``;
* any other event: every string in ``metadata``.

Intent names, action names, timestamps, confidences and ids are not touched.  The
conversation in memory during a turn keeps the raw text (the actions validate what the
customer typed); from the next turn on, the stored (masked) events are what Rasa reads
back, so no action may rely on a full ID, phone or card number from an earlier turn.
"""
from __future__ import annotations

from typing import Any, Dict

from credit.text.masking import mask_pii


def mask_strings(value: Any) -> Any:
    """A copy of ``value`` with every string masked (dicts and lists walked)."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {key: mask_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_strings(item) for item in value]
    return value


def mask_event_dict(data: Dict[str, Any]) -> Dict[str, Any]:
    """The serialised event ``data`` (``Event.as_dict()``) with personal data masked."""
    kind = data.get("event")
    out = dict(data)
    if kind in ("user", "bot") and isinstance(out.get("text"), str):
        out["text"] = mask_pii(out["text"])
    if kind == "user" and isinstance(out.get("parse_data"), dict):
        parse = dict(out["parse_data"])
        if isinstance(parse.get("text"), str):
            parse["text"] = mask_pii(parse["text"])
        if isinstance(parse.get("entities"), list):
            parse["entities"] = [mask_strings(entity) for entity in parse["entities"]]
        out["parse_data"] = parse
    if kind == "bot" and "data" in out:
        out["data"] = mask_strings(out["data"])
    if kind == "slot" and "value" in out:
        out["value"] = mask_strings(out["value"])
    if "metadata" in out:
        out["metadata"] = mask_strings(out["metadata"])
    return out
