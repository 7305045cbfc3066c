"""Compliance texts and the reply checker.

Texts: :data:`RATE_DISCLAIMER` (shown with every rate), :data:`FRAUD_WARNING`,
:data:`PRIVACY_NOTICE` (short PIPL notice).

:func:`check_text` returns a :class:`Violation` for each problem in an outgoing
reply:

1. ``promise`` – promises of approval, speed or the lowest rate (保证通过, 包过,
   百分百, 秒批, 最低利率, 无视征信 …). A negation or reporting word a few
   characters before the phrase in the same clause (不/无法/不能/不会/绝不/没有/
   声称 …) or quoting the phrase (“包过”) makes it a mention, not a promise.
2. ``rate_not_annualised`` – a percentage near 利率/利息/费率/息费/罚息 in a text
   that never says 年化; ``periodic_rate_prominent`` – a daily or monthly rate
   (日利率/月利率/日息/月息/万分之 …) that appears before the first 年化 mention
   or in a text without one (PBOC 〔2021〕第3号: the annualised rate must be the
   most prominent).
3. ``personal_data`` – a full ID number, mobile number, bank card number or a
   one-time code (detected by :func:`credit.masking.find_pii`; the hotline
   400-xxx-xxxx and SQ application numbers are not personal data). The detail
   only ever shows the masked value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from credit.catalogue import load_catalogue
from credit.masking import BANK_CARD, ID_NUMBER, MOBILE, OTP, find_pii

RULE_PROMISE = "promise"
RULE_RATE_NOT_ANNUALISED = "rate_not_annualised"
RULE_PERIODIC_RATE_PROMINENT = "periodic_rate_prominent"
RULE_PERSONAL_DATA = "personal_data"

_HOTLINE = load_catalogue().hotline.number

RATE_DISCLAIMER = (
    "温馨提示：以上利率均为年化利率(单利)，已包含利息和全部费用，最终利率以审批结果和合同约定为准。"
    "放款前我们不会以任何名义向您收取费用。请根据自身收入和还款能力合理借款，按时还款，珍惜信用。"
)

FRAUD_WARNING = (
    "防骗提醒：我们在放款前不会以保证金、解冻费、刷流水、验资等任何名义收费，"
    "也不会让您转账到个人账户或索要短信验证码、银行卡密码。"
    "凡是声称“包过”“无视征信”“内部渠道提额”的，都是诈骗。"
    f"如有疑问请拨打官方客服热线 {_HOTLINE} 核实；如已转账，请立即拨打 110 报警或 96110 反诈专线。"
)

# Short forms for the phone, where long notices are read aloud: same content, fewer words.
RATE_DISCLAIMER_VOICE = "以上都是年化利率，包含全部费用，最终以审批和合同为准；放款前我们不收任何费用，请量力借款。"
PRIVACY_NOTICE_VOICE = "温馨提示：核实身份只需要身份证或手机号后四位，请不要说出完整证件号、卡号、密码或验证码。"

PRIVACY_NOTICE = (
    "隐私提示：为核实身份，我们只会请您提供身份证号后4位或手机号后4位等必要信息，"
    "依照《个人信息保护法》加密保存，仅用于本次服务，不会提供给无关第三方。"
    "请不要在对话中发送完整的身份证号、银行卡号、密码或验证码。"
    "您可以随时联系我们查询、更正或删除您的个人信息。"
)


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str
    span: tuple[int, int] = (0, 0)


# --- rule 1: promises -------------------------------------------------------

_PROMISE = re.compile(
    "|".join([
        # 保证 + an outcome in the same clause (保证金/保证人 are not promises)
        r"保证(?!金|人|担保|保险|责任|期间|合同)[^，。！？；,.!?;、\n]{0,6}?"
        r"(?:通过|下款|放款|批|到账|成功|贷到|借到|拿到|能贷|可贷|额度|最低)",
        r"包过", r"包下款", r"包批", r"必过", r"必下款", r"必批", r"稳过", r"稳下",
        r"百分百", r"百分之百", r"100\s*[%％]", r"十拿九稳",
        r"秒批", r"秒到", r"秒下", r"秒放", r"秒过", r"当天必下", r"立等可取",
        r"一定(?:能|会|可以)?(?:批|通过|下款|放款|贷到|借到)",
        r"肯定(?:能|会|可以)?(?:批|通过|下款|放款|贷到|借到)",
        r"最低利率", r"利率最低", r"全网最低", r"最低息", r"利息最低", r"费率最低",
        r"零门槛", r"无门槛", r"无视征信", r"不看征信", r"不查征信", r"征信不好也能",
        r"黑户(?:也)?(?:可|能)(?:贷|借|批)", r"白户秒", r"免审(?:核|批)", r"无需审核",
    ])
)

# a word that turns the following phrase into a denial or a quoted claim
_NEGATION = re.compile(
    r"不(?!少|错|仅|但|久|过|管|论|断|停|如|然|光|只|止|同)|无法|没有|没法|并非|绝非|"
    r"未|(?<![特区类级分告识性个])别|勿|拒绝|禁止|严禁|谨防|警惕|当心|小心|"
    r"声称|号称|谎称|宣称|所谓|冒充|假称"
)
_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
_OPEN_QUOTES = "“「『\"'‘《"
_CLOSE_QUOTES = "”」』\"'’》"
_NEGATION_WINDOW = 6


def _negated_or_quoted(text: str, start: int, end: int) -> bool:
    if start > 0 and end < len(text) and text[start - 1] in _OPEN_QUOTES \
            and text[end] in _CLOSE_QUOTES:
        return True
    window = text[max(0, start - _NEGATION_WINDOW):start]
    clause_breaks = list(_CLAUSE_END.finditer(window))
    if clause_breaks:
        window = window[clause_breaks[-1].end():]
    return bool(_NEGATION.search(window))


def _check_promises(text: str) -> list[Violation]:
    out = []
    for m in _PROMISE.finditer(text):
        if _negated_or_quoted(text, m.start(), m.end()):
            continue
        out.append(Violation(
            RULE_PROMISE,
            f"承诺审批结果、放款速度或最低利率：“{m.group(0)}”。审批结果以综合评估为准，不得作出承诺。",
            m.span(),
        ))
    return out


# --- rule 2: rates -----------------------------------------------------------

_PERCENT = re.compile(
    r"\d+(?:\.\d+)?\s*[%％]|百分之[零〇一二两三四五六七八九十百点\d.]+|千分之[零〇一二两三四五六七八九十点\d.]+"
)
_RATE_WORD = re.compile(r"利率|利息|费率|息费|罚息|年息|利费|综合成本")
_RATE_NEAR = 16
_PERIODIC = re.compile(
    r"日利率|月利率|(?<!每)日息|(?<!每)月息|日费率|月费率|万分之|日综合费率|月综合费率"
)
_ANNUAL = "年化"


def _check_rates(text: str) -> list[Violation]:
    out = []
    first_annual = text.find(_ANNUAL)
    if first_annual < 0:
        for m in _PERCENT.finditer(text):
            lo, hi = max(0, m.start() - _RATE_NEAR), min(len(text), m.end() + _RATE_NEAR)
            if _RATE_WORD.search(text, lo, hi):
                out.append(Violation(
                    RULE_RATE_NOT_ANNUALISED,
                    f"展示了利率或费用比例“{m.group(0)}”但全文没有年化利率，"
                    "须以年化利率(单利)展示（如：年化利率(单利) 7.2%–23.9%）。",
                    m.span(),
                ))
                break
    for m in _PERIODIC.finditer(text):
        if first_annual < 0 or m.start() < first_annual:
            out.append(Violation(
                RULE_PERIODIC_RATE_PROMINENT,
                f"“{m.group(0)}”出现在年化利率之前或全文没有年化利率；"
                "日利率、月利率不得比年化利率更醒目，请先展示年化利率(单利)。",
                m.span(),
            ))
            break
    return out


# --- rule 3: personal data ---------------------------------------------------

_PII_NAMES = {ID_NUMBER: "身份证号", MOBILE: "手机号", BANK_CARD: "银行卡号", OTP: "验证码"}


def _check_personal_data(text: str) -> list[Violation]:
    return [
        Violation(
            RULE_PERSONAL_DATA,
            f"包含完整的{_PII_NAMES[m.kind]}（{m.masked}），请脱敏后再展示。",
            (m.start, m.end),
        )
        for m in find_pii(text)
    ]


def check_text(text: str) -> list[Violation]:
    """All compliance violations in ``text`` (empty list = compliant), in rule order."""
    if not text:
        return []
    return _check_promises(text) + _check_rates(text) + _check_personal_data(text)


def is_compliant(text: str) -> bool:
    return not check_text(text)
