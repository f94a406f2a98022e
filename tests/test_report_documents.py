"""The generated Word documents (reports/documents), opened with python-docx: headings in order,
the briefing's header, totals equal to SQL counts over the warehouse written here, no clear
personal data from the ledgers, the template's styles and the early-warning hook."""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
import pytest
from docx import Document

from analysis.filters import CaseFilter
from reports.documents import build as reports
from reports.documents import periods
from reports.documents.sections import EarlyWarning

CLOSED = ("办结", "已回访", "已归档")
OPEN = ("受理", "交办", "办理中")
AS_OF = dt.datetime(2026, 10, 31, 23, 59, 59)  # the small demo's data date (conftest)
DIGEST = ["一、总体情况", "二、分领域情况", "三、分区域情况", "四、需关注事项", "五、下一步工作建议"]
MONTHLY = ["一、总体情况", "二、分领域情况", "三、分区域情况", "四、月度分析", "五、需关注事项", "六、下一步工作建议"]
AREA = ["一、基本情况", "二、诉求走势与全区对比", "三、分领域情况", "四、未办结与超期诉求", "五、民情分类与“五必去”走访",
        "六、与相邻区域比较", "七、下一步工作建议"]
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def opened(data: bytes):
    return Document(io.BytesIO(data))


def all_text(doc) -> str:
    """Every paragraph, table cell, page header and footer."""
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    for s in doc.sections:
        parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return "\n".join(parts)


def headings(doc, level: int = 1) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == f"Heading {level}"]


def table(doc, first_header: str) -> pd.DataFrame:
    t = next(t for t in doc.tables if t.rows[0].cells[0].text == first_header)
    rows = [[c.text for c in r.cells] for r in t.rows]
    return pd.DataFrame(rows[1:], columns=rows[0])


def num(text: str) -> int:
    return int(text.replace(",", ""))


def sql_counts(con, start, end, prefix: str = "") -> dict:
    """received, closed (in the period) and overdue (open past deadline at the data date,
    received up to the end) straight from the cases table."""
    q = lambda sql, *p: con.execute(sql, list(p)).fetchone()[0]  # noqa: E731
    period = "CAST(received_at AS DATE) BETWEEN ? AND ? AND starts_with(area_code, ?)"
    return {
        "received": q(f"SELECT count(*) FROM cases WHERE {period}", start, end, prefix),
        "closed": q(f"SELECT count(*) FROM cases WHERE {period} AND status IN {CLOSED}", start, end, prefix),
        "overdue": q(f"""SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND starts_with(area_code, ?)
                        AND status IN {OPEN} AND deadline < ?""", end, prefix, AS_OF),
    }


@pytest.fixture(scope="module")
def digest(con):
    return reports.build(con, "digest", CaseFilter())


@pytest.fixture(scope="module")
def monthly(con):
    return reports.build(con, "monthly", CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30)))


@pytest.fixture(scope="module")
def busy_town(con):
    """(code, name) of the town with the most overdue cases, and its area report."""
    town, name = con.execute(f"""SELECT a.code, a.name FROM cases c JOIN areas a ON a.code = left(c.area_code, 9)
        WHERE c.status IN {OPEN} AND c.deadline < ? GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1""", [AS_OF]).fetchone()
    return town, name, reports.build(con, "area", CaseFilter(area_prefix=town))


def test_the_digest_defaults_to_the_last_complete_ten_days_with_its_header(digest):
    data, model = digest
    doc = opened(data)
    assert headings(doc) == DIGEST
    start, end = dt.date(2026, 10, 21), dt.date(2026, 10, 31)  # the data reach 31 October: 下旬 is complete
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0].startswith("内部资料") and "演示数据" in paragraphs[0]
    assert paragraphs[1] == "十日信息摘报"
    assert paragraphs[2] == f"2026年第{periods.ten_day_index(end)}期" == "2026年第30期"
    assert paragraphs[3].startswith("汉滨区群众工作办公室") and paragraphs[3].endswith("2026年10月31日")
    assert "2026年10月下旬" in paragraphs[4]
    text = all_text(doc)
    assert f"统计时段 {start} 至 {end}" in text and "数据截至 2026-10-31" in text and "筛选条件：区域 全区" in text
    assert "演示数据 · 非真实记录" in doc.sections[0].header.paragraphs[0].text
    assert [p.text for p in doc.paragraphs if p.style.name == "MQ Recipients"][0].startswith("报：")
    assert len(doc.inline_shapes) == 2  # the trend and the village map


