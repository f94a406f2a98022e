"""一区一报 (one area's report): a town or a village over a period. Headline figures with
环比/同比, the trend per 1,000 households against the district, categories, the open and
overdue list (masked ids only, and no petitioner or phone column in any document), households
by category, 五必去 flags and field work, and the neighbours compared (analysis.areas, as the
区域档案 page); for a town one line per village."""

from __future__ import annotations

from analysis import areas, metrics
from analysis import households as hh
from analysis.case_lists import overdue_cases
from analysis.fieldwork import missing
from analysis.fieldwork_reach import households_reached, village_coverage
from etl.codes import level_of
from reports import formats

from . import charts, model, sections, sentences
from .attention import overdue_by_unit
from .context import Context, header, notes, recipients

TITLE = "一区一报"
OVERDUE_ROWS = 20


def document(ctx: Context) -> model.Document:
    code = ctx.flt.area_prefix
    summary = metrics.case_summary(ctx.con, ctx.flt, previous=ctx.previous)
    doc = model.Document(header(ctx, TITLE, "area"), f"{ctx.where}群众工作情况（{ctx.label}）",
                         notes(ctx), recipients=recipients())
    doc.add(model.Heading("一、基本情况"), model.Paragraph(sentences.overall(summary)), _households(ctx, code))
    doc.add(*_trend(ctx, code))
    doc.add(*_categories(ctx, code))
    doc.add(*_open_cases(ctx, summary))
    doc.add(*_villages(ctx, code))
    doc.add(*_neighbours(ctx, code))
    doc.add(*sections.suggestions(ctx, summary, {"units": overdue_by_unit(ctx)}, "七、下一步工作建议"))
    return doc


def _households(ctx: Context, code: str) -> model.Paragraph:
    level = level_of(code)
    row = hh.category_counts(ctx.con, level, area_prefix=code)
    row = row[row["code"] == code]
    if row.empty or not int(row["households"].iloc[0]):
        return model.Paragraph("尚未导入本区域的民情数据库（户籍与分类）。")
    r = row.iloc[0]
    kinds = "、".join(f"{t['term']}{sentences.n(r[t['key']])}户（{formats.rate(r[t['key'] + '_share'])}）"
                      for t in hh.categories())
    return model.Paragraph(f"本区域建档{sentences.n(r['households'])}户，其中{kinds}。")


def _trend(ctx: Context, code: str) -> list:
    df = areas.monthly(ctx.con, code, ctx.flt)
    if df.empty:
        return []
    wide = df.pivot(index="month", columns="scope", values="received_per_1000").reset_index()
    counts = df[df["scope"] == "area"].set_index("month")["received"]
    out = [model.Heading("二、诉求走势与全区对比")]
    if wide["area"].notna().any():
        a, d = df[df["scope"] == "area"], df[df["scope"] == "district"]
        ratio = ctx.con.execute(  # per 1,000 households as the analyses define it (the SQL macro mq_per_1000)
            "SELECT mq_per_1000(?::BIGINT, ?::BIGINT) / nullif(mq_per_1000(?::BIGINT, ?::BIGINT), 0)",
            [int(a["received"].sum()), int(a["households"].iloc[0]), int(d["received"].sum()),
             int(d["households"].iloc[0])]).fetchone()[0]
        if ratio is not None:
            out.append(model.Paragraph(f"统计时段内本区域每千户受理诉求为全区平均水平的{ratio:.2f}倍。"))
        out.append(model.Image(charts.trend(wide, f"{ctx.where}与全区每千户受理诉求",
                                            {"area": ctx.area_name or "本区域", "district": ctx.district}),
                               "图1 每千户受理诉求（按月）", width_mm=150))
    rows = [[m, formats.count(counts.get(m, 0)), _f1(r.area), _f1(r.district)] for m, r in
            zip(wide["month"], wide.itertuples())]
    out.append(model.Table(["月份", "受理", "本区域每千户", "全区每千户"], rows, "表1 各月受理诉求"))
    return out


def _f1(v) -> str:
    return formats.DASH if v is None or v != v else f"{v:.1f}"


def _categories(ctx: Context, code: str) -> list:
    df = areas.breakdown(ctx.con, code, ctx.flt, "category").head(10)
    rows = [[r.category, formats.count(r.received), formats.rate(r.share), formats.rate(r.closure_rate),
             formats.rate(r.district_share)] for r in df.itertuples()]
    lead = [(r.category, int(r.received), None) for r in df.head(3).itertuples() if r.received]
    text = ("本区域受理较多的问题类别是" + "、".join(f"{c}（{sentences.n(n)}件）" for c, n, _ in lead) + "。") if lead \
        else "统计时段内本区域没有受理诉求。"
    return [model.Heading("三、分领域情况"), model.Paragraph(text),
            model.Table(["问题类别", "受理", "占比", "办结率", "全区占比"], rows, "表2 问题类别")]


