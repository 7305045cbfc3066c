"""One reading of each customer turn, against the conversation state (its topic and the last offer).

Every answer asks :func:`resolve` what the turn means instead of re-reading the raw text with keyword checks of
its own, so the rate action, the topic answers, the forms and the fallback all see the same reading.  The reading
never depends on Rasa: the glue passes the text, the classified intent, the state and the active form.

Kinds, in the order they are tried (the first that applies wins):

* trust questions: ``full_number`` (a whole ID or card number sent), ``all_fees`` ("除了利息还有别的费用吗"),
  ``usury`` ("跟高利贷有什么区别"), ``credit_repair`` ("花钱删逾期记录"), ``third_party``
  ("会打给我家人吗"), ``scammed`` ("交了保证金才发现被骗"),
  ``fraud_report`` ("有人冒充你们让我先交钱"), ``data_safety`` ("会不会泄露我的信息"),
  ``legitimacy`` ("你们正规吗");
* codes and forms: ``stray_code`` (a code nobody asked for), ``otp_not_sent`` ("验证码没收到" when none was
  sent), ``id_unavailable`` ("身份证没带"), ``id_format`` ("编号是SQ开头那个吗"), ``stop_and_ask`` (a form given up
  for a question), ``after_cancel`` ("取消了还能再借吗");
* detours inside a form: ``why_verify`` ("为什么要身份证后四位"), ``x_digit`` (how to type an X),
  ``otp_missing`` ("没收到验证码"),
  ``not_applied`` ("还没申请呢"), ``lost_application_id`` ("申请号找不到了"), ``complaint_time`` ("多久给我答复",
  in the complaint form), ``service_fee`` ("收钱吗", in the loan form: what the service costs);
* ``closing``: a hesitation or a close ("我再想想", "先这样", "没事了") with no question in it;
* questions answered on the customer's own facts: ``overdue_days``, ``stated_penalty`` / ``stated_example`` /
  ``stated_methods`` (a rate of their own loan with its figures: computed at that rate), ``remaining`` (principal
  left after the periods repaid), ``payoff_month``, ``periods_fee``,
  ``other_rate``, ``methods_compared``, ``age`` (an age with an eligibility question), ``affordability`` (income and
  amount), ``capacity`` (income, debts);
* everyday questions: ``debit_failed``, ``certificate_delivery``, ``penalty_cap``, ``complaint_time`` (outside the
  form), ``collateral``, ``holiday_due``, ``due_day`` (on the customer's disbursement day), ``service_hours``;
* questions answered before any discovery question: ``grace``, ``shortest_term``, ``longest_term``,
  ``max_amount``, ``min_amount``, ``products``, ``documents``, ``payout_time``,
  ``how_to_apply``, ``rate_question`` (a need with a rate question), ``hotline``;
* follow-ups on the topic: ``police`` ("要不要报警", after a fraud answer), ``impatience`` (after a progress answer),
  ``progress_next`` ("下一步要干啥" "去哪签", after it),
  ``reapply`` (after a decline: again, or why),
  ``method_question`` (a method named as a question: offered or not), ``method_switch`` / ``term_switch`` (after a
  worked example), ``calc`` (the figures known), ``lowest_rate``, ``channels`` (after the hotline),
  ``product_switch`` (a bare product name after
  a rules answer), ``accept_offer`` ("好的/行/算一下" while an offer is open), ``wait`` ("稍等我找一下"), ``figures``
  (an amount or a term alone: the worked example);
* the rate action's own readings: ``rate_complaint`` (a short "太贵了"), ``objection``, ``fee_question``;
* ``none``: the turn carries no reading; the intent's own answer applies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from credit.dialogue.facts import TurnFacts, disbursed_day, read_facts
from credit.dialogue.state import ConversationState
from credit.text.halfwidth import normalize

LEGITIMACY = re.compile(r"正规吗|正规的吗|是正规|持牌|合法吗|合法的吗|靠谱吗|靠不靠谱|是不是骗|骗子吧|骗人的吧|"
                        r"真的假的|可信吗|黑平台|黑网贷|有资质|什么资质|能信吗|可靠吗")
DATA_SAFETY = re.compile(r"泄露|泄漏|卖.{0,4}信息|(?:资料|信息|数据|照片)[^。？?]{0,10}卖|卖给别|"
                         r"信息安全|个人信息.{0,6}(?:安全|用来|干什么|怎么用)|"
                         r"隐私.{0,4}(?:安全|保护)")
WHY_VERIFY = re.compile(r"(?:为什么|为啥|干嘛|干什么|凭什么|非要|一定要|还要)[^，。？?]{0,8}"
                        r"(?:申请号|编号|身份证|后四位|后4位|验证码|核实|验证|身份)")
OTP_MISSING = re.compile(r"(?:没收到|收不到|没有收到|没来|还没到|没看到|没有短信|没短信)[^，。？?]{0,6}"
                         r"(?:验证码|短信|码)?|验证码[^，。？?]{0,4}(?:没收到|收不到|没来|没到|过期)")
SCAMMED = re.compile(r"已经转|转了|转过去|打了钱|付了|交了|汇了|被骗|上当|打过去")
FRAUD_CONTEXT = re.compile(r"骗|保证金|解冻|刷流水|验资|手续费|好处费|包过|内部|陌生|冒充|假的|自称")
# "我查一下" is the customer going to look; "帮我查一下" asks us to
WAIT = re.compile(r"稍等|等一下|等下|等会|(?<![帮给替请])我(?:找一下|找找|看一下|去看看|查一下)|马上发|找一找")
NOT_APPLIED = re.compile(r"还没申请|没申请|还没有申请|没有申请|没提交|还没提交|没办过|还没借")
SOMEONE = re.compile(r"有人|对方|那人|那个人|一个人|陌生|自称|冒充|加我|打电话给我|给我打|发短信|短信说|微信|QQ|群里")
FRAUD_REPORT = re.compile(r"冒充|诈骗|骗子|假客服|假冒|自称|(?:让|要|叫)我(?:先)?(?:交|转|付|打款)")
USURY = re.compile(r"高利贷|放贷的|黑贷|套路贷|砍头息|抢钱有|跟抢钱|和抢钱|吸血")
CREDIT_REPAIR = re.compile(r"(?:删|消除|消掉|抹掉|洗白|修复|清除|撤销|去掉|弄掉|改掉|处理掉)[^，。？?]{0,8}"
                           r"(?:记录|征信|逾期|污点)|(?:征信|逾期记录|不良记录)[^，。？?]{0,8}"
                           r"(?:删|消除|消掉|抹掉|洗白|修复|清除|撤销|去掉|弄掉|改掉)|征信修复|洗征信")
THIRD_PARTY = re.compile(r"(?:打|联系|通知|找|告诉|骚扰|爆|催)[^，。？?]{0,6}"
                         r"(?:家人|家里|父母|爸妈|老婆|老公|亲戚|朋友|同事|单位|领导|公司|紧急联系人|联系人|通讯录)|"
                         r"(?:家人|家里|父母|爸妈|亲戚|朋友|同事|单位|领导|紧急联系人|联系人|通讯录)[^，。？?]{0,8}"
                         r"(?:知道|被打|接到|收到|会不会|联系|催|打给|打电话|找他|找她)|爆通讯录|电话轰炸|被轰炸|天天打电话|天天被打|"
                         r"催收.{0,10}(?:暴力|粗暴|骂|威胁|恐吓|凶|吓人|骚扰)|暴力催收")
# "没有" is lost only with the number named or said alone: "批下来没有" asks whether it was approved
LOST_ID = re.compile(r"(?:找不到|忘了|忘记|不记得|记不住|记不清|丢了|不知道|查不到|删了)[^，。？?]{0,6}"
                     r"(?:申请号|编号|单号|申请编号|号码)?|没有[^，。？?]{0,6}(?:申请号|编号|单号|申请编号|号码)|"
                     r"^\s*(?:我)?没有(?:啊|呀|哦|诶|欸)?\s*$|(?:申请号|编号|单号)[^，。？?]{0,6}"
                     r"(?:找不到|忘了|忘记|不记得|没有|丢了|不知道|在哪)")
CLOSING = re.compile(r"回去准备|准备准备|先准备一下|准备好了再|"
                     r"商量一下|商量商量|等通知|等消息|改天吧|今天没空|现在没空|不用了谢谢|不用了，谢谢|谢谢不用|"
                     r"再想想|想一想|想想再说|再考虑|考虑一下|考虑考虑|先这样|就这样吧|没事了|没别的|没有别的|"
                     r"没其他|没有其他|回头再|改天再|以后再说|暂时不用|暂时不需要|先不用|先不了|算了吧|就这些|"
                     r"不打扰了|我先看看|再看看|再说吧|^算了|不投诉了|不用投诉|不投了|不借了吧|先不借|"
                     r"不聊了|不聊啦|先不问了|不问了|下次再问|先撤了|先忙了|先去忙|用不上了|暂时用不上|用不着了|"
                     r"暂时不要了|不需要了|再看吧|再看看吧|等发了?工资|等.{1,8}再(?:看|说|来|申请|借)|"
                     r"莫得事|没得事|就这样嘛|晓得了|知道了")
QUESTION = re.compile(r"[?？吗呢么]|多少|几|怎么|什么|哪|能不能|可不可以|是否|要不要|会不会|是不是|有没有|用不用|"
                      r"需不需要|算不算|咋")
PAYOUT_TIME = re.compile(r"多久到账|多久能到|多久放款|几天到账|多久下款|多久能拿到|多快|什么时候到账|几天能放|"
                         r"多长时间到账|当天能到|今天能到|马上能到|多久能批|多久审批|审批要多久|多久出结果")
MAX_AMOUNT = re.compile(r"额度范围|金额范围|借款范围|能借的范围|"
                        r"最多[能可]?借|最高[能可]?借|能借多少|可以借多少|额度最高|最高额度|最多多少|上限多少|能贷多少")
MONTHLY = re.compile(r"(?:每个?月|一个月|月供)[^，。？?]{0,4}(?:还|供|要还|得还|是)?[^，。？?]{0,2}多少|"
                     r"每月还多少|每个月还多少|月供多少|月供是多少|每月多少|每个月多少|一个月还多少|"
                     r"总共.{0,4}利息|利息一共|总利息")
WANTS = re.compile(r"想借|要借|借点|借些|借一笔|想贷|想办|贷款|缺钱|用钱|周转|买车|装修|开店|进货")
RATE_Q = re.compile(r"利息|利率|年化|多少钱利息|费用|手续费|贵不贵|划算吗")
HOW_TO_APPLY = re.compile(r"怎么申请|如何申请|在哪申请|在哪里申请|怎么办理|如何办理|申请流程|怎么借|在哪借|从哪申请")
DECLINE_WHY = re.compile(r"为什么|为啥|原因|怎么回事|凭什么|哪里不行|怎么没")
HOTLINE = re.compile(r"热线|客服电话|电话号码|人工电话|官方电话|号码|电话多少|打什么电话|联系电话")
LONGEST = re.compile(r"最长|最多[能可]?分|最久|能分多久|可以分多久|分多久|最多几期|能分几期|可以分几期|分多少期|"
                     r"期限多长|多长时间还")
APPROVAL = re.compile(r"够格|有资格|符合条件|够条件|批得下|"
                      r"能批|能过|批吗|能借到|借得到|能下|可以借吗|能借吗|批不批|过不过|会通过|能通过|"
                      r"够不够|还得起|压力")
CAN_APPLY = re.compile(r"还能|能借|能贷|能申请|可以借|可以申请|可以贷|符合|够不够|超龄|年龄|岁数|太大|限制")
METHODS_DIFF = re.compile(r"差多少|差别|区别|哪个|哪种|对比|比较|比一比|比一下|划算|更省|省多少|不同")
IMPATIENCE = re.compile(r"怎么还|还没|还在|这么慢|太慢|好慢|多久|什么时候|啥时候|快点|催|急|等了|一直|到底")
NEXT_STEP = re.compile(r"下一步|接下来|然后呢|然后我|要干啥|要干嘛|要做什么|要做啥|该做什么|该干啥|该怎么办|我该怎么|"
                       r"需要我做|要我做|我要怎么|怎么弄|怎么操作|还要做|还需要做|"
                       r"(?:去|在|到)?哪(?:里|儿)?(?:签|弄|办|看|上传|补|传|确认)|怎么签|怎么上传|怎么补|在哪签|去哪签")
REAPPLY = re.compile(r"以后|还能|再申请|重新申请|下次|再试|多久能|什么时候能|还可以")
ACCEPT = re.compile(r"^(?:好|好的|好啊|好吧|行|行吧|可以|嗯|嗯嗯|要|要的|需要|来吧|麻烦了?|ok|OK|是的|对)"
                    r"|算一下|算算|算一算|帮我算|给我算|试算|算下|算一个|那就算")
SWITCH = re.compile(r"换成|改成|改为|换为|用|按|那|如果|要是|呢")
OBJECTION = re.compile(r"太高|太贵|贵了|高了|好贵|真贵|贵死|不便宜|别家才|人家才|别的平台才|其他平台才|"
                       r"便宜点|能不能低|能便宜|利息高|利率高|坑人|吃人|太黑|黑心|离谱|抢钱|宰人|不划算|吓人|"
                       r"高得|高死|这么高|那么高|真高|好高")
RATE_WORDS = re.compile(r"利息|利率|息|费|贵|年化|价")
FEE_WORDS = ("手续费", "服务费", "管理费", "费用", "收费", "扣费", "砍头", "先扣", "违约金", "罚息", "额外")
PENALTY = re.compile(r"罚息|逾期")
FULL_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{16,19})(?![0-9])|[0-9]{3,6}\*{6,}[0-9]{3,4}")
ALL_FEES = re.compile(r"(?:别的|其他|其它|额外|隐藏|乱七八糟|另外|还有没有|还有啥|还有什么)[^，。？?]{0,6}费|除了利息|"
                      r"费用[^，。？?]{0,4}(?:全|都有|有哪些|包括)|有没有隐形|隐形(?:消费|收费|费用)")
X_DIGIT = re.compile(r"(?:最后一位|末位|尾号|最后一个).{0,4}(?:[Xx叉]|字母)|"
                     r"[Xx叉].{0,4}(?:怎么|咋|如何)(?:输|填|打|写)")
COMPLAINT_TIME = re.compile(r"(?:多久|多长时间|什么时候|啥时候|几天|多少天|要多久|多快)[^，。？?]{0,6}"
                            r"(?:答复|回复|回电|处理|结果|解决|联系|回我|给我|回应|说法)|"
                            r"(?:答复|回复|回电|处理|结果|解决|回应|说法)[^，。？?]{0,4}(?:多久|多长时间|什么时候|啥时候|几天)")
SERVICE_FEE = re.compile(r"收钱|收费|要钱|花钱|免费|付费|多少钱|费用吗|要费用|有费用|收不收|要不要钱|给钱|交钱|交费|"
                         r"扣钱")
GRACE = re.compile(r"宽限")
OTHER_KEY = re.compile(r"(?:手机号?|电话号?|身份证号?|名字|姓名)[^，。？?]{0,4}(?:能|可以|行)?(?:查|找|核实)")
PRODUCT_NEEDS = re.compile(r"申请条件|什么条件|啥条件|哪些条件|要求是|有什么要求|门槛|要什么材料|要啥材料|需要什么材料|"
                           r"准备什么|准备哪些|要准备|需要哪些资料|要哪些资料|什么资料|啥资料")
SHORTEST = re.compile(r"最短|最少[能可]?分|最少几期|最少分几期|最少多久|最短多久")
MIN_AMOUNT = re.compile(r"最少[能可]?借|最低[能可]?借|起借|最少借多少|最少要借|最低额度|最少能贷|最少[能可]?贷")
LOWEST = re.compile(r"最低|最便宜|最少的利")
PRODUCTS = re.compile(r"(?:有啥|有什么|有哪些|哪几种|几种|都有啥|都有什么|有哪几款|有几款)(?:样的)?(?:贷款|借款)?"
                      r"(?:产品|贷款|业务)|产品有哪些|产品都有|产品介绍")
DOC = re.compile(r"房产证|房本|不动产|营业执照|执照|流水")
DOC_ASK = re.compile(r"没有|没|无|缺|办不了|拿不出|不够|才办|刚办|不满|[?？吗呢么]|想借|想贷|要借|"
                     r"能申请|可以申请|能借|能贷|行不行|几个月|多久")
CALC = re.compile(r"算一下|算算|算一算|帮我算|给我算|试算|算下")
CHANNELS = re.compile(r"打不通|没人接|占线|别的渠道|其他渠道|别的方式|其他方式|别的联系|还有什么渠道|别的办法联系")
METHOD_ASK = re.compile(r"[?？吗呢么]|不行|能选|可以选|能不能|可不可以|支持|有没有|可以|能用|能做|行不|不$|"
                        r"咋还|怎么还|是什么|啥意思|怎么算|是啥|什么意思")
TWO_METHODS = re.compile(r"两种|两个方式|两种方式|分别|各要|各是|各多少|哪种(?:方式)?(?:更)?(?:便宜|省|划算)")
REMAINING = re.compile(r"剩多少本金|剩余本金|剩下的?本金|还剩多少|还欠多少|还差多少没还|剩下多少|本金还有多少")
# a code sent on its own ("552211" "验证码是552211") when no form asked for one
STRAY_CODE = re.compile(r"^\s*(?:验证码|短信码|code)?\s*(?:是|为|:|：)?\s*[0-9]{6}\s*$", re.IGNORECASE)
# "我是29号放的款 每个月哪天还": the repayment day (on the customer's disbursement day, if said)
DUE_DAY = re.compile(r"哪天还|哪一天还|几号还|几号扣|哪天扣|还款日是哪|还款日是几|还款日在哪|还款日哪|每月几号|"
                     r"每个月几号|什么时候还款|每月哪天|每个月哪天|还款日期")
HOLIDAY = re.compile(r"放假|节假日|假期|过年|春节|国庆|五一|十一|中秋|元旦|周末|休息日")
DUE_WORDS = re.compile(r"还款日|还款|还钱|扣款|扣钱|到期")
PREPAY_WORDS = re.compile(r"提前还|提前结清|一次性还清|提前还清")
# "过年放假也有人吗" "晚上几点还有人工": when a person answers
HOURS = re.compile(r"(?:放假|节假日|假期|过年|春节|国庆|五一|周末|晚上|半夜|夜里|几点|上班|下班)[^，。？?]{0,8}"
                   r"(?:有人|人工|客服|上班|服务|在吗|在不在|营业|值班|能打|能找|能联系)|"
                   r"(?:人工|客服)[^，。？?]{0,6}(?:几点|上班|下班|放假|休息|节假日|周末|过年)")
DEBIT_FAILED = re.compile(r"(?:扣款|扣费|自动扣|代扣|扣钱)[^，。？?]{0,4}"
                          r"(?:失败|没成功|不成功|没扣|扣不了|扣不上|没扣上)|"
                          r"没扣成功|扣款失败|没有扣款|没扣款|没扣走|没扣掉")
# "算了先不投了 问一下罚息怎么收": the form given up, and a question asked instead
STOP_FORM = re.compile(r"^算了|算了[，, ]|不投了|不投诉了|先不投|不用投诉|先不办|不取消了|先不取消|不查了|先不查|"
                       r"不开了|先不开")
AFTER_CANCEL = re.compile(r"(?:取消|撤)[^，。？?]{0,6}"
                          r"(?:扣钱|收费|费用|要钱|花钱|违约金|手续费|赔钱|还能|再申请|重新申请|再借)|"
                          r"(?:扣钱|收费|费用|要钱|违约金|手续费)[^，。？?]{0,4}(?:取消|撤)")
# the settlement certificate: how long it takes, the paper copy ("结清证明多久能开出来" "要纸质盖章的呢")
CERTIFICATE = re.compile(r"结清证明|结请证明|结清证|结清单|还清证明|证明")
CERTIFICATE_ASK = re.compile(r"多久|几天|多长时间|什么时候|啥时候|多快|纸质|盖章|公章|邮寄|寄给|电子版|要钱|收费|免费")
PAPER_COPY = re.compile(r"纸质|盖章|公章|邮寄|寄给|寄到")
ID_WORDS = re.compile(r"SQ|编号|申请号|单号|哪个号|什么号", re.IGNORECASE)
PENALTY_CAP = re.compile(r"罚[^，。？?]{0,4}(?:最高|最多|上限|封顶|顶天)|(?:最高|最多|上限|封顶|顶天)[^，。？?]{0,4}罚")
COLLATERAL = re.compile(r"抵押|担保|押房|押车|押证")
# "身份证没带 后四位记不清了": the digits cannot be given now
ID_UNAVAILABLE = re.compile(r"(?:身份证|证件|后四位|后4位)[^。？?]{0,8}"
                            r"(?:没带|不在身边|不在身上|记不清|忘了|不记得|找不到|想不起)")
POLICE = re.compile(r"报警|报案|110|96110|找警察")
# closings only when said (nearly) alone
WEAK_CLOSING = re.compile(r"知道了|晓得了|用不上了|暂时用不上|用不着了|不需要了|莫得事了?|没得事了?")
_FILLER = re.compile(r"谢谢|多谢|好的|好|啊|了|嘛|哈|哦|嗯|呀|吧|那|[，,。！!\s]")
FORM_SLOTS_WITH_IDS = ("application_id",)
RULES_TOPICS = ("prepayment", "rates", "eligibility", "limit", "repayment", "methods", "prepay_example", "terms")


@dataclass(frozen=True)
class Reading:
    kind: str
    facts: TurnFacts = field(default_factory=TurnFacts)
    state: ConversationState = field(default_factory=ConversationState)
    #: the turn's text, normalised (for the answers that quote the customer's own words back as facts)
    text: str = ""

    @property
    def answered_here(self) -> bool:
        """Whether the reading has its own answer (``none`` and the rate action's readings do not)."""
        return self.kind not in ("none", "objection", "fee_question")


def update_state(state: ConversationState, facts: TurnFacts) -> ConversationState:
    """The state after a turn's facts (a fact said now replaces the one said before)."""
    return state.updated(product=facts.product, amount=facts.amount, term=facts.term, method=facts.method,
                         days_overdue=facts.days_overdue, periods_repaid=facts.periods_repaid, income=facts.income,
                         monthly_debt=facts.monthly_debt, purpose=facts.purpose)


def resolve(text: Optional[str], intent: Optional[str], state: ConversationState,
            form: Optional[str] = None, requested_slot: Optional[str] = None) -> Reading:
    """The reading of one turn; ``state`` is the state BEFORE the turn (its topic is the last answer's)."""
    t = normalize(text or "").strip()[:500]
    facts = read_facts(t)
    new = update_state(state, facts)

    def reading(kind: str) -> Reading:
        return Reading(kind, facts, new, t)

    if not t or t.startswith("/"):
        return reading("none")
    for kind in (_trust(t), _form_detour(t, form, requested_slot), _closing(t, facts, intent),
                 _own_facts(t, facts, new, intent), _asked(t, facts, intent), _follow_up(t, facts, state, intent),
                 _rate_reading(t, state)):
        if kind:
            return reading(kind)
    return reading("none")


def _trust(t: str) -> Optional[str]:
    if FULL_NUMBER.search(t):
        return "full_number"  # a whole ID or card number sent: not needed, and never to be sent
    if ALL_FEES.search(t):
        return "all_fees"
    if CREDIT_REPAIR.search(t):
        return "credit_repair"
    if THIRD_PARTY.search(t):
        return "third_party"
    if SCAMMED.search(t) and FRAUD_CONTEXT.search(t):
        return "scammed"  # money already gone: the urgent steps first
    if FRAUD_REPORT.search(t) and FRAUD_CONTEXT.search(t) and SOMEONE.search(t):
        return "fraud_report"  # "有人冒充你们让我先交钱": the fraud answer, not a complaint ticket
    if USURY.search(t):
        return "usury"
    if DATA_SAFETY.search(t):
        return "data_safety"
    if LEGITIMACY.search(t):
        return "legitimacy"
    return None


def _form_detour(t: str, form: Optional[str], requested_slot: Optional[str]) -> Optional[str]:
    if form is None and STRAY_CODE.match(t):
        return "stray_code"  # a code nobody asked for: not needed here, never to be shared
    if form is None and OTP_MISSING.search(t) and "验证码" in t:
        return "otp_not_sent"  # "验证码一直没收到" when no step sent one
    if form and ID_UNAVAILABLE.search(t):
        return "id_unavailable"  # no way to verify now: when they can, and the form ends quietly
    if requested_slot == "application_id" and ID_WORDS.search(t) and QUESTION.search(t) \
            and not re.search(r"SQ\s*\d", t, flags=re.IGNORECASE) and not LOST_ID.search(t):
        return "id_format"  # "编号是SQ开头那个吗": yes, and where it is
    if form and STOP_FORM.search(t) and QUESTION.search(t):
        return "stop_and_ask"  # the form given up, the question answered
    if form == "loan_form" and AFTER_CANCEL.search(t) and QUESTION.search(t):
        return "after_cancel"  # "撤了会扣钱吗" "取消以后还能再申请吗": free, and open to apply again
    if WHY_VERIFY.search(t):
        return "why_verify"
    if X_DIGIT.search(t) and not re.search(r"[0-9]{3}[Xx]", t):
        return "x_digit"  # "身份证最后一位是X怎么输": how to type it
    if requested_slot == "otp_code" and OTP_MISSING.search(t):
        return "otp_missing"
    if form in ("progress_form", "loan_form") and OTHER_KEY.search(t) and QUESTION.search(t):
        return "lost_application_id"  # "用手机号能查吗": where the number is, and the mobile + ID alternative
    if form == "loan_form" and SERVICE_FEE.search(t) and len(t) <= 12:
        return "service_fee"  # "收钱吗" while the form asks for the number: what this service costs, and on
    if form == "complaint_form" and COMPLAINT_TIME.search(t):
        return "complaint_time"  # "投诉多久给我答复": the promised times, and the form goes on
    if form == "progress_form" and NOT_APPLIED.search(t):
        return "not_applied"
    lost = LOST_ID.search(t) and ("号" in t or requested_slot in FORM_SLOTS_WITH_IDS)
    if lost and (form in ("progress_form", "loan_form") or re.search(r"申请号|编号|单号", t)):
        return "lost_application_id" if not re.search(r"SQ\d|[Ss][Qq]\s*\d", t) else None
    return None


def _closing(t: str, facts: TurnFacts, intent: Optional[str]) -> Optional[str]:
    if not CLOSING.search(t) or len(t) > 20:
        return None
    if WEAK_CLOSING.search(t) and len(_FILLER.sub("", CLOSING.sub("", t))) > 2:
        return None  # "知道了你们乱扣费" "用不上了，帮我取消": the rest is what they want
    if QUESTION.search(re.sub(r"再说吧|看看|想想", "", t)) or facts.amount or facts.product:
        return None
    return "closing"


def _own_facts(t: str, facts: TurnFacts, state: ConversationState, intent: Optional[str]) -> Optional[str]:
    if facts.days_overdue is not None and (intent in ("ask_overdue", "ask_repayment", None) or "征信" in t
                                           or "逾期" in t or state.topic == "overdue"):
        return "overdue_days"
    if facts.payoff_month and state.example is not None:
        return "payoff_month"
    if facts.own_rate and facts.other_rate is not None:
        stated = _stated(t, facts, state)
        if stated:
            return stated
    if state.example is not None and REMAINING.search(t):
        return "remaining"  # "还剩多少本金": the example after the periods repaid
    prepay_words = re.search(r"提前|手续费|违约金|还清|结清|一次性|全部还", t)
    if facts.periods_repaid is not None and (intent == "ask_prepayment" or prepay_words
                                             or state.topic in ("prepayment", "prepay_example")):
        return "periods_fee"
    if facts.other_rate is not None:
        # 年化 stays 年化, a monthly or daily figure is converted; a bare one goes to the objection answer (read as
        # monthly there, with the alternatives on the customer's figures)
        return "objection" if facts.other_rate.unit == "unknown" else "other_rate"
    if len({w for w in ("等额本息", "等额本金") if w in t}) == 2 and METHODS_DIFF.search(t):
        return "methods_compared"
    if (state.topic == "methods" or state.topic == "rates" and re.search(r"哪[个种].{0,3}(?:划算|省|便宜)", t)) \
            and METHODS_DIFF.search(t) and len(t) <= 16 and not facts.method:
        return "methods_compared"  # "哪个更划算" after the two methods were explained
    if facts.age and (intent == "ask_eligibility" or APPROVAL.search(t) or CAN_APPLY.search(t)):
        return "age"  # "我今年58了 还能借吗": each product's age range against theirs
    amount = facts.amount or state.amount
    if facts.income and amount and APPROVAL.search(t):
        return "affordability"
    if facts.income and not facts.amount and (MAX_AMOUNT.search(t) or APPROVAL.search(t)):
        return "capacity"  # "月入1万，房贷3000，还能借多少": what the repayments leave room for
    if state.example is not None and MONTHLY.search(t) and len(t) <= 20 and not facts.product:
        return "term_switch"  # "那每个月还多少" after an example: the example, on the figures now known
    return None


def _stated(t: str, facts: TurnFacts, state: ConversationState) -> Optional[str]:
    """A rate of the customer's own loan: the penalty on it, or their figures computed at it."""
    if PENALTY.search(t):
        return "stated_penalty"  # "合同年化20%，罚息是不是30%": the multiplier and its cap
    if not (state.amount and state.term):
        return None
    both = len({w for w in ("等额本息", "等额本金") if w in t}) == 2 or TWO_METHODS.search(t)
    return "stated_methods" if both else "stated_example"


def _asked(t: str, facts: TurnFacts, intent: Optional[str]) -> Optional[str]:
    if DEBIT_FAILED.search(t):
        return "debit_failed"
    if PENALTY_CAP.search(t):
        return "penalty_cap"  # "最高能罚到多少": the multiplier and its cap
    if "投诉" in t and COMPLAINT_TIME.search(t):
        return "complaint_time"  # "投诉了多久能给我处理结果": the promised times, before any ticket
    if COLLATERAL.search(t):
        return "collateral"  # "要抵押吗 要不要担保人": what each product needs (none needs collateral)
    if CERTIFICATE.search(t) and CERTIFICATE_ASK.search(t) or PAPER_COPY.search(t) and len(t) <= 16 and "合同" not in t:
        return "certificate_delivery"  # "纸质合同在哪" asks for the contract, not the payoff certificate
    if HOLIDAY.search(t) and DUE_WORDS.search(t) and not PREPAY_WORDS.search(t):  # "过年能提前还款吗": prepayment
        return "holiday_due"  # "还款日赶上国庆 能晚几天吗": not postponed, and what the grace period means
    if DUE_DAY.search(t) or disbursed_day(t) and re.search(r"哪天|几号|什么时候", t):
        return "due_day"
    if HOURS.search(t):
        return "service_hours"
    if GRACE.search(t):
        return "grace"
    if SHORTEST.search(t):
        return "shortest_term"
    if LONGEST.search(t):
        return "longest_term"
    if MIN_AMOUNT.search(t):
        return "min_amount"  # the lowest amount first
    if PRODUCTS.search(t) and not re.search(r"想借|要借|借点|想贷|想办|缺钱|用钱|周转|买|装修|开店|进货", t) \
            and not facts.purpose:
        return "products"  # a need said with it ("想借钱装修，有什么产品") is asked about first
    if facts.product and PRODUCT_NEEDS.search(t):
        return "product_eligibility"  # "小微周转贷要什么条件": that product's requirements, not the general list
    if DOC.search(t) and DOC_ASK.search(t) and not FRAUD_CONTEXT.search(t):  # "要我刷流水" is fraud
        return "documents"  # "没有房产证怎么办" "营业执照才办了半年能申请吗": what needs it, and the alternatives
    if PAYOUT_TIME.search(t) and not re.search(r"我的|申请号|编号|SQ", t):
        return "payout_time"
    if MAX_AMOUNT.search(t) and not facts.income:
        return "max_amount"
    if HOW_TO_APPLY.search(t):
        return "how_to_apply"
    if WANTS.search(t) and RATE_Q.search(t) and QUESTION.search(t) and intent != "ask_interest_rate":
        return "rate_question"  # "想借3万装修 利息多少": the rate first, not the discovery questions
    if CHANNELS.search(t) and re.search(r"打不通|没人接|占线", t):
        return "channels"
    if HOTLINE.search(t) and not re.search(r"\d{3}|打给我|打来|骚扰|一直打|天天打", t):
        return "hotline"  # "热线号码给我一个" "把客服电话发我": the number, not a transfer
    return None


def _follow_up(t: str, facts: TurnFacts, state: ConversationState, intent: Optional[str]) -> Optional[str]:
    topic = state.topic
    short = len(t) <= 16
    if topic == "fraud" and POLICE.search(t):
        return "police"  # "我还没转钱 要不要报警": what to do, paid or not
    if topic == "progress" and IMPATIENCE.search(t) and not facts.amount:
        return "impatience"
    if topic == "progress" and NEXT_STEP.search(t) and not facts.amount:
        return "progress_next"  # "那我下一步要干啥": the stage's next step
    if topic == "declined" and (REAPPLY.search(t) or DECLINE_WHY.search(t)):
        return "reapply"
    if facts.method and len(t) <= 30 and not (facts.amount or facts.term) and METHOD_ASK.search(t):
        return "method_question"  # "等额本金不行吗" "先息后本呢": whether the product offers it (or the switch)
    if state.example is not None and facts.method and short and SWITCH.search(t + "呢"):
        return "method_switch"
    if state.example is not None and (facts.term or facts.amount) and short and intent not in ("ask_prepayment",):
        return "term_switch"  # "那36期呢" "借5万呢": the last example on other figures
    if facts.product and short and topic in RULES_TOPICS and not QUESTION.search(t.replace("呢", "")):
        return "product_switch"
    if state.offer and short and ACCEPT.search(t) and not re.search(r"不|别|没", t):
        return "accept_offer"
    if short and CALC.search(t) and (state.amount or state.example is not None) and not re.search(r"不|别|没", t):
        return "calc"  # "行，你帮我算算" with the figures already known: the example, no offer needed
    if topic in ("rates", "methods", "needs") and LOWEST.search(t) and short and not facts.amount:
        return "lowest_rate"  # "那最低能给我多少" after the rates
    if CHANNELS.search(t) and (topic == "handoff" or re.search(r"打不通|没人接|占线", t)):
        return "channels"
    if WAIT.search(t) and short and not re.search(r"问|[?？吗么]|收钱|收费|多少", t):
        return "wait"  # "稍等，我找一下": nothing to do but wait
    if (facts.amount or facts.term) and short and intent in (None, "nlu_fallback", "inform", "out_of_scope"):
        return "figures"  # "我想借2万": the worked example on those figures
    return None


def _rate_reading(t: str, state: ConversationState) -> Optional[str]:
    about_rates = RATE_WORDS.search(t) or state.topic in ("rates", "methods", "prepay_example")
    if OBJECTION.search(t) and about_rates:
        return "rate_complaint" if len(t) <= 16 and "投诉" not in t else "objection"
    if any(word in t for word in FEE_WORDS):
        return "fee_question"
    return None
