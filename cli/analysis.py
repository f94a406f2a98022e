"""Analysis commands of `minqing`: hotspots, emerging, must-visit. Each prints JSON with --json."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import click

from .access import audit
from .paths import existing_db

from etl import settings
from etl.db import connect
from reports import formats

# Mann-Kendall trend of an area's monthly Gi* z scores (geo.emerging.TRENDS), in words.
TREND_LABELS = {"up": "上升", "down": "下降", "none": "无显著趋势"}


def _bad(option: str, message: str) -> click.UsageError:
    """A wrong option value, said in Chinese (click's BadParameter would add 'Invalid value for')."""
    return click.UsageError(f"{option}: {message}")


def _open(ctx: click.Context):
    return connect(existing_db(ctx), read_only=True)


class _WithSettings(click.Command):
    """A command whose help ends with the current value and meaning of the settings it uses."""

    def __init__(self, *args, prefixes: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.prefixes = prefixes

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        rows = [(f"{s.name} = {s.show(settings.get(s.name))}", s.zh) for p in self.prefixes for s in settings.group(p)]
        with formatter.section("设置 (当前值; 用环境变量 MINQING_<设置名大写> 或 MINQING_CONFIG 指定的 TOML 文件修改)"):
            formatter.write_dl(rows)


def _filter_options(f):
    f = click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="受理时段的第一天 (YYYY-MM-DD); 默认: 截至数据日期的最近 12 个月, 与仪表盘相同。")(f)
    f = click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="受理时段的最后一天 (YYYY-MM-DD); 默认: 数据截至日期。")(f)
    f = click.option("--category", help="只看此问题类别, 如 道路。")(f)
    f = click.option("--channel", help="只看此诉求来源, 如 群工热线。")(f)
    f = click.option("--status", help="只看此办理状态, 如 办理中。")(f)
    return f


def _case_filter(start, end, category=None, channel=None, status=None, area: str = "", *, con=None):
    """The CaseFilter of the command's options; an unknown term or a reversed period is a usage error in Chinese.
    With `con`, the terms the warehouse keeps as written (not in the vocabulary) are accepted too."""
    from analysis.filters import DOMAIN_LABELS, CaseFilter, canonical, terms_in_use

    def norm(domain, value, option):
        if value is None:
            return ()
        known = terms_in_use(con, domain) if con is not None else []
        try:
            return canonical(domain, value, known)
        except ValueError:
            from etl import vocab

            options = known or vocab.terms(domain)
            label = DOMAIN_LABELS[domain]
            raise _bad(option, f"没有{label}「{value}」; 可选的{label}: {'、'.join(options)}") from None

    if start and end and start > end:
        raise _bad("--from", f"--from {start:%Y-%m-%d} 晚于 --to {end:%Y-%m-%d}")
    return CaseFilter(start.date() if start else None, end.date() if end else None,
                      norm("category", category, "--category"), norm("channel", channel, "--channel"),
                      norm("status", status, "--status"), area)


def _clean(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def _records(df, columns) -> list[dict]:
    return [{c: _clean(r[c]) for c in columns} for r in df[columns].to_dict("records")]


@click.command()
@click.option("--level", type=click.Choice(["village", "town", "hex"]), default="village", show_default=True)
@click.option("--resolution", type=click.IntRange(5, 10), default=7, show_default=True, help="--level hex 时 H3 六边形的级别。")
@click.option("--value", type=click.Choice(["rate", "count"]), default="rate", show_default=True,
              help="rate: 每千户诉求 (经验贝叶斯平滑); count: 诉求件数 (六边形总是按件数)。")
@click.option("--no-fdr", is_flag=True, help="不做错误发现率 (FDR) 校正。")
@click.option("--seed", type=int, default=0, hidden=True,
              help="已不使用: Gi* 与 LISA 的显著性都用解析检验, 没有随机性 (保留以兼容旧脚本)。")
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 列表, 每个区域或六边形一项。")
@click.pass_context
def hotspots(ctx, level, resolution, value, no_fdr, seed, start, end, category, channel, status, as_json):
    """诉求的显著热点与冷点 (Getis-Ord Gi*, 按 Esri 分级) 及 LISA 聚集 (局部 Moran's I, 条件随机化解析检验)。"""
    from analysis.hotspots import area_hotspots, hex_hotspots

    con = _open(ctx)
    flt = _period(con, _case_filter(start, end, category, channel, status, con=con), required=False)
    if level == "hex":
        df = hex_hotspots(con, resolution, flt, seed=seed, fdr=not no_fdr)
        cols = ["h3", "value", "z", "p", "class"]
    else:
        df = area_hotspots(con, level, flt, value=value, seed=seed, fdr=not no_fdr)
        cols = ["area_code", "name", "cases", "households", "rate", "rate_eb", "value", "z", "p", "class", "lisa", "lisa_z", "lisa_p"]
    if as_json:
        click.echo(json.dumps(_records(df, cols), ensure_ascii=False))
        return
    if df.empty:
        click.echo("没有可分析的区域: 请先导入村(社区)边界 (minqing load areas 边界文件)")
        return
    from geo.getis_ord import CLASS_LABELS

    counts = df["class"].value_counts()
    click.echo("  ".join(f"{CLASS_LABELS[k]}: {int(counts.get(k, 0))}" for k in CLASS_LABELS))
    hot = df[df["class"].str.startswith("hot")].sort_values("z", ascending=False)
    for r in hot.head(20).to_dict("records"):
        name = r.get("name") or r.get("h3")
        click.echo(f"  {name}  z={r['z']:.2f}  {CLASS_LABELS[r['class']]}")


@click.command(name="must-visit", cls=_WithSettings, prefixes=("must_visit_",))
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="覆盖下列阈值的 TOML 文件 (优先于环境变量); 键为去掉 must_visit_ 的设置名, "
                   "如 remote_km = 20.0 或 [weights] poverty = 4.0。")
