"""Strict field types for the catalogue schema, and error messages that say where.

pydantic 1.10 coerces by default (``True`` becomes 1, ``"12"`` becomes 12, a list of
pairs becomes a mapping).  A catalogue that says ``secured: 1`` or ``terms: ["12"]`` is a
mistake to refuse, not to guess at, so every section derives from :class:`Schema`
(frozen, unknown fields refused, mappings only) and every value uses one of the types
below, which accept exactly what the YAML must hold.

Their messages are written to follow the field's YAML path, and :func:`describe`
turns a ``ValidationError`` into that path plus message
(``products.anjia.terms 不能为空…``, ``products.anjia 缺少 apr_max``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Extra, ValidationError, errors

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

#: Fields that YAML gives as the key of a mapping rather than inside the entry.
KEY_FIELDS = ("code", "kind")


class CatalogueError(ValueError):
    """The catalogue file is missing, malformed or violates a business rule."""


class UnknownProductError(CatalogueError, KeyError):
    """No product has the requested code."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class Schema(BaseModel):
    """A catalogue section: immutable, unknown fields refused, only a real mapping accepted."""

    class Config:
        extra = Extra.forbid
        frozen = True

    @classmethod
    def validate(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):  # pydantic would also take a list of pairs
            raise ValueError("应为映射 (mapping)")
        strange = [key for key in value if not isinstance(key, str)]
        if strange:
            raise ValueError(f"有未知字段 {strange[0]!r}")
        return super().validate(value)


Check = Callable[[Any], Any]


class _Checked:
    """A field type whose single ``check`` decides what the YAML may hold."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Check]:
        yield cls.check

    @classmethod
    def check(cls, value: Any) -> Any:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


class Text(str, _Checked):
    """Non-empty text, stripped; a bare YAML number is read as its text."""

    @classmethod
    def check(cls, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise ValueError("应为非空文本")
        return str(value).strip()


class Code(str, _Checked):
    """A machine code such as a product or stage code."""

    @classmethod
    def check(cls, value: Any) -> str:
        if not isinstance(value, str) or not _CODE_RE.match(value):
            raise ValueError(f"代码 {value!r} 应为小写字母、数字和下划线")
        return value


class Texts(tuple, _Checked):  # type: ignore[type-arg]
    """A non-empty list of non-empty texts, stripped (a tuple of str)."""

    allow_empty = False

    @classmethod
    def check(cls, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or (not value and not cls.allow_empty):
            raise ValueError("应为非空文本列表")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"中有空的或非文本的条目: {item!r}")
        return tuple(item.strip() for item in value)


class OptionalTexts(Texts):
    """Like :class:`Texts`, but may be empty, ``null`` or left out."""

    allow_empty = True


class Patterns(Texts):
    """A non-empty list of regular expressions, each of which must compile (the one check for every
    catalogue section that matches customers' words: risk signals, glossary, purposes)."""

    @classmethod
    def check(cls, value: Any) -> tuple[str, ...]:
        patterns = super().check(value)
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} 不是合法的正则表达式：{error}") from None
        return patterns


def none_is_empty(value: Any) -> Any:
    """Pre-validator for :class:`OptionalTexts` fields: ``aliases:`` with nothing after it is ``[]``."""
    return [] if value is None else value


def none_is_missing(value: Any) -> Any:
    """Pre-validator for optional numbers: written but empty counts as missing, as before."""
    if value is None:
        raise errors.MissingError()
    return value


class Money(Decimal, _Checked):
    """A finite decimal from a YAML number (or numeric text); never from true/false."""

    @classmethod
    def check(cls, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("应为数字")
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"应为数字，实际为 {value!r}") from None
        if not result.is_finite():
            raise ValueError("应为有限数字")
        return result


class Rate(Money):
    """An annualised rate as a fraction: 0 <= rate < 1 (0.12 is 12%)."""

    @classmethod
    def check(cls, value: Any) -> Decimal:
        result = Money.check(value)
        if not Decimal(0) <= result < Decimal(1):
            raise ValueError(f"应为小数形式的年化利率（如 0.12 表示 12%），实际为 {result}")
        return result


class Terms(tuple, _Checked):  # type: ignore[type-arg]
    """Loan terms in months: a non-empty list of distinct positive integers, kept sorted."""

    @classmethod
    def check(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise ValueError("不能为空，应为期数（月）列表")
        for term in value:
            if isinstance(term, bool) or not isinstance(term, int) or term <= 0:
                raise ValueError(f"中的 {term!r} 不是正整数月数")
        if len(set(value)) != len(value):
            raise ValueError("有重复期数")
        return tuple(sorted(value))


class Items(tuple, _Checked):  # type: ignore[type-arg]
    """A non-empty list whose entries a cross-section check validates (e.g. method codes)."""

    @classmethod
    def check(cls, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or not value:
            raise ValueError("不能为空")
        return tuple(value)


def keyed(key_field: str) -> Check:
    """Pre-validator for a section that YAML keys by code: ``{code: {…}}`` -> ``[{code, …}]``."""

    def to_entries(value: Any) -> list[Any]:
        if not isinstance(value, dict):
            raise ValueError("应为映射 (mapping)")
        for key, body in value.items():
            if isinstance(body, dict) and key_field in body:
                raise ValueError(f"中的 {key}: 不能再写 {key_field}，{key_field} 由键名给出")
        return [{**body, key_field: key} if isinstance(body, dict) else body for key, body in value.items()]

    return to_entries


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

#: pydantic's own error types, as "{parent} …" templates (the rest follow the field's path).
_TEMPLATES = {
    "value_error.missing": "{parent} 缺少 {field}",
    "type_error.none.not_allowed": "{parent} 缺少 {field}",
    "value_error.extra": "{parent} 有未知字段 {field}",
    "type_error.integer": "{path} 应为整数",
    "value_error.strictbool": "{path} 应为 true/false",
}


def describe(exc: ValidationError, raw: Any) -> str:
    """Every problem in ``exc``, each starting with its YAML path in ``raw``, joined by "；"."""
    return "；".join(_describe_one(error, raw) for error in exc.errors())


def _describe_one(error: dict[str, Any], raw: Any) -> str:
    names = _yaml_path(error["loc"], raw)
    message = str(error["msg"])
    if names and names[-1] == "__root__":  # a rule about the section as a whole
        where = ".".join(names[:-1])
        return f"{where}: {message}" if where else message
    field = names[-1] if names else "catalogue"
    parent = ".".join(names[:-1]) or "catalogue"
    path = ".".join(names) or "catalogue"
    template = _TEMPLATES.get(error["type"], "{path} {message}")
    return template.format(parent=parent, field=field, path=path, message=message)


def _yaml_path(loc: tuple[Any, ...], raw: Any) -> list[str]:
    """pydantic's location as YAML names: entry indexes become their keys, key fields the entry."""
    names: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, dict) and part < len(node):
            key = list(node)[part]
            names.append(str(key))
            node = node[key]
        elif part in KEY_FIELDS and isinstance(node, dict) and part not in node:
            names.append("__root__")  # the entry's key itself is wrong
            node = None
        elif isinstance(part, int) and names:
            names[-1] += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            names.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return names
