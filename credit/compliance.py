"""Compliance texts and the reply checker.

Texts: :data:`RATE_DISCLAIMER` (shown with every rate), :data:`FRAUD_WARNING`,
:data:`PRIVACY_NOTICE` (the full PIPL notice, on request) and :data:`PRIVACY_NOTICE_SHORT` (opens a
conversation).

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
   one-time code (detected by :func:`credit.text.masking.find_pii`; the hotline
   400-xxx-xxxx and SQ application numbers are not personal data). The detail
   only ever shows the masked value.
4. ``inducement`` – urging to borrow (more, now): 借越多越划算, 赶紧借, 不借就没了,
   多借点, 手慢无 … (negated or quoted: a mention).
5. ``fee_contradiction`` – "no fee at all" where the catalogue has one (the
   prepayment fee of 随心借/小微周转贷, penalty interest): 无任何费用, 免手续费,
   零费用 … unless the sentence scopes it to what is truly free (before payout,
   applying, cancelling, the settlement certificate), states a condition (满 N 期后),
   or names only products without a prepayment fee.
6. ``threat`` – threats or shaming (overdue texts above all): contacting family,
   colleagues or the address book, 上门, 曝光, 坐牢, 老赖, 后果自负 … (a denial such as
   "不会联系您的家人" is a reassurance, not a threat).
7. ``offer_without_total`` – an alternative offer (another amount or term) with a
   monthly payment but without its total interest: a longer term costs more in total.

Rules 4-7 came with the conversation issue; like the others, they only ever get stricter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from credit.catalogue.loader import load_catalogue
from credit.text.masking import BANK_CARD, ID_NUMBER, MOBILE, OTP, find_pii

RULE_PROMISE = "promise"
RULE_RATE_NOT_ANNUALISED = "rate_not_annualised"
RULE_PERIODIC_RATE_PROMINENT = "periodic_rate_prominent"
RULE_PERSONAL_DATA = "personal_data"
RULE_INDUCEMENT = "inducement"
RULE_FEE_CONTRADICTION = "fee_contradiction"
RULE_THREAT = "threat"
RULE_OFFER_WITHOUT_TOTAL = "offer_without_total"

# What each rule is called where people read it (the ops console, the audit, hand-off summaries).
RULE_LABELS = {
    RULE_PROMISE: "承诺审批结果或最低利率",
    RULE_RATE_NOT_ANNUALISED: "利率未以年化展示",
    RULE_PERIODIC_RATE_PROMINENT: "日/月利率比年化利率醒目",
    RULE_PERSONAL_DATA: "未脱敏的个人信息",
    RULE_INDUCEMENT: "诱导借款",
    RULE_FEE_CONTRADICTION: "隐瞒或否认费用",
    RULE_THREAT: "威胁或羞辱",
    RULE_OFFER_WITHOUT_TOTAL: "方案未写总利息",
}

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
FRAUD_WARNING_VOICE = ("请您当心：我们放款前不会以保证金、解冻费、刷流水、验资等任何名义收费，"
                       "要您先交钱或转账到个人账户的都是诈骗，也请不要说出验证码和密码。")

# The full notice: shown on request ("隐私", "你们怎么用我的信息") and on the web chat page.
PRIVACY_NOTICE = (
    "隐私说明：为核实身份，我们只会请您提供身份证号后4位或手机号后4位等必要信息；"
    "您主动告诉我们的借款用途、收入、每月还款和在其他平台的借款情况，会作为风险评估的参考记录下来。"
    "这些信息依照《个人信息保护法》加密保存、到期删除，仅用于为您提供本次服务和风险评估，不会提供给无关第三方。"
    "请不要在对话中发送完整的身份证号、银行卡号、密码或验证码。"
    "您可以随时联系我们查询、更正或删除您的个人信息。"
)

# The short, warm line that opens a conversation (the full notice is one word away).
PRIVACY_NOTICE_SHORT = (
    "隐私提示：您好，核实身份只需要证件或手机号后4位，信息加密保存、仅用于本次服务。"
    "想看完整的隐私说明，回复“隐私”即可。"
)

_PRIVACY_REQUEST = re.compile(r"隐私|个人信息(?:.{0,6})(?:用|保护|保存|删除|安全|泄露)|信息(?:会不会|会)泄露|信息安全|"
                              r"(?:泄露|出卖|卖掉|保护|使用)(?:我的|我们的)?个人信息")


def asks_for_privacy_notice(text: str) -> bool:
    """"隐私", "你们会泄露我的个人信息吗": the customer asks how their data is handled."""
    return bool(_PRIVACY_REQUEST.search(text or ""))


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


def _excused(text: str, start: int, end: int, words: re.Pattern) -> bool:
    """Quoted, or one of ``words`` a few characters before, in the same clause."""
    if start > 0 and end < len(text) and text[start - 1] in _OPEN_QUOTES \
            and text[end] in _CLOSE_QUOTES:
        return True
    window = text[max(0, start - _NEGATION_WINDOW):start]
    clause_breaks = list(_CLAUSE_END.finditer(window))
    if clause_breaks:
        window = window[clause_breaks[-1].end():]
    return bool(words.search(window))


def _negated_or_quoted(text: str, start: int, end: int) -> bool:
    return _excused(text, start, end, _NEGATION)


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


# --- rules 4 and 6: inducement, threats (negated or quoted: a mention) ----------

_INDUCEMENT = re.compile("|".join([
    r"借(?:得)?越多越(?:划算|好|省|值)", r"多借(?:点|一些|些)", r"(?:赶紧|赶快|抓紧|马上|快)(?:来)?(?:借|申请|下单)",
    r"不借(?:就)?(?:没了|亏了|白不借)", r"错过(?:就)?(?:没了|不再)", r"手慢无", r"先到先得",
    r"限时(?:放款|借款|特惠|优惠)",
    r"额度(?:不用|不借)(?:就)?(?:浪费|白不用|作废)", r"趁(?:着)?额度还在", r"(?:机会|名额)难得", r"借了再说",
    r"能借多少借多少", r"借满(?:额度)?(?:更|才)划算",
]))
_THREAT = re.compile("|".join([
    r"(?:通知|联系|告诉|打给|找)(?:你|您)?(?:的)?(?:家人|家里人|亲友|亲戚|朋友|同事|领导|单位|公司|通讯录|紧急联系人)",
    r"爆(?:你的?)?通讯录", r"上门(?:催收|催款|找你|拜访)", r"曝光", r"坐牢", r"拘留", r"抓(?:你|人)", r"判刑",
    r"老赖", r"后果自负", r"让你好看", r"走着瞧", r"丢人", r"不要脸", r"骗子", r"全网通报", r"公开(?:你|您)的",
]))


_WHY_INDUCEMENT = "诱导借款（多借、快借、不借就亏），请让客户按需、量力借款。"
_WHY_THREAT = "威胁、恐吓或羞辱客户，催收与提醒必须文明、如实。"


# a threat is only excused by a denial right before it ("不会联系您的家人"); a bare 不 is
# usually the debt itself ("再不还款就…", "欠钱不还要坐牢")
_DENIAL = re.compile(r"不会|不得|绝不|决不|从不|并不|不能|不可|禁止|严禁|不允许|没有|拒绝|谨防|警惕|冒充|声称|谎称")


def _denied_or_quoted(text: str, start: int, end: int) -> bool:
    return _excused(text, start, end, _DENIAL)


def _pattern_violations(text: str, pattern: re.Pattern, rule: str, why: str,
                        excused: Callable[[str, int, int], bool] = _negated_or_quoted) -> list[Violation]:
    return [Violation(rule, f"“{m.group(0)}”：{why}", m.span()) for m in pattern.finditer(text)
            if not excused(text, m.start(), m.end())]


# --- rule 5: a fee statement that contradicts the catalogue -------------------

_FEE_FREE = re.compile(
    r"(?:无|没有|不收|不收取|不产生|不会产生|免|免收|免除)(?:任何)?(?:其他)?(?:手续费|费用|违约金|罚息)|"
    r"零(?:手续)?费用?|全程免费|完全免费|全部免费|一律免费")
_SENTENCE = re.compile(r"[^。！？!?\n]*")
# a sentence about what truly costs nothing, or with a condition (满 3 期后免手续费)
_FEE_SCOPE = re.compile(r"放款前|申请|审批|取消|结清证明|咨询|查询|宽限期|满\s*\d|满[一二三四五六七八九十]|"
                        r"之后|以后|不足|前\s*\d|以上")


def _fee_free_products() -> tuple[str, ...]:
    cat = load_catalogue()
    return tuple(name for p in cat.products if not p.prepayment.fee_rate for name in p.names)


def _check_fees(text: str) -> list[Violation]:
    out = []
    free_names = _fee_free_products()
    for m in _FEE_FREE.finditer(text):
        start = text.rfind("。", 0, m.start()) + 1
        end_match = _SENTENCE.match(text, m.start())
        sentence = text[start:end_match.end() if end_match else len(text)]
        if _FEE_SCOPE.search(sentence):
            continue
        if any(name in sentence for name in free_names):
            continue
        out.append(Violation(
            RULE_FEE_CONTRADICTION,
            f"“{m.group(0)}”与产品目录不符：部分产品提前还款收手续费，逾期收罚息；请写明适用范围或列出全部费用。",
            m.span()))
    return out


# --- rule 7: an alternative offer without its total interest ------------------

_OFFER_CUE = re.compile(r"改(?:成|为|借|分)|换成|少借|降到|降低到|延长到|缩短到|调整(?:为|到)|"
                        r"也可以(?:分|借)|或者(?:分|借)|可以考虑|不妨(?:分|借)")
_MONTHLY = re.compile(r"每月(?:还|应还|约还|大约还)")
_TOTAL = re.compile(r"总利息|利息(?:共|一共|合计|总额)|一共(?:要)?(?:多)?付利息")


def _check_offers(text: str) -> list[Violation]:
    cue = _OFFER_CUE.search(text)
    if cue and _MONTHLY.search(text) and not _TOTAL.search(text):
        return [Violation(RULE_OFFER_WITHOUT_TOTAL,
                          f"给出了其他金额或期限的方案（“{cue.group(0)}”）和月供，却没有写总利息：期限越长总利息越多，须一并说明。",
                          cue.span())]
    return []


def check_text(text: str) -> list[Violation]:
    """All compliance violations in ``text`` (empty list = compliant), in rule order."""
    if not text:
        return []
    return (_check_promises(text) + _check_rates(text) + _check_personal_data(text)
            + _pattern_violations(text, _INDUCEMENT, RULE_INDUCEMENT, _WHY_INDUCEMENT)
            + _check_fees(text)
            + _pattern_violations(text, _THREAT, RULE_THREAT, _WHY_THREAT, _denied_or_quoted)
            + _check_offers(text))


def is_compliant(text: str) -> bool:
    return not check_text(text)