@click.option("--flag", "only", type=click.Choice(["poverty", "remote", "petitions", "difficult", "disaster"]), multiple=True,
              help="只列出有此标记的村 (可重复)。")
@click.option("--all", "show_all", is_flag=True, help="也列出没有标记的村。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 列表, 每个村(社区)一项。")
@click.pass_context
def must_visit_cmd(ctx, config, only, show_all, as_json):
    """五必去: 每个村(社区)的五项必去标记、原因与优先得分。

    优先得分 = 各项标记的权重 × 严重程度 (1 到 2, 超出阈值越多越高) 之和; 同分时按超期未办结件数、
    近期每千户诉求从多到少, 再按区划代码排列。"""
    from analysis.must_visit import FLAG_LABELS, load_config, must_visit

    try:
        cfg = load_config(config)
    except (ValueError, OSError) as e:
        raise _bad("--config", str(e)) from None
    df = must_visit(_open(ctx), cfg)
    if only:
        df = df[df["flags"].map(lambda fl: any(f in fl for f in only))]
    elif not show_all:
        df = df[df["flags"].map(len) > 0]
    if as_json:
        cols = ["area_code", "name", "town", "flags", "reasons", "severity", "score", "households", "cases", "key_share", "seat_km",
                "rate_eb", "overdue", "closure_rate", "satisfaction_rate"]
        click.echo(json.dumps(_records(df, cols), ensure_ascii=False))
        return
    click.echo(f"需走访的村(社区): {len(df)} 个")
    for r in df.head(50).to_dict("records"):
        click.echo(f"  [{r['score']:.2f}] {r['town']} {r['name']} ({r['area_code']}): "
                   + "; ".join(f"{FLAG_LABELS[f]}: {why}" for f, why in zip(r["flags"], r["reasons"])))


@click.command()
@click.option("--level", type=click.Choice(["village", "town"]), default="village", show_default=True)
@click.option("--no-fdr", is_flag=True, help="各月不做错误发现率 (FDR) 校正。")
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 列表, 每个区域一项。")
@click.pass_context
def emerging(ctx, level, no_fdr, start, end, category, channel, status, as_json):
    """时空热点趋势: 逐月 Gi*、Mann-Kendall 趋势检验及 Esri 的分类 (新增、加剧、持续、减弱等)。"""
    from analysis.hotspots import emerging as run

    con = _open(ctx)
    flt = _period(con, _case_filter(start, end, category, channel, status, con=con), required=False)
    cats, _bins = run(con, flt, level=level, fdr=not no_fdr)
    cols = ["area_code", "name", "category", "label_zh", "hot_bins", "cold_bins", "n_bins", "last_z", "last_p",
            "trend_z", "trend_p", "trend"]
    cols = [c for c in cols if c in cats.columns]
    if as_json:
        click.echo(json.dumps(_records(cats, cols), ensure_ascii=False))
        return
    if cats.empty:
        click.echo("没有可分析的数据: 需要村(社区)边界和诉求记录")
        return
    counts = cats["label_zh"].value_counts()
    click.echo("  ".join(f"{k}: {int(v)}" for k, v in counts.items()))
    for r in cats[cats["category"] != "no_pattern"].sort_values("category").head(40).to_dict("records"):
        click.echo(f"  {r['name']} ({r['area_code']}): {r['label_zh']}, 热点月数 {r['hot_bins']}/{r['n_bins']}, "
                   f"趋势 {TREND_LABELS.get(r['trend'], r['trend'])}")