def _open_cases(ctx: Context, summary: dict) -> list:
    df = overdue_cases(ctx.con, ctx.flt, limit=OVERDUE_ROWS)
    out = [model.Heading("四、未办结与超期诉求"),
           model.Paragraph(f"截至{sentences.as_of(summary)}，本区域本期末前受理的诉求中尚有未办结{sentences.n(summary['open'])}件，"
                           f"其中超期{sentences.n(summary['overdue'])}件"
                           + (f"；超期最久的{len(df)}件如下表（诉求人信息不列出）。" if len(df) else "。"))]
    if len(df):  # no petitioner or phone column in a document, whoever generates it
        rows = [[str(r.case_id), formats.date(r.received_date), formats.count(r.days_overdue), r.village or r.town or "",
                 r.category or "", r.handling_unit or ""] for r in df.itertuples()]
        out.append(model.Table(["诉求编号", "受理日期", "超期天数", "村(社区)", "问题类别", "承办单位"], rows, "表3 超期未办结诉求"))
    return out


def _villages(ctx: Context, code: str) -> list:
    """五、民情与走访: per village (a town: one line each) households, 连心户, cases, 五必去, coverage."""
    figs = areas.figures(ctx.con, ctx.flt, "village")
    figs = figs[figs["code"].str.startswith(code)]
    cov = village_coverage(ctx.con, ctx.flt) if "visits" not in missing(ctx.con) else None
    out = [model.Heading("五、民情分类与“五必去”走访")]
    if cov is not None and len(cov):
        figs = figs.merge(cov[["area_code", "coverage", "visits", "must_visit_flags"]].rename(columns={"area_code": "code"}),
                          on="code", how="left")
        reached = households_reached(ctx.con, ctx.flt)
        key = reached[reached["group"] == "key_assistance"]
        if len(key):
            k = key.iloc[0]
            out.append(model.Paragraph(f"统计时段内走访覆盖连心户{sentences.n(k['visited'])}户，占连心户的{formats.rate(k['share'])}。"))
    else:
        figs = figs.assign(coverage=None, visits=None, must_visit_flags=None)
        out.append(model.Paragraph("尚未导入走访记录，走访覆盖率暂缺。"))
    flagged = figs[figs["must_visit_flags"].map(lambda v: isinstance(v, list) and len(v) > 0)]
    if len(flagged):
        out.append(model.Paragraph("列入“五必去”的村(社区)：" + "；".join(
            f"{r.name}（{'、'.join(r.must_visit_flags)}）" for r in flagged.itertuples()) + "。"))
    rows = [[r.name, formats.count(r.households), formats.rate(r.key_share), formats.count(r.received),
             formats.rate(r.closure_rate), formats.count(r.overdue), formats.rate(r.coverage),
             "、".join(r.must_visit_flags) if isinstance(r.must_visit_flags, list) else ""] for r in figs.itertuples()]
    out.append(model.Table(["村(社区)", "户数", "连心户占比", "受理", "办结率", "超期", "走访覆盖率", "五必去"], rows,
                           "表4 各村(社区)情况（一村一行）"))
    return out


ROLE_NAMES = {"self": "本区域", "neighbour": "相邻", "town_mean": "所属乡镇平均", "district_mean": "全区平均"}


def _neighbours(ctx: Context, code: str) -> list:
    df = areas.comparison(ctx.con, code, ctx.flt)
    if ctx.visible:  # a town account sees other areas only as the district's average
        df = df[df["code"].str.startswith(ctx.visible) | df["role"].str.endswith("_mean")]
    rows = [[f"{r.name}", ROLE_NAMES.get(r.role, ""), formats.count(r.received), _f1(r.per_1000),
             formats.rate(r.closure_rate), formats.rate(r.satisfaction_rate), formats.count(r.overdue)]
            for r in df.itertuples()]
    n = int((df["role"] == "neighbour").sum())
    text = f"与本区域接壤的同级区域{n}个，比较如下（平均行为各自范围的合计除以区域数）。" if n else "没有可比较的相邻区域（缺少边界或相邻区域不在查看范围内）。"
    return [model.Heading("六、与相邻区域比较"), model.Paragraph(text),
            model.Table(["区域", "类型", "受理", "每千户诉求", "办结率", "满意率", "超期"], rows, "表5 与相邻区域比较")]
