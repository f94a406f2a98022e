"""Accounts, sign-in and the audit trail (access/), through the CLI as an administrator uses it."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from access import store
from access.roles import ROLES
from cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _cli(db, *args, ok=True):
    r = CliRunner().invoke(main, ["--db", str(db), *args])
    if ok:
        assert r.exit_code == 0, r.output
    return r


def _pw(tmp_path, text="correct-horse-1") -> str:
    p = tmp_path / "pw.txt"
    p.write_text(text + "\n", encoding="utf-8")
    return str(p)


def test_accounts_are_made_listed_and_disabled_from_the_cli_and_passwords_are_only_hashed(wh, tmp_path):
    _cli(wh, "user", "add", "王主任", "--role", "leader", "--password-file", _pw(tmp_path))
    _cli(wh, "user", "add", "zhen", "--role", "town", "--town", "新城", "--password-file", _pw(tmp_path))
    out = _cli(wh, "user", "list", "--json").output
    users = {u["name"]: u for u in json.loads(out)}
    assert users["王主任"]["role"] == "leader" and users["王主任"]["town_code"] is None
    from etl.db import connect

    with connect(wh, read_only=True) as con:  # the town's code as the NBS divisions give it
        code = con.execute("SELECT code FROM areas WHERE level = 'town' AND name = '新城街道'").fetchone()[0]
    assert users["zhen"]["town_name"] == "新城街道" and users["zhen"]["town_code"] == code
    # the password is nowhere in the store, only an argon2id hash
    path = store.store_path(wh)
    assert b"correct-horse-1" not in path.read_bytes()
    hashes = [h for (h,) in sqlite3.connect(path).execute("SELECT password_hash FROM accounts")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.authenticate(wh, "zhen", "correct-horse-1").scope == code

    _cli(wh, "user", "disable", "zhen")
    with pytest.raises(store.AccessError, match="停用"):
        store.authenticate(wh, "zhen", "correct-horse-1")
    _cli(wh, "user", "enable", "zhen")
    _cli(wh, "user", "passwd", "zhen", "--password-file", _pw(tmp_path, "another-pass-2"))
    with pytest.raises(store.AccessError):
        store.authenticate(wh, "zhen", "correct-horse-1")
    assert store.authenticate(wh, "zhen", "another-pass-2").name == "zhen"


def test_bad_account_commands_are_refused_in_chinese(wh, tmp_path):
    r = _cli(wh, "user", "add", "a", "--role", "town", "--password-file", _pw(tmp_path), ok=False)
    assert r.exit_code == 2 and "--town" in r.output
    r = _cli(wh, "user", "add", "a", "--role", "town", "--town", "不存在镇", "--password-file", _pw(tmp_path), ok=False)
    assert r.exit_code == 2 and "不是本数据仓库的乡镇" in r.output
    r = _cli(wh, "user", "add", "a", "--role", "leader", "--password-file", _pw(tmp_path, "short"), ok=False)
    assert r.exit_code == 2 and "至少 8" in r.output
    _cli(wh, "user", "add", "a", "--role", "leader", "--password-file", _pw(tmp_path))
    r = _cli(wh, "user", "add", "a", "--role", "planner", "--password-file", _pw(tmp_path), ok=False)
    assert r.exit_code == 2 and "已存在" in r.output
    assert "Traceback" not in r.output


def test_wrong_passwords_lock_the_account_and_every_attempt_is_audited(wh, monkeypatch):
    monkeypatch.setenv("MINQING_SIGNIN_MAX_FAILURES", "3")
    store.add_user(wh, "li", "planner", "right-password")
    for _ in range(3):
        with pytest.raises(store.AccessError, match="账号或密码不正确"):
            store.authenticate(wh, "li", "wrong-password")
    with pytest.raises(store.AccessError, match="锁定"):  # even the right password, while locked
        store.authenticate(wh, "li", "right-password")
    # an unknown name is answered and locked the same way: the answers do not tell who exists
    answers = []
    for _ in range(4):
        with pytest.raises(store.AccessError) as e:
            store.authenticate(wh, "nobody", "whatever-pw")
        answers.append(str(e.value))
    assert answers[:3] == [store.WRONG] * 3 and answers[3] == store.LOCKED
    entries = store.audit_entries(wh)
    failed = [e for e in entries if e["action"] == "sign_in_failed"]
    assert len(failed) == 8 and {e["detail"]["why"] for e in failed} == {"password", "locked", "unknown"}
    text = json.dumps(entries, ensure_ascii=False)
    assert "wrong-password" not in text and "nobody" not in text  # a typed name may be a password
    store.set_password(wh, "li", "new-password-9")  # an administrator's reset unlocks
    assert store.authenticate(wh, "li", "new-password-9").name == "li"
    out = _cli(wh, "audit", "--action", "sign_in").output
    assert "li" in out and "登录" in out


def test_loads_exports_and_vocabulary_changes_from_the_cli_are_audited(wh, tmp_path):
    csv = tmp_path / "cases.csv"
    csv.write_text("受理编号,受理时间,诉求来源,问题类别,办理状态,所属乡镇,所属村\n"
                   "A1,2026-01-05,12345热线,道路交通,已办结,新城街道,\n"
                   "A2,2026-01-06,随手拍,道路交通,办理中,新城街道,\n", encoding="utf-8")
    _cli(wh, "load", "cases", str(csv))
    _cli(wh, "vocab", "map", "随手拍", "网上信访")
    _cli(wh, "export", "-o", str(tmp_path / "out.csv"))
    lines = [json.loads(x) for x in _cli(wh, "audit", "--json").output.splitlines()]
    actions = [e["action"] for e in lines]
    assert actions[:3] == ["export", "vocab_map", "load"]
    load = lines[2]
    assert load["rows"] == 2 and load["who"].startswith("cli:") and load["detail"]["loaded"] == 2
    assert "随手拍" in lines[1]["target"] and lines[1]["rows"] == 1
    assert "全区" in lines[0]["detail"]["filter"]


def test_the_readme_lists_every_role_as_declared():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Roles"):text.index("**Audit.**")]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", section, re.M)
    assert {name: (label, summary) for name, label, summary in rows} == {
        r.name: (r.label, r.summary) for r in ROLES.values()}


def test_serve_refuses_a_warehouse_nobody_can_sign_in_to(wh):
    r = _cli(wh, "serve", ok=False)
    assert r.exit_code == 2 and "user add" in r.output


def test_the_demo_gets_one_account_per_role_and_says_how_to_sign_in(demo_db):
    from access.demo import DEMO_PASSWORD
    from cli.access import demo_accounts
    from etl.db import connect

    text = demo_accounts(demo_db)
    assert "演示账号" in text and DEMO_PASSWORD in text
    with connect(demo_db, read_only=True) as con:
        first_town = con.execute("SELECT code FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()[0]
    for name, role in (("leader", "leader"), ("planner", "planner"), ("town", "town"), ("admin", "admin")):
        acc = store.authenticate(demo_db, name, DEMO_PASSWORD)
        assert acc.role == role and acc.scope == (first_town if role == "town" else "")
    assert demo_accounts(demo_db) == text  # a second serve keeps them as they are


def test_a_real_warehouse_gets_no_demo_accounts(wh):
    from cli.access import demo_accounts

    assert demo_accounts(wh) == "" and store.list_users(wh) == []


def test_wrong_tries_from_one_address_lock_that_address(wh, monkeypatch):
    monkeypatch.setenv("MINQING_SIGNIN_MAX_FAILURES", "2")  # per address: ten times as many
    store.add_user(wh, "wang", "leader", "right-password")
    for i in range(20):
        with pytest.raises(store.AccessError):
            store.authenticate(wh, f"guess{i}", "x", source="10.0.0.9")
    with pytest.raises(store.AccessError, match="锁定"):
        store.authenticate(wh, "wang", "right-password", source="10.0.0.9")
    assert store.authenticate(wh, "wang", "right-password", source="10.0.0.10").name == "wang"


def test_single_sign_on_maps_only_verified_emails_to_accounts_made_for_it(wh):
    store.add_user(wh, "zhang@example.gov.cn", "planner", None)
    store.add_user(wh, "planner", "planner", "a-password-1")
    assert store.account_for_sso(wh, "zhang@example.gov.cn", True).role == "planner"
    for email, verified in (("zhang@example.gov.cn", False), (None, True), ("planner", True), ("x@y.cn", True)):
        with pytest.raises(store.AccessError):
            store.account_for_sso(wh, email, verified)


def test_serve_runs_the_dashboard_on_this_machine_from_the_repository(wh, tmp_path, monkeypatch):
    import cli.access as cli_access
    from etl.db import REPO_ROOT

    store.add_user(wh, "p", "planner", "a-password-1")
    monkeypatch.chdir(tmp_path)  # started from anywhere (a service's working directory)
    seen = {}
    monkeypatch.setattr(cli_access.os, "chdir", lambda d: seen.setdefault("cwd", d))
    monkeypatch.setattr(cli_access.os, "execvpe", lambda f, args, env: seen.update(args=args, env=env))
    _cli(wh, "serve")
    args = seen["args"]
    assert seen["cwd"] == REPO_ROOT  # where .streamlit/config.toml (static map scripts, no telemetry) is read
    assert args[args.index("--server.address") + 1] == "127.0.0.1"
    assert seen["env"]["MINQING_DB"] == str(wh.resolve())
