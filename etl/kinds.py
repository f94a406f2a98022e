"""The kinds of ledger, each declared once: its fields, how its rows are placed, its key and
what the merge compares, its staging parameters and what runs after its merge.

Everything that lists the kinds reads KINDS: the loader (etl/load.py and the modules it
calls), the templates (etl/template.py) and the CLI's choices. Adding a kind means its
declaration here, its staging SQL `etl/sql/stg_<name>.sql` (a TEMP TABLE `stg_<name>` from
`raw_rows`), its table `<name>` in etl/sql/schema.sql and its section in docs/warehouse.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from . import history, outlines, settings, vocab
from .fields import Field


@dataclass(frozen=True)
class MergeContext:
    """What an after-merge step knows of its load."""
    batch_id: int
    now: dt.datetime  # the load's time
    as_of: dt.date | None = None  # the export date given with `load --as-of`
    repaired: tuple[int, ...] = ()  # lines (features) whose invalid geometry the reader repaired


@dataclass(frozen=True)
class Kind:
    name: str  # also the name of its table and of its staging SQL (stg_<name>.sql)
    label: str  # in Chinese, for the CLI's help
    key: str  # the column that identifies a row; a known key is updated, not added
    fields: tuple[Field, ...]
    placed: bool = False  # the area comes from codes, names or points (etl/sql/int_placement.sql)
    unplaced_ok: bool = False  # a placed row that fits no area is kept (without an area), not rejected
    geometry: bool = False  # read from a geometry file (GeoJSON, Shapefile, GeoPackage)
    # Columns the merge compares and writes; None: every column of the table except the key,
    # batch_id and synthetic_geom.
    content: tuple[str, ...] | None = None
    params: Callable[[dt.datetime], dict] | None = None  # staging SQL parameters besides $hash_key, given the load time
    # Marks rows of `incoming` that must not be applied (e.g. older than what is stored) as rejected
    # in `staged` and removes them from `incoming`, before the merge compares and writes.
    before_merge: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    # What runs after its merge, in the same transaction; it may return notes for the load report.
    after_merge: Callable[[duckdb.DuckDBPyConnection, MergeContext], dict[str, int] | None] | None = None

    @property
    def table(self) -> str:
        return self.name

    @property
    def staging(self) -> str:
        return f"stg_{self.name}"

    @property
    def personal(self) -> bool:
        """Holds personal data: staging hashes it with the warehouse's key ($hash_key)."""
        return any(f.personal for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def kind(name: str) -> Kind:
    if name not in KINDS:
        raise ValueError(f"unknown kind {name!r}; expected one of {', '.join(KINDS)}")
    return KINDS[name]


def _case_params(now: dt.datetime) -> dict:
    """Deadlines from the settings, the latest plausible time, and the open statuses."""
    return {
        "ordinary_days": int(settings.get("deadline_days_ordinary")),
        "major_days": int(settings.get("deadline_days_major")),
        "latest": now + dt.timedelta(days=1),
        "open_statuses": vocab.open_statuses(),
    }


_TOWN = Field("town", "所属乡镇", ("所属街道", "乡镇(街道)", "乡镇街道", "乡镇", "街道", "镇街"), help="乡镇或街道名称")
_VILLAGE = Field("village", "所属村(社区)", ("所属村", "所属社区", "村(社区)", "村社区", "村", "社区", "村居"), help="村或社区名称")
_AREA_CODE = Field("area_code", "区划代码", ("村社区代码", "统计用区划代码", "代码", "村(社区)代码"), help="12位统计用区划代码")
_LON = Field("lon", "经度", ("lng", "longitude", "x"), help="十进制度", type="coordinate")
_LAT = Field("lat", "纬度", ("latitude", "y"), help="十进制度", type="coordinate")

_KINDS = (
    Kind("areas", "区划边界", "code", (
        Field("code", "区划代码", ("代码", "村社区代码", "统计用区划代码", "code",
                                     # the national land-survey fields: village-level and administrative
                                     "CJQYDM", "村级区域代码", "XZQDM", "行政区代码"), required=True),
        Field("name", "名称", ("村社区名称", "区划名称", "name", "CJQYMC", "村级区域名称", "XZQMC", "行政区名称")),
        Field("seat_lon", "驻地经度", (), type="number"),
        Field("seat_lat", "驻地纬度", (), type="number"),
        Field("official_poor", "特困村", ("是否特困村",), help="是/否", type="flag"),
    ), geometry=True, content=("geom", "seat_lon", "seat_lat", "official_poor"), after_merge=outlines.derive),
    Kind("buildings", "商务楼宇、非公企业、商业街区", "building_id", (
        Field("building_id", "编号", ("楼宇编号", "企业编号"), required=True),
        Field("kind", "类型", ("类别",), required=True, vocab="building_kind"),
        Field("name", "名称", ("楼宇名称", "企业名称", "街区名称"), required=True),
        _TOWN, _VILLAGE, _AREA_CODE, _LON, _LAT,
        Field("units", "入驻单位数", ("企业数", "商户数", "职工人数"), type="number"),
        Field("has_station", "设工作站", ("是否设站",), type="flag"),
    ), placed=True),
    Kind("stations", "群众工作站", "station_id", (
        Field("station_id", "工作站编号", ("编号",), required=True),
        Field("name", "工作站名称", ("名称",), required=True),
        _TOWN, _VILLAGE, _AREA_CODE, _LON, _LAT,
        Field("building_id", "楼宇编号", ()),
        Field("staff", "工作人员数", ("人员数",), type="number"),
        Field("reception_days", "坐班日", ("接待日",), help="如 5,15,25"),
    ), placed=True),
    Kind("households", "民情数据库 (户)", "household_id", (
        Field("household_id", "户编号", ("户号", "农户编号", "家庭编号"), required=True),
        _TOWN, _VILLAGE, _AREA_CODE,
        Field("head", "户主姓名", ("户主", "姓名"), personal=True),
        Field("members", "家庭人口", ("人口数", "家庭人数", "人口"), type="number"),
        Field("annual_income", "家庭年收入", ("年收入", "家庭收入(元)", "年收入(元)"), type="number"),
        Field("debt", "家庭负债", ("负债", "负债(元)", "债务"), type="number"),
        Field("difficulty", "困难程度", ("困难等级",), help="0 无 1 一般 2 较重 3 严重", type="number"),
        Field("category", "分类", ("户类别", "民情分类", "类别", "户分类"), required=True, vocab="household_category"),
        Field("category_since", "分类时间", ("分类日期", "认定时间", "认定日期"), type="date"),
        Field("poor", "贫困户", ("是否贫困户",), type="flag"),
        Field("wubao", "五保户", ("是否五保户",), type="flag"),
        Field("old_party_member", "老党员", ("是否老党员",), type="flag"),
        Field("deputy", "两代一委", ("是否两代一委",), type="flag"),
        Field("village_cadre", "村组干部", ("是否村组干部",), type="flag"),
        Field("paired_cadre_id", "结对干部编号", ("帮扶干部编号", "结对干部")),
        _LON, _LAT,
    ), placed=True, after_merge=history.household_categories),
    # cadres of district departments belong to no village or town
    Kind("cadres", "干部名册", "cadre_id", (
        Field("cadre_id", "干部编号", ("编号",), required=True),
        Field("name", "姓名", ("干部姓名",), personal=True),
        Field("unit", "单位", ("所在单位", "工作单位")),
        Field("role", "职务", ("身份",)),
        _TOWN, _VILLAGE, _AREA_CODE,
    ), placed=True, unplaced_ok=True),
    Kind("visits", "走访记录", "visit_id", (
        Field("visit_id", "走访编号", ("编号",), required=True),
        Field("cadre_id", "干部编号", (), required=True),
        Field("visited_at", "走访日期", ("走访时间", "日期"), required=True, type="date"),
        _TOWN, _VILLAGE, _AREA_CODE,
        Field("household_id", "户编号", ("户号",)),
        Field("purpose", "走访事由", ("事由", "内容")),
    ), placed=True),
    Kind("cases", "诉求台账", "case_id", (
        Field("case_id", "受理编号", ("编号", "案件编号", "信访件编号", "工单号", "工单编号", "诉求编号", "受理号"), required=True),
        Field("received_at", "受理时间", ("登记日期", "来访日期", "反映时间", "受理日期", "登记时间", "来电时间"), required=True, type="date"),
        Field("channel", "诉求来源", ("来源", "渠道", "反映渠道", "受理渠道", "来源渠道", "诉求渠道"), required=True, vocab="channel"),
        Field("category", "问题类别", ("类别", "诉求类型", "问题类型", "诉求类别", "问题分类", "诉求分类"), required=True, vocab="category"),
        Field("content", "诉求内容", ("反映内容", "问题描述", "来电内容", "内容")),
        _TOWN, _VILLAGE, _AREA_CODE, _LON, _LAT,
        Field("petitioner", "反映人", ("来访人", "诉求人", "姓名", "来电人"), personal=True),
        Field("phone", "联系电话", ("电话", "手机号", "手机", "联系方式"), personal=True),
        Field("id_number", "身份证号", ("身份证号码", "证件号码", "公民身份号码"), personal=True),
        Field("status", "办理状态", ("状态", "当前状态", "办件状态", "工单状态", "处理状态"), required=True, vocab="status"),
        Field("assigned_at", "交办时间", ("转办时间",), type="date"),
        Field("closed_at", "办结时间", ("结案时间", "办结日期"), type="date"),
        Field("followup_at", "回访时间", ("回访日期",), type="date"),
        Field("satisfaction", "满意度", ("回访满意度", "群众满意度", "评价"), vocab="satisfaction"),
        Field("major", "重大疑难", ("是否重大疑难", "疑难问题", "重大"), help="是/否; 重大疑难问题{deadline_days_major}天办结", type="flag"),
        Field("group_size", "反映人数", ("来访人数", "人数"), help="集体访人数, 默认1", type="number"),
        Field("handling_unit", "承办单位", ("责任单位", "办理单位", "交办单位")),
        Field("leader_in_charge", "包案领导", ("包抓领导", "责任领导")),
        Field("tier", "化解层级", ("解决层级",), help="1 现场 2 街道社区 3 部门联动 4 月度调度会", type="number"),
        Field("escalation_level", "问题库层级", ("三级问题库", "问题库"), help="村/镇/区"),
        Field("received_level", "受理层级", ("来访层级", "反映层级"), help="村/镇/区/市"),
        Field("handling_opinion", "办理意见", ("处理意见", "答复意见", "办理结果")),
        Field("signed_handler", "承办人签字", ("责任人签字",), help="是/否", type="flag"),
        Field("signed_leader", "单位领导签字", ("领导签字",), help="是/否", type="flag"),
    ), placed=True, params=_case_params, before_merge=history.stale_cases,
         after_merge=history.after_cases),
    Kind("disasters", "灾害影响范围", "disaster_id", (
        Field("disaster_id", "编号", ("灾害编号",), required=True),
        Field("kind", "灾害类型", ("类型",), required=True),
        Field("name", "名称", ("灾害名称",), required=True),
        Field("started_at", "开始日期", ("发生日期", "开始时间"), required=True, type="date"),
        Field("ended_at", "结束日期", ("结束时间",), type="date"),
    ), geometry=True),
)

KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}
