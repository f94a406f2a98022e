"""Sign-in in AppTest: nothing before it, a wrong password refused, each role's navigation, a town
account held to its town whatever the URL says, idle and disabled sessions ended."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD, ensure_account
from streamlit.testing.v1 import AppTest

from access import store
from dashboard.session import ACCOUNT_KEY, LAST_SEEN_KEY
from etl.db import connect

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
pytestmark = pytest.mark.signed_out


def _app(monkeypatch, db) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    return AppTest.from_file(APP, default_timeout=120)


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="_signin_name").input(name)
    at.text_input(key="_signin_password").input(password)
    at.button[0].click()
    return at.run()


def _nothing_of_the_warehouse(at: AppTest) -> None:
    assert not at.metric and not at.dataframe and not at.sidebar.selectbox
    assert not any("演示数据" in w.value for w in at.warning)
    assert ACCOUNT_KEY not in at.session_state


def test_signed_out_sees_only_the_form_and_a_wrong_password_is_refused(monkeypatch, demo_db):
    ensure_account(demo_db, "si_planner", "planner")
    at = _app(monkeypatch, demo_db).run()
    assert {t.label for t in at.text_input} == {"账号", "密码"}
    _nothing_of_the_warehouse(at)
    _sign_in(at, "si_planner", "not-the-password")
    assert any("账号或密码不正确" in e.value for e in at.error)
    _nothing_of_the_warehouse(at)
    _sign_in(at, "si_planner", TEST_PASSWORD)
    assert not at.exception and not at.error
    assert {m.label for m in at.metric} >= {"受理诉求", "办结率"}
    assert any("当前用户: si_planner" in c.value for c in at.sidebar.caption)


def test_a_town_account_sees_its_town_even_when_the_url_names_another(monkeypatch, demo_db):
    with connect(demo_db, read_only=True) as con:
        (mine, my_name), (_, other_name) = con.execute(
            "SELECT code, name FROM areas WHERE level = 'town' ORDER BY code LIMIT 2").fetchall()
        period = con.execute("SELECT max(received_at)::DATE FROM cases").fetchone()[0]
    ensure_account(demo_db, "si_town", "town", (mine, my_name))
    at = _app(monkeypatch, demo_db)
    at.query_params["town"] = other_name
    at.query_params["period"] = ["2024-01-01", str(period)]
    at.run()
    _sign_in(at, "si_town", TEST_PASSWORD)
    assert not at.exception
    with connect(demo_db, read_only=True) as con:
        want = con.execute("SELECT count(*) FROM cases WHERE starts_with(area_code, ?) "
                           "AND received_at::DATE BETWEEN '2024-01-01' AND ?", [mine, period]).fetchone()[0]
    shown = {m.label: m.value for m in at.metric}
    assert shown["受理诉求"] == f"{want:,}"
    town_box = at.sidebar.selectbox(key="town")
    assert town_box.value == mine and town_box.disabled and town_box.options == [my_name]
    assert "数据导入" not in str(at) and "账号与审计" not in str(at)  # not in its navigation


@pytest.mark.parametrize("role, page, allowed", [
    ("town", "views/import.py", False), ("leader", "views/import.py", False),
    ("planner", "views/import.py", True), ("planner", "views/access.py", True),
    ("admin", "views/overview.py", False), ("admin", "views/access.py", True),
])
def test_each_role_opens_only_its_pages(monkeypatch, demo_db, role, page, allowed):
    town = None
    if role == "town":
        with connect(demo_db, read_only=True) as con:
            town = con.execute("SELECT code, name FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()
    acc = ensure_account(demo_db, f"si_{role}", role, town)
    at = _app(monkeypatch, demo_db)
    at.session_state[ACCOUNT_KEY] = acc
    at.switch_page(page)
    at.run()
    titles = [t.value for t in at.title]
    wanted = {"views/import.py": "数据导入", "views/access.py": "账号与审计", "views/overview.py": "总览"}[page]
    if allowed:
        assert not at.exception and not at.error and wanted in titles
    else:  # not in its navigation: Streamlit shows the role's first page instead
        assert wanted not in titles and titles
    if role == "admin":
        assert not at.metric and not any("受理" in str(d.value.columns) for d in at.dataframe)


def test_an_idle_or_disabled_session_is_signed_out(monkeypatch, demo_db):
    acc = ensure_account(demo_db, "si_idle", "leader")
    monkeypatch.setenv("MINQING_SESSION_IDLE_MINUTES", "5")
    at = _app(monkeypatch, demo_db)
    at.session_state[ACCOUNT_KEY] = acc
    at.session_state[LAST_SEEN_KEY] = time.monotonic() - 6 * 60
    at.run()
    assert any("未操作" in i.value for i in at.info)
    _nothing_of_the_warehouse(at)

    acc = ensure_account(demo_db, "si_gone", "leader")
    at = _app(monkeypatch, demo_db)
    at.session_state[ACCOUNT_KEY] = acc
    at.run()
    assert at.metric
    store.set_disabled(demo_db, "si_gone")
    at.run()
    assert any("停用" in i.value for i in at.info)
    _nothing_of_the_warehouse(at)
    actions = [e["action"] for e in store.audit_entries(demo_db, who="si_idle")]
    assert "session_expired" in actions
