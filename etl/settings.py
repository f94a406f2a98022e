"""Every setting of the product in one place: name, default, help text (and a Chinese one).

A setting's type is its default's: a whole number, a number, a text, a list of increasing
whole numbers (written `7,14,30,90`) or a mapping of named weights (written
`poverty=3,remote=1`; names not given keep their default weight).

A value comes from, first to last: the environment variable `MINQING_<NAME>` (upper case),
the TOML file named by `MINQING_CONFIG` (`name = value` per setting, see `read_toml`), the
default. Module constants elsewhere (e.g. analysis.rankings.RANKING_MIN_CASES) read a setting
once, at import; texts shown to users read it when they are built (`fill`).
README.md lists the same settings; tests/test_settings.py keeps the two in step.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_ENV = "MINQING_CONFIG"


class SettingError(ValueError):
    """A setting's value from the environment or a file cannot be used (the CLI shows it as a usage error)."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    zh: str = ""  # the meaning in Chinese, where a page or the CLI shows the threshold to a user
    lo: float | None = None  # the smallest valid value (a number setting), inclusive
    hi: float | None = None  # the largest valid value, inclusive

    @property
    def env(self) -> str:
        return f"MINQING_{self.name.upper()}"

    def show(self, value: object) -> str:
        """The value written as in an environment variable (and in README's table)."""
        if isinstance(value, tuple):
            return ",".join(str(v) for v in value)
        if isinstance(value, dict):
            return ",".join(f"{k}={v}" for k, v in value.items())
        return str(value)

    def parse(self, raw: object, where: str) -> object:
        """`raw` (text from the environment, or a TOML value) as this setting's type; `where` names its source."""
        try:
            value = _parse(self.default, raw)
        except (TypeError, ValueError):
            value = None
        if value is None or (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise SettingError(f"设置 {where}={raw!r} 无效: 应为{self.expected()} (默认 {self.show(self.default)})")
        return value

    def expected(self) -> str:
        """What a valid value looks like, in Chinese."""
        d = self.default
        if isinstance(d, dict):
            return f"逗号分隔的 名称=非负数 (名称为 {'、'.join(d)}; 未给出的保持默认)"
        if isinstance(d, tuple):
            return "逗号分隔的递增正整数"
        kind = {int: "整数", float: "数值", str: "文字"}[type(d)]
        if self.lo is not None and self.hi is not None:
            return f" {self.lo:g} 至 {self.hi:g} 之间的{kind}"
        if self.lo is not None:
            return f"不小于 {self.lo:g} 的{kind}"
        return kind


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "data/minqing.duckdb", "The warehouse file used when --db / MINQING_DB is not given (relative to the repository)."),
    Setting("deadline_days_ordinary", 7, "Days allowed to close an ordinary case (一般问题一周办结); applied when cases are loaded.",
            "一般问题的办理时限 (天), 导入诉求时据此计算办理期限"),
    Setting("deadline_days_major", 14, "Days allowed to close a major or difficult case (重大疑难问题两周办结); applied when cases are loaded.",
            "重大疑难问题的办理时限 (天), 导入诉求时据此计算办理期限"),
    Setting("write_memory_limit", "2GB", "Memory DuckDB may use while loading or building a warehouse; beyond it, work spills to a temporary folder beside the warehouse. Empty for DuckDB's default (80% of RAM)."),
    Setting("backup_keep", 14, "Backups kept by `minqing backup --into FOLDER` (one timestamped folder per backup); older ones in that folder are removed after a successful backup.",
            "minqing backup --into 保留的备份份数 (较早的自动删除)"),
    Setting("backup_dir", "", "Folder `minqing backup` writes into when neither -o nor --into is given (as --into: one timestamped folder per backup, keeping `backup_keep`); the backup timer uses it. Empty: -o or --into must be given.",
            "minqing backup 未给出 -o 或 --into 时使用的备份总目录"),
    Setting("backup_wait_seconds", 600, "Seconds `minqing backup` and `minqing restore` wait for a running load to finish before giving up.",
            "备份或恢复时等待正在进行的导入完成的最长秒数"),
    Setting("server_address", "127.0.0.1", "Address the dashboard listens on (`minqing serve`, `make run`): 127.0.0.1 serves this machine only; 0.0.0.0 serves the network, behind the accounts (see Accounts and roles)."),
    Setting("server_port", 8501, "Port the dashboard listens on."),
    Setting("auth_mode", "password", "How users sign in: password (accounts made with `minqing user add`) or oidc (the office's single sign-on through Streamlit's st.login, configured in .streamlit/secrets.toml; accounts still name each user's role)."),
    Setting("signin_max_failures", 5, "Wrong passwords in a row after which an account is locked for signin_lockout_minutes."),
    Setting("signin_lockout_minutes", 15.0, "Minutes an account stays locked after too many wrong passwords."),
    Setting("session_idle_minutes", 30.0, "A signed-in session that has done nothing for this many minutes is signed out."),
    Setting("demo_seed", 20241, "Random seed of the embedded demo; the same seed gives the same warehouse."),
    Setting("demo_as_of", "2026-10-31", "Last day covered by the demo's records (its 'today')."),
    Setting("period_default_months", 12, "Calendar months up to the data's own date that pages and commands analyse when no period is chosen.",
            "未选择受理时段时, 页面和命令分析截至数据日期的最近几个月 (含当月)"),
    Setting("as_of_lag_warn_days", 30, "The dashboard says so when the data's own date (数据截至) is more than this many days before today.",
            "数据截至日期比今天早超过此天数时, 页面提示数据可能不是最新"),
    Setting("map_basemap", "none", "Base map under the dashboard's maps: none (plain background, works on an intranet without internet), osm, tianditu or amap (data shifted to GCJ-02 to match)."),
    Setting("map_tianditu_key", "", "Tianditu (天地图) browser key, required when map_basemap is tianditu."),
    Setting("map_max_villages_tooltip", 5000, "Above this many areas the map drops tooltips to stay light."),
    Setting("map_max_villages", 8000, "Level of detail: when the area on screen holds more villages than this (a province or city warehouse), the overview map draws its towns until a town is chosen, then that town's villages; 驻点走访, 民情分类, 五必去 and 热点地图 ask for a town before drawing their village maps (热点地图's statistics stay district-wide, drawn for the town's villages)."),
    Setting("metric_repeat_window_days", 90, "A petition repeats an earlier one of the same petitioner and category within this many days (重复访).",
            "重复访: 同一群众就同一类问题在此天数内再次反映"),
    Setting("metric_multichannel_window_days", 90, "Channels of one petitioner on one issue are counted within this many days (多头访).",
            "多头访: 同一群众就同一问题在此天数内通过两种以上渠道反映"),
    Setting("metric_response_hours", 24, "A case assigned within this many hours of receipt counts as responded (响应率).",
            "响应率: 受理后在此小时数内交办即为及时响应"),
    Setting("metric_group_min_size", 5, "People from which a petition is a group petition (集体访).",
            "集体访: 共同反映的人数不少于此值"),
    Setting("metric_overdue_bucket_edges", (7, 14, 30, 90), "Upper bounds (days) of the overdue aging buckets (超期天数): 1-7, 8-14, 15-30, 31-90, over 90.",
            "超期天数分段的上限 (天)"),
    Setting("ranking_min_cases", 30, "Units with fewer cases in the period are listed but not ranked.",
            "受理诉求少于此件数的单位只列出, 不排名"),
    Setting("ranking_weights", {"response": 1.0, "resolution": 1.0, "satisfaction": 1.0}, "Weights of the response, resolution and satisfaction rates in a unit's score (三率).",
            "综合得分中响应率(response)、办结率(resolution)、满意率(satisfaction)的权重"),
    Setting("ranking_satisfaction_warn", 0.9, "Satisfaction below this loses a unit's excellence eligibility (Luyang).",
            "满意率低于此值, 取消评优资格"),
    Setting("ranking_satisfaction_alarm", 0.7, "Satisfaction below this is the reassignment line (Luyang).",
            "满意率低于此值, 须调整岗位"),
    Setting("ranking_score_alarm", 60.0, "Units scoring under this are named and criticised (county report).",
            "综合得分低于此值, 通报批评"),
    Setting("must_visit_window_months", 12, "五必去: months back that count as recent (cases, overdue, satisfaction, disasters), ending at the warehouse's today.",
            "近期的时间窗 (月): 诉求、超期、满意度和灾害都只看这段时间"),
    Setting("must_visit_poverty_share", 0.25, "五必去 poverty: share of 连心户 from which a village is 特困村 (or the official flag).",
            "特困村: 连心户占比不低于此值 (或数据中标为特困村)"),
    Setting("must_visit_poverty_min_households", 30, "五必去 poverty: villages with fewer households are not judged by the 连心户 share.",
            "特困村: 建档户数少于此值的村不按连心户占比判断 (避免小样本)"),
    Setting("must_visit_remote_km", 15.0, "五必去 remote: great-circle km from the village seat to its town seat from which a village is 边远村.",
            "边远村: 村(社区)驻地到乡镇驻地的直线距离不低于此值 (公里)"),
    Setting("must_visit_petition_rate_ratio", 2.0, "五必去 petitions: recent EB-smoothed cases per 1,000 households at least this multiple of the district's (or a 95% hot spot).",
            "信访问题较多: 近期每千户诉求件数(经验贝叶斯平滑)不低于全区的此倍数, 或为95%以上置信的热点"),
    Setting("must_visit_difficult_overdue", 10, "五必去 difficult: overdue open cases from which a village is flagged.",
            "工作推进有难度: 超期未办结件数不低于此值"),
    Setting("must_visit_difficult_closure_rate", 0.85, "五必去 difficult: recent closure rate below this (with at least must_visit_difficult_min_cases recent cases).",
            "工作推进有难度: 近期办结率低于此值 (近期诉求不少于「最少件数」时)"),
    Setting("must_visit_difficult_satisfaction", 0.8, "五必去 difficult: recent satisfaction rate below this (with at least must_visit_difficult_min_cases rated cases).",
            "工作推进有难度: 近期满意率低于此值 (已评价的近期诉求不少于「最少件数」时)"),
    Setting("must_visit_difficult_min_cases", 10, "五必去 difficult: recent cases needed before the closure and satisfaction rates count.",
            "工作推进有难度的最少件数: 近期诉求少于此数时不按办结率、满意率下结论 (避免小样本)"),
    Setting("must_visit_weights", {"poverty": 3.0, "remote": 1.0, "petitions": 2.0, "difficult": 2.0, "disaster": 3.0}, "五必去: weight of each flag in a village's priority score.",
            "优先级得分中各项的权重: poverty 特困村, remote 边远村, petitions 信访问题较多, difficult 工作推进有难度, disaster 受自然灾害影响"),
    Setting("fieldwork_visits_per_month", 50, "驻点走访: households a cadre should visit each month (Luyang: at least 50); a cadre's visits in the period per month are held against it.",
            "驻点走访: 每名干部每月应走访的户数 (庐阳区: 不少于50户)"),
    Setting("fieldwork_pairs_min", 3, "驻点走访: fewest households a pairing cadre should be paired with (Luyang: 3-5); fewer is under-loaded.",
            "结对帮扶: 每名干部至少结对的户数, 少于此数为结对不足"),
    Setting("fieldwork_pairs_max", 5, "驻点走访: most households a pairing cadre should be paired with (Luyang: 3-5); more is over-loaded.",
            "结对帮扶: 每名干部至多结对的户数, 多于此数为结对过多"),
    Setting("fieldwork_idle_days", 60, "驻点走访: a town with visits earlier in the period but none placed in it in this many days up to the period's end is named on the page's first screen (走访中断).",
            "此前有走访、但时段末这么多天内没有任何走访记录的乡镇(街道), 列在驻点走访页首屏"),
    Setting("fieldwork_key_unvisited_days", 90, "驻点走访: a 连心户 without a visit in this many days up to the period's end is listed for the planner.",
            "连心户超过此天数 (截至时段末) 无走访记录即列为未走访"),
    Setting("fieldwork_building_radius_m", 50.0, "驻点走访: a case whose point lies within this many metres of a building, enterprise or street is counted at the nearest one.",
            "诉求位置距商务楼宇、非公企业或商业街区不超过此距离 (米) 时, 计入最近的一处"),
    Setting("report_template", "reports/templates/briefing.docx", "Word template of the generated documents (minqing report, 报告 page): its named styles (MQ Title, Heading 1, MQ Body, ...) and page set-up are used; an office may restyle a copy and point this at it (relative to the repository).",
            "报告所用的 Word 模板 (其中的命名样式与页面设置)"),
    Setting("report_office", "", "Issuing office named in a document's header (e.g. 汉滨区群众工作办公室); empty: the warehouse's district name followed by 群众工作办公室.",
            "报告抬头的编发单位"),
    Setting("report_submit_to", "区委、区政府主要领导，分管领导", "Recipients after 报: at the end of a briefing (superiors).",
            "报告末尾「报」的对象"),
    Setting("report_copy_to", "区委办公室、区政府办公室，区群众工作领导小组成员单位", "Recipients after 送: at the end of a briefing (peers).",
            "报告末尾「送」的对象"),
    Setting("report_distribute_to", "各乡镇(街道)，区直各部门", "Recipients after 发: at the end of a briefing (subordinates).",
            "报告末尾「发」的对象"),
    Setting("alert_window_days", 7, "抓苗头 (预警): days up to the data's own date in which a village's or town's count per category is tested for a surge; level-skipping cases are looked for in the same days.",
            "预警: 截至数据日期的最近天数, 在此期间检测各村(社区)、乡镇各类诉求是否异常增多, 并查找越级访", lo=1, hi=366),
    Setting("alert_baseline_weeks", 13, "抓苗头: weeks before the alert window that give a place's own history (its baseline) for the surge test.",
            "预警: 预警时段之前的此周数作为本地历史基线", lo=1, hi=520),
    Setting("alert_q", 0.05, "抓苗头: false discovery rate (Benjamini-Hochberg q) over all place x category cells at which a surge is a warning.",
            "预警: 对全部 地点×类别 检验控制的错误发现率 (q 值不超过此值即预警)", lo=0.0, hi=1.0),
    Setting("alert_cluster_days", 14, "抓苗头: days up to the data's own date in which near-duplicate demands of the same or neighbouring villages are grouped (集体访苗头, 疑似同一事项).",
            "预警: 在截至数据日期的此天数内, 归并相同或相邻村(社区)内相似的诉求", lo=1, hi=366),
    Setting("alert_similarity", 0.8, "抓苗头: cosine similarity of two demands' texts (character 2-3-gram TF-IDF) from which they are near-duplicates.",
            "预警: 两件诉求内容的相似度 (字符 2-3 元组 TF-IDF 余弦) 不低于此值即视为内容相近", lo=0.5, hi=1.0),
    Setting("alert_group_size", 5, "抓苗头: near-duplicate demands from which a group is a warning (the seed of a group petition, 集体访苗头).",
            "预警: 相近诉求达到此件数即为集体访苗头", lo=2),
    Setting("alert_level_skip_days", 30, "抓苗头: a case received at a higher level (city; district in person) is level-skipping when its village had no village- or town-level case on the matter in this many days before it.",
            "预警: 市级受理(或区级接访)的诉求, 若其村(社区)此前此天数内没有村、镇级受理的同类或相近诉求, 即为越级访苗头", lo=1, hi=3660),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The setting called `name`; an unknown name is an error listing the known ones."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown setting {name!r}; expected one of {', '.join(_BY_NAME)}")
    return _BY_NAME[name]