def test_digest_totals_and_towns_equal_sql_over_the_warehouse(con, digest):
    doc = opened(digest[0])
    start, end = dt.date(2026, 10, 21), dt.date(2026, 10, 31)
    want = sql_counts(con, start, end)
    kpis = table(doc, "指标").set_index("指标")["本期"]
    assert num(kpis["受理诉求"]) == want["received"] and num(kpis["办结"]) == want["closed"]
    assert num(kpis["其中超期"]) == want["overdue"]
    assert f"本期共受理群众诉求{want['received']:,}件" in all_text(doc)
    towns = table(doc, "乡镇(街道)").set_index("乡镇(街道)")
    by_town = dict(con.execute("""SELECT t.name, count(c.case_id) FROM areas t
        LEFT JOIN cases c ON left(c.area_code, 9) = t.code AND CAST(c.received_at AS DATE) BETWEEN ? AND ?
        WHERE t.level = 'town' GROUP BY 1""", [start, end]).fetchall())
    assert {n: num(v) for n, v in towns["受理"].items()} == by_town
    assert sum(num(v) for v in towns["超期"]) <= want["overdue"]  # cases placed at the district itself are in no town


def test_a_chosen_period_and_a_town_filter(con):
    town, name = con.execute("""SELECT a.code, a.name FROM cases c JOIN areas a ON a.code = left(c.area_code, 9)
                                GROUP BY ALL ORDER BY count(*) DESC LIMIT 1""").fetchone()
    start, end = dt.date(2026, 2, 21), dt.date(2026, 2, 28)
    data, _ = reports.build(con, "digest", CaseFilter(start, end, area_prefix=town))
    doc = opened(data)
    assert "2026年第6期" in [p.text for p in doc.paragraphs]
    want = sql_counts(con, start, end, town)
    kpis = table(doc, "指标").set_index("指标")["本期"]
    assert (num(kpis["受理诉求"]), num(kpis["办结"]), num(kpis["其中超期"])) == (want["received"], want["closed"], want["overdue"])
    villages = table(doc, "村(社区)").set_index("村(社区)")  # a town's digest goes by village
    by_village = dict(con.execute("""SELECT v.name, count(*) FROM cases c JOIN areas v ON v.code = c.area_code
        WHERE v.level = 'village' AND starts_with(c.area_code, ?) AND CAST(c.received_at AS DATE) BETWEEN ? AND ?
        GROUP BY 1""", [town, start, end]).fetchall())
    assert {n: num(v) for n, v in villages["受理"].items() if num(v)} == by_village
    assert f"区域 {name}" in all_text(doc)


def test_the_monthly_analysis_ranks_towns_with_their_flags(con, monthly):
    doc = opened(monthly[0])
    assert headings(doc) == MONTHLY
    assert "2026年第9期" in [p.text for p in doc.paragraphs]
    want = sql_counts(con, dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert num(table(doc, "指标").set_index("指标")["本期"]["受理诉求"]) == want["received"]
    ranks = table(doc, "名次")
    received = dict(con.execute("""SELECT t.name, count(*) FROM cases c JOIN areas t ON t.code = left(c.area_code, 9)
        WHERE CAST(c.received_at AS DATE) BETWEEN '2026-09-01' AND '2026-09-30' GROUP BY 1""").fetchall())
    assert all(num(r["受理"]) == received.get(r["乡镇(街道)"], 0) for _, r in ranks.iterrows())
    months = table(doc, "月份")
    assert list(months["月份"]) == [f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(10, 13)] + [(2026, m) for m in range(1, 10)]]


