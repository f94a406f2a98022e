"""The printable 五必去 visit plan: one self-contained HTML document (A4 landscape, print
stylesheet, Chinese fonts by fallback, no external resources) with the ranked villages, their
reasons and blank columns for the visiting cadre, the date and a signature.

Every text (titles, names, reasons, any cell) is HTML-escaped: ledger text may contain markup.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence

import pandas as pd

BLANK_COLUMNS = ("走访干部", "走访日期", "签字")
DEMO_LABEL = "演示数据"
FONTS = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "微软雅黑", '
         '"PingFang SC", "Hiragino Sans GB", "WenQuanYi Micro Hei", "SimSun", "宋体", sans-serif')
# Relative column widths for the usual plan columns (others share what is left).
_WIDTHS = {"序号": 3.5, "乡镇(街道)": 8, "村(社区)": 10, "区划代码": 10, "五必去标记": 10, "原因": 31, "优先得分": 6,
           "户数": 5, "诉求件数": 5, "超期未办结": 5, "走访干部": 9, "走访日期": 8, "签字": 8}

_CSS = """
@page { size: A4 landscape; margin: 12mm 10mm 14mm 10mm; }
* { box-sizing: border-box; }
body { font-family: %(fonts)s; color: #111; margin: 0; padding: 16px; font-size: 11pt; line-height: 1.45; }
header { border-bottom: 2px solid #111; margin-bottom: 8px; padding-bottom: 6px; }
h1 { font-size: 18pt; margin: 0 0 4px 0; letter-spacing: 1px; }
.sub { margin: 0; color: #333; font-size: 10pt; }
.meta { margin: 2px 0; color: #333; font-size: 9.5pt; }
ul.meta { padding-left: 18px; }
.demo { display: inline-block; border: 1.5px solid #b00; color: #b00; font-weight: bold; padding: 0 6px;
        margin-left: 8px; font-size: 11pt; vertical-align: middle; }
table { width: 100%%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 1px solid #444; padding: 3px 4px; vertical-align: top; word-wrap: break-word; overflow-wrap: anywhere; }
th { background: #eee; font-weight: bold; text-align: center; }
td.num { text-align: right; white-space: nowrap; }
td.blank { height: 2.2em; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
footer { margin-top: 8px; font-size: 9pt; color: #333; }
.empty { padding: 24px; text-align: center; border: 1px dashed #888; }
.noprint { margin-bottom: 10px; }
.noprint button { font-family: inherit; font-size: 11pt; padding: 4px 14px; cursor: pointer; }
@media print {
  body { padding: 0; font-size: 10pt; }
  .noprint { display: none; }
  th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _cell(v) -> tuple[str, bool]:
    """(escaped text, is a number) of a table value; missing values are blank."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()  # numpy scalar -> Python
        except (ValueError, TypeError):
            pass
    if v is None or v is pd.NA or v is pd.NaT:
        return "", False
    if isinstance(v, bool):
        return ("是" if v else "否"), False
    if isinstance(v, int):
        return str(v), True
    if isinstance(v, float):
        return ("" if math.isnan(v) else f"{v:.1f}"), True
    if isinstance(v, (list, tuple)):
        return html.escape("; ".join(str(x) for x in v)), False
    return html.escape(str(v)), False


def visit_plan_html(plan_df: pd.DataFrame, title: str, subtitle: str = "", demo: bool = False, *,
                    notes: Sequence[str] = (), criteria: Sequence[str] = (), printed: dt.date | None = None) -> str:
    """The plan as a printable HTML page: every row of `plan_df` in order, every column of it,
    then the blank columns 走访干部 / 走访日期 / 签字. `subtitle` (e.g. the area and the
    warehouse's date) and `notes` (e.g. the filters) are printed under the title, `criteria`
    (the rules in words) as a list under them; `demo` adds the 演示数据 label to the title and
    the footer."""
    esc = html.escape
    cols = [c for c in plan_df.columns if c not in BLANK_COLUMNS]
    all_cols = [*cols, *BLANK_COLUMNS]
    widths = [_WIDTHS.get(str(c), 8) for c in all_cols]
    total = sum(widths)
    colgroup = "".join(f'<col style="width:{w / total * 100:.2f}%">' for w in widths)
    head = "".join(f"<th>{esc(str(c))}</th>" for c in all_cols)
    body = []
    for row in plan_df[cols].itertuples(index=False, name=None):
        cells = []
        for v in row:
            text, num = _cell(v)
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        cells += ['<td class="blank"></td>'] * len(BLANK_COLUMNS)
        body.append("<tr>" + "".join(cells) + "</tr>")
    if body:
        table = f"<table><colgroup>{colgroup}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    else:
        table = '<p class="empty">当前条件下没有需要走访的村(社区)。</p>'
    demo_tag = f'<span class="demo">{DEMO_LABEL}</span>' if demo else ""
    when = (printed or dt.date.today()).isoformat()
    meta = "".join(f'<p class="meta">{esc(str(n))}</p>' for n in notes if n)
    if criteria:
        meta += ('<p class="meta">判定标准:</p><ul class="meta">'
                 + "".join(f"<li>{esc(str(c))}</li>" for c in criteria) + "</ul>")
    foot = [f"共 {len(body)} 个村(社区)。打印日期 {when}。"]
    if demo:
        foot.append(f"{DEMO_LABEL}: 村(社区)边界、户情与诉求记录为合成数据, 不代表真实情况。")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{_CSS % {"fonts": FONTS}}</style>
</head>
<body>
<div class="noprint"><button type="button" onclick="window.print()">打印</button></div>
<header>
<h1>{esc(title)}{demo_tag}</h1>
{f'<p class="sub">{esc(subtitle)}</p>' if subtitle else ''}
{meta}
</header>
{table}
<footer>{''.join(f'<p>{esc(f)}</p>' for f in foot)}</footer>
</body>
</html>
"""