def _period(con, flt, *, required: bool = True):
    """The filter with its period closed as the dashboard closes it (analysis.metrics.resolve_period:
    the end at the data's own date, the start at the default period's), said on stderr so that
    --json output stays clean. Without cases: a usage error, or the filter as it is when not `required`."""
    import dataclasses

    from analysis import metrics
    from etl import settings, views

    period = metrics.resolve_period(con, flt)
    if period is None:
        if required:
            raise click.UsageError("数据仓库中还没有诉求记录")
        return flt
    s, e = period
    if s > e:
        raise _bad("--from", f"--from {s} 晚于 --to {e}")
    note = "" if flt.start and flt.end else (
        f" (未指定的一端按默认: 截至数据日期的最近 {settings.get('period_default_months')} 个月, 与仪表盘相同; "
        f"可用 --from/--to 指定)")
    click.echo(f"受理时段 {s} 至 {e}; {views.as_of(con).label()}{note}", err=True)
    return dataclasses.replace(flt, start=s, end=e)


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return _clean(v)


@click.command(name="metrics", cls=_WithSettings, prefixes=("metric_", "deadline_days_"))
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="受理时段的第一天 (YYYY-MM-DD); 默认: 截至数据日期的最近 12 个月, 与仪表盘相同。")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="受理时段的最后一天 (YYYY-MM-DD); 默认: 数据截至日期。")
@click.option("--area", default="", help="只看区划代码以此开头的区域 (乡镇或村的代码)。")
@click.option("--category", help="只看此问题类别。")
@click.option("--channel", help="只看此诉求来源。")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象, 含各项指标及其环比、同比。")
@click.pass_context
def metrics_cmd(ctx, start, end, area, category, channel, as_json):
    """诉求指标: 受理、办结、办结率、按期办结、超期、满意率、重复访、集体访等。"""
    from analysis import metrics

    con = _open(ctx)
    flt = _period(con, _case_filter(start, end, category, channel, area=area, con=con))
    summary = metrics.case_summary(con, flt)
    if as_json:
        click.echo(json.dumps(_plain(summary), ensure_ascii=False))
        return
    click.echo(f"{flt.start} 至 {flt.end}")
    for k, v in summary.items():
        if not isinstance(v, (dict, list)) and k in metrics.LABELS:
            click.echo(f"  {metrics.LABELS[k]}: {formats.rate(v) if k.endswith('_rate') else formats.count(v)}")


@click.command(cls=_WithSettings, prefixes=("ranking_",))
@click.option("--by", type=click.Choice(["town", "unit"]), default="town", show_default=True, help="按乡镇(街道) (town) 或承办单位 (unit) 排名。")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="受理时段的第一天 (YYYY-MM-DD); 默认: 截至数据日期的最近 12 个月。")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="受理时段的最后一天 (YYYY-MM-DD); 默认: 数据截至日期。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 列表, 每个乡镇或单位一项。")
@click.pass_context
def rankings(ctx, by, start, end, as_json):
    """按响应率、办结率、满意率给乡镇(街道)或承办单位排名, 并标出考核标记。"""
    from analysis import metrics
    from analysis.rankings import rankings as run

    con = _open(ctx)
    df = run(con, _period(con, _case_filter(start, end)), by=by)
    if as_json:
        click.echo(json.dumps(_plain(df.to_dict("records")), ensure_ascii=False))
        return
    labels = metrics.LABELS | {"name": "乡镇(街道)", "handling_unit": "承办单位", "flags": "标记"}
    cols = [c for c in ("rank", "name", "handling_unit", "received", "response_rate", "resolution_rate",
                        "satisfaction_rate", "score", "flags") if c in df.columns]
    click.echo(_text_table(df[cols].rename(columns=labels)))


def _text_table(df) -> str:
    """A table as text with Chinese headers, rates (formats.is_rate_column) as '96.2%', missing as '—'."""
    out = formats.shown(df).astype(object).where(df.notna(), "—")
    for c in out.columns:
        if c not in formats.rate_columns(df) and df[c].dtype.kind == "f":
            out[c] = df[c].map(lambda v: "—" if v != v else f"{v:,.1f}")
    return out.to_string(index=False)