def test_the_area_report_of_a_town_has_one_line_per_village(con, busy_town):
    town, name, (data, _) = busy_town
    doc = opened(data)
    assert headings(doc) == AREA
    villages = table(doc, "村(社区)")
    names = [n for (n,) in con.execute("SELECT name FROM areas WHERE level = 'village' AND starts_with(code, ?) ORDER BY code",
                                       [town]).fetchall()]
    assert list(villages["村(社区)"]) == names
    start, end = dt.date(2025, 11, 1), dt.date(2026, 10, 31)  # the dashboard's default: the last 12 months
    received = dict(con.execute("""SELECT v.name, count(*) FROM cases c JOIN areas v ON v.code = c.area_code
        WHERE starts_with(c.area_code, ?) AND CAST(c.received_at AS DATE) BETWEEN ? AND ? GROUP BY 1""",
                                [town, start, end]).fetchall())
    assert {r["村(社区)"]: num(r["受理"]) for _, r in villages.iterrows() if num(r["受理"])} == received
    overdue = table(doc, "诉求编号")  # the overdue list: ids, never people
    assert not {"诉求人", "反映人", "联系电话"} & set(overdue.columns)
    assert len(overdue) == min(20, sql_counts(con, start, end, town)["overdue"])
    assert f"{name}" in [r["区域"] for _, r in table(doc, "区域").iterrows()][0]


def test_no_clear_personal_data_from_the_ledger_is_in_any_document(con, demo_dir, digest, monthly, busy_town):
    ledger = pd.read_csv(next((demo_dir / "demo_sources").glob("*诉求台账*.csv")), encoding="gb18030", dtype=str)
    texts = [all_text(opened(data)) for data, _ in (digest, monthly, busy_town[2])]
    places = " ".join(n for (n,) in con.execute("SELECT name FROM areas UNION SELECT handling_unit FROM cases "
                                                "WHERE handling_unit IS NOT NULL").fetchall())
    names = {n for n in ledger["反映人"].dropna() if len(n) >= 2 and n not in places}
    assert len(names) > 100 and ledger["联系电话"].notna().sum() > 100
    for text in texts:
        assert not PHONE.search(text), PHONE.search(text)
        assert not ID_NUMBER.search(text), ID_NUMBER.search(text)
        assert not [n for n in names if n in text]


def test_the_digest_lists_the_early_warnings_with_the_planted_ones_first(con, digest, demo_truth):
    text = all_text(opened(digest[0]))
    assert "（五）预警事项" in headings(opened(digest[0]), 2)
    listed = [p for p in text.splitlines() if re.match(r"\d+\. 【", p)]
    kinds = [re.match(r"\d+\. 【(.+?)】", p).group(1) for p in listed]
    assert kinds and kinds[0] == "诉求异常增多"  # surges rank first, the demo's planted burst first of them
    plant = demo_truth["alerts"]["surge"]
    village = con.execute("SELECT name FROM areas WHERE code = ?", [plant["village"]]).fetchone()[0]
    assert village in listed[0] and "征地拆迁补偿" in listed[0]
    assert {"集体访苗头", "越级访苗头"} <= set(kinds)
    total = int(re.search(r"预警分析（抓苗头）提示(\d+)项", text).group(1))
    assert total >= len(listed) and ("另有" in text) == (total > len(listed))
    assert "【预警接口】" not in text and "预警事项" in text.split("五、下一步工作建议")[1]


def test_early_warnings_passed_in_are_listed_instead(con):
    flt = CaseFilter(dt.date(2026, 10, 11), dt.date(2026, 10, 20))
    data, _ = reports.build(con, "digest", flt, warnings=[EarlyWarning("某村土地纠纷集体访苗头", "近两旬同类诉求6件，涉及12人")])
    text = all_text(opened(data))
    assert "1. 某村土地纠纷集体访苗头：近两旬同类诉求6件，涉及12人" in text and "【预警接口】" not in text
    assert "（五）预警事项" in headings(opened(data), 2)


