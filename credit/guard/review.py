"""What may leave: one bot message reviewed by the compliance checker (:func:`credit.compliance.check_text`,
the one rule list) before any channel delivers it.

* **pass** — the checker finds nothing: the message goes out unchanged (the common case costs one
  ``check_text`` over the text the customer sees: the text and its button titles).
* **masked** — everything it finds is customer data that can be masked (JR/T 0171: an ID number, a
  mobile or card number, a code echoed back): the message goes out with that data masked in place
  (:func:`credit.text.masking.mask_pii`), and nothing else about it changes.
* **replaced** — anything else (a promise of approval or of the lowest rate, a hidden fee, a rate
  without 年化, …): the message is never sent; the customer gets :data:`SAFE_LINE` instead and a
  colleague takes over (the caller opens the hand-off with :func:`handoff_summary`).

Plain Python, no framework: the Rasa glue is :mod:`server.patches.output`, the outreach engine
(``outreach/engine.py``) reviews its notices with the same function.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from credit.compliance import RULE_LABELS, check_text
from credit.text.masking import mask_pii

SAFE_LINE = "这个问题我请同事核实后答复您。"
HANDOFF_QUEUE = "compliance"

PASS, MASKED, REPLACED = "pass", "masked", "replaced"


@dataclass(frozen=True)
class Reviewed:
    """The outcome for one message: what to send (``text``, ``titles``) and why."""

    decision: str  # pass | masked | replaced
    text: Optional[str]  # the text to send (the original, masked, or the safe line)
    titles: Tuple[str, ...]  # the button titles to send, in order (none once replaced)
    rules: Tuple[str, ...] = ()  # every rule the original broke, in the checker's order
    original: str = ""  # what the customer would have seen, personal data masked (audit, hand-off)

    @property
    def intercepted(self) -> bool:
        return self.decision != PASS

    @property
    def rule(self) -> str:
        return self.rules[0] if self.rules else ""


def _visible(text: Optional[str], titles: Sequence[str]) -> str:
    return "\n".join([text or "", *titles]) if titles else (text or "")


def review(text: Optional[str], titles: Sequence[str] = ()) -> Reviewed:
    """Review a message's text and button titles (together, as the customer reads them)."""
    titles = tuple(titles)
    violations = check_text(_visible(text, titles))
    if not violations:
        return Reviewed(PASS, text, titles)
    rules = tuple(dict.fromkeys(v.rule for v in violations))
    masked_text = mask_pii(text) if text else text
    masked_titles = tuple(mask_pii(t) for t in titles)
    masked = _visible(masked_text, masked_titles)
    if not check_text(masked):
        return Reviewed(MASKED, masked_text, masked_titles, rules, masked)
    return Reviewed(REPLACED, SAFE_LINE, (), rules, masked)


def rule_labels(rules: Sequence[str]) -> str:
    return "、".join(RULE_LABELS.get(rule, rule) for rule in rules)


def handoff_summary(reviewed: Reviewed, channel: str, intent: str = "", action: str = "", response: str = "",
                    customer_said: str = "") -> str:
    """What the colleague who takes over reads: why, the reply that was stopped (masked), where it came from."""
    lines = [
        f"转人工原因: 合规拦截（{rule_labels(reviewed.rules)}），这条回复没有发给客户，请核实后答复",
        f"渠道: {channel}",
        f"被拦截的回复: {reviewed.original}",
        f"来源: 意图 {intent or '-'} / 动作 {action or '-'} / 回复模板 {response or '-'}",
    ]
    if customer_said:
        lines.append(f"客户最近说: {mask_pii(customer_said)[:200]}")
    return "\n".join(lines)
