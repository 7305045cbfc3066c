"""SMS templates (短信正文模板) for a vendor that sends only pre-approved texts.

Mainland SMS vendors (Tencent Cloud among them) deliver nothing but templates their reviewers
approved, so a message is a template ID plus its ordered variables, never free text.
``deploy/sms_templates.yml`` (``SMS_TEMPLATES`` overrides the path) maps every message kind — each
outreach notice kind of the catalogue and ``otp`` for the verification code — to:

* ``template_id``: the approved template's ID (短信控制台 → 国内短信 → 正文模板管理);
* ``text``: the approved body as registered, variables written ``{1}``, ``{2}`` …; the signature
  【…】 is not part of it (the vendor adds it from the sign name).  Kept here so that tests read the
  customer's words through the compliance checker and the stand-in vendor counts the variables;
* ``params``: the notice field that fills each variable, in order.

Variables are short on purpose (new Tencent accounts allow 6 characters each): the hotline and the
company are written into the approved text, a ticket goes by its last four digits (``ticket_tail``).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

import yaml
from pydantic import ValidationError, validator

from credit.catalogue.fields import Code, Schema, Text
from credit.catalogue.outreach import FIELDS
from credit.sms.common import SmsConfigError

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "sms_templates.yml"
OTP_KIND = "otp"
_DERIVED: Dict[str, Callable[[Mapping[str, str]], str]] = {
    "ticket_tail": lambda fields: str(fields["ticket"])[-4:],
}
#: what a variable may be filled from: the outreach fields, WeChat's typed ones, the derived ones, the code
PARAM_FIELDS = (*FIELDS, "amount_number", "due_full", *_DERIVED, "code")
_VARIABLE = re.compile(r"\{(\d+)\}")
_TEMPLATE_ID = re.compile(r"^\d{1,20}$")


class SmsTemplate(Schema):
    template_id: Text
    text: Text
    params: tuple[Code, ...] = ()

    @validator("template_id")
    def _numeric(cls, value: str) -> str:
        if not _TEMPLATE_ID.match(value):
            raise ValueError(f"模板 ID 应为审核通过后控制台给出的数字，实际为 {value!r}")
        return value

    @validator("params", always=True)
    def _known_fields(cls, value: tuple[str, ...], values: Dict[str, Any]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in PARAM_FIELDS]
        if unknown:
            raise ValueError(f"未知字段 {unknown}；可用: {', '.join(PARAM_FIELDS)}")
        text = values.get("text")
        if text is not None:
            used = sorted({int(n) for n in _VARIABLE.findall(text)})
            if used != list(range(1, len(value) + 1)):
                raise ValueError(f"正文的变量 {['{%d}' % n for n in used]} 与 params 的 {len(value)} 个字段不一一对应"
                                 "（应为 {1}…{n}，各用一次以上）")
        return value

    def values(self, fields: Mapping[str, str]) -> List[str]:
        """The variables, in order, from a notice's fields (``KeyError`` names a field the notice lacks)."""
        out = []
        for name in self.params:
            derive = _DERIVED.get(name)
            out.append(derive(fields) if derive else str(fields[name]))
        return out

    def render(self, values: Iterable[str], sign_name: str = "") -> str:
        """The text the customer reads: 【sign】 and the body with its variables filled in."""
        filled = list(values)
        body = _VARIABLE.sub(lambda m: filled[int(m.group(1)) - 1], self.text)
        return f"【{sign_name}】{body}" if sign_name else body


def load_sms_templates(path: Optional[str | Path] = None) -> Dict[str, SmsTemplate]:
    """Every kind's template from ``path``, ``$SMS_TEMPLATES`` or ``deploy/sms_templates.yml``;
    :class:`SmsConfigError` says which file and kind are wrong."""
    chosen = Path(path or os.environ.get("SMS_TEMPLATES") or DEFAULT_TEMPLATES)
    try:
        raw: Any = yaml.safe_load(chosen.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SmsConfigError(f"短信模板文件 {chosen} 无法读取 / cannot read SMS templates: {error}") from None
    if not isinstance(raw, dict):
        raise SmsConfigError(f"{chosen}: 应为“短信类型 → 模板”的映射 / must map message kinds to templates")
    templates: Dict[str, SmsTemplate] = {}
    for kind, spec in raw.items():
        try:
            templates[str(kind)] = SmsTemplate.parse_obj(spec)
        except ValidationError as error:
            problems = "；".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise SmsConfigError(f"{chosen}: {kind}: {problems}") from None
    texts: Dict[str, str] = {}
    for kind, spec in templates.items():  # one template ID is one approved text
        if texts.setdefault(spec.template_id, spec.text) != spec.text:
            raise SmsConfigError(f"{chosen}: {kind}: 模板 {spec.template_id} 在别处的正文不同 / "
                                 f"template {spec.template_id} is given two different texts")
    return templates


def missing_kinds(templates: Mapping[str, SmsTemplate], required: Iterable[str]) -> List[str]:
    return sorted(set(required) - set(templates))


__all__ = ["SmsTemplate", "load_sms_templates", "missing_kinds", "OTP_KIND", "PARAM_FIELDS", "DEFAULT_TEMPLATES"]