def test_the_template_sets_gb9704_fonts_and_margins_and_an_office_can_replace_it(con, tmp_path, monkeypatch):
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    from reports.documents.docx_writer import template_path

    doc = Document(str(template_path()))
    s = doc.sections[0]
    assert (round(s.page_width / Mm(1)), round(s.page_height / Mm(1))) == (210, 297)  # A4
    assert [round(m / Mm(1)) for m in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)] == [37, 35, 28, 26]

    def east_asia(style):
        return doc.styles[style].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    assert (east_asia("MQ Title"), doc.styles["MQ Title"].font.size) == ("方正小标宋简体", Pt(22))
    assert (east_asia("MQ Body"), doc.styles["MQ Body"].font.size) == ("仿宋", Pt(16))
    assert (east_asia("Heading 1"), east_asia("Heading 2")) == ("黑体", "楷体")
    # an office's own template: its body font is what the document gets
    doc.styles["MQ Body"].element.rPr.find(qn("w:rFonts")).set(qn("w:eastAsia"), "仿宋_GB2312")
    doc.save(tmp_path / "ours.docx")
    monkeypatch.setenv("MINQING_REPORT_TEMPLATE", str(tmp_path / "ours.docx"))
    monkeypatch.setenv("MINQING_REPORT_OFFICE", "某某区信访局")
    data, _ = reports.build(con, "digest", CaseFilter(dt.date(2026, 10, 11), dt.date(2026, 10, 20)))
    out = opened(data)
    body = next(p for p in out.paragraphs if p.style.name == "MQ Body")
    assert body.style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert out.paragraphs[3].text.startswith("某某区信访局")
    monkeypatch.setenv("MINQING_REPORT_TEMPLATE", str(tmp_path / "missing.docx"))
    with pytest.raises(ValueError, match="报告模板 .*missing.docx 无法打开"):
        reports.build(con, "digest", CaseFilter(dt.date(2026, 10, 11), dt.date(2026, 10, 20)))


