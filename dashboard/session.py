"""Who this browser session is: the signed-in account, kept in the session's state.

The data layer (dashboard.data) asks `current_account()` on every query and fails closed:
inside a running server, a query with neither a signed-in session nor an account handed over
explicitly (`as_account`, for work done outside the script's thread, such as a download built
when its button is clicked) is refused. Outside a server (tests calling queries directly, the
benchmark) there is no account and no scope.
"""

from __future__ import annotations

import contextlib
import contextvars
import time

import streamlit as st

from access.roles import ROLES, Role
from access.store import Account
from etl import settings

ACCOUNT_KEY = "_minqing_account"
LAST_SEEN_KEY = "_minqing_last_seen"
_HANDED: contextvars.ContextVar[Account | None] = contextvars.ContextVar("minqing_account", default=None)


class NotSignedIn(PermissionError):
    """A query without a signed-in account inside the running dashboard."""


def current_account() -> Account | None:
    handed = _HANDED.get()
    if handed is not None:
        return handed
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is not None:
        acc = st.session_state.get(ACCOUNT_KEY)
        if acc is None or expired():
            raise NotSignedIn("请先登录")  # (a fragment's rerun passes no gate: the idle limit holds here too)
        return acc
    if st.runtime.exists():
        raise NotSignedIn("请先登录")
    return None


def current_role() -> Role | None:
    acc = current_account()
    return ROLES[acc.role] if acc else None


def without_people(df, columns: tuple[str, ...]):
    """`df` without the `columns` that name people (masked names, phones) for a role that does
    not see people in lists (access.roles.Role.masked_people); as it is for the others."""
    role = current_role()
    if role is not None and not role.masked_people:
        return df.drop(columns=[c for c in columns if c in df.columns])
    return df


@contextlib.contextmanager
def as_account(account: Account | None):
    """Run queries as `account` (outside the script's thread, where the session is not known)."""
    token = _HANDED.set(account)
    try:
        yield
    finally:
        _HANDED.reset(token)


def deferred(fn, db=None):
    """`fn` wrapped to run later as the account signed in now (a download's data callable,
    which Streamlit runs on click without a rerun, so without the sign-in gate): refused if by
    then the session has been idle too long or the account (looked up in the store beside `db`)
    is disabled or changed."""
    from access import store

    account = current_account()
    seen = _last_seen_reader()

    def run(*args, **kwargs):
        if account is not None:
            now = store.get_user(db, account.name) if db is not None else account
            if _minutes_since(seen()) > idle_limit() or now.disabled or now != account:
                raise NotSignedIn("会话已过期或账号已变更, 请刷新页面重新登录")
        with as_account(account):
            return fn(*args, **kwargs)

    return run


def _last_seen_reader():
    """A function reading this session's last activity from any thread (None outside a session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return lambda: None
    state = ctx.session_state
    return lambda: state[LAST_SEEN_KEY] if LAST_SEEN_KEY in state else None


def sign_in(account: Account) -> None:
    st.session_state[ACCOUNT_KEY] = account
    st.session_state[LAST_SEEN_KEY] = time.monotonic()


def sign_out() -> None:
    for k in (ACCOUNT_KEY, LAST_SEEN_KEY):
        st.session_state.pop(k, None)


def idle_limit() -> float:
    """Minutes without activity after which a session is over (setting session_idle_minutes)."""
    return float(settings.get("session_idle_minutes"))


def expired() -> bool:
    """This session has been idle longer than idle_limit()."""
    return _minutes_since(st.session_state.get(LAST_SEEN_KEY)) > idle_limit()


def _minutes_since(seen: float | None) -> float:
    """Minutes since the monotonic time `seen` (0 when there is none: a session just signed in)."""
    return 0.0 if seen is None else (time.monotonic() - seen) / 60


def touch() -> None:
    st.session_state[LAST_SEEN_KEY] = time.monotonic()
