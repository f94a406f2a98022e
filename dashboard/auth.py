"""The sign-in gate every page passes first, the signed-in header, and 退出.

`gate()` returns the signed-in account or draws the sign-in form and stops the script: no
figure, map or name of the warehouse is drawn before it returns. Accounts, the throttling of
wrong passwords and the audit of sign-ins live in access/store.py; the session in
dashboard/session.py.
"""

from __future__ import annotations

import time

import streamlit as st

from access import store
from access.store import Account, AccessError
from dashboard import session
from etl import settings

_FAILS = "_minqing_signin_failures"


_RETURN = "_minqing_return_to"
_JUST_SIGNED_IN = "_minqing_just_signed_in"


def gate(requested=None) -> Account:
    """The signed-in account of this session; otherwise the sign-in form, then st.stop().
    `requested()`: the url path of the page the browser asked for, kept with the query string
    to go back to after the sign-in (return_to)."""
    from dashboard import data

    try:
        db = data.existing_db()
    except data.NoWarehouse as e:
        st.title("民情地图")
        st.error(str(e))
        st.stop()
    acc = st.session_state.get(session.ACCOUNT_KEY)
    if acc is not None:
        acc = _still_valid(db, acc)
    if acc is None:
        if requested is not None and _RETURN not in st.session_state:
            st.session_state[_RETURN] = (requested(), {k: st.query_params.get_all(k) for k in st.query_params})
        _sign_in_form(db)
        st.stop()
    session.touch()
    _header(db, acc)
    return acc


def return_to() -> tuple[str, dict] | None:
    """Once, right after a sign-in: (url path, query parameters) the browser first asked for."""
    if not st.session_state.pop(_JUST_SIGNED_IN, False):
        return None
    return st.session_state.pop(_RETURN, None)


def _still_valid(db, acc: Account) -> Account | None:
    """The account as stored now (a disabled or changed account ends the session), or None
    after `session_idle_minutes` without activity."""
    if session.expired():
        store.audit(db, acc.name, "session_expired", role=acc.role)
        _end(f"超过 {session.idle_limit():g} 分钟未操作, 已自动退出, 请重新登录。")
        return None
    try:
        now = store.get_user(db, acc.name)
    except AccessError:
        now = None
    if now is None or now.disabled:
        _end("账号已停用或已删除, 已退出。")
        return None
    if now != acc:  # role or town changed by an administrator: the new rights apply at once
        session.sign_in(now)
    return now


def _end(notice: str) -> None:
    """End the session (and the single sign-on's, which would otherwise sign it straight back in)."""
    session.sign_out()
    st.session_state["_minqing_notice"] = notice
    if str(settings.get("auth_mode")) == "oidc" and st.user.is_logged_in:
        st.logout()


def _sign_in_form(db) -> None:
    st.title("民情地图")
    notice = st.session_state.pop("_minqing_notice", None)
    if notice:
        st.info(notice)
    if not store.list_users(db):
        st.warning("本数据仓库还没有账号, 无人能登录。请管理员在服务器上运行:\n\n"
                   f"`minqing --db {db} user add 名称 --role planner`")
        return
    if str(settings.get("auth_mode")) == "oidc":
        _sso(db)
        return
    with st.form("sign_in", enter_to_submit=True):
        name = st.text_input("账号", key="_signin_name")
        password = st.text_input("密码", type="password", key="_signin_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            acc = store.authenticate(db, name, password, source=_client())
        except AccessError as e:
            fails = st.session_state.get(_FAILS, 0) + 1
            st.session_state[_FAILS] = fails
            time.sleep(min(0.5 * 2 ** (fails - 1), 8.0))  # each wrong try in this session waits longer
            st.error(str(e))
            return
        st.session_state.pop(_FAILS, None)
        session.sign_in(acc)
        st.session_state[_JUST_SIGNED_IN] = True
        st.rerun()
    st.caption("账号由管理员用 `minqing user add` 开通; 忘记密码请联系管理员。")


def _sso(db) -> None:
    """The office's single sign-on (st.login, configured in .streamlit/secrets.toml [auth])."""
    if not st.user.is_logged_in:
        st.button("使用单位统一身份认证登录", on_click=st.login, type="primary")
        return
    try:
        acc = store.account_for_sso(db, st.user.get("email"), st.user.get("email_verified"))
    except AccessError as e:
        st.error(str(e))
        st.button("退出统一身份认证", on_click=st.logout)
        return
    store.audit(db, acc.name, "sign_in", role=acc.role, detail={"source": "oidc"})
    session.sign_in(acc)
    st.session_state[_JUST_SIGNED_IN] = True
    st.rerun()


def _header(db, acc: Account) -> None:
    side = st.sidebar
    side.caption(f"当前用户: {acc.describe()}")
    if side.button("退出", key="_sign_out", icon=":material/logout:"):
        store.audit(db, acc.name, "sign_out", role=acc.role)
        session.sign_out()
        if str(settings.get("auth_mode")) == "oidc" and st.user.is_logged_in:
            st.logout()
        st.rerun()


def _client() -> str:
    """The browser's address as Streamlit sees it (for the audit log)."""
    try:
        return str(st.context.ip_address or "")
    except Exception:
        return ""