def test_charts_are_drawn_without_a_cjk_font(monkeypatch):
    from reports.documents import charts

    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    months = pd.DataFrame({"month": ["2026-09", "2026-10"], "received": [3, 5], "closed": [2, 4]})
    assert charts.trend(months, "受理与办结")[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_read_as_an_officer_writes_them():
    from reports import formats
    from reports.documents import sentences

    def change(pop_pct=None, pop_change=None):
        return {"pop_pct": pop_pct, "yoy_pct": None, "pop_change": pop_change}

    summary = {"received": 312, "closed": 298, "closure_rate": 298 / 312, "closed_on_time": 290, "on_time_rate": 290 / 298,
               "rated": 0, "open": 40, "overdue": 12, "as_of": dt.datetime(2026, 10, 31, 23, 59),
               "changes": {"received": change(0.083), "closure_rate": change(pop_change=0.012)}}
    # the open and overdue counts hold at the data's date, not at the period's end
    assert sentences.overall(summary) == ("本期共受理群众诉求312件，环比上升8.3%，同比无可比数据；办结298件，办结率95.5%，"
                                          "较上期提高1.2个百分点；按期办结290件，按期办结率97.3%；"
                                          "截至2026年10月31日，本期末前受理的诉求中尚有未办结40件，其中超期12件。")
    assert sentences.count_change(-0.0204, "环比") == "环比下降2.0%" and sentences.count_change(0.0, "同比") == "同比持平"
    assert sentences.rate_change(-0.004) == "较上期下降0.4个百分点" and sentences.rate_change(0.0) == "与上期持平"
    # 持平 exactly when the table shows ±0.0: +0.05% is written +0.1% in the table
    assert formats.change_pct(0.0005) == "+0.1%" and sentences.count_change(0.0005, "环比") == "环比上升0.1%"
    assert formats.points(-0.0005) == "-0.1 个百分点" and sentences.rate_change(-0.0005) == "较上期下降0.1个百分点"
    assert sentences.count_change(0.00049, "环比") == "环比持平" and formats.change_pct(0.00049) == "+0.0%"
    # nothing received in either period: 持平, and no closure rate of nothing
    empty = {**summary, "received": 0, "closed": 0, "closure_rate": None, "closed_on_time": 0, "open": 0, "overdue": 0,
             "changes": {"received": change(None), "closure_rate": change()}}
    text = sentences.overall(empty)
    assert text.startswith("本期共受理群众诉求0件，环比持平，同比持平；截至") and "—" not in text and "无可比数据" not in text


def test_a_real_warehouse_is_not_labelled_demo(demo_db, tmp_path):
    import shutil

    from etl.db import connect

    db = tmp_path / "real.duckdb"
    shutil.copy(demo_db, db)
    with connect(db) as con:
        con.execute("UPDATE meta SET value = 'false' WHERE key = 'demo'")
    with connect(db, read_only=True) as con:
        data, model = reports.build(con, "digest", CaseFilter(dt.date(2026, 10, 11), dt.date(2026, 10, 20)))
    doc = opened(data)
    assert "演示数据" not in all_text(doc) and not model.header.demo
    assert doc.paragraphs[0].text == "内部资料" and reports.file_name("digest", model).endswith("群众诉求情况.docx")


def received(con, start, end, prefix: str = "") -> int:
    return sql_counts(con, start, end, prefix)["received"]


def test_the_previous_period_is_the_previous_ten_days_and_the_previous_month(con, digest, monthly):
    # the digest of 21-31 October against 11-20 October (not the 11 days before, from 10 October)
    assert received(con, dt.date(2026, 10, 10), dt.date(2026, 10, 20)) != received(con, dt.date(2026, 10, 11), dt.date(2026, 10, 20))
    doc = opened(digest[0])
    kpis = table(doc, "指标").set_index("指标")["上期"]
    assert num(kpis["受理诉求"]) == received(con, dt.date(2026, 10, 11), dt.date(2026, 10, 20))
    assert "环比：与2026年10月中旬比较" in all_text(doc)
    # September against August (not the 30 days before, from 2 August)
    assert received(con, dt.date(2026, 8, 2), dt.date(2026, 8, 31)) != received(con, dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    doc = opened(monthly[0])
    kpis = table(doc, "指标").set_index("指标")["上期"]
    assert num(kpis["受理诉求"]) == received(con, dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    assert "环比：与2026年8月比较" in all_text(doc)
    months = table(doc, "月份").set_index("月份")["受理"]  # 四、月度分析 compares the same two months
    assert num(months["2026-08"]) == num(kpis["受理诉求"])


def test_open_cases_are_stated_at_the_data_date(con, monthly):
    doc = opened(monthly[0])
    end = dt.date(2026, 9, 30)
    open_now = con.execute(f"""SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND status IN {OPEN}""",
                           [end]).fetchone()[0]
    kpis = table(doc, "指标").set_index("指标")["本期"]
    assert num(kpis["未办结(截至数据日期)"]) == open_now
    text = all_text(doc)
    assert f"截至2026年10月31日，本期末前受理的诉求中尚有未办结{open_now:,}件" in text and "截至期末" not in text


def test_the_monthly_analysis_names_months_in_chinese_and_the_ranking_threshold(monthly):
    text = all_text(opened(monthly[0]))
    assert re.search(r"受理最多的是\d{4}年\d{1,2}月（[\d,]+件）；2026年9月受理[\d,]+件，较8月(上升|下降|持平)", text), text
    assert "不少于30件" in text and "规定件数" not in text
    # the hot spots: the 12 complete months up to the period's end, named
    assert "2025年10月至2026年9月共12个月逐月Gi*" in text or "2025年10月至2026年9月共12个月的时空热点分析" in text
    assert "近12个月的时空热点" not in text


def test_a_towns_monthly_analysis_ranks_its_units_not_itself(con, busy_town):
    town = busy_town[0]
    data, _ = reports.build(con, "monthly", CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30), area_prefix=town))
    subheads = headings(opened(data), 2)
    assert "（二）承办单位三率排名" in subheads and not [h for h in subheads if "乡镇(街道)三率排名" in h]


def test_the_template_marks_east_asian_text_as_chinese():
    from docx.oxml.ns import qn

    from reports.documents.docx_writer import template_path

    doc = Document(str(template_path()))
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    langs = [defaults.find(qn("w:lang"))] + [doc.styles[n].element.rPr.find(qn("w:lang"))
                                             for n in ("Normal", "MQ Body", "MQ Title", "MQ Table Text")]
    assert [el.get(qn("w:eastAsia")) for el in langs] == ["zh-CN"] * 5


def test_the_page_shows_a_reports_refusal_and_hides_a_fault():
    from dashboard.compute.report import error_message

    assert error_message(reports.BadPeriod("统计时段的第一天 2030-01-01 晚于数据日期 2026-10-31")) == \
        "报告未能生成: 统计时段的第一天 2030-01-01 晚于数据日期 2026-10-31"
    assert error_message(reports.NoCases("数据仓库中还没有诉求记录, 无法生成报告")).endswith("无法生成报告")
    assert error_message(KeyError("closure_rate")) is None  # logged; the page says 程序出错 in Chinese
