"""The one product matcher, owned by the catalogue and shared by the entity extractor and the answers."""

from __future__ import annotations

import pytest

from credit import entities
from credit.catalogue.loader import load_catalogue
from credit.text.product_match import ProductMatcher


def test_entities_and_catalogue_share_one_matcher() -> None:
    cat = load_catalogue()
    assert entities.product_matcher() is cat.product_matcher
    assert cat.find_product("装修贷能借多少") == cat.product("anjia")


def test_spans_index_the_text_and_latin_aliases_are_whole_words() -> None:
    matcher = ProductMatcher({"随心借": "suixinjie", "随心借款": "suixinjie", "anjia": "anjia"})
    assert matcher.spans("我想随心借款") == [(2, 6, "suixinjie"), (2, 5, "suixinjie")]
    assert matcher.spans("ANJIA好吗") == [(0, 5, "anjia")]
    assert matcher.spans("xanjiay") == []
    assert matcher.spans("随 心 借") == []  # a span must point at the words as typed


@pytest.mark.parametrize(
    ("text", "code"),
    [("随 心 借", "suixinjie"), ("ＡＮＪＩＡ", None), ("随心借还是anjia", "anjia"), ("", None), ("信用卡", None)],
)
def test_find_ignores_spaces_and_prefers_the_longest_name(text: str, code: str | None) -> None:
    matcher = ProductMatcher({"随心借": "suixinjie", "随心借款": "suixinjie", "anjia": "anjia"})
    assert matcher.find(text) == code


def test_one_character_names_are_found_but_never_spanned() -> None:
    matcher = ProductMatcher({"x": "x"})
    assert matcher.find("axb") == "x"
    assert matcher.spans("axb") == []
