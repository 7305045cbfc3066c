"""Other lenders' products (entity other_lender): the catalogue lexicon, extraction on raw text, the replies."""
from __future__ import annotations

import pytest
import yaml

from credit.answers import lender_replies
from credit.answers import texts as answers
from credit.catalogue.loader import DEFAULT_PATH, CatalogueError, load_catalogue
from credit.catalogue.other_lenders import T2S, fold
from credit.compliance import check_text
from credit.entities import extract_all
from harness.paths import ROOT as PROJECT_ROOT
from nlu_components.credit_entities import ENTITY_TYPES

CAT = load_catalogue()
ROOT = PROJECT_ROOT


def lenders(text: str) -> list[tuple[str, int, int, str]]:
    return [(s.value, s.start, s.end, s.raw) for s in extract_all(text) if s.entity == "other_lender"]


# --- extraction ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,value",
    [
        ("借呗额度怎么提", "借呗"),
        ("花呗怎么开通", "花呗"),
        ("微粒贷怎么还款", "微粒贷"),
        ("金条的额度能转到你们这吗", "京东金条"),
        ("京东金条利息多少", "京东金条"),
        ("白条分期和你们比哪个划算", "京东白条"),
        ("招联的额度被降了", "招联好期贷"),
        ("好期贷逾期了怎么办", "招联好期贷"),
        ("度小满能借多少", "度小满"),
        ("分期乐提前还款收费吗", "分期乐"),
        ("360借条借1万分12期", "360借条"),
        ("美团借钱到账快吗", "美团借钱"),
        ("安逸花怎么注销", "安逸花"),
        ("平安普惠的结清证明怎么开", "平安普惠"),
        ("网商贷额度没了", "网商贷"),
        ("还呗的利息高吗", "还呗"),
        ("拍拍贷逾期一天", "拍拍贷"),
        ("微立贷额度多少", "微粒贷"),  # misspelling
        ("借贝能借多少", "借呗"),
        ("我用的是借呗", "借呗"),
        ("你们是微粒贷吗", "微粒贷"),
        ("jiebei额度怎么提", "借呗"),
    ],
)
def test_each_lender_and_alias_gives_the_canonical_name(text, value):
    found = lenders(text)
    assert [v for v, *_ in found] == [value], found


def test_offsets_and_raw_text_are_the_message_as_typed():
    assert lenders("请问借呗额度怎么提") == [("借呗", 2, 4, "借呗")]
    assert lenders("我的京东金条和花呗都逾期了") == [("京东金条", 2, 6, "京东金条"), ("花呗", 7, 9, "花呗")]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("京東金條怎麼還", [("京东金条", 0, 4, "京東金條")]),  # traditional
        ("請問借唄額度怎麼提", [("借呗", 2, 4, "借唄")]),
        ("你們是微粒貸嗎", [("微粒贷", 3, 6, "微粒貸")]),
        ("ＪＩＥＢＥＩ额度", [("借呗", 0, 6, "ＪＩＥＢＥＩ")]),  # full-width latin
        ("３６０借条能借多少", [("360借条", 0, 5, "３６０借条")]),  # full-width digits
        ("招聯好期貸　額度", [("招联好期贷", 0, 5, "招聯好期貸")]),
    ],
)
def test_full_width_and_traditional_text_keep_raw_offsets(text, expected):
    found = lenders(text)
    assert found == expected
    for _, start, end, raw in found:
        assert text[start:end] == raw


@pytest.mark.parametrize(
    "text",
    [
        "那就借呗",  # "then just borrow" (sentence particle 呗)
        "没钱就借呗。",
        "不行先还呗",
        "有钱就花呗",
        "他跟我打白条",
        "打了白条还不还",
        "想买金条投资",
        "金条多少钱一克",
        "借条怎么写",  # an IOU, not 360借条
        "我想借钱还房贷",
        "随心借利息多少",  # our own product
        "分期还款怎么算",
        "微信还款可以吗",
        "还款日是几号",
        "借1万分12期利息多少",
    ],
)
def test_ordinary_words_are_not_lenders(text):
    assert lenders(text) == []


def test_numbers_next_to_a_lender_are_still_found():
    spans = extract_all("360借条借了2万，你们能借3万吗")
    assert [(s.entity, s.value) for s in spans] == [("other_lender", "360借条"), ("amount", "20000"),
                                                    ("amount", "30000")]
    assert [(s.entity, s.value) for s in extract_all("随心借和借呗哪个利息低")] == [
        ("product", "suixinjie"), ("other_lender", "借呗")]


def test_fold_is_one_character_for_one():
    sample = "京東金條借唄微粒貸還唄招聯好期貸"
    assert len(fold(sample)) == len(sample)
    assert all(isinstance(k, int) and isinstance(v, int) for k, v in T2S.items())  # char -> char


def test_fold_agrees_with_opencc_where_it_is_installed():
    opencc = pytest.importorskip("opencc")
    t2s = opencc.OpenCC("t2s")
    for code, simplified in T2S.items():
        assert t2s.convert(chr(code)) == chr(simplified), chr(code)


def test_other_lender_is_an_entity_type_and_in_the_domain():
    assert "other_lender" in ENTITY_TYPES
    domain = yaml.safe_load((ROOT / "domain" / "core.yml").read_text(encoding="utf-8"))
    assert "other_lender" in domain["entities"]


