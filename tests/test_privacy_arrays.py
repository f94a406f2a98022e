"""The column maskers the loader uses (mask_array, pseudonymise_array: a prefilter, each distinct
cell once) store exactly what the one per-cell masker (mask_text, pseudonymise) gives, on
random and adversarial ledger cells."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from etl.privacy import mask_array, mask_text, pseudonymise, pseudonymise_array

KEY = "k" * 64
DIGITS = list("0123456789") + list("０１２３４５６７８９")
SEPARATORS = [" ", "-", ".", "·", "_", "/", "(", ")", "\t", "\u00a0", "\u3000", "\u2010", "\u2011", "\u2012",
              "\u2013", "\u2014", "＋", "－", "．", "（", "）", "+", ":", "：", "*"]
NAMES = ["王小明", "李四", "欧阳小明", "张伟", "王某", "王先生", "李建国", "赵", "陈家", "周边", "马上", "*0", "9*", "0004",
         "139", "Tom", "a b"]
WORDS = ["反映", "来电", "称", "家", "要求", "同志", "等人", "一家", "投诉", "村民", "群众", "社区", "严格要求", "路灯不亮",
         "请尽快处理", "电话", "身份证", "Tel", "abc", "X", "x", "+86", "0086", "86", "(0915)", "0915-", "2025-10-13",
         "610902001001-003", "****", "139****0004", "HE0000000001", "130928201229", "号", "，", "。", "\v", "\u2000",
         "\x1c", "\u3000", "  ", "\n"]
HAN = "王李张刘陈欧阳小明建国伟芳村镇反映来电称家某先生路灯积水请处理同志"

fragment = st.one_of(
    st.text(alphabet=st.sampled_from(DIGITS), min_size=1, max_size=19),
    st.sampled_from(SEPARATORS),
    st.sampled_from(NAMES),
    st.sampled_from(WORDS),
    st.text(alphabet=st.sampled_from(HAN), min_size=1, max_size=4),
    st.text(max_size=3),  # anything at all
)
cell = st.one_of(st.none(), st.lists(fragment, max_size=12).map("".join))
names_cell = st.one_of(
    st.none(), st.just(""),
    st.lists(st.sampled_from(NAMES + ["王小明 ", " 李四"]), min_size=1, max_size=3).flatmap(
        lambda ns: st.lists(st.sampled_from(["、", ",", "，", ";", "；", "/", " ", "\t", "\u3000", "\u00a0",
                                             "\u2000", "\v", "和", "及", ""]),
                            min_size=len(ns), max_size=len(ns)).map(
            lambda seps: "".join(n + s for n, s in zip(ns, seps)))),
    st.text(max_size=6),
)


@st.composite
def ledgers(draw):
    """A column with repeated cells (ledgers repeat texts) and one or two columns of row names."""
    pool = draw(st.lists(cell, min_size=1, max_size=12))
    n = draw(st.integers(1, 40))
    texts = [draw(st.sampled_from(pool)) for _ in range(n)]
    names = [[draw(names_cell) for _ in range(n)] for _ in range(draw(st.integers(0, 2)))]
    return texts, names


def expected(texts, names):
    return [mask_text(t, [col[i] for col in names]) for i, t in enumerate(texts)]


@hsettings(max_examples=400, deadline=None)
@given(ledgers())
def test_the_column_masker_stores_exactly_what_the_cell_masker_gives(ledger):
    texts, names = ledger
    got = mask_array(pa.array(texts, pa.string()), [pa.array(c, pa.string()) for c in names]).to_pylist()
    assert got == expected(texts, names)


@hsettings(max_examples=200, deadline=None)
@given(st.lists(cell, min_size=1, max_size=30), st.sampled_from([KEY, None]))
def test_the_column_pseudonymiser_gives_exactly_the_cell_pseudonyms(ids, key):
    got = pseudonymise_array(pa.array(ids, pa.string()), key).to_pylist()
    assert got == [pseudonymise(v, key) for v in ids]


@pytest.mark.parametrize("text,names", [
    ("王小明 反映路灯不亮", None),  # a space between the name and the word
    ("王小明同志反映路灯不亮", None),
    ("王小明 139****5678 来过", None),  # a phone masked before: the name beside it still is
    ("找李四办事", "王小明\u3000李四"),  # names split at whitespace RE2 does not know
    ("找李四办事", "王小明\u2000李四"),
    ("请联系 13900000004 号", "9****0"),  # the row's name appears only once the phone is masked
    ("１３９ １２３４ ５６７８", None),
    ("电话：＋８６ １３９－１２３４－５６７８", None),
    ("身份证６１０９０２１９５３０８１２５２９８", None),
    ("区划 130928201229 编号 HE0000000001", None),
    ("", "王小明"), (None, "王小明"), ("王小明", None),
])
def test_adversarial_cells_mask_as_the_cell_masker_does(text, names):
    texts = [text, text, "路灯不亮", text]
    cols = [[names, names, names, None]]
    got = mask_array(pa.array(texts, pa.string()), [pa.array(c, pa.string()) for c in cols]).to_pylist()
    assert got == expected(texts, cols)


def test_the_same_phone_in_many_rows_gets_one_pseudonym_and_ids_stay():
    ids = ["13900000004", "HE0000000001", "13900000004", None, "１３９００００００04"]
    got = pseudonymise_array(pa.chunked_array([ids[:2], ids[2:]], pa.string()), KEY).to_pylist()
    assert got[0] == got[2] == got[4] and got[0].startswith("ID") and "139" not in got[0]
    assert got[1] == "HE0000000001" and got[3] is None


@pytest.mark.parametrize("space", [c for c in map(chr, range(0x110000)) if c.isspace()])
def test_names_split_at_any_whitespace_are_each_masked_in_the_column(space):
    texts = ["找李四办事", "王小明来过", "路灯不亮"]
    cols = [[f"王小明{space}李四", f"{space}王小明{space}", f"李四{space}"]]
    got = mask_array(pa.array(texts), [pa.array(c) for c in cols]).to_pylist()
    assert got == expected(texts, cols) == ["找李*办事", "王**来过", "路灯不亮"]


@pytest.mark.parametrize("sep", ["\u200b", "\ufeff", "\u202f", "\u2009", "\u00ad", "\u2011", "\u2212", "\u2015"])
def test_a_phone_split_by_invisible_spaces_or_lookalike_dashes_is_masked(sep):
    space = sep if sep.isspace() or sep in "\u200b\ufeff" else " "  # a name is followed by a space, not a dash
    text = f"来电人电话139{sep}1234{sep}5678, 王小明{space}反映"
    masked = mask_text(text)
    assert "1234" not in masked and "5678" in masked and "小明" not in masked
    assert mask_array(pa.array([text])).to_pylist() == [masked]


@pytest.mark.parametrize("pattern", [r"\d{11}", r"王\s?反映", r"(a)\1", r"X(?=[(]?Y)Y"])
def test_a_pattern_re2_would_read_more_narrowly_gets_no_prefilter(pattern):
    import re

    from etl.privacy import _re2_superset

    with pytest.raises(ValueError):
        _re2_superset(re.compile(pattern))
