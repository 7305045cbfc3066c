"""Text normalisation shared by training and inference of the intent classifier.

The message's raw text is never changed: :func:`normalise` returns a *separate* string that only
the intent classifier's featurisers see.  Entities are extracted from the raw text by
:class:`nlu_components.credit_entities.CreditEntityExtractor`, so their offsets, the logs and the
tracker all keep raw positions (tests/unit/nlu_components/test_textnorm.py checks this).

What it does, in order:

1. NFKC: full-width letters, digits and punctuation become half-width (ＳＱ２０２６ -> SQ2026).
2. WeChat emoticon codes (``[发怒]``, ``/抓狂``) and emoji become words, not silence: an angry face is a
   complaint signal (-> 生气), a crying one -> 难过, 🙏 -> 谢谢 ...  Unknown pictographs become a space.
3. Traditional -> simplified Chinese with OpenCC (``t2s``; the ``opencc`` wheel ships its tables).
4. Ellipses (``...``, ``。。。``, ``……``) become one ``…``; repeated punctuation collapses (？？？ -> ?).
5. Latin letters lower-cased, whitespace collapsed.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_T2S = opencc.OpenCC("t2s")

# mood -> the word the training data already uses for it ("" = polite filler, dropped)
MOOD_WORDS = {
    "angry": "生气",
    "sad": "难过",
    "awkward": "无语",
    "polite": "",
    "thanks": "谢谢",
    "bye": "再见",
    "question": "请问",
    "ok": "好的",
    "urgent": "着急",
}
# WeChat's built-in emoticon names, as they arrive in text: "[发怒]" or "/发怒"
EMOTICON_CODES = {
    "angry": ("发怒", "怒", "抓狂", "撇嘴", "鄙视", "咒骂", "敲打", "骷髅", "炸弹", "菜刀", "生气", "快哭了", "衰",
              "委屈", "::<", "::@", ":-@"),
    "sad": ("流泪", "大哭", "哭", "难过", "可怜", "泪"),
    "awkward": ("捂脸", "尴尬", "汗", "冷汗", "囧", "晕", "无语", "裂开", "苦涩", "叹气", "白眼", "破涕为笑"),
    "polite": ("微笑", "呲牙", "愉快", "憨笑", "害羞", "可爱", "偷笑", "嘿哈", "奸笑", "机智", "耶", "玫瑰", "爱心",
               "坏笑", "调皮", "得意", "色", "鼓掌"),
    "thanks": ("抱拳", "拜托", "合十", "握手", "感谢"),
    "bye": ("再见", "拜拜"),
    "question": ("疑问", "思考", "问号"),
    "ok": ("OK", "ok", "好的", "强", "胜利", "赞", "666"),
    "urgent": ("急", "着急", "焦虑"),
}
EMOJI = {
    "angry": "😡😠🤬💢👿😤🖕😾",
    "sad": "😭😢😿💔😞😔😩😫🥺😥😓",
    "awkward": "😅🤦😑😒🙄😶😬🥲😂🤣😰😱😨",
    "polite": "😊🙂😀😃😄😁☺🤗😉🌹❤💕😘",
    "thanks": "🙏🤝",
    "bye": "👋",
    "question": "🤔❓❔",
    "ok": "👌👍✅🆗",
    "urgent": "🔥⏰",
}
_CODE_TO_MOOD = {code: mood for mood, codes in EMOTICON_CODES.items() for code in codes}
_EMOJI_TO_MOOD = {ch: mood for mood, chars in EMOJI.items() for ch in chars}
_BRACKET_RE = re.compile(r"\[([^\[\]\s]{1,6})\]")
_SLASH_RE = re.compile("/(" + "|".join(re.escape(c) for c in sorted(_CODE_TO_MOOD, key=len, reverse=True)) + ")")
_REPEAT_PUNCT_RE = re.compile(r"([!?,.;~，。！？；、])\1+")
_ELLIPSIS_RE = re.compile(r"(?:\.{2,}|。{2,}|…+|⋯+)")
_SPACE_RE = re.compile(r"\s+")
_JOINERS_RE = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")  # variation selectors, ZWJ, skin tones


def _word(mood: str) -> str:
    return f" {MOOD_WORDS[mood]} "


def _emoticons(text: str) -> str:
    text = _BRACKET_RE.sub(lambda m: _word(_CODE_TO_MOOD[m.group(1)]) if m.group(1) in _CODE_TO_MOOD
                           else m.group(0), text)
    text = _SLASH_RE.sub(lambda m: _word(_CODE_TO_MOOD[m.group(1)]), text)
    text = _JOINERS_RE.sub("", text)
    out = []
    for ch in text:
        mood = _EMOJI_TO_MOOD.get(ch)
        if mood is not None:
            out.append(_word(mood))
        elif unicodedata.category(ch) == "So":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=20_000)
def normalise(text: str) -> str:
    """The classifier's view of a message (see the module docstring); the raw text stays as it is."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text)
    t = _emoticons(t)
    t = _T2S.convert(t)
    t = _ELLIPSIS_RE.sub("…", t)
    t = _REPEAT_PUNCT_RE.sub(r"\1", t)
    return _SPACE_RE.sub(" ", t).strip().lower()


@lru_cache(maxsize=10_000)
def _syllable(ch: str) -> str:
    if "\u4e00" <= ch <= "\u9fff":
        return lazy_pinyin(ch, style=Style.NORMAL)[0]
    return ch


def pinyin(text: str) -> str:
    """Tone-less pinyin, one syllable per character, separated by spaces (逾期 / 愈期 -> "yu qi").

    Each character gets its most common reading, the same in training and inference (a polyphone such
    as 还 always reads "hai"): the point is that homophones share features, not a correct transcript.
    Other characters are kept as they are."""
    return " ".join(_syllable(ch) for ch in text)