@click.command()
@click.option("--level", type=click.Choice(["village", "town", "district"]), default="town", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象: 分类、结对覆盖、五必访人群。")
@click.pass_context
def households(ctx, level, as_json):
    """各区域放心户/关心户/连心户的户数与占比、连心户结对覆盖率、五必访人群 (只有汇总数)。"""
    from analysis import households as hh

    con = _open(ctx)
    out = {"categories": hh.category_counts(con, level).to_dict("records"),
           "pairing": hh.pairing_coverage(con, level).to_dict("records"),
           "must_see": hh.must_see_counts(con, level).to_dict("records")}
    if as_json:
        click.echo(json.dumps(_plain(out), ensure_ascii=False))
        return
    titles = {"categories": "民情分类", "pairing": "连心户结对", "must_see": "五必访人群"}
    labels = hh.labels()
    for k, rows in out.items():
        import pandas as pd

        table = pd.DataFrame(rows)
        click.echo(f"[{titles[k]}]")
        if not table.empty:
            click.echo(_text_table(table.drop(columns=["code"], errors="ignore").head(40)
                                   .rename(columns=lambda c: labels.get(c, c))))


@click.command(name="export")
@click.option("--level", type=click.Choice(["town", "village"]), default="town", show_default=True,
              help="每个乡镇(街道) (town) 或每个村(社区) (village) 一行。")
@click.option("--area", default="", help="只导出此乡镇或村内的区域 (代码或准确名称); 默认: 全区。")
@_filter_options
@click.option("--metrics", "metric_list", metavar="K1,K2,...",
              help="要导出的指标, 用逗号分隔的键或中文名 (如 received,closure_rate 或 受理诉求,办结率); "
                   "默认: received, closed, closure_rate, open, overdue, satisfaction_rate, households, "
                   "key_assistance_share, coverage。--list-metrics 列出全部。")
@click.option("--list-metrics", is_flag=True, help="列出全部指标的键和中文名后退出。")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson", "gpkg"]),
              help="文件格式; 默认按 -o 的后缀, 否则为 csv (UTF-8 带BOM)。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="输出文件 ('-' 为标准输出); 默认在当前目录按层级、时段和区域命名。")
@click.pass_context
def export_cmd(ctx, level, area, start, end, category, channel, status, metric_list, list_metrics, fmt, output):
    """按乡镇或村汇总所选的诉求与户情指标, 导出为 CSV (UTF-8 带BOM)、XLSX (含说明页)、GeoJSON 或
    GeoPackage (未简化的边界, EPSG:4326); 与仪表盘「导出」页在相同筛选下的行和数字一致。"""
    import dataclasses
    import sys

    from analysis import metrics
    from reports import export

    if list_metrics:
        for k, label in export.metric_labels().items():
            click.echo(f"{k}\t{label}")
        return
    try:
        keys = export.parse_metrics(metric_list.split(",") if metric_list else export.DEFAULT_METRICS)
    except export.UnknownMetric as e:
        raise _bad("--metrics", f"没有指标 {e.item!r}; 用 --list-metrics 查看全部指标") from None
    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output and output != "-" else ""
        fmt = suffix if suffix in export.FORMATS else "csv"
    con = _open(ctx)
    prefix, area_label = _area_code(con, area)
    flt = _period(con, dataclasses.replace(_case_filter(start, end, category, channel, status, con=con), area_prefix=prefix),
                  required=False)
    try:
        gdf = export.area_summary(con, flt, level, keys)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    period = metrics.resolve_period(con, flt)
    if period is None and any(k in export.case_metric_labels() for k in keys):
        click.echo("注意: 数据仓库中还没有诉求记录, 诉求指标均为 0", err=True)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    data = export.to_bytes(gdf, fmt, export.notes(con, flt, level, gdf))
    audit(ctx.obj["db"], "export", target=f"导出 {level} {fmt}", detail={"filter": flt.describe(area_label)}, rows=len(gdf))
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(output) if output else Path(export.file_name(level, period, area_label or meta.get("district_name", ""),
                                                             fmt, meta.get("demo") == "true"))
    try:
        path.write_bytes(data)
    except OSError as e:
        raise _bad("-o", f"无法写入 {path}: {e}") from None
    missing = int(gdf.geometry.isna().sum())
    note = f"; {missing} 个区域无边界 (几何为空)" if missing and fmt in ("geojson", "gpkg") else ""
    click.echo(f"已写出 {path}: {len(gdf)} 个区域, {len(keys)} 项指标{note}")


def _area_code(con, area: str) -> tuple[str, str]:
    """(code prefix, display name) of --area: a code or an exact, unique name; ('', '') for the district."""
    area = (area or "").strip()
    if not area:
        return "", ""
    rows = con.execute("SELECT code, name, level FROM areas WHERE code = ? OR name = ? ORDER BY code", [area, area]).fetchall()
    if not rows:
        raise _bad("--area", f"{area!r} 不是本数据仓库中的区划代码或名称")
    if len(rows) > 1:
        raise _bad("--area", f"{area!r} 对应多个区域 ({', '.join(c for c, _, _ in rows)}); 请用区划代码")
    code, name, lv = rows[0]
    return ("" if lv == "district" else code), name


COMMANDS = (hotspots, must_visit_cmd, emerging, metrics_cmd, rankings, households, export_cmd,)
