"""账号与审计: the audit trail (planners and administrators) and the accounts (administrators)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access import store
from access.roles import ROLES
from dashboard import data, session
from dashboard.ui import downloads, page_start

page_start("账号与审计")
role = session.current_role()
db = data.db_path()
if role is None or not role.audit:
    st.error("本账号无权查看审计记录。")
    st.stop()

if role.accounts:
    st.subheader("账号")
    users = store.list_users(db)
    st.dataframe(pd.DataFrame([{
        "账号": u.name, "角色": ROLES[u.role].label, "乡镇(街道)": u.town_name or "", "状态": "已停用" if u.disabled else "正常",
        "登录方式": "密码" if u.has_password else "统一身份认证", "创建时间": u.created_at} for u in users]),
        hide_index=True, width="stretch")
    st.caption("新建、停用账号和重设密码在服务器上用命令完成: `minqing user add|disable|enable|passwd`。")

st.subheader("审计记录")
c = st.columns(3)
who = c[0].text_input("账号", placeholder="全部")
action = c[1].selectbox("操作", list(store.ACTION_LABELS), index=None, placeholder="全部",
                        format_func=store.ACTION_LABELS.get)
limit = c[2].number_input("最多条数", min_value=50, max_value=20000, value=500, step=50)
rows = store.audit_entries(db, limit=int(limit), who=who.strip() or None, action=action)
table = pd.DataFrame([{
    "时间": r["at"].replace("T", " "), "账号": r["who"], "角色": ROLES[r["role"]].label if r["role"] in ROLES else "",
    "操作": r["action_label"], "对象": r["target"] or "", "行数": "" if r["rows"] is None else f"{r['rows']:,}",
    "详情": "; ".join(f"{k}: {v}" for k, v in (r["detail"] or {}).items())} for r in rows],
    columns=["时间", "账号", "角色", "操作", "对象", "行数", "详情"])
if table.empty:
    st.info("没有符合条件的审计记录。")
else:
    st.dataframe(table, hide_index=True, width="stretch")
    downloads(table, "审计记录", "audit_dl")
