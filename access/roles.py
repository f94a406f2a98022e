"""The four roles, declared once: what each may open and do, and how far it sees.

Contact data is stored masked (etl/privacy.py), so no role sees it in clear. The README's
table "Roles" is generated from ROLES by tests/test_access.py's check.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    label: str  # Chinese, as the dashboard and the CLI show it
    scoped: bool  # sees one town or street only (the account's town)
    data: bool  # opens the data pages (maps, figures, lists)
    masked_people: bool  # case lists show the masked petitioner and phone columns
    load: bool  # loads files and maps vocabulary terms
    audit: bool  # reads the audit trail
    accounts: bool  # manages accounts
    summary: str  # Chinese, one line for the README and `user list --help`


ROLES: dict[str, Role] = {r.name: r for r in (
    Role("leader", "领导", scoped=False, data=True, masked_people=False, load=False, audit=False, accounts=False,
         summary="全区汇总与地图; 案件清单不含反映人与电话列"),
    Role("planner", "群众工作办", scoped=False, data=True, masked_people=True, load=True, audit=True, accounts=False,
         summary="全区; 案件清单含脱敏的反映人与电话; 导入数据、维护词表; 查看审计记录"),
    Role("town", "乡镇(街道)", scoped=True, data=True, masked_people=True, load=False, audit=False, accounts=False,
         summary="仅本乡镇(街道): 每个页面、数字、地图、清单和导出; 全区数字只以全区平均作对比"),
    Role("admin", "系统管理员", scoped=False, data=False, masked_people=False, load=False, audit=True, accounts=True,
         summary="账号管理与审计记录; 不看业务数据 (需要时另开账号)"),
)}


def role(name: str) -> Role:
    if name not in ROLES:
        raise ValueError(f"未知角色 {name!r}; 可选: {', '.join(ROLES)}")
    return ROLES[name]
