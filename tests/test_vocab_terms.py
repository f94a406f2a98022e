"""No case is dropped for a word the vocabulary does not know (etl/terms.py): an office's own
channels, categories, statuses and satisfaction answers are matched when they can be, kept as
written when not, and mapped later without reloading the file."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from analysis import metrics
from analysis.filters import CaseFilter, terms_in_use
from cli import main
from etl.db import connect

# A county hotline export as the office writes it: GB18030, its own words for channels,
# categories, a status (待审核) and a satisfaction answer (一般).
HEADER = "受理编号,受理时间,诉求来源,问题类别,所属乡镇,办理状态,办结时间,满意度"
ROWS = [
    "H1,2025-03-05 09:00,来访接待,交通出行,五里镇,办理中,,",
    "H2,2025-03-06 10:00,12345热线平台,环境卫生,五里镇,待审核,,",
    "H3,2025-03-07 11:00,来访接待,治安防范,五里镇,已办结,2025-03-08 09:00,一般",
    "H4,2025-03-08 15:00,热线,土地征收,五里镇,已办结,2025-03-09 09:00,满意",
    "H5,2025-03-09 08:30,热线,环境卫生,五里镇,待审核,,",
    "H6,2025-03-10 16:00,热线,医保低保,五里镇,受理,,",  # contains 医保 (医疗) and 低保: ambiguous
]
ALL_YEAR = ["--from", "2025-01-01", "--to", "2025-12-31"]


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "热线台账.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("gb18030"))
    return path


def _cli(db, *args):
    r = CliRunner().invoke(main, ["--db", str(db), *args])
    assert r.exit_code == 0, r.output
    return r.stdout


def _load(db, path) -> dict:
    return json.loads(_cli(db, "load", "cases", str(path), "--json"))


def _stored(db, column: str) -> dict[str, str]:
    with connect(db, read_only=True) as con:
        return dict(con.execute(f"SELECT case_id, {column} FROM cases ORDER BY case_id").fetchall())


def _by_category(db) -> dict[str, int]:
    with connect(db, read_only=True) as con:
        df = metrics.case_metrics_by(con, CaseFilter(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), "category")
    return {c: int(n) for c, n in zip(df["category"], df["received"]) if n}


def test_no_row_is_rejected_for_its_words_and_each_lands_where_expected(wh, ledger):
    out = _load(wh, ledger)
    assert (out["loaded"], out["rejected"]) == (6, 0)
    assert _stored(wh, "channel") == {"H1": "接访日", "H2": "群工热线", "H3": "接访日", "H4": "群工热线",
                                      "H5": "群工热线", "H6": "群工热线"}
    assert _by_category(wh) == {"交通": 1, "治安": 1, "土地宅基地纠纷": 1, "环境卫生": 2, "医保低保": 1}
    assert _stored(wh, "category_raw")["H3"] == "治安防范"  # the written term is remembered


def test_the_report_lists_matched_and_kept_terms_with_their_rows(wh, ledger):
    out = _load(wh, ledger)
    terms = {(t["domain"], t["term"]): (t["mapped_to"], t["how"], t["count"]) for t in out["terms"]}
    assert terms == {
        ("channel", "来访接待"): ("接访日", "containment", 2),
        ("channel", "12345热线平台"): ("群工热线", "containment", 1),
        ("category", "治安防范"): ("治安", "containment", 1),
        ("category", "土地征收"): ("土地宅基地纠纷", "containment", 1),
        ("category", "环境卫生"): ("环境卫生", "unmapped", 2),
        ("category", "医保低保"): ("医保低保", "unmapped", 1),
        ("status", "待审核"): ("待审核", "unmapped", 2),
        ("satisfaction", "一般"): ("一般", "unmapped", 1),
    }
    text = CliRunner().invoke(main, ["--db", str(wh), "load", "cases", str(ledger)]).output
    assert "问题类别 环境卫生: 2 行, 按原词保留" in text and "按包含匹配为 接访日" in text


def test_an_unknown_status_is_open_and_an_unknown_answer_not_satisfied(wh, ledger):
    _load(wh, ledger)
    with connect(wh, read_only=True) as con:
        facts = dict(con.execute("SELECT case_id, (is_open, is_closed) FROM case_facts").fetchall())
        rated = con.execute("SELECT rated, satisfied, satisfaction FROM case_facts WHERE case_id = 'H3'").fetchone()
    assert facts["H2"] == facts["H5"] == (True, False)
    assert facts["H3"] == facts["H4"] == (False, True)
    assert rated == (True, False, "一般")
    summary = json.loads(_cli(wh, "metrics", "--json", *ALL_YEAR))
    assert summary["received"] == 6 and summary["closed"] == 2


def test_a_kept_category_can_be_filtered_on_and_is_offered(wh, ledger):
    _load(wh, ledger)
    out = json.loads(_cli(wh, "metrics", "--json", "--category", "环境卫生", *ALL_YEAR))
    assert out["received"] == 2
    with connect(wh, read_only=True) as con:
        offered = terms_in_use(con, "category")
    assert offered[0] == "就学" and offered[-2:] == ["环境卫生", "医保低保"]
    r = CliRunner().invoke(main, ["--db", str(wh), "metrics", "--category", "天气", *ALL_YEAR])
    assert r.exit_code == 2 and "环境卫生" in r.output


def test_mapping_a_term_re_derives_stored_cases_and_survives_a_reload(wh, ledger):
    _load(wh, ledger)
    listed = _cli(wh, "vocab")
    assert "环境卫生  [未映射(按原词保留)]  2 件" in listed and "来访接待 → 接访日  [包含匹配]" in listed
    said = _cli(wh, "vocab", "map", "环境卫生", "基础设施")
    assert "更新诉求 2 件" in said
    after = _by_category(wh)
    assert after["基础设施"] == 2 and "环境卫生" not in after
    assert _stored(wh, "category_raw")["H2"] == "环境卫生"
    again = _load(wh, ledger)
    assert (again["duplicates"], again["rejected"]) == (6, 0)
    assert _by_category(wh)["基础设施"] == 2
    assert "问题类别 环境卫生 → 基础设施" in _cli(wh, "info")


def test_mapping_an_unknown_status_closes_its_cases(wh, ledger):
    _load(wh, ledger)
    _cli(wh, "vocab", "map", "待审核", "受理")  # domain inferred: the term is only a status
    with connect(wh, read_only=True) as con:
        assert con.execute("SELECT status FROM cases WHERE case_id = 'H5'").fetchone()[0] == "受理"
    _cli(wh, "vocab", "map", "--domain", "status", "待审核", "已办结")  # a synonym names its term
    with connect(wh, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM case_facts WHERE is_closed").fetchone()[0] == 4


def test_a_target_outside_the_vocabulary_is_refused_naming_the_options(wh, ledger):
    _load(wh, ledger)
    r = CliRunner().invoke(main, ["--db", str(wh), "vocab", "map", "环境卫生", "卫生"])
    assert r.exit_code == 2 and "不是问题类别的词表用词" in r.output and "基础设施" in r.output
    r = CliRunner().invoke(main, ["--db", str(wh), "vocab", "map", "没见过", "道路"])
    assert r.exit_code == 2 and "--domain" in r.output
    assert _by_category(wh)["环境卫生"] == 2  # nothing changed


def test_a_warehouse_from_before_keeps_working_and_remembers_its_terms(wh, ledger):
    from etl.db import writing
    from etl.warehouse import upgrade_schema

    _load(wh, ledger)
    with writing(wh) as con:  # as an older version wrote it: no written terms, no vocab_map
        for d in ("channel", "category", "status", "satisfaction"):
            con.execute(f"ALTER TABLE cases DROP COLUMN {d}_raw")
        con.execute("DROP TABLE vocab_map")
    with writing(wh) as con:
        upgrade_schema(con)
    assert _stored(wh, "category_raw")["H3"] == "治安"  # the term it was stored under
    assert "环境卫生  [未映射(按原词保留)]  2 件" in _cli(wh, "vocab")