def get(name: str) -> object:
    """The value of a setting: `MINQING_<NAME>`, else the file of `MINQING_CONFIG`, else its default."""
    s = setting(name)
    env = os.environ.get(s.env)
    if env is not None:
        return s.parse(env, s.env)
    path = os.environ.get(CONFIG_ENV)
    if path:
        values = _config_file(path, _stamp(path))
        if name in values:
            return _fresh(values[name])
    return _fresh(s.default)


def group(prefix: str) -> list[Setting]:
    """The settings whose names start with `prefix`, in registry order."""
    return [s for s in SETTINGS if s.name.startswith(prefix)]


def fill(text: str) -> str:
    """`text` with each `{setting_name}` (or `{setting_name:format}`) replaced by the setting's current value,
    e.g. fill("一般问题{deadline_days_ordinary}天") -> "一般问题7天"."""
    return text.format_map(_Current())


def read_toml(path: str | Path, prefix: str = "") -> dict[str, object]:
    """The values a TOML override file sets, by setting name. Each key is a setting's name without
    `prefix`, with its value (`remote_km = 20`), or a table holding it (`[remote_km]` `value = 20`);
    a mapping setting takes a table of its names (`[weights]` `poverty = 4`). Unknown keys are an error."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise SettingError(f"无法读取设置文件 {path}: {e}") from None
    known = {s.name.removeprefix(prefix): s for s in group(prefix)}
    out: dict[str, object] = {}
    for key, raw in data.items():
        if key not in known:
            raise SettingError(f"设置文件 {path} 中的 {key!r} 不是已知的设置; 可用: {', '.join(known)}")
        if isinstance(raw, dict) and "value" in raw:
            raw = raw["value"]
        out[known[key].name] = known[key].parse(raw, f"{path} 中的 {key}")
    return out


# ---------------------------------------------------------------------------- helpers

def _parse(default: object, raw: object) -> object:
    """`raw` as the type of `default`; TypeError or ValueError when it is not one."""
    if isinstance(default, dict):
        return _parse_weights(default, raw)
    if isinstance(default, tuple):
        items = raw.split(",") if isinstance(raw, str) else list(raw)
        edges = tuple(_parse(0, i.strip() if isinstance(i, str) else i) for i in items)
        if not edges or edges[0] < 1 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(raw)
        return edges
    if isinstance(default, str):
        if not isinstance(raw, str):
            raise TypeError(raw)
        return raw
    if isinstance(raw, str):
        return type(default)(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or isinstance(default, int) and not isinstance(raw, int):
        raise TypeError(raw)  # e.g. true, or 10.0 for a whole number
    return type(default)(raw)


def _parse_weights(default: dict, raw: object) -> dict:
    if isinstance(raw, str):
        pairs = [p.split("=", 1) for p in raw.split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ValueError(raw)
        raw = {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(raw, dict) or not raw or set(raw) - set(default):
        raise ValueError(raw)
    given = {k: _parse(0.0, v) for k, v in raw.items()}
    if any(not v >= 0 for v in given.values()):
        raise ValueError(raw)
    return default | given


def _fresh(value: object) -> object:
    """A copy of a mapping value, so that a caller changing it changes no one else's."""
    return dict(value) if isinstance(value, dict) else value


class _Current(dict):
    def __missing__(self, name: str) -> object:
        return get(name)


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
        return st.st_mtime_ns, st.st_size
    except OSError as e:
        raise SettingError(f"设置 {CONFIG_ENV}={path!r} 无效: {e}") from None


@functools.lru_cache(maxsize=4)
def _config_file(path: str, stamp: tuple[int, int]) -> dict[str, object]:
    """The values of the MINQING_CONFIG file (cached while the file is unchanged)."""
    return read_toml(path)