# --- catalogue ------------------------------------------------------------------


def test_catalogue_lists_the_lenders_with_aliases():
    names = {lender.name: lender.aliases for lender in CAT.other_lenders.names}
    for name in ("借呗", "花呗", "微粒贷", "京东金条", "京东白条", "度小满", "分期乐", "360借条", "美团借钱",
                 "安逸花", "招联好期贷", "平安普惠", "网商贷", "还呗", "拍拍贷"):
        assert name in names
    assert "金条" in names["京东金条"] and "白条" in names["京东白条"] and "招联" in names["招联好期贷"]


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda r: r["other_lenders"]["names"].update({"花呗2": ["借呗"]}), "同时属于"),
        (lambda r: r["other_lenders"]["names"].update({"某贷": ["随心借"]}), "是我们的产品 suixinjie"),
        (lambda r: r["other_lenders"]["names"].update({"某贷": "借钱"}), "别名应为列表"),
        (lambda r: r["other_lenders"]["names"].update({"某贷": [""]}), "other_lenders.names"),
        (lambda r: r["other_lenders"].update(not_us="{lendr}不是我们"), "未知占位符 lendr"),
        (lambda r: r["other_lenders"].pop("identity"), "other_lenders 缺少 identity"),
        (lambda r: r["other_lenders"].update(extra="x"), "有未知字段 extra"),
        (lambda r: r.pop("other_lenders"), "缺少 other_lenders"),
    ],
)
def test_catalogue_rejects_a_broken_lexicon(tmp_path, mutate, expected):
    raw = _raw()
    mutate(raw)
    path = tmp_path / "catalogue.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match=expected):
        load_catalogue(path)


# --- replies ----------------------------------------------------------------------


TOPICS = ["ask_repayment", "ask_overdue", "ask_loan_limit", "ask_eligibility", "account_service"]


def _all_answers(named: list[str], voice: bool = False):
    yield "rate", lender_replies.with_not_us(CAT, answers.rate_answer(CAT, None, None, None, voice=voice), named,
                                             voice=voice)
    yield "prepayment", lender_replies.with_not_us(CAT, answers.prepayment_answer(CAT, None, None, None), named)
    for intent in TOPICS:
        yield intent, lender_replies.with_not_us(CAT, answers.topic_answer(CAT, intent, ""), named, voice=voice)
    for operation in ("cancel", "settlement"):
        intro = answers.Reply(answers.loan_operation_intro(CAT, operation))
        yield operation, lender_replies.with_not_us(CAT, intro, named)


@pytest.mark.parametrize("voice", [False, True])
def test_with_a_lender_the_answer_says_not_us_then_answers_for_ours(voice):
    for where, reply in _all_answers(["借呗"], voice=voice):
        head = reply.text.split("\n")[0]
        assert "我们不是借呗" in head or "借呗不是我们的产品" in head, where
        assert "官方" in reply.text, where
        assert check_text(reply.text) == [], where
    limit = lender_replies.with_not_us(CAT, answers.topic_answer(CAT, "ask_loan_limit"), ["借呗"])
    assert "看不到也改不了借呗" in limit.text and "提额" in limit.text  # our limit answer follows


def test_without_a_lender_the_answer_is_unchanged():
    for intent in TOPICS:
        reply = answers.topic_answer(CAT, intent, "")
        assert lender_replies.with_not_us(CAT, reply, []) == reply
    assert lender_replies.not_us_note(CAT, []) == ""
    assert lender_replies.progress_note(CAT, []) == ""


def test_no_sales_pitch_and_voice_stays_short():
    pitch = ("更好", "更低", "更快", "快来", "推荐您", "比他们", "比借呗", "优惠")
    texts = [lender_replies.not_us_note(CAT, ["借呗"]), lender_replies.not_us_note(CAT, ["借呗"], voice=True),
             lender_replies.identity_answer(CAT, ["微粒贷"]).text, lender_replies.progress_note(CAT, ["借呗"])]
    for text in texts:
        assert not any(word in text for word in pitch), text
    voice = lender_replies.not_us_note(CAT, ["借呗"], voice=True)
    assert len(voice) < 50 and "\n" not in voice


def test_identity_answer_is_a_clear_no_and_names_our_company():
    text = lender_replies.identity_answer(CAT, ["微粒贷"]).text
    assert text.startswith("我们不是微粒贷")
    assert CAT.company in text and check_text(text) == []
    voice = lender_replies.identity_answer(CAT, ["微粒贷"], voice=True).text
    assert voice.startswith("我们不是微粒贷") and len(voice) < len(text) and check_text(voice) == []


def test_several_lenders_are_named_once_each():
    note = lender_replies.not_us_note(CAT, ["借呗", "花呗", "借呗"])
    assert note.startswith("借呗、花呗不是我们的产品")


def test_progress_note_gives_our_timings_and_asks_for_ours():
    text = lender_replies.progress_note(CAT, ["美团借钱"])
    assert "美团借钱不是我们的产品" in text
    assert CAT.stage("reviewing").expected_time in text
    assert all(p.name in text for p in CAT.products) and "申请编号" in text
    assert check_text(text) == []
