"""What the intent classifier sees of a message, shared by training and inference (framework-free).

``Featurizer.prepare(raw)`` = :func:`textnorm.normalise` then homophone repair (:mod:`homophones`), and
three or four analyzers turn the prepared text into terms:

* ``char``   character 1-4-grams (the part a plain char TF-IDF baseline also has);
* ``pinyin`` tone-less pinyin syllable 1-3-grams, so a homophone typo the repair did not catch
  (or an ASR error) still shares features with the right word;
* ``word``   jieba words and word bigrams, with the project's domain dictionary;
* ``concept`` (when a :class:`~nlu_components.concepts.ConceptTagger` is given) the concepts a message
  mentions and the figures' shapes, so that synonyms share features (issue 22).

``augment`` adds seeded training variants in the shapes real messages take that short training
examples lack: a voice-transcript form (no punctuation, a filler word) and a neutral lead-in clause
before the request ("你好，我想问一下，…").  Nothing here is learned from evaluation data.
"""
from __future__ import annotations

import logging
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from nlu_components.concepts import ConceptTagger
from nlu_components.homophones import HomophoneRepair
from nlu_components.textnorm import normalise, pinyin

# Domain words a misspelling is repaired towards (the catalogue adds the product names).
DOMAIN_TERMS = (
    "额度 利息 利率 年化 还款 逾期 绑定 解绑 审核 审批 提前 征信 账户 账号 结清 验证码 银行卡 放款 到账 提现 "
    "手续费 服务费 罚息 人工 客服 投诉 注销 密码 登录 分期 借款 贷款 催收 扣款 申请 进度 取消 证明 违约金 "
    "等额本息 等额本金 先息后本 宽限期 展期 协商 还清 提额 降额 手机号 人脸识别 实名认证 工单"
).split()
# Real words that sound like a domain word and must stay as they are.
KEEP_WORDS = ("提钱", "体现", "利益", "立即", "申明", "回电")

_PUNCT_RE = re.compile(r"[\s,.!?;:~，。！？；：、…]+")
_CLAUSE_RE = re.compile(r"[，。！？；…,!?;]+")
FILLERS = ("嗯", "那个", "就是", "喂", "呃", "嗯那个")
LEAD_INS = ("你好，", "您好，", "在吗，", "我想问一下，", "请问一下，", "不好意思打扰一下，", "客服你好，",
            "问个事，", "麻烦问下，", "我是老客户了，")


class Featurizer:
    """Prepares texts and provides the analyzers (see the module docstring)."""

    def __init__(self, product_names: Iterable[str], userdict: Path | None,
                 concepts: ConceptTagger | None = None) -> None:
        self.repair = HomophoneRepair([*DOMAIN_TERMS, *product_names], keep=KEEP_WORDS)
        self._userdict = userdict
        self._jieba = None
        self.concepts = concepts

    @property
    def jieba(self):  # noqa: ANN201 - jieba.Tokenizer
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            if self._userdict is not None and self._userdict.exists():
                tokenizer.load_userdict(str(self._userdict))
            self._jieba = tokenizer
        return self._jieba

    def prepare(self, raw: str) -> str:
        return _prepare(self.repair, raw or "")

    def analyzers(self) -> Dict[str, "callable"]:
        families = {"char": char_ngrams, "pinyin": pinyin_ngrams, "word": self.words}
        if self.concepts is not None:
            families["concept"] = self.concepts
        return families

    def words(self, text: str) -> List[str]:
        tokens = [w for w in self.jieba.lcut(text) if w.strip() and not _PUNCT_RE.fullmatch(w)]
        return tokens + [f"{a}|{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


@lru_cache(maxsize=20_000)
def _prepare(repair: HomophoneRepair, raw: str) -> str:
    return repair(normalise(raw))


def char_ngrams(text: str) -> List[str]:
    t = f" {text} "
    return [t[i:i + n] for n in (1, 2, 3, 4) for i in range(len(t) - n + 1) if t[i:i + n].strip()]


_WHITE_RE = re.compile(r"\s\s+")


def plain_chars(text: str) -> List[str]:
    """Character 1-3-grams exactly as scikit-learn's ``analyzer="char"`` makes them (lower-cased, runs of
    white space collapsed, no padding): the features of the plain TF-IDF member of the ensemble."""
    t = _WHITE_RE.sub(" ", text.lower())
    return [t[i:i + n] for n in (1, 2, 3) for i in range(len(t) - n + 1)]


def pinyin_ngrams(text: str) -> List[str]:
    syllables = [s for s in pinyin(text).split(" ") if s and not _PUNCT_RE.fullmatch(s)]
    return ["_".join(syllables[i:i + n]) for n in (1, 2, 3) for i in range(len(syllables) - n + 1)]


def clauses(prepared: str, min_chars: int = 2) -> List[str]:
    """Punctuation-separated clauses of a prepared text (voice transcripts have none)."""
    return [c for c in _CLAUSE_RE.split(prepared) if len(c.strip()) >= min_chars]


def augment(texts: Sequence[str], labels: Sequence[str], seed: int, share: float = 0.5,
            exclude: Sequence[str] = ()) -> Tuple[List[str], List[str]]:
    """Seeded variants of a share of the training examples (voice form, lead-in clause)."""
    rng = random.Random(seed)
    out_texts, out_labels = [], []
    for text, label in zip(texts, labels, strict=True):
        if label in exclude or rng.random() >= share:
            continue
        if rng.random() < 0.5:
            words = _PUNCT_RE.sub(" ", text).strip()
            variant = f"{rng.choice(FILLERS)} {words}" if rng.random() < 0.7 else words
        else:
            variant = rng.choice(LEAD_INS) + text
        if variant != text:
            out_texts.append(variant)
            out_labels.append(label)
    return out_texts, out_labels
