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
        if acc is None:
            raise NotSignedIn("请先登录")
        return acc
    if st.runtime.exists():
        raise NotSignedIn("请先登录")
    return None


def current_role() -> Role | None:
    acc = current_account()
    return ROLES[acc.role] if acc else None


@contextlib.contextmanager
def as_account(account: Account | None):
    """Run queries as `account` (outside the script's thread, where the session is not known)."""
    token = _HANDED.set(account)
    try:
        yield
    finally:
        _HANDED.reset(token)


def deferred(fn):
    """`fn` wrapped to run later as the account signed in now (a download's data callable)."""
    account = current_account()

    def run(*args, **kwargs):
        with as_account(account):
            return fn(*args, **kwargs)

    return run


def sign_in(account: Account) -> None:
    st.session_state[ACCOUNT_KEY] = account
    st.session_state[LAST_SEEN_KEY] = time.monotonic()


def sign_out() -> None:
    for k in (ACCOUNT_KEY, LAST_SEEN_KEY):
        st.session_state.pop(k, None)


def idle_minutes() -> float:
    """Minutes since this session last did something (0 when it just signed in)."""
    seen = st.session_state.get(LAST_SEEN_KEY)
    return 0.0 if seen is None else (time.monotonic() - seen) / 60


def touch() -> None:
    st.session_state[LAST_SEEN_KEY] = time.monotonic()
